"""Batch-level expectations (pipeline.outputs.expectations): whole-table checks with Great Expectations.

Two GX runs only (GX is slow to import): a stable period passes, a period that lost half
its households fails the row-count expectation. The plan (which checks run or are
skipped) is tested without GX.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.outputs.expectations import plan, run_expectations

ROOT = Path(__file__).resolve().parents[1]


def _db(n_households: int, exited_every: int = 4):
    """n households in 4 villages (3 members each), every `exited_every`-th one 未脱贫."""
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE households AS
        SELECT '湘阴县' AS county, '东塘镇' AS township, '村' || (i % 4) AS village,
               lpad(i::VARCHAR, 8, '0') AS household_id, '户主' || i AS head_name,
               CASE WHEN i % {exited_every} = 0 THEN '未脱贫' ELSE '已脱贫' END AS status,
               '一般贫困户' AS category, 3 AS size
        FROM range({n_households}) t(i)""")
    con.execute("""
        CREATE TABLE members AS
        SELECT h.county, h.township, h.village, h.household_id, '成员' || j AS name,
               '4305211980010' || lpad((j * 1000 + h.household_id::INT)::VARCHAR, 5, '0') AS id_number,
               CASE WHEN j = 0 THEN '户主' ELSE '之子' END AS relation
        FROM households h, range(3) r(j)""")
    return con


def _manifest(con, period: str) -> dict:
    villages = [{"township": t, "village": v, "households": n}
                for t, v, n in con.execute("SELECT township, village, count(*) FROM households GROUP BY ALL "
                                           "ORDER BY ALL").fetchall()]
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("members", "households")}
    return {"period": period, "villages": villages,
            "files": [{"path": f"{t}.xlsx", "kind": t, "rows_loaded": n} for t, n in rows.items()]}


def _by_name(summary: dict) -> dict:
    return {r["name"]: r for r in summary["results"]}


def test_plan_without_previous_period_skips_comparisons_with_a_note():
    con = _db(20)
    _, checks, baseline, prev = plan(con, _manifest(con, "2026-09"), None)
    by = {c.name: c for c in checks}
    assert prev is None
    for name in ("members.row_count", "households.row_count", "households.status.share_exited",
                 "villages.growth"):
        assert by[name].skipped and "上期" in by[name].note
    assert not by["members.id_number.not_null"].skipped
    assert not by["villages.households_min"].skipped
    assert baseline["households"]["rows"] == 20
    assert baseline["households"]["status_share"]["已脱贫"] == 0.75


def test_stable_period_passes_and_half_the_households_fails(tmp_path):
    previous = _db(200)
    prev_manifest = _manifest(previous, "2026-09")
    prev_manifest["expectations"] = {"baseline": {"households": {"status_share": {"已脱贫": 0.75, "未脱贫": 0.25}}}}

    # stable: same tables next month
    stable = _db(200)
    out = tmp_path / "stable"
    out.mkdir()
    s = run_expectations(stable, out, _manifest(stable, "2026-10"), prev_manifest)
    json.dumps(s, ensure_ascii=False)          # JSON-able for run.json
    by = _by_name(s)
    assert s["status"] == "evaluated", s.get("reason")
    assert s["success"] is True and s["failed"] == 0
    assert by["households.row_count"]["success"] is True
    assert by["households.row_count"]["observed"] == 200
    assert by["members.id_number.not_null"]["observed"] == 1.0
    assert by["households.status.share_exited"]["success"] is True
    assert by["villages.growth"]["success"] is True
    docs = out / "data_docs" / "index.html"
    assert docs.exists() and s["data_docs"] == "data_docs/index.html"
    for page in (out / "data_docs").rglob("*.html"):   # offline: nothing loaded from the network
        text = page.read_text(encoding="utf-8")
        assert 'src="http' not in text and 'href="https://cdn' not in text and "unpkg.com" not in text

    # half the households (and their members) gone; one village emptied
    dropped = _db(200)
    dropped.execute("DELETE FROM households WHERE village IN ('村0', '村1')")
    dropped.execute("DELETE FROM members WHERE household_id NOT IN (SELECT household_id FROM households)")
    out = tmp_path / "dropped"
    out.mkdir()
    s = run_expectations(dropped, out, _manifest(dropped, "2026-10"), prev_manifest)
    by = _by_name(s)
    assert s["success"] is False
    assert by["households.row_count"]["success"] is False
    assert by["households.row_count"]["observed"] == 100
    assert by["members.row_count"]["success"] is False
    vil = by["villages.households_min"]
    assert vil["success"] is False and any("村0" in v for v in vil["details"]["villages"])
    assert by["households.household_id.not_null"]["success"] is True


def test_import_does_not_load_great_expectations():
    code = ("import sys, pipeline.outputs.expectations, pipeline.outputs.summary; "
            "assert 'great_expectations' not in sys.modules, 'GX imported at module import'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("prev", [None, {"period": "2026-09", "files": []}])
def test_previous_without_loaded_rows_is_skipped(prev):
    con = _db(10)
    _, checks, _, _ = plan(con, _manifest(con, "2026-10"), prev)
    assert {c.name for c in checks if c.skipped} >= {"households.row_count", "members.row_count"}


def test_key_columns_reach_the_expectations_as_presence_with_pythons_notion_of_blank():
    """The frames hold 1 / NULL per key column (not the text: a province's members would cost
    gigabytes in pandas); a value that str.strip() empties counts as empty, as before."""
    from pipeline.outputs.expectations import PY_SPACE, _frame

    con = duckdb.connect()
    spaces = [chr(i) for i in range(0x110000) if chr(i).isspace()]
    from schemas.sql import PY_WHITESPACE

    assert sorted(PY_WHITESPACE) == spaces          # the class is exactly Python's whitespace
    got = con.execute(f"SELECT count(*) FILTER (WHERE regexp_full_match(c, '{PY_SPACE}')) FROM unnest(?::VARCHAR[]) t(c)",
                      [spaces + ["\u200b", "a"]]).fetchone()[0]
    assert got == len(spaces) == 29
    names = ["张三", " ", "\u3000", "\u2003 \t", None, "\u200b", "", " 李四 "]
    con.execute("CREATE TABLE members (household_id VARCHAR, name VARCHAR, id_number VARCHAR, relation VARCHAR)")
    con.executemany("INSERT INTO members VALUES ('1', ?, NULL, '户主')", [[n] for n in names])
    df = _frame(con, "members", ["household_id", "name", "id_number"])
    assert list(df.columns) == ["household_id", "name", "id_number"]
    expected = [n is not None and n.strip() != "" for n in names]
    assert df["name"].notna().tolist() == expected == [True, False, False, False, False, True, False, True]
    assert df["id_number"].isna().all() and df["household_id"].notna().all()
    con.execute("CREATE TABLE households (household_id VARCHAR, status VARCHAR, size INTEGER)")
    con.execute("INSERT INTO households VALUES ('1', '已脱贫', 3), ('2', ' ', NULL)")
    df = _frame(con, "households", ["household_id", "status", "size", "status"])
    assert df["status"].tolist()[0] == "已脱贫" and df["status"].isna().tolist() == [False, True]
    assert df["size"].isna().tolist() == [False, True]
