"""Workbooks the portal writes from a check: the findings list, and the uploaded workbook annotated.

    findings_xlsx(result, dest, mask=False, name=…)   one row per finding
    annotated_xlsx(src, result, dest, name=…)         a copy of the upload: each finding's cell
                                                      coloured by severity with the message in a
                                                      cell comment, plus a 校验结果 sheet

The annotated copy holds values, not formulas: an xlsx is opened with its cached values (what
the check read), a csv or xls becomes an xlsx rendition laid out at the same row numbers. Text
that starts with =, +, - or @ is written as text, never a formula (portal.md).
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname

from portal import services

RESULT_SHEET = "校验结果"
SEVERITY_RANK = {"error": 0, "suspect": 1, "notice": 2}
HEADERS = ["序号", "工作表", "行号", "列", "值", "严重程度", "规则编号", "规则名称", "说明"]
WIDTHS = [6, 14, 8, 18, 24, 10, 10, 20, 70]
_FORMULA_START = ("=", "+", "-", "@")


def _text(ws, row: int, col: int, value, mask: bool = False):
    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return cell
    s = str(value)
    s = "".join(ch if ch in "\t\n" or unicodedata.category(ch) != "Cc" else "?" for ch in s)[:32000]
    if mask:
        s = services.mask_text(s)
    cell.value = s
    if s[:1] in _FORMULA_START:
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _finding_rows(result: dict):
    for i, f in enumerate(result.get("findings") or [], 1):
        yield i, f


def _write_result_sheet(ws, result: dict, *, mask: bool, name: str, links: dict | None = None) -> None:
    ws.append([])
    _text(ws, 1, 1, f"文件：{name}")
    _text(ws, 2, 1, f"表类型：{result.get('kind_title') or result.get('kind') or '未识别'}；读取 "
                    f"{result.get('rows_read', 0)} 行，载入 {result.get('rows_loaded', 0)} 行，拒收 "
                    f"{result.get('rows_rejected', 0)} 行；共 {len(result.get('findings') or [])} 条问题")
    if not result.get("usable", True):
        _text(ws, 3, 1, f"文件无法使用：{result.get('problem_cn') or result.get('problem') or ''}")
    top = 5
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="D9D9D9")
    for j, (h, w) in enumerate(zip(HEADERS, WIDTHS), 1):
        c = ws.cell(row=top, column=j, value=h)
        c.font, c.fill = bold, fill
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    sev_fill = {k: PatternFill("solid", fgColor=v) for k, v in services.SEVERITY_FILL.items()}
    wrap = Alignment(wrap_text=True, vertical="top")
    r = top
    for i, f in _finding_rows(result):
        r += 1
        ws.cell(row=r, column=1, value=i)
        _text(ws, r, 2, f.get("sheet") or "")
        ws.cell(row=r, column=3, value=f.get("row"))
        _text(ws, r, 4, f.get("column") or "")
        _text(ws, r, 5, f.get("value"), mask)
        c = _text(ws, r, 6, services.SEVERITY_CN.get(f.get("severity"), f.get("severity")))
        if f.get("severity") in sev_fill:
            c.fill = sev_fill[f["severity"]]
        _text(ws, r, 7, f.get("rule_id"))
        _text(ws, r, 8, f.get("rule_name"))
        _text(ws, r, 9, f.get("message"), mask).alignment = wrap
        if links and i in links:
            ws.cell(row=r, column=3).hyperlink = links[i]
            ws.cell(row=r, column=3).font = Font(color="0563C1", underline="single")
    if r > top:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(HEADERS))}{r}"


def findings_xlsx(result: dict, dest: Path, *, mask: bool = False, name: str = "") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = RESULT_SHEET
    _write_result_sheet(ws, result, mask=mask, name=name)
    wb.save(dest)
    return dest


def _norm(s) -> str:
    return "".join(unicodedata.normalize("NFKC", str(s or "")).split())


def _locate(layout: dict | None, header: str | None) -> int:
    """The 1-based column of a finding's header in its sheet (column A when it has none)."""
    if layout is None or not header:
        return 1
    cols = layout["columns"]
    if header in cols:
        return cols[header]
    want = _norm(header)
    for h, c in cols.items():
        if _norm(h) == want:
            return c
    hr = layout.get("header_row")
    if hr:
        rows, numbers = layout["rows"], layout["row_numbers"]
        idx = numbers.index(hr) if numbers and hr in numbers else hr - 1
        if 0 <= idx < len(rows):
            for j, v in enumerate(rows[idx], 1):
                if _norm(services.cell_text(v)) == want:
                    return j
    return 1


def annotated_xlsx(src: Path, result: dict, dest: Path, *, name: str = "") -> Path:
    src = Path(src)
    layouts = services.read_layouts(src, result.get("kind"))
    by_name = {lay["name"]: lay for lay in layouts}
    first = layouts[0]["name"] if layouts else ""
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        wb = load_workbook(src, data_only=True, keep_vba=False, keep_links=False)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":            # no formula in a workbook the portal writes
                        c.value = None
                    elif isinstance(c.value, str) and c.value[:1] in _FORMULA_START:
                        c.data_type = "s"
                        c.quotePrefix = True
        titles = {ws.title: ws for ws in wb.worksheets}
    else:
        wb = Workbook()
        wb.remove(wb.active)
        titles = {}
        for lay in layouts:
            title = (lay["name"] or "数据")[:31]
            ws = wb.create_sheet(title)
            titles[lay["name"]] = ws
            numbers = lay["row_numbers"]
            for i, row in enumerate(lay["rows"]):
                r = numbers[i] if numbers else i + 1
                for j, v in enumerate(row, 1):
                    if v is None or v == "":
                        continue
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        ws.cell(row=r, column=j, value=v)
                    else:
                        _text(ws, r, j, v if isinstance(v, str) else services.cell_text(v))
        if not titles:
            titles[""] = wb.create_sheet("数据")
    cells: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
    links: dict[int, str] = {}
    for i, f in _finding_rows(result):
        if f.get("row") is None:
            continue
        sheet = f.get("sheet") or result.get("sheet") or first
        if sheet not in titles:
            sheet = first if first in titles else next(iter(titles))
        col = _locate(by_name.get(sheet), f.get("column"))
        cells[(sheet, int(f["row"]), col)].append(f)
        links[i] = f"#{quote_sheetname(titles[sheet].title)}!{get_column_letter(col)}{int(f['row'])}"
    fills = {k: PatternFill("solid", fgColor=v) for k, v in services.SEVERITY_FILL.items()}
    for (sheet, row, col), fs in cells.items():
        ws = titles[sheet]
        cell = ws.cell(row=row, column=col)
        worst = min(fs, key=lambda f: SEVERITY_RANK.get(f.get("severity"), 9))
        if worst.get("severity") in fills:
            cell.fill = fills[worst["severity"]]
        text = "\n".join(f"【{services.SEVERITY_CN.get(f.get('severity'), f.get('severity'))}】"
                         f"{f.get('rule_id')} {f.get('rule_name')}：{f.get('message')}" for f in fs[:20])
        if len(fs) > 20:
            text += f"\n…另有 {len(fs) - 20} 条"
        comment = Comment(text[:30000], "cardcheck")
        comment.width, comment.height = 360, min(60 + 40 * len(fs), 600)
        cell.comment = comment
    if RESULT_SHEET in wb.sheetnames:
        wb.remove(wb[RESULT_SHEET])
    ws = wb.create_sheet(RESULT_SHEET, 0)
    _write_result_sheet(ws, result, mask=False, name=name, links=links)
    wb.active = 0
    for w in wb.worksheets:
        w.sheet_view.tabSelected = w is ws
    wb.save(dest)
    return dest
