"""End to end: generate a small demo county (two periods, messy files, injected defects),
run both periods, and check the outputs against the generator's ground truth."""
import csv
import json
from pathlib import Path

import pytest

from checks.engine import ISSUE_COLUMNS
from demo.generate import generate_demo, truth_path
from pipeline.run import run

N_HOUSEHOLDS = 400


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    drops = generate_demo(root / "raw", seed=5, n_households=N_HOUSEHOLDS)
    out, db = root / "reports", root / "cc.duckdb"
    results = [run(d, d.name, out=out, db=db) for d in drops]
    return drops, results, out


def read_issues(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_outputs_exist_with_contract_columns(demo_runs):
    drops, results, out = demo_runs
    for d, res in zip(drops, results):
        folder = out / d.name
        for name in ("issues.csv", "issues.parquet", "resolved.csv", "rejected.csv", "run.json"):
            assert (folder / name).is_file(), name
        with open(folder / "issues.csv", encoding="utf-8") as f:
            assert f.read(1) == "\ufeff"                       # BOM for Excel/WPS
        with open(folder / "issues.csv", encoding="utf-8-sig", newline="") as f:
            assert next(csv.reader(f)) == ISSUE_COLUMNS


def test_row_conservation_for_every_file(demo_runs):
    drops, results, _ = demo_runs
    for d, res in zip(drops, results):
        truth = json.loads(truth_path(d).read_text(encoding="utf-8"))
        files = res.manifest["files"]
        for f in files:
            assert f["rows_read"] == f["rows_loaded"] + f["rows_rejected"], f
        by_file: dict[str, dict] = {}
        for f in files:
            agg = by_file.setdefault(Path(f["path"]).name, {"read": 0, "rejected": 0, "kinds": set()})
            agg["read"] += f["rows_read"]
            agg["rejected"] += f["rows_rejected"]
            if f["kind"]:
                agg["kinds"].add(f["kind"])
        for name, t in truth["files"].items():
            got = by_file[Path(name).name]
            assert t["kind"] in got["kinds"], (name, t, got)
            assert got["read"] == t["data_rows"], (name, t, got)
            assert got["rejected"] == t["rejected_rows"], (name, t, got)


RULE_KEYS = {"household": ("household_id",), "person": ("household_id", "id_number"),
             "helper": ("helper_id_number",), "project": ("project_id",), "id_number": ("id_number",)}


def _match(issue: dict, defect: dict) -> bool:
    """The issue carries the defect's key, as the rule defines its key (rules.md "Keys")."""
    from checks.catalogue import RULES, all_rules

    all_rules()
    if issue["rule_id"] != defect["rule_id"]:
        return False
    for key in RULE_KEYS[RULES[defect["rule_id"]].key]:
        want = defect.get(key)
        if want and issue[key] != want:
            return False
    return True


def test_every_injected_defect_is_found(demo_runs):
    drops, results, out = demo_runs
    for d in drops:
        truth = json.loads(truth_path(d).read_text(encoding="utf-8"))
        issues = read_issues(out / d.name / "issues.csv")
        by_rule: dict[str, list[dict]] = {}
        for i in issues:
            by_rule.setdefault(i["rule_id"], []).append(i)
        missing = [df for df in truth["defects"]
                   if df["rule_id"] != "SCH-01"
                   and not any(_match(i, df) for i in by_rule.get(df["rule_id"], []))]
        assert not missing, f"{d.name}: {len(missing)} injected defects not found, e.g. {missing[:5]}"


def test_sch01_file_is_refused(demo_runs):
    drops, results, _ = demo_runs
    for d, res in zip(drops, results):
        truth = json.loads(truth_path(d).read_text(encoding="utf-8"))
        if any(df["rule_id"] == "SCH-01" for df in truth["defects"]):
            assert any(f["missing_columns"] for f in res.manifest["files"])


def test_clean_households_stay_clean(demo_runs):
    drops, results, out = demo_runs
    for d in drops:
        truth = json.loads(truth_path(d).read_text(encoding="utf-8"))
        clean = set(truth["clean_households"])
        assert clean, "the generator lists clean households"
        issues = read_issues(out / d.name / "issues.csv")
        dirty = [(i["household_id"], i["rule_id"], i["message"]) for i in issues
                 if i["household_id"] in clean and i["severity"] in ("error", "suspect")]
        assert not dirty, f"{d.name}: clean households with issues: {dirty[:10]}"


def test_issue_ids_are_stable_across_periods(demo_runs):
    drops, results, out = demo_runs
    first = {i["issue_id"]: i for i in read_issues(out / drops[0].name / "issues.csv")}
    second = read_issues(out / drops[1].name / "issues.csv")
    persisting = [i for i in second if i["status"] == "persisting"]
    assert persisting, "some defects persist from period 1 to period 2"
    for i in persisting:
        old = first[i["issue_id"]]
        assert (old["rule_id"], old["household_id"], old["id_number"]) == \
            (i["rule_id"], i["household_id"], i["id_number"])
        assert i["first_seen"] == drops[0].name
    new = [i for i in second if i["status"] == "new"]
    assert all(i["issue_id"] not in first for i in new)
    resolved = read_issues(out / drops[1].name / "resolved.csv")
    assert all(r["issue_id"] in first and r["status"] == "resolved" for r in resolved)


def test_run_json_has_rules_reconciliation_and_totals(demo_runs):
    drops, results, _ = demo_runs
    m = results[1].manifest
    assert m["reference_date"] == "2026-10-31"
    assert all(v["status"] in ("evaluated", "skipped") for v in m["rules"].values())
    assert set(m["totals"]["by_severity"]) == {"error", "suspect", "notice"}
    for agency, r in m["reconciliation"].items():
        assert r["rows"] == r["matched_exact"] + r["matched_fuzzy"] + r["unmatched"] + r["unmatched_invalid_id"]
    assert m["villages"] and all(0 <= v["suspect_rate"] <= 1 for v in m["villages"])
