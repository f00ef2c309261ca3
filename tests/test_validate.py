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


# ---------------------------------------------------------------------------
# text output, folders, files not loaded, --kind of another kind (issue F, K item 4)

import datetime as dt  # noqa: E402
import re  # noqa: E402

from pipeline import validate as V  # noqa: E402
from schemas.ids import make_id  # noqa: E402


def _bad_ids(n: int) -> list[str]:
    out = []
    for i in range(n):
        good = make_id("430624", dt.date(1980, 1, 1) + dt.timedelta(days=i), i % 999 + 1, True)
        out.append(good[:17] + ("0" if good[17] != "0" else "1"))
    return out


def test_text_prints_at_most_50_findings_per_rule_and_file(tmp_path):
    f = tmp_path / "m.csv"
    ids = _bad_ids(120)
    f.write_text("户编号,姓名,证件号码,与户主关系,性别\n" + "".join(
        f"{i:03d},张三,{x},户主,男\n" for i, x in enumerate(ids)), encoding="utf-8")
    res = V.validate_file(f, kind=None, period="2026-10")
    assert sum(x.rule_id == "ID-01" for x in res.findings) == 120          # json and junit keep every one
    text = V.render_text([res], "2026-10", dt.date(2026, 10, 31))
    lines = text.splitlines()
    assert sum(" ID-01 " in line and "第" in line and "……" not in line for line in lines) == 50
    assert any(line.strip().startswith("……另有 70 条") and "ID-01" in line for line in lines)
    doc = V.render_json([res], "2026-10", dt.date(2026, 10, 31))
    assert doc.count('"rule_id": "ID-01"') == 120


def test_text_is_plain_chinese_with_local_time(tmp_path):
    f = members_file(tmp_path / "bad.xlsx", [["002", "李四", ID_BAD, "户主", "男"]])
    junk = tmp_path / "说明.txt"
    junk.write_text("这不是表格", encoding="utf-8")
    results = [V.validate_file(p, kind=None, period="2026-10") for p in (f, junk)]
    text = V.render_text(results, "2026-10", dt.date(2026, 10, 31))
    assert "北京时间" in text and "2026-10-31" in text
    assert "错误" in text and "无法使用" in text
    for p in (str(f), str(junk), ID_BAD):
        text = text.replace(p, "")
    text = re.sub(r"\b[A-Z]{2,4}-\d{2}\b", "", text)                     # rule IDs are fine
    assert not re.search(r"[A-Za-z]", text), text


def test_expand_inputs_gives_every_file_of_a_folder_sorted(tmp_path):
    (tmp_path / "drop" / "乡镇B").mkdir(parents=True)
    (tmp_path / "drop" / ".git").mkdir()
    for name in ("乡镇B/b.xlsx", "a.csv", "说明.txt", "~$a.xlsx", ".DS_Store", ".git/x", "乡镇B/c.zip"):
        (tmp_path / "drop" / name).write_text("x", encoding="utf-8")
    single = tmp_path / "one.csv"
    single.write_text("x", encoding="utf-8")
    got = V.expand_inputs([tmp_path / "drop", single])
    drop = tmp_path / "drop"
    assert got == sorted([drop / "a.csv", drop / "说明.txt", drop / "乡镇B" / "b.xlsx", drop / "乡镇B" / "c.zip"]) \
        + [single]


def test_kind_of_another_kind_lists_its_missing_columns(tmp_path):
    f = members_file(tmp_path / "m.xlsx", [["001", "张三", ID_OK, "户主", "男"]])
    res = V.validate_file(f, kind="households", period="2026-10")
    assert V.exit_code([res]) == 2 and not res.usable
    missing = [(x.rule_id, x.row, x.column) for x in res.findings]
    assert missing == [("SCH-01", 2, c) for c in ("户主姓名", "家庭人口数", "贫困户属性", "脱贫属性")]
    assert "家庭情况表" in res.problem and "户主姓名" in res.problem


def test_a_sheet_not_loaded_makes_the_file_unusable(tmp_path):
    path = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("人员")
    ws.write_row(0, 0, ["户编号", "姓名", "证件号码", "与户主关系", "性别"])
    ws.write_row(1, 0, ["001", "张三", ID_OK, "户主", "男"])
    ws = wb.add_worksheet("家庭")
    ws.write_row(0, 0, ["户编号", "户主姓名", "家庭人口数", "贫困户属性"])       # 脱贫属性 missing
    ws.write_row(1, 0, ["001", "张三", 1, "一般贫困户"])
    wb.close()
    res = V.validate_file(path, kind=None, period="2026-10")
    assert V.exit_code([res]) == 2 and not res.usable
    assert "工作表“家庭”" in res.problem and "脱贫属性" in res.problem
    assert [(x.rule_id, x.sheet, x.column) for x in res.findings if x.rule_id == "SCH-01"] == \
        [("SCH-01", "家庭", "脱贫属性")]
