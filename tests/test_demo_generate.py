"""Tests of the demo data generator itself (not of the pipeline)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import demo.generate as g
from schemas.tables import TABLES

N = 240


@pytest.fixture(scope="module")
def excel_drop(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_excel")
    dirs = g.generate_demo(root, seed=3, n_households=N)
    return root, dirs


def _truth(d: Path) -> dict:
    return json.loads(g.truth_path(d).read_text(encoding="utf-8"))


def _digest(d: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_two_periods_written(excel_drop):
    root, dirs = excel_drop
    assert [d.name for d in dirs] == list(g.PERIODS)
    for d in dirs:
        t = _truth(d)
        assert t["period"] == d.name
        assert t["reference_date"] == g.ref_date(d.name).isoformat()


def test_every_kind_and_format_present(excel_drop):
    _, dirs = excel_drop
    for d in dirs:
        files = _truth(d)["files"]
        kinds = {f["kind"] for f in files.values() if not f.get("not_loaded")}
        assert kinds == set(TABLES), set(TABLES) - kinds
        exts = {Path(n).suffix for n in files}
        assert {".xlsx", ".xls", ".csv"} <= exts
        for name in files:
            assert (d / name).exists()
        assert sum(f["kind"] == "members" for f in files.values()) >= 3   # split per township
        raw = {n: (d / n).read_bytes()[:3] for n in files if n.endswith(".csv")}
        assert any(b == b"\xef\xbb\xbf" for b in raw.values())            # UTF-8 with BOM
        gbk = [n for n in files if n.endswith(".csv") and (d / n).read_bytes()[:3] != b"\xef\xbb\xbf"]
        assert any(_is_gbk_only(d / n) for n in gbk)                      # a GBK/GB18030 csv


def _is_gbk_only(p: Path) -> bool:
    b = p.read_bytes()
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        b.decode("gb18030")
        return True


def test_truth_covers_every_rule(excel_drop):
    _, dirs = excel_drop
    t = _truth(dirs[0])
    rules = {d["rule_id"] for d in t["defects"]}
    missing = set(g.ALL_RULE_IDS) - rules
    assert not missing, missing
    from collections import Counter
    cnt = Counter(d["rule_id"] for d in t["defects"])
    assert all(cnt[r] >= 2 for r in g.ALL_RULE_IDS), {r: cnt[r] for r in g.ALL_RULE_IDS if cnt[r] < 2}
    for d in t["defects"]:
        assert set(d) >= {"rule_id", "household_id", "id_number", "helper_id_number", "project_id", "note"}
    assert any(d["rule_id"] == "ID-01" and d["note"].startswith("mess:") for d in t["defects"])   # rounded IDs
    assert any(d["rule_id"] == "SCH-03" and d["note"].startswith("mess:") for d in t["defects"])


def test_truth_consistent(excel_drop):
    _, dirs = excel_drop
    for d in dirs:
        t = _truth(d)
        bad = {x["household_id"] for x in t["defects"] if x["household_id"]}
        clean = set(t["clean_households"])
        assert clean and not (clean & bad)
        assert len(clean) > N // 5
        for name, f in t["files"].items():
            assert f["rejected_rows"] >= f["duplicate_rows"]
            assert f["data_rows"] >= f["rejected_rows"]
        assert sum(f["duplicate_rows"] for f in t["files"].values()) >= 3
        assert sum(f["rejected_rows"] - f["duplicate_rows"] for f in t["files"].values()
                   if not f.get("not_loaded")) >= 1
    p1, p2 = (_truth(d) for d in dirs)
    k1 = {(x["rule_id"], x["household_id"], x["id_number"]) for x in p1["defects"]}
    k2 = {(x["rule_id"], x["household_id"], x["id_number"]) for x in p2["defects"]}
    assert len(k1 & k2) > len(k1) // 2      # most defects persist
    assert k1 - k2 and k2 - k1              # some fixed, some new


def test_clean_county_is_clean_model():
    c = g.generate_county(seed=5, n_households=150)
    for p in g.PERIODS:
        pd = c.periods[p]
        assert pd.defects == []
        mem = pd.tables["members"]
        hh = pd.tables["households"]
        assert len(hh) >= 140
        sizes = {}
        for r in mem:
            sizes[r["household_id"]] = sizes.get(r["household_id"], 0) + 1
        for h in hh:
            assert sizes[h["household_id"]] == h["size"]
            tot = h["wage_income"] + h["business_income"] + h["property_income"] + h["transfer_income"] - h["business_cost"]
            assert abs(tot / h["size"] - h["income_per_capita"]) <= 10


def test_deterministic_by_seed(tmp_path):
    a = g.generate_demo(tmp_path / "a", seed=9, n_households=120, fmt="csv")
    b = g.generate_demo(tmp_path / "b", seed=9, n_households=120, fmt="csv")
    for x, y in zip(a, b):
        assert _digest(x) == _digest(y)
    c = g.generate_demo(tmp_path / "c", seed=10, n_households=120, fmt="csv")
    assert _digest(a[0]) != _digest(c[0])


def test_deterministic_excel(tmp_path, excel_drop):
    root, dirs = excel_drop
    again = g.generate_demo(tmp_path / "x", seed=3, n_households=N)
    for d1, d2 in zip(dirs, again):
        t1, t2 = _truth(d1), _truth(d2)
        assert t1 == t2
        for n in t1["files"]:
            assert (d1 / n).read_bytes() == (d2 / n).read_bytes(), n


def test_csv_fmt_plain(tmp_path):
    dirs = g.generate_demo(tmp_path, seed=4, n_households=150, fmt="csv", messy=True)
    for d in dirs:
        t = _truth(d)
        for name, f in t["files"].items():
            assert name.endswith(".csv")
            text = (d / name).read_text(encoding="utf-8")
            assert not text.startswith("\ufeff")
            assert "\u200b" not in text
            header = text.splitlines()[0].split(",")
            if not f.get("not_loaded"):
                assert header == [c.header for c in TABLES[f["kind"]].columns]
                assert f["skipped_rows"] == 1
        assert {f["kind"] for f in t["files"].values()} == set(TABLES)
