"""Village feedback (outputs.md "Feedback"): read returned workbooks, record the answers.

    import_feedback(paths, db) -> FeedbackResult

A workbook is read with python-calamine. Its village and period come from the
`说明` sheet (labels 乡镇/行政村/期别 in column A, values beside them; written by
pipeline.workbooks). In `问题清单` the header row is found by its names, so the
village may reorder, hide, sort or filter columns and rows, or add rows. Each row
is matched by issue_id against `issue_history`:

  * empty 核实结果                        → ignored (counted)
  * unknown issue_id (or none)            → refused
  * issue of another village              → refused
  * 核实结果 not one of the four choices   → refused
  * otherwise                             → accepted, stored in `feedback` with who
    (核实人), when (核实日期), note (核实说明), file, row, imported_at (UTC) and the
    issue's evidence of the workbook's period (so a waiver can compare evidence).

Every answer is kept; history.apply uses the latest import. A file that cannot be
used (not a workbook, no 问题清单 / issue_id / 核实结果, no village or period in 说明)
is a one-line problem and none of its rows are stored. exit_code: 0 ok, 1 some rows
refused, 2 a file (or the database) unusable.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline import history
from pipeline.workbooks import (ANSWER_HEADER, ANSWERS, DATE_HEADER, ID_HEADER, INFO_LABELS, INFO_ROWS,
                                INFO_SHEET, LIST_SHEET, NOTE_HEADER, WHO_HEADER, clean_text)

HEADER_SCAN_ROWS = 30
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_PERIOD_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


class Unusable(Exception):
    """The file cannot be used; str(exc) is the one-line reason."""


@dataclass
class Row:
    file: str
    row: int                 # Excel row number as the village sees it
    issue_id: str | None
    answer: str | None
    reason: str = ""         # why it was refused


@dataclass
class FeedbackResult:
    accepted: list[Row] = field(default_factory=list)
    refused: list[Row] = field(default_factory=list)
    ignored: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)   # (file, one-line reason)

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.refused else 0

    def report_lines(self) -> list[str]:
        """Human-readable report: problems, refused rows, then the totals."""
        out = [f"{f}: {reason}" for f, reason in self.problems]
        for r in self.refused:
            out.append(f"{r.file}:{r.row}: refused / 拒收 issue_id={r.issue_id or ''} "
                       f"核实结果={r.answer or ''}: {r.reason}")
        out.append(f"accepted {len(self.accepted)}, refused {len(self.refused)}, ignored {self.ignored}, "
                   f"unusable files {len(self.problems)} / 接收 {len(self.accepted)} 条，拒收 "
                   f"{len(self.refused)} 条，未填 {self.ignored} 条")
        return out


# ---------------------------------------------------------------------------
# cell values

def _norm_header(v) -> str:
    s = unicodedata.normalize("NFKC", "" if v is None else str(v))
    return re.sub(r"\s+", "", s).lower()


def _text(v) -> str:
    """A cell as text: '' for empty, integral floats without '.0', dates ISO."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v).strip()


def normalise_answer(v) -> str:
    """Tolerate full-width forms, dash variants and spaces: ' 属实－已整改 ' → '属实-已整改'."""
    s = unicodedata.normalize("NFKC", _text(v))
    s = _DASHES.sub("-", s)
    return re.sub(r"\s+", "", s)


def _date(v) -> str:
    """核实日期 as YYYY-MM-DD when it is a date; otherwise the text as given."""
    if v is None or v == "":
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(v))).isoformat()   # an Excel serial
    s = _text(v)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            pass
    return s


def _period(v) -> str:
    if isinstance(v, (dt.date, dt.datetime)):
        return f"{v.year:04d}-{v.month:02d}"
    m = _PERIOD_RE.match(_text(v))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}" if m else ""


# ---------------------------------------------------------------------------
# reading one workbook

@dataclass
class Workbook:
    township: str
    village: str
    period: str
    rows: list[tuple[int, dict]]       # (Excel row, {header: value})


def _sheet_grid(wb, name: str) -> list[list]:
    return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _find_sheet(names: list[str], wanted: str) -> str | None:
    for n in names:
        if n == wanted:
            return n
    for n in names:
        if _norm_header(n) == _norm_header(wanted):
            return n
    return None


def _read_info(grid: list[list]) -> dict[str, str | None]:
    """Village meta from 说明: by label (written in column A; the value is the next non-empty
    cell to its right), wherever rows or columns were inserted; else the fixed cells."""
    found: dict[str, str | None] = {}
    labels = {_norm_header(v): k for k, v in INFO_LABELS.items()}
    for row in grid[:40]:
        for j, cell in enumerate(row[:10]):
            key = labels.get(_norm_header(cell)) if isinstance(cell, str) else None
            if key and key not in found:
                rest = [c for c in row[j + 1:] if c is not None and c != ""]
                found[key] = rest[0] if rest else ""
                break
    for key, r in INFO_ROWS.items():
        if key not in found and len(grid) >= r and len(grid[r - 1]) >= 2:
            found[key] = grid[r - 1][1]
    return found


def read_workbook(path: Path) -> Workbook:
    from python_calamine import CalamineWorkbook

    if not path.is_file():
        raise Unusable("file not found / 文件不存在")
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as exc:      # calamine raises several error types for non-workbooks
        raise Unusable(f"not a readable workbook / 不是可读取的Excel文件 ({type(exc).__name__})") from None
    try:
        info_name = _find_sheet(names, INFO_SHEET)
        if info_name is None:
            raise Unusable(f"no {INFO_SHEET} sheet: village and period unknown / 缺少“{INFO_SHEET}”工作表")
        info = _read_info(_sheet_grid(wb, info_name))
        if "township" not in info or "village" not in info:
            raise Unusable(f"{INFO_SHEET} does not name the township and village / “{INFO_SHEET}”中缺少乡镇或行政村")
        period = _period(info.get("period"))
        if not period:
            raise Unusable(f"{INFO_SHEET} has no period YYYY-MM / “{INFO_SHEET}”中缺少期别")

        list_name = _find_sheet(names, LIST_SHEET)
        candidates = [list_name] if list_name else []
        candidates += [n for n in names if n not in candidates and n != info_name]
        header_at = grid = None
        for n in candidates:
            g = _sheet_grid(wb, n)
            for r, row in enumerate(g[:HEADER_SCAN_ROWS]):
                if _norm_header(ID_HEADER) in {_norm_header(c) for c in row}:
                    header_at, grid = r, g
                    break
            if grid is not None or list_name:
                break           # the named sheet decides; other sheets only when it is missing
        if grid is None:
            if list_name is None:
                raise Unusable(f"no {LIST_SHEET} sheet / 缺少“{LIST_SHEET}”工作表")
            raise Unusable(f"{LIST_SHEET} has no issue_id column / “{LIST_SHEET}”中缺少issue_id列")
    finally:
        wb.close()

    header = [_norm_header(c) for c in grid[header_at]]
    cols: dict[str, int] = {}
    for h in (ID_HEADER, ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER):
        if _norm_header(h) in header:
            cols[h] = header.index(_norm_header(h))
    if ANSWER_HEADER not in cols:
        raise Unusable(f"{LIST_SHEET} has no {ANSWER_HEADER} column / “{LIST_SHEET}”中缺少“{ANSWER_HEADER}”列")
    rows = []
    for r in range(header_at + 1, len(grid)):
        line = grid[r]
        if all(c is None or c == "" for c in line):
            continue
        rows.append((r + 1, {h: (line[i] if i < len(line) else None) for h, i in cols.items()}))
    return Workbook(_text(info.get("township")), _text(info.get("village")), period, rows)


# ---------------------------------------------------------------------------
# the import

def _village_key(township, village) -> tuple[str, str]:
    """Compare villages as the workbook shows them (pipeline.workbooks.clean_text)."""
    return (clean_text(_text(township)).strip(), clean_text(_text(village)).strip())


def _lookup(con, ids: list[str], period: str) -> dict[str, tuple]:
    """issue_id → (township, village, evidence), preferring the workbook's period, else the latest."""
    if not ids:
        return {}
    rows = con.execute("""
        SELECT issue_id, township, village, evidence FROM issue_history
        WHERE issue_id IN (SELECT unnest(?::VARCHAR[]))
        QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY (period = ?) DESC, period DESC) = 1""",
                       [ids, period]).fetchall()
    return {r[0]: r[1:] for r in rows}


def _now_utc(after: str | None) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    s = now.isoformat(timespec="microseconds")
    if after and s <= after:            # strictly increasing: "the latest import wins"
        prev = dt.datetime.fromisoformat(after)
        s = (prev + dt.timedelta(microseconds=1)).isoformat(timespec="microseconds")
    return s


def import_file(con, path: Path, result: FeedbackResult, imported_at: str) -> None:
    wb = read_workbook(path)
    name, stored = str(path), str(path.resolve())
    where = _village_key(wb.township, wb.village)
    ids = sorted({_text(v[ID_HEADER]).lower() for _, v in wb.rows if _text(v.get(ID_HEADER))})
    known = _lookup(con, ids, wb.period)
    accepted: list[tuple] = []
    for r, v in wb.rows:
        raw_answer = _text(v.get(ANSWER_HEADER))
        if not raw_answer:
            result.ignored += 1
            continue
        iid = _text(v.get(ID_HEADER)).lower() or None
        answer = normalise_answer(raw_answer)
        row = Row(name, r, iid, raw_answer)
        if iid is None:
            row.reason = "no issue_id / 缺少issue_id"
        elif iid not in known:
            row.reason = "unknown issue_id / 未知的问题编号"
        elif _village_key(known[iid][0], known[iid][1]) != where:
            t, vil = _village_key(known[iid][0], known[iid][1])
            row.reason = f"issue of another village ({t} {vil}) / 属于其他村的问题"
        elif answer not in ANSWERS:
            row.reason = f"核实结果 must be one of {'、'.join(ANSWERS)} / 核实结果不是四个选项之一"
        if row.reason:
            result.refused.append(row)
            continue
        row.answer = answer
        result.accepted.append(row)
        accepted.append((iid, wb.township, wb.village, wb.period, answer,
                         _text(v.get(NOTE_HEADER)) or None, _text(v.get(WHO_HEADER)) or None,
                         _date(v.get(DATE_HEADER)) or None, stored, r, imported_at, known[iid][2]))
    if accepted:
        con.executemany("INSERT INTO feedback (issue_id, township, village, period, answer, note, who, "
                        "answered_on, file, sheet_row, imported_at, evidence) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", accepted)


def import_feedback(paths: list[Path], db: Path) -> FeedbackResult:
    """Record the answers of returned village workbooks in the database `db`."""
    result = FeedbackResult()
    db = Path(db)
    if not db.is_file():
        result.problems.append((str(db), "database not found: run `cardcheck run` first / 数据库不存在"))
        return result
    try:
        con = duckdb.connect(str(db))
    except duckdb.Error as exc:
        result.problems.append((str(db), f"cannot open the database: {str(exc).splitlines()[0]}"))
        return result
    try:
        history.ensure(con, "main")
        last = con.execute("SELECT max(imported_at) FROM feedback").fetchone()[0]
        con.execute("BEGIN TRANSACTION")
        try:
            for p in paths:
                p = Path(p)
                imported_at = _now_utc(last)
                last = imported_at
                try:
                    import_file(con, p, result, imported_at)
                except Unusable as exc:
                    result.problems.append((str(p), str(exc)))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return result
