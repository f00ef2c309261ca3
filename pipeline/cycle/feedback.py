"""Village feedback (outputs.md "Feedback"): read returned workbooks, record the answers.

    import_feedback(paths, db) -> FeedbackResult

A workbook is read with pipeline.ingest.read.read_excel (the reader that refuses hostile files). It is
identified by its workbook id (pipeline.outputs.workbooks: the custom document property
WORKBOOK_ID_PROPERTY and the 工作簿编号 cell of `说明`), which must be registered in the
store's `workbook_issues`: the registry, not the `说明` sheet, says which township, village and
period the workbook belongs to and which issues it listed. In `问题清单` the header row is found
by its names, so the village may reorder, hide, sort or filter columns and rows, or add rows.
Each row is judged against the registry:

  * empty 核实结果                               → ignored (counted)
  * no issue_id                                  → refused
  * an issue not listed in this very workbook    → refused (unknown, county-level, another
                                                   village's, or another workbook's issue)
  * 核实结果 not one of the four choices          → refused
  * otherwise                                    → accepted, stored in `feedback` with who
    (核实人), when (核实日期), note (核实说明), file, row, imported_at (UTC), the workbook id,
    how = 'workbook', the registry's township/village/period and the issue's evidence of that
    period (so a waiver can compare evidence).

Every answer is kept; history.apply uses the latest import. A file that cannot be used (not a
workbook, no registered workbook id, no 问题清单 / issue_id / 核实结果) is one plain sentence and
none of its rows are stored. exit_code: 0 ok, 1 some rows refused, 2 a file (or the database)
unusable. The report is plain Chinese.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.cycle import history
from pipeline.store.duck import NotADatabase, connect
from pipeline.outputs.vocab import ANSWERS, AUDIT_RESULTS, problem_text
from pipeline.outputs.audit_book import AUDIT_HEADER, AUDIT_NOTE_HEADER, AUDIT_WHO_HEADER
from pipeline.outputs.workbooks import (ANSWER_HEADER, DATE_HEADER, ID_HEADER, INFO_SHEET, LIST_SHEET, NOTE_HEADER,
                                WHO_HEADER, WORKBOOK_ID_LABEL, WORKBOOK_ID_PROPERTY, WORKBOOK_ID_ROW)

HEADER_SCAN_ROWS = 30
MAX_PROPERTIES_BYTES = 1 << 20      # docProps/custom.xml read only when it is small
HOW = "workbook"
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_WBID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# reasons, in plain Chinese
NO_ID = "缺少问题编号"
UNKNOWN = "未知的问题编号"
COUNTY_LEVEL = "县级问题，不能在村级清单中答复"
OTHER_VILLAGE = "属于其他村的问题，不是本清单下发的，不予接收"
OTHER_WORKBOOK = "不是本清单下发的问题（可能来自其他期别的清单），不予接收"
BAD_ANSWER = "核实结果不是四个选项之一（" + "、".join(ANSWERS) + "）"
RETURN_ORIGINAL = "请用县里下发的原文件填写后交回"


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
        """The report, in plain Chinese: files that could not be used, refused rows, totals."""
        out = [f"{f}：无法使用——{reason}" for f, reason in self.problems]
        for r in self.refused:
            answer = f"，核实结果“{r.answer}”" if r.answer else ""
            out.append(f"{r.file} 第{r.row}行：拒收（问题编号 {r.issue_id or '空'}{answer}）——{r.reason}")
        out.append(f"合计：接收 {len(self.accepted)} 条，拒收 {len(self.refused)} 条，未填写 {self.ignored} 条，"
                   f"无法使用的文件 {len(self.problems)} 个")
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


# ---------------------------------------------------------------------------
# reading one workbook

@dataclass
class Workbook:
    workbook_id: str
    rows: list[tuple[int, dict]]       # (Excel row, {header: value})
    audit: bool = False                # a waiver audit sample (复核结果 column)


def _find_sheet(sheets: list, wanted: str):
    for s in sheets:
        if s.name == wanted:
            return s
    for s in sheets:
        if _norm_header(s.name) == _norm_header(wanted):
            return s
    return None


def _id_in_sheet(sheet) -> str:
    """The workbook id of `说明`: beside its label wherever rows or columns were inserted, else
    the fixed cell B<WORKBOOK_ID_ROW>."""
    if sheet is None:
        return ""
    label = _norm_header(WORKBOOK_ID_LABEL)
    for row in sheet.rows[:60]:
        for j, cell in enumerate(row[:10]):
            if isinstance(cell, str) and _norm_header(cell) == label:
                rest = [c for c in row[j + 1:] if c is not None and c != ""]
                return _text(rest[0]) if rest else ""
    r = WORKBOOK_ID_ROW - 1
    if len(sheet.rows) > r and len(sheet.rows[r]) >= 2:
        return _text(sheet.rows[r][1])
    return ""


def _id_in_properties(path: Path) -> str:
    """The custom document property WORKBOOK_ID_PROPERTY of an xlsx (small part only)."""
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(path) as z:
            try:
                info = z.getinfo("docProps/custom.xml")
            except KeyError:
                return ""
            if info.file_size > MAX_PROPERTIES_BYTES:
                return ""
            root = ET.fromstring(z.read(info))
    except (zipfile.BadZipFile, OSError, ET.ParseError, ValueError):
        return ""
    for prop in root:
        if prop.get("name") == WORKBOOK_ID_PROPERTY:
            return "".join(t.strip() for t in prop.itertext())
    return ""


def read_workbook(path: Path) -> Workbook:
    from pipeline.ingest.read import ReadError, read_excel

    if not path.is_file():
        raise Unusable("文件不存在")
    try:
        sheets = read_excel(path)
    except ReadError as exc:
        raise Unusable(problem_text(str(exc)) or "不是可以读取的电子表格文件") from None
    except Exception:     # noqa: BLE001 — a reader failure is the file's problem, said in one line
        raise Unusable("不是可以读取的电子表格文件") from None

    in_cell = _id_in_sheet(_find_sheet(sheets, INFO_SHEET))
    in_props = _id_in_properties(path) if zipfile.is_zipfile(path) else ""
    if in_cell and in_props and in_cell != in_props:
        raise Unusable(f"工作簿编号被改动过（两处编号不一致），无法确认是哪一份清单，{RETURN_ORIGINAL}")
    wbid = in_props or in_cell
    if not wbid:
        raise Unusable(f"没有工作簿编号：这不是县里下发的村级问题清单（或编号已被删除），{RETURN_ORIGINAL}")

    info = _find_sheet(sheets, INFO_SHEET)
    listed = _find_sheet(sheets, LIST_SHEET)
    candidates = [listed] if listed is not None else [s for s in sheets if s is not info]
    header_at = grid = None
    for sh in candidates:
        for r, row in enumerate(sh.rows[:HEADER_SCAN_ROWS]):
            if _norm_header(ID_HEADER) in {_norm_header(c) for c in row}:
                header_at, grid = r, sh.rows
                break
        if grid is not None:
            break           # the named sheet decides; other sheets only when it is missing
    if grid is None:
        if listed is None:
            raise Unusable(f"缺少“{LIST_SHEET}”工作表")
        raise Unusable(f"“{LIST_SHEET}”中缺少问题编号（{ID_HEADER}）列")

    header = [_norm_header(c) for c in grid[header_at]]
    cols: dict[str, int] = {}
    for h in (ID_HEADER, ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER, AUDIT_HEADER, AUDIT_NOTE_HEADER,
              AUDIT_WHO_HEADER):
        if _norm_header(h) in header:
            cols[h] = header.index(_norm_header(h))
    audit = AUDIT_HEADER in cols
    if ANSWER_HEADER not in cols and not audit:
        raise Unusable(f"“{LIST_SHEET}”中缺少“{ANSWER_HEADER}”列")
    rows = []
    for r in range(header_at + 1, len(grid)):
        line = grid[r]
        if all(c is None or c == "" for c in line):
            continue
        rows.append((r + 1, {h: (line[i] if i < len(line) else None) for h, i in cols.items()}))
    return Workbook(wbid, rows, audit)


# ---------------------------------------------------------------------------
# the import

@dataclass
class Registered:
    workbook_id: str
    period: str
    township: str | None
    village: str | None
    issues: set[str]


def registered(con, wbid: str) -> Registered | None:
    """The registry's record of a workbook id (pipeline.outputs.workbooks.write_all, kept by the run)."""
    if not _WBID_RE.match(wbid or ""):
        return None
    rows = con.execute("SELECT period, township, village, issue_id FROM workbook_issues WHERE workbook_id = ?",
                       [wbid]).fetchall()
    if not rows:
        return None
    period, township, village = rows[0][:3]
    return Registered(wbid, period, township, village, {r[3] for r in rows if r[3]})


def _history(con, ids: list[str], period: str) -> dict[str, tuple]:
    """issue_id → (township, village, evidence), preferring the workbook's period, else the latest."""
    if not ids:
        return {}
    rows = con.execute("""
        SELECT issue_id, township, village, evidence FROM issue_history
        WHERE issue_id IN (SELECT unnest(?::VARCHAR[]))
        QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY (period = ?) DESC, period DESC) = 1""",
                       [ids, period]).fetchall()
    return {r[0]: r[1:] for r in rows}


def _why_not(iid: str, known: dict[str, tuple], reg: Registered) -> str:
    """Why an issue that this workbook did not list cannot be answered from it."""
    if iid not in known:
        return UNKNOWN
    township, village = (known[iid][0] or "").strip(), (known[iid][1] or "").strip()
    if not (township and village):
        return COUNTY_LEVEL
    if (township, village) != ((reg.township or "").strip(), (reg.village or "").strip()):
        return OTHER_VILLAGE
    return OTHER_WORKBOOK


def _now_utc(after: str | None) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    s = now.isoformat(timespec="microseconds")
    if after and s <= after:            # strictly increasing: "the latest import wins"
        prev = dt.datetime.fromisoformat(after)
        s = (prev + dt.timedelta(microseconds=1)).isoformat(timespec="microseconds")
    return s


@dataclass
class Incoming:
    """One answer on its way into `feedback`, from a returned workbook or from the portal."""
    issue_id: str | None
    answer: str                       # as given (normalised here)
    note: str | None = None
    who: str | None = None
    answered_on: str | None = None    # 核实日期 (a date as the village wrote it)
    row: int | None = None            # the Excel row of a workbook; None in the browser
    answer_id: str | None = None      # makes a repeated write (the portal's outbox) a no-op
    answered_at: str | None = None    # when it was made (UTC), if not when it is recorded


def _recorded(con, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return {r[0] for r in con.execute("SELECT answer_id FROM feedback WHERE answer_id IN "
                                      "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()}


def record(con, reg: Registered, items: list[Incoming], result: FeedbackResult, imported_at: str, *,
           how: str, file: str, account: str | None = None, label: str | None = None) -> None:
    """Judge answers against the registered workbook `reg` and store the accepted ones in
    `feedback` — the one code path of `cardcheck feedback` and of the portal (browser answers
    and returned workbooks). An answer counts only for an issue listed in that very workbook;
    an answer_id already recorded is not recorded again (counted as accepted)."""
    ids = sorted({i.issue_id for i in items if i.issue_id})
    known = _history(con, ids, reg.period)
    done = _recorded(con, [i.answer_id for i in items if i.answer_id])
    rows: list[tuple] = []
    for it in items:
        raw_answer = _text(it.answer)
        if not raw_answer:
            result.ignored += 1
            continue
        iid = (it.issue_id or "").strip().lower() or None
        answer = normalise_answer(raw_answer)
        row = Row(label or file, it.row or 0, iid, raw_answer)
        if iid is None:
            row.reason = NO_ID
        elif iid not in reg.issues:
            row.reason = _why_not(iid, known, reg)
        elif answer not in ANSWERS:
            row.reason = BAD_ANSWER
        if row.reason:
            result.refused.append(row)
            continue
        row.answer = answer
        result.accepted.append(row)
        if it.answer_id and it.answer_id in done:
            continue
        evidence = known[iid][2] if iid in known else None
        rows.append((iid, reg.township, reg.village, reg.period, answer, _text(it.note) or None,
                     _text(it.who) or None, _date(it.answered_on) or None, file, it.row, imported_at, evidence,
                     reg.workbook_id, how, it.answer_id or uuid.uuid4().hex, account or None,
                     it.answered_at or imported_at))
    if rows:
        con.executemany("INSERT INTO feedback (issue_id, township, village, period, answer, note, who, "
                        "answered_on, file, sheet_row, imported_at, evidence, workbook_id, how, answer_id, "
                        "account, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


class WrongArea(Unusable):
    """A workbook of another village than the one returning it (the portal)."""


def import_file(con, path: Path, result: FeedbackResult, imported_at: str, *,
                area: tuple[str, str | None] | None = None,
                key: str | None = None, account: str | None = None, name: str | None = None,
                audits: bool = True) -> str:
    """Record one returned workbook. `area` (township, village): the portal's village account
    returning it — a workbook of another village is refused whole; (township, None): a township
    account, any village of its township. `key`: the portal's id of the
    return (rows get answer_id key:row, so writing the same return twice records it once).
    A returned waiver audit sample (抽查复核.xlsx) is recorded as the county's audit results when
    `audits`. Returns 'village' or 'audit'."""
    wb = read_workbook(path)
    label, stored = name or str(path), str(path.resolve())
    reg = registered(con, wb.workbook_id)
    if reg is None and audits:
        areg = audit_registered(con, wb.workbook_id)
        if areg is not None:
            record_audit_workbook(con, areg, wb, result, imported_at, file=label, key=key, account=account)
            return "audit"
    if reg is None:
        raise Unusable(f"工作簿编号未登记：这不是本系统下发的村级问题清单，{RETURN_ORIGINAL}")
    if area is not None:
        township, village = area
        if (reg.township or "").strip() != township or (village is not None and (reg.village or "").strip() != village):
            raise WrongArea("这不是本村的问题清单，请交回本村的清单" if village is not None else
                            f"这不是{township}的村级问题清单")
    items = [Incoming(_text(v.get(ID_HEADER)).lower() or None, _text(v.get(ANSWER_HEADER)), v.get(NOTE_HEADER),
                      v.get(WHO_HEADER), v.get(DATE_HEADER), r, f"{key}:{r}" if key else None)
             for r, v in wb.rows]
    record(con, reg, items, result, imported_at, how=HOW, file=stored if name is None else name, account=account,
           label=label)
    return "village"


# ---------------------------------------------------------------------------
# the waiver audit sample (抽查复核.xlsx, portal.md): the county's confirmed / overturned

@dataclass
class AuditRegistered:
    workbook_id: str
    period: str
    issues: dict[str, tuple]          # issue_id → (township, village)


def audit_registered(con, wbid: str) -> AuditRegistered | None:
    if not _WBID_RE.match(wbid or ""):
        return None
    rows = con.execute("SELECT period, issue_id, township, village FROM audit_workbooks WHERE workbook_id = ?",
                       [wbid]).fetchall()
    if not rows:
        return None
    return AuditRegistered(wbid, rows[0][0], {r[1]: (r[2], r[3]) for r in rows})


@dataclass
class AuditIncoming:
    issue_id: str | None
    result: str                       # 确认 | 推翻 (or the codes)
    note: str | None = None
    who: str | None = None
    row: int | None = None
    answer_id: str | None = None


def _audit_code(v) -> str | None:
    s = normalise_answer(v)
    for code, word in AUDIT_RESULTS.items():
        if s in (code, word):
            return code
    return None


BAD_AUDIT = "复核结果不是“" + "”或“".join(AUDIT_RESULTS.values()) + "”"
NOT_SAMPLED = "不在本期抽查复核名单中"


def record_audit(con, reg: AuditRegistered, items: list[AuditIncoming], result: FeedbackResult,
                 recorded_at: str, *, how: str, file: str, account: str | None = None) -> None:
    """The county's spot-check results (confirmed / overturned) for issues of an audit sample —
    the one path of the returned 抽查复核.xlsx and of the portal's buttons."""
    done = _recorded_audits(con, [i.answer_id for i in items if i.answer_id])
    rows = []
    for it in items:
        raw = _text(it.result)
        if not raw:
            result.ignored += 1
            continue
        iid = (it.issue_id or "").strip().lower() or None
        row = Row(file, it.row or 0, iid, raw)
        code = _audit_code(raw)
        if iid is None:
            row.reason = NO_ID
        elif iid not in reg.issues:
            row.reason = NOT_SAMPLED
        elif code is None:
            row.reason = BAD_AUDIT
        if row.reason:
            result.refused.append(row)
            continue
        row.answer = AUDIT_RESULTS[code]
        result.accepted.append(row)
        if it.answer_id and it.answer_id in done:
            continue
        township, village = reg.issues[iid]
        rows.append((iid, reg.period, township, village, code, _text(it.note) or None, _text(it.who) or None, how,
                     reg.workbook_id, file, it.row, recorded_at, it.answer_id or uuid.uuid4().hex))
    if rows:
        con.executemany("INSERT INTO waiver_audits (issue_id, period, township, village, result, note, who, how, "
                        "workbook_id, file, sheet_row, recorded_at, answer_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _recorded_audits(con, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return {r[0] for r in con.execute("SELECT answer_id FROM waiver_audits WHERE answer_id IN "
                                      "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()}


def record_audit_workbook(con, reg: AuditRegistered, wb: "Workbook", result: FeedbackResult, recorded_at: str, *,
                          file: str, key: str | None, account: str | None) -> None:
    if not wb.audit:
        raise Unusable(f"“{LIST_SHEET}”中缺少“{AUDIT_HEADER}”列")
    items = [AuditIncoming(_text(v.get(ID_HEADER)).lower() or None, _text(v.get(AUDIT_HEADER)), v.get(AUDIT_NOTE_HEADER),
                           v.get(AUDIT_WHO_HEADER), r, f"{key}:{r}" if key else None) for r, v in wb.rows]
    record_audit(con, reg, items, result, recorded_at, how=HOW, file=file, account=account)


def import_feedback(paths: list[Path], db: Path) -> FeedbackResult:
    """Record the answers of returned village workbooks in the database `db`."""
    result = FeedbackResult()
    db = Path(db)
    if not db.is_file():
        result.problems.append((str(db), "数据库不存在，请先完成一次月度运行（cardcheck run）"))
        return result
    try:
        con = connect(db)
    except NotADatabase as exc:
        result.problems.append((str(db), str(exc)))
        return result
    except duckdb.Error as exc:
        result.problems.append((str(db), f"无法打开数据库：{str(exc).splitlines()[0]}"))
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
