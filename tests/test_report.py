"""report.py: csv formula injection (K-10) and issues.xlsx, the county office's copy."""
from __future__ import annotations

import csv
import zipfile

import duckdb
import openpyxl
import pytest

from checks.engine import ISSUE_COLUMNS
from pipeline.outputs import report

ID18 = "430624198006150131"
HOSTILE = ["=HYPERLINK(\"http://evil/\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "=1+1"]
NUMBERS = ["-12.5", "+3", "-150", "12", "1e5"]


def _issue(n: int, township, **kw) -> dict:
    row = dict.fromkeys(ISSUE_COLUMNS)
    row.update(issue_id=f"{n:016x}", period="2026-10", rule_id="ID-07", rule_name="姓名异常", severity="suspect",
               status="new", first_seen="2026-10", county="湘阴县", township=township, village="新泉村",
               household_id=f"43062410101{n:04d}", head_name="张三", person_name="张三", id_number=ID18,
               field="name", value="张三", evidence='{"length":2,"name":"张三"}', source="registry",
               responsible_unit="乡镇扶贫办", message="姓名异常")
    row.update(kw)
    return row


def _con(issues: list[dict], rejected=()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    cols = ", ".join(f'"{c}" VARCHAR' for c in ISSUE_COLUMNS)
    for t in ("issues_current", "issues_resolved"):
        con.execute(f"CREATE TEMP TABLE {t} ({cols})")
        if issues:
            con.executemany(f"INSERT INTO {t} VALUES ({', '.join('?' for _ in ISSUE_COLUMNS)})",
                            [[i[c] for c in ISSUE_COLUMNS] for i in issues])
    con.execute('CREATE TEMP TABLE rejected_rows (file VARCHAR, sheet VARCHAR, "row" INTEGER, kind VARCHAR, '
                'reason VARCHAR, raw VARCHAR)')
    if rejected:
        con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?, ?)", list(rejected))
    return con


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def hostile(tmp_path):
    issues = [_issue(n, "城西镇", person_name=v, head_name=v, village=v, message=v, value=v)
              for n, v in enumerate(HOSTILE + NUMBERS)]
    rejected = [(v, v, n + 2, "members", v, v) for n, v in enumerate(HOSTILE + NUMBERS)]
    con = _con(issues, rejected)
    report.write_issues(con, tmp_path)
    report.write_resolved(con, tmp_path)
    report.write_rejected(con, tmp_path)
    return con, tmp_path


def test_csv_cells_that_would_run_as_formulas_are_quoted(hostile):
    """K-10: issues.csv, resolved.csv and rejected.csv quote =, +, -, @, tab and CR cells (OWASP);
    numbers stay numbers."""
    _, out = hostile
    for name, cols in (("issues.csv", ("person_name", "head_name", "village", "message", "value")),
                       ("resolved.csv", ("person_name", "value")),
                       ("rejected.csv", ("file", "sheet", "reason", "raw_values"))):
        rows = _csv(out / name)
        header, data = rows[0], rows[1:]
        seen = set()
        for r in data:
            for c in cols:
                v = r[header.index(c)]
                seen.add(v)
                assert not v.startswith(("=", "+", "-", "@", "\t", "\r")) or v in NUMBERS, (name, c, v)
        assert {"'" + h for h in HOSTILE} <= seen, name
        assert set(NUMBERS) <= seen, name


def test_parquet_keeps_exact_values(hostile):
    con, out = hostile
    got = {r[0] for r in con.execute(f"SELECT person_name FROM '{(out / 'issues.parquet').as_posix()}'").fetchall()}
    assert got == set(HOSTILE + NUMBERS)


def test_csv_cell():
    assert report.csv_cell("=1+1") == "'=1+1"
    assert report.csv_cell("-12.5") == "-12.5" and report.csv_cell("-") == "'-"
    assert report.csv_cell(None) == "" and report.csv_cell("张三") == "张三"


def test_issues_xlsx_same_rows_ids_as_text_one_sheet_per_township(tmp_path):
    issues = [_issue(1, "城西镇"), _issue(2, "城东镇", household_id="000123", id_number="00430624198006150"),
              _issue(3, "城西镇", person_name="=HYPERLINK(\"http://evil\",\"x\")"),
              _issue(4, None, household_id=None, project_id="0012")]
    con = _con(issues)
    n = report.write_issues(con, tmp_path)
    assert n == 4
    path = tmp_path / "issues.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "城东镇", "城西镇", "未填乡镇"]
    csv_rows = _csv(tmp_path / "issues.csv")[1:]
    summary = wb["汇总"]
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0][0] == "问题编号" and len(rows[0]) == len(ISSUE_COLUMNS)
    assert [r[0] for r in rows[1:]] == [r[0] for r in csv_rows]          # the same rows, same order
    assert summary.freeze_panes == "A2" and summary.auto_filter.ref == f"A1:V{len(issues) + 1}"
    assert [r[0] for r in wb["城西镇"].iter_rows(min_row=2, values_only=True)] == \
        [r[0] for r in csv_rows if r[ISSUE_COLUMNS.index("township")] == "城西镇"]
    for ws in wb:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.value is not None:
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)   # text, never numbers
    by_id = {r[0]: r for r in rows[1:]}
    col = {c: i for i, c in enumerate(ISSUE_COLUMNS)}
    r2 = by_id[f"{2:016x}"]
    assert r2[col["household_id"]] == "000123" and r2[col["id_number"]] == "00430624198006150"
    assert r2[col["severity"]] == "疑似" and r2[col["status"]] == "新发现"
    assert "姓名" in r2[col["evidence"]] and "{" not in r2[col["evidence"]]
    assert by_id[f"{3:016x}"][col["person_name"]].startswith("=HYPERLINK")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8")


def test_sheet_names_are_valid_and_unique():
    names = report.sheet_names(["a/b", "a:b", "汇总", None, "x" * 40, "X" * 40, "History", "'q'"])
    assert len(set(n.casefold() for n in names.values())) == len(names)
    for n in names.values():
        assert len(n) <= 31 and not set(n) & set("[]:*?/\\") and n != "汇总" and n.casefold() != "history"
