"""The cache of readings (issue J): a file read before, with the same bytes and the same reader
code, is not read again; what the run loads from the cache is exactly what a fresh read loads."""
import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import load as L
from pipeline.ingest.load import ingest
from pipeline.run import run
from tests.test_run_cycle import county, write_xlsx as xlsx

MEMBER_HEADER = ["乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "性别"]
ID1, ID2 = "430624198006150131", "430624198208200125"


def drop(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx(folder / "成员_东镇.xlsx", [MEMBER_HEADER, ["东镇", "新村", "001", "张三", ID1, "户主", "男"],
                                   ["东镇", "新村", "001", "李四", "43062419820820012X", "配偶", "女"]])
    (folder / "成员_西镇.csv").write_text(
        ",".join(MEMBER_HEADER) + "\n" + f"西镇,老村,002,王五,{ID2},户主,女\n"
        + "西镇,老村,,赵六,,之子,男\n", encoding="utf-8")
    (folder / "说明.txt").write_text("不是数据", encoding="utf-8")
    return folder


def state(con) -> dict:
    """Every table the ingest filled, in full (with _seq, _file and _row)."""
    out = {}
    for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
        out[t] = con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
    return out


def load(folder: Path, cache: Path | None, stats: dict | None = None, parallel=False):
    con = duckdb.connect()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    reports = ingest(con, files, folder, cache_dir=cache, stats=stats, parallel=parallel)
    return state(con), [r.as_dict() for r in reports]


@pytest.mark.parametrize("parallel", [False, True])
def test_second_reading_comes_from_the_cache_and_equals_a_fresh_read(tmp_path, parallel):
    d = drop(tmp_path / "drop")
    fresh = load(d, None, parallel=parallel)
    first, second = {}, {}
    assert load(d, tmp_path / "cache", first, parallel=parallel) == fresh
    assert load(d, tmp_path / "cache", second, parallel=parallel) == fresh
    assert first == {"files_read": 3, "files_from_cache": 0}
    assert second == {"files_read": 0, "files_from_cache": 3}      # the refusal of the .txt too


def test_only_the_changed_file_is_read_again(tmp_path):
    d = drop(tmp_path / "drop")
    load(d, tmp_path / "cache")
    text = (d / "成员_西镇.csv").read_text(encoding="utf-8").replace("王五", "王五五")
    (d / "成员_西镇.csv").write_text(text, encoding="utf-8")
    stats: dict = {}
    again = load(d, tmp_path / "cache", stats)
    assert stats == {"files_read": 1, "files_from_cache": 2}
    assert again == load(d, None)
    assert any("王五五" in r for r in again[0]["members"])


def test_a_file_renamed_or_moved_in_the_drop_is_used_under_its_new_name_and_row_numbers(tmp_path):
    d = drop(tmp_path / "drop")
    load(d, tmp_path / "cache")
    # rename: the csv now sorts first, so file indexes (kept in _seq) change too
    (d / "sub").mkdir()
    shutil.move(d / "成员_西镇.csv", d / "sub" / "0成员.csv")
    shutil.move(d / "成员_东镇.xlsx", d / "a_东镇.xlsx")
    stats: dict = {}
    cached = load(d, tmp_path / "cache", stats)
    assert stats == {"files_read": 0, "files_from_cache": 3}
    assert cached == load(d, None)
    files = {r[0] for r in cached[0]["rejected_rows"]}
    assert files == {"sub/0成员.csv"}


def test_a_new_reader_code_never_uses_old_readings(tmp_path, monkeypatch):
    d = drop(tmp_path / "drop")
    load(d, tmp_path / "cache")
    monkeypatch.setattr(L, "code_fingerprint", lambda: "another-version")
    stats: dict = {}
    assert load(d, tmp_path / "cache", stats) == load(d, None)
    assert stats["files_read"] == 3


def test_a_damaged_cache_entry_is_read_again_not_trusted(tmp_path):
    d = drop(tmp_path / "drop")
    cache = tmp_path / "cache"
    load(d, cache)
    parts = sorted(cache.rglob("*.parquet"))
    assert parts
    parts[0].unlink()                                       # one chunk gone
    for o in cache.rglob("outcome.json"):                   # and one entry not json at all
        if not any(p.parent == o.parent for p in parts[:1]):
            o.write_text("{half", encoding="utf-8")
            break
    stats: dict = {}
    assert load(d, cache, stats) == load(d, None)
    assert stats == {"files_read": 2, "files_from_cache": 1}       # the two damaged entries


def manifest(out: Path) -> dict:
    return json.loads((out / "2026-10" / "run.json").read_text(encoding="utf-8"))


def same_outputs(a: Path, b: Path) -> None:
    for name in ("issues.csv", "resolved.csv", "rejected.csv"):
        assert (a / "2026-10" / name).read_bytes() == (b / "2026-10" / name).read_bytes(), name
    ma, mb = manifest(a), manifest(b)
    for k in ("files", "rules", "reconciliation", "totals", "townships_lacking", "villages"):
        assert ma[k] == mb[k], k
    strip = lambda e: {k: v for k, v in e.items() if k != "data_docs"}
    assert strip(ma["expectations"]) == strip(mb["expectations"])
    assert (b / "2026-10" / "data_docs" / "index.html").is_file()


def test_a_rerun_of_an_unchanged_period_reads_no_file_runs_no_rule_and_writes_the_same_outputs(tmp_path):
    d = county(tmp_path / "drop")
    out1, out2 = tmp_path / "r1", tmp_path / "r2"
    kw = dict(db=tmp_path / "db" / "c.duckdb", data_dir=tmp_path / "data")
    run(d, "2026-10", out=out1, **kw)
    run(d, "2026-10", out=out2, **kw)
    assert manifest(out1)["cache"] == {"files_read": 4, "files_from_cache": 0, "rules_from_cache": False}
    assert manifest(out2)["cache"] == {"files_read": 0, "files_from_cache": 4, "rules_from_cache": True,
                                       "expectations_from_cache": True}
    same_outputs(out1, out2)
    with open(out2 / "2026-10" / "issues.csv", encoding="utf-8-sig", newline="") as f:
        assert any(r["rule_id"] == "HH-01" for r in csv.DictReader(f))


def test_rules_run_again_when_a_parameter_or_a_file_changed_or_the_entry_is_damaged(tmp_path):
    d = county(tmp_path / "drop")
    kw = dict(db=tmp_path / "db" / "c.duckdb", data_dir=tmp_path / "data")
    run(d, "2026-10", out=tmp_path / "r0", **kw)
    # a parameter
    params = tmp_path / "params.yaml"
    params.write_text("village_suspect_rate: 0.5\n", encoding="utf-8")
    run(d, "2026-10", out=tmp_path / "r1", params_file=params, **kw)
    assert manifest(tmp_path / "r1")["cache"]["rules_from_cache"] is False
    # a damaged entry: the rules run again and find the same
    for f in (tmp_path / "data" / "cache" / "rules").glob("*/issues.parquet"):
        f.write_bytes(b"PAR1 not really")
    run(d, "2026-10", out=tmp_path / "r2", **kw)
    assert manifest(tmp_path / "r2")["cache"]["rules_from_cache"] is False
    same_outputs(tmp_path / "r0", tmp_path / "r2")
    # a file: its household now has a second head, so HH-01 fires there
    county(d, two_heads_in="东镇")
    run(d, "2026-10", out=tmp_path / "r3", **kw)
    m = manifest(tmp_path / "r3")
    assert m["cache"]["rules_from_cache"] is False and m["cache"]["files_read"] >= 1
    fresh = tmp_path / "fresh"
    run(d, "2026-10", out=fresh, db=tmp_path / "db2" / "c.duckdb", data_dir=tmp_path / "data2")
    assert (tmp_path / "r3" / "2026-10" / "issues.csv").read_bytes() != \
        (tmp_path / "r2" / "2026-10" / "issues.csv").read_bytes()


def test_the_database_holds_the_latest_tables_whether_or_not_they_were_copied_again(tmp_path):
    import duckdb

    d = county(tmp_path / "drop")
    db = tmp_path / "db" / "c.duckdb"
    kw = dict(db=db, data_dir=tmp_path / "data")

    def members():
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("SELECT name, _file, _row FROM members ORDER BY ALL").fetchall()
        finally:
            con.close()

    run(d, "2026-10", out=tmp_path / "r1", **kw)
    first = members()
    run(d, "2026-10", out=tmp_path / "r2", **kw)        # nothing changed: not copied again
    assert members() == first
    county(d, two_heads_in="东镇")                       # the second head moves from 西镇 to 东镇
    run(d, "2026-10", out=tmp_path / "r3", **kw)
    now = members()
    assert now != first
    assert sum(1 for _, f, _ in now if f == "成员_东镇.xlsx") == 4


def test_cardcheck_cache_0_reads_everything_every_time_and_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CARDCHECK_CACHE", "0")
    d = county(tmp_path / "drop")
    kw = dict(db=tmp_path / "db" / "c.duckdb", data_dir=tmp_path / "data")
    run(d, "2026-10", out=tmp_path / "r1", **kw)
    run(d, "2026-10", out=tmp_path / "r2", **kw)
    assert manifest(tmp_path / "r2")["cache"] == {"files_read": 4, "files_from_cache": 0, "rules_from_cache": False}
    assert not (tmp_path / "data" / "cache").exists()
    same_outputs(tmp_path / "r1", tmp_path / "r2")


@pytest.mark.parametrize("parallel", [False, True])
def test_two_files_with_the_same_bytes_in_one_drop_are_both_read_like_without_a_cache(tmp_path, parallel):
    """A clerk's copy of a file under another name (same sha256, so the same cache key): found by a
    user's damaged drop, where the second file's staging folder removed the first's."""
    d = drop(tmp_path / "drop")
    shutil.copy(d / "成员_东镇.xlsx", d / "成员_东镇_副本.xls")
    fresh = load(d, None, parallel=parallel)
    assert load(d, tmp_path / "cache", parallel=parallel) == fresh
    stats: dict = {}
    assert load(d, tmp_path / "cache", stats, parallel=parallel) == fresh
    assert stats == {"files_read": 0, "files_from_cache": 4}
