"""Stage 6 — report: the run's files in OUT/<period>/ (outputs.md).

issues.csv (UTF-8 with BOM, RFC 4180, sorted), issues.parquet (string columns), issues.xlsx
(the county office's copy), resolved.csv, rejected.csv, run.json. Village workbooks and
summary.html come from pipeline.outputs.workbooks and pipeline.outputs.summary.

CSV formula injection (OWASP): a text cell of a csv file that starts with =, +, -, @, a tab or a
carriage return — and is not a number (-12.5 stays) — gets a leading single quote, so Excel or
WPS never runs it. issues.parquet and the database keep the exact values.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from checks.engine import ISSUE_COLUMNS

ORDER = "township NULLS FIRST, village NULLS FIRST, household_id NULLS FIRST, rule_id, issue_id"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def csv_cell(v) -> str:
    """A value as a csv cell: '' for null; text a spreadsheet would run as a formula quoted."""
    if v is None:
        return ""
    s = v if isinstance(v, str) else str(v)
    if s.startswith(_FORMULA_START) and not _NUMBER_RE.fullmatch(s):
        return "'" + s
    return s


def _rows(con, table: str, columns: list[str]) -> list[tuple]:
    sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
    return con.execute(f"SELECT {sel} FROM {table} ORDER BY {ORDER}").fetchall()


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        for r in rows:
            w.writerow([csv_cell(v) for v in r])


def write_issues(con, out: Path) -> int:
    rows = _rows(con, "issues_current", ISSUE_COLUMNS)
    write_csv(out / "issues.csv", ISSUE_COLUMNS, rows)
    sel = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in ISSUE_COLUMNS)
    con.execute(f"COPY (SELECT {sel} FROM issues_current ORDER BY {ORDER}) "
                f"TO '{(out / 'issues.parquet').as_posix()}' (FORMAT parquet)")
    write_issues_xlsx(out / "issues.xlsx", rows, loaded=_loaded(con))
    return len(rows)


def write_resolved(con, out: Path) -> int:
    rows = _rows(con, "issues_resolved", ISSUE_COLUMNS)
    write_csv(out / "resolved.csv", ISSUE_COLUMNS, rows)
    return len(rows)


def write_rejected(con, out: Path) -> int:
    rows = con.execute('SELECT file, sheet, "row", kind, reason, raw FROM rejected_rows '
                       'ORDER BY file, sheet, "row"').fetchall()
    write_csv(out / "rejected.csv", ["file", "sheet", "row", "kind", "reason", "raw_values"], rows)
    return len(rows)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


# ---------------------------------------------------------------------------
# issues.xlsx: the county office's copy

XLSX_HEADERS = {
    "issue_id": "问题编号", "period": "期别", "rule_id": "规则编号", "rule_name": "问题类别",
    "severity": "严重程度", "status": "状态", "first_seen": "首次发现", "county": "县（市、区）",
    "township": "乡镇", "village": "行政村", "household_id": "户编号", "head_name": "户主姓名",
    "person_name": "成员姓名", "id_number": "证件号码", "helper_id_number": "帮扶责任人证件号码",
    "project_id": "项目编号", "field": "字段", "value": "填写的值", "evidence": "比对依据",
    "source": "数据来源", "responsible_unit": "责任单位", "message": "问题描述",
}
XLSX_WIDTHS = {"issue_id": 18, "rule_name": 22, "household_id": 18, "id_number": 20, "helper_id_number": 20,
               "project_id": 18, "evidence": 60, "message": 60, "responsible_unit": 14}
SUMMARY_SHEET = "汇总"
NO_TOWNSHIP_SHEET = "未填乡镇"
EXCEL_MAX_ROWS = 1_048_576
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _loaded(con) -> frozenset[str] | None:
    try:
        from pipeline.outputs.workbooks import loaded_tables

        return loaded_tables(con)
    except Exception:   # noqa: BLE001 — the texts then say less, nothing more
        return None


def sheet_names(townships: list[str | None]) -> dict[str | None, str]:
    """township → a valid, unique sheet name (31 characters, no []:*?/\\, not 汇总)."""
    from pipeline.outputs.vocab import visible

    out: dict[str | None, str] = {}
    taken = {SUMMARY_SHEET.casefold()}
    for t in townships:
        base = NO_TOWNSHIP_SHEET if not t else \
            _SHEET_BAD.sub("_", visible(t, keep_newlines=False)).strip("'") or NO_TOWNSHIP_SHEET
        base = base[:31]
        if base.casefold() == "history":          # a name Excel keeps for itself
            base += "_"
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[:31 - len(suffix)] + suffix
        taken.add(name.casefold())
        out[t] = name
    return out


def write_issues_xlsx(path: Path, rows: list[tuple], *, loaded: frozenset[str] | None = None) -> Path:
    """The rows of issues.csv for people: every value written as text (IDs and codes stay exactly
    as they are, never numbers, never formulas), Chinese headers, severity and status in words,
    the 比对依据 in plain Chinese; a frozen header and filters; 汇总 holds every row, then one
    sheet per township."""
    import xlsxwriter

    from pipeline.outputs.rule_texts import EvidenceContext, evidence_text
    from pipeline.outputs.vocab import severity_text, status_text, visible

    col = {c: i for i, c in enumerate(ISSUE_COLUMNS)}
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    try:
        head = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})
        text = wb.add_format({"num_format": "@", "valign": "top"})
        def tkey(t):
            return (t or "").strip() or None

        townships = sorted({tkey(r[col["township"]]) for r in rows}, key=lambda t: (t is None, t or ""))
        names = sheet_names(townships)
        sheets = {SUMMARY_SHEET: wb.add_worksheet(SUMMARY_SHEET)}
        for t in townships:
            sheets[names[t]] = wb.add_worksheet(names[t])
        counts = dict.fromkeys(sheets, 0)
        for ws in sheets.values():
            for c, name in enumerate(ISSUE_COLUMNS):
                ws.set_column(c, c, XLSX_WIDTHS.get(name, 11), text)
                ws.write_string(0, c, XLSX_HEADERS.get(name, name), head)
            ws.freeze_panes(1, 0)
        limit = EXCEL_MAX_ROWS - 2          # header row, and a last row saying what was left out
        for r in rows:
            values = list(r)
            values[col["severity"]] = severity_text(r[col["severity"]])
            values[col["status"]] = status_text(r[col["status"]])
            values[col["evidence"]] = evidence_text(r[col["rule_id"]], r[col["evidence"]], r[col["source"]],
                                                    EvidenceContext(r[col["rule_id"]] or "", loaded))
            values[col["source"]] = _source_text(r[col["source"]])
            values[col["field"]] = _field_text(r[col["field"]])
            for name in (SUMMARY_SHEET, names[tkey(r[col["township"]])]):
                n = counts[name]
                counts[name] = n + 1
                if n >= limit:
                    continue
                ws = sheets[name]
                for c, v in enumerate(values):
                    if v is not None and v != "":
                        ws.write_string(n + 1, c, visible(str(v))[:32000])
        for name, ws in sheets.items():
            n = counts[name]
            if n > limit:
                ws.write_string(limit + 1, 0, f"……另有 {n - limit:,} 行超出电子表格的行数上限，未列出，见 issues.csv")
            ws.autofilter(0, 0, min(n, limit), len(ISSUE_COLUMNS) - 1)
    finally:
        wb.close()
    return path


def _source_text(source: str | None) -> str | None:
    if not source:
        return source
    if source == "registry":
        return "建档立卡数据"
    from pipeline.outputs.vocab import DEPARTMENTS

    return DEPARTMENTS[source][1] if source in DEPARTMENTS else source


def _field_text(field: str | None) -> str | None:
    if not field:
        return field
    from pipeline.outputs.rule_texts import _column_headers

    return _column_headers().get(field, field)
