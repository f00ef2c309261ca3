"""cardcheck validate: exit codes, Excel row numbers as the uploader sees them, json and junit."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parents[1]
ID_OK, ID_BAD = "430624198006150131", "430624198006150130"   # the second has a wrong check digit


def cardcheck(*args):
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def members_file(path: Path, rows) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("人员")
    ws.merge_range("A1:E1", "XX县2026年10月家庭成员明细表")      # a title row above the header
    ws.write_row(1, 0, ["户编号", "姓名", "证件号码", "与户主关系", "性别"])
    for i, r in enumerate(rows):
        ws.write_row(2 + i, 0, r)
    wb.close()
    return path


def test_clean_file_exits_0(tmp_path):
    f = members_file(tmp_path / "ok.xlsx", [["001", "张三", ID_OK, "户主", "男"]])
    proc = cardcheck("validate", f, "--period", "2026-10")
    assert proc.returncode == 0, proc.stdout
    assert "2026-10-31" in proc.stdout            # the report says which reference date it used


def test_error_cites_excel_row_and_header(tmp_path):
    f = members_file(tmp_path / "bad.xlsx", [["001", "张三", ID_OK, "户主", "男"],
                                             ["002", "李四", ID_BAD, "户主", "男"]])
    proc = cardcheck("validate", f, "--period", "2026-10", "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    found = [x for x in doc["files"][0]["findings"] if x["rule_id"] == "ID-01"]
    # title row 1, header row 2, 张三 row 3, 李四 row 4 — as Excel shows them
    assert [(x["sheet"], x["row"], x["column"], x["value"]) for x in found] == [("人员", 4, "证件号码", ID_BAD)]
    assert doc["files"][0]["header_row"] == 2 and doc["exit_code"] == 1


def test_junit_parses_with_one_testcase_per_rule_and_failures_for_errors(tmp_path):
    bad = members_file(tmp_path / "bad.xlsx", [["002", "李四", ID_BAD, "户主", "男"]])
    ok = members_file(tmp_path / "ok.xlsx", [["001", "张三", ID_OK, "户主", "男"]])
    proc = cardcheck("validate", bad, ok, "--period", "2026-10", "--format", "junit")
    assert proc.returncode == 1
    root = ET.fromstring(proc.stdout)
    suites = root.findall("testsuite")
    assert len(suites) == 2
    cases = {(s.get("name").split("/")[-1], c.get("name")): c for s in suites for c in s.findall("testcase")}
    assert cases[("bad.xlsx", "ID-01")].find("failure") is not None
    assert cases[("ok.xlsx", "ID-01")].find("failure") is None
    names = [c.get("name") for c in suites[0].findall("testcase")]
    assert len(names) == len(set(names)) and "LAB-01" in names     # one testcase per rule


def test_csv_rows_are_line_numbers(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("户编号,姓名,证件号码,与户主关系,性别\n001,张三,%s,户主,男\n002,李四,%s,户主,男\n" % (ID_OK, ID_BAD),
                 encoding="utf-8")
    doc = json.loads(cardcheck("validate", f, "--period", "2026-10", "--format", "json").stdout)
    assert [x["row"] for x in doc["files"][0]["findings"] if x["rule_id"] == "ID-01"] == [3]


def test_unknown_kind_option_is_refused(tmp_path):
    f = members_file(tmp_path / "ok.xlsx", [["001", "张三", ID_OK, "户主", "男"]])
    proc = cardcheck("validate", f, "--kind", "nonsense")
    assert proc.returncode == 2 and "unknown --kind" in proc.stderr


def test_validate_path_imports_no_heavy_library(tmp_path):
    """validate starts fast: neither Great Expectations, pandas nor pyarrow is imported on its
    path (DuckDB's Arrow bridge would import pandas; validate hands rows over as CSV)."""
    f = members_file(tmp_path / "bad.xlsx", [["001", "张三", ID_BAD, "户主", "男"]])
    code = ("import sys, cli\n"
            f"sys.argv = ['cardcheck', 'validate', {str(f)!r}, '--format', 'json']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('great_expectations', 'pandas', 'pyarrow', 'pandera') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ID-01" in proc.stdout or "ID-0" in proc.stdout
