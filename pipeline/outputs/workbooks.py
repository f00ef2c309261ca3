"""Village workbooks (outputs.md "Village workbooks"): OUT/<period>/villages/<乡镇>/<行政村>.xlsx.

    write_all(con, out_dir, period, *, mask_ids=True, params=None, progress=None) -> [paths written]
    persist_registry(con, schema)   append the temp table workbook_issues to <schema>.workbook_issues

One workbook per village (the pair township, village) with at least one listed
issue. An issue belongs to a village when it is about a registered household
(the household's township/village, as the issue row carries them), or when its
own row names both a township and a village (projects, civil_affairs, member rows
without a household); any other issue stays county-level. Waived issues are not
listed.

Every workbook carries an unguessable workbook id (secrets.token_urlsafe), written in the
`说明` sheet (label 工作簿编号, WORKBOOK_ID_ROW) and as the custom document property
WORKBOOK_ID_PROPERTY. write_all records in the TEMP TABLE `workbook_issues` which issue_ids
went into which workbook (file relative to the period folder); the run appends it to the
store inside its transaction, and `cardcheck feedback` accepts an answer only for an issue
issued in that very workbook.

Sheets:
  说明      fixed cells B3..B6 hold county, township, village and period (labels in
            A3..A6, for people), the workbook id, counts, how to fill in, and the rules
            that occur with their meaning and policy.
  问题清单  one row per issue (LIST_HEADERS), header in row 1, the 核实结果 dropdown; beside
            a persisting issue the answer given last time (上次核实结果, 上次核实说明), read-only.
  按户汇总  one row per registered household with issues: class 红/黄/绿, counts.

Every text cell goes through `put`: ID-like values masked (unless mask_ids is False) after
normalising full-width digits and inner spaces, control/bidi characters made visible, and
values that look like formulas stored as plain strings (data_type 's', quote prefix), never
formulas. Document properties are cleaned the same way.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections import Counter, defaultdict
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from checks.catalogue import rule_sort_key
from pipeline.outputs.vocab import (ANSWERS, FLAG_NOT_FIXED, SEVERITY_CN, SEVERITY_MEANING, SEVERITY_ORDER, STATUS_CN,
                            local_text, status_text, visible)

INFO_SHEET, LIST_SHEET, SUMMARY_SHEET = "说明", "问题清单", "按户汇总"

# 说明: label in column A, value in column B, at these rows (for people; feedback trusts the registry)
INFO_ROWS = {"county": 3, "township": 4, "village": 5, "period": 6}
INFO_LABELS = {"county": "县（市、区）", "township": "乡镇", "village": "行政村", "period": "期别"}
WORKBOOK_ID_LABEL, WORKBOOK_ID_ROW = "工作簿编号", 9
WORKBOOK_ID_PROPERTY = "工作簿编号"        # custom document property holding the same id

ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER, ID_HEADER = "核实结果", "核实说明", "核实人", "核实日期", "issue_id"
LAST_ANSWER_HEADER, LAST_NOTE_HEADER = "上次核实结果", "上次核实说明"
LIST_HEADERS = ["序号", "户编号", "户主姓名", "成员姓名", "证件号码", "问题类别", "问题描述", "比对依据",
                "责任单位", "状态", "首次发现", LAST_ANSWER_HEADER, LAST_NOTE_HEADER,
                ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER, ID_HEADER]
FILL_IN = (ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER)
READ_ONLY = (LAST_ANSWER_HEADER, LAST_NOTE_HEADER)
LIST_WIDTHS = [6, 17, 10, 10, 21, 24, 52, 46, 14, 16, 9, 18, 24, 16, 30, 10, 12, 18]
SUMMARY_HEADERS = ["户编号", "户主", "分类", "错误", "疑似", "提示", "合计"]

SEVERITY_FILL = {"error": "FFC7CE", "suspect": "FFEB9C", "notice": "DDEBF7"}
CLASS_FILL = {"红": "FF9999", "黄": "FFE699", "绿": "C6EFCE"}

_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
_READ_ONLY_FILL = PatternFill("solid", fgColor="EDEDED")
_READ_ONLY_HEADER_FILL = PatternFill("solid", fgColor="BFBFBF")
_READ_ONLY_FONT = Font(italic=True, color="595959")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_BOLD = Font(bold=True)

MAX_CELL = 32000   # Excel's limit is 32,767 characters per cell

# ---------------------------------------------------------------------------
# text hygiene: masking, control characters, formulas

_D = "0-9\uff10-\uff19"                                   # ASCII and full-width digits
_SEP = " \u00a0\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff"   # spaces (full-width, zero-width) inside an ID
_XS = "Xx\uff38\uff58"
_GROUP = f"[{_D}]+(?:[{_XS}][{_D}]{{0,2}})?"
# runs of digit groups separated by single spaces: 430624 19800615 013x, ４３０６２４…
_RUN_RE = re.compile(f"(?<![{_D}]){_GROUP}(?:[{_SEP}]{_GROUP})*(?![{_D}])")
_GROUP_RE = re.compile(_GROUP)
# IDs that Excel turned into numbers and someone wrote back as text: 4.30624199001011E+17, 4.3E+17
_SCI_RE = re.compile(f"(?<![{_D}.\uff0e])[{_D}](?:[.\uff0e][{_D}]+)?[Ee\uff25\uff45][+\uff0b]?[1\uff11][4-9\uff14-\uff19](?![{_D}])")
_WIDTH = str.maketrans("\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19xX\uff38\uff58\uff0e\uff0b\uff25\uff45eE",
                       "0123456789XXXX.+EEEE")
_MIN_ID, _MAX_ID = 15, 23        # 15/18-char IDs, truncated or over-long ones, card numbers (ID + 2)


def normalise_id(s: str) -> str:
    """Full-width digits to ASCII, x to X, spaces (any width) removed."""
    return re.sub(f"[{_SEP}]", "", str(s)).translate(_WIDTH)


def id_shaped(s) -> bool:
    """An 18-char ID shape (17 digits and a digit or X) after normalising width, case and spaces."""
    return s is not None and re.fullmatch(r"[0-9]{17}[0-9X]", normalise_id(s)) is not None


def mask_token(tok: str) -> str:
    """First 6 + one '*' per hidden character + last 4: 430521********123X."""
    if len(tok) <= 10:
        return tok
    return tok[:6] + "*" * (len(tok) - 10) + tok[-4:]


def _mask_sci(tok: str) -> str:
    mant, _, exp = normalise_id(tok).partition("E")
    keep = 6 if len(mant) > 6 else min(2, len(mant))
    return mant[:keep] + "*" * (len(mant) - keep) + "E" + exp


def _mask_run(run: str, keep) -> str:
    """Mask the ID-like tokens of a run of digit groups separated by single spaces: a group of
    15..23 characters alone, else consecutive short groups that together make an ID (18, then 15
    characters; failing both, the longest stretch of 15..23) — an ID typed with spaces."""
    spans = [(m.start(), m.end()) for m in _GROUP_RE.finditer(run)]
    norm = [normalise_id(run[a:b]) for a, b in spans]
    n = len(norm)
    repl: dict[int, int] = {i: i for i, g in enumerate(norm) if _MIN_ID <= len(g) <= _MAX_ID}
    i = 0
    while i < n:
        if i in repl:
            i = repl[i] + 1
            continue
        best = None
        for target in (18, 15, None):
            total = 0
            for j in range(i, n):
                if j in repl or len(norm[j]) >= _MIN_ID:
                    break
                total += len(norm[j])
                if target is not None:
                    if total == target:
                        best = j
                    if total >= target:
                        break
                elif total > _MAX_ID:
                    break
                elif total >= _MIN_ID:
                    best = j
            if best is not None:
                break
        if best is not None and best > i:
            repl[i] = best
            i = best + 1
        else:
            i += 1
    out, pos = [], 0
    for i in sorted(repl):
        j = repl[i]
        tok = "".join(norm[i:j + 1])
        if tok in keep:
            continue
        out.append(run[pos:spans[i][0]])
        out.append(mask_token(tok))
        pos = spans[j][1]
    out.append(run[pos:])
    return "".join(out)


def mask_text(s: str, keep: frozenset[str] | set[str] = frozenset()) -> str:
    """Mask every ID-like value inside s (after normalising width, case and inner spaces);
    values in `keep` (household IDs that are not ID-shaped, project IDs) stay."""
    s = _SCI_RE.sub(lambda m: _mask_sci(m.group(0)), s)
    return _RUN_RE.sub(lambda m: _mask_run(m.group(0), keep), s)


def clean_text(s: str, *, one_line: bool = False) -> str:
    """Control, bidi and other invisible characters made visible (␇, 〔U+202E〕): XML cannot hold
    some of them, others change what a reader sees. Cut at Excel's cell limit."""
    s = visible(s, keep_newlines=not one_line)
    if len(s) > MAX_CELL:
        s = s[:MAX_CELL] + "…"
    return s


class Styles:
    """Style cells by copying a prepared style array, one per key and workbook: openpyxl's
    attribute-by-attribute styling hashes style objects on every assignment and would
    dominate the writing time of a large village."""

    def __init__(self) -> None:
        self._cache: dict = {}

    def apply(self, cell, key, **attrs) -> None:
        arr = self._cache.get(key)
        if arr is None:
            for k, v in attrs.items():
                setattr(cell, k, v)
            self._cache[key] = copy(cell._style)
        else:
            cell._style = copy(arr)


def put(ws, row: int, col: int, value, *, mask: bool = False, keep=frozenset(), style=None):
    """Write one cell. Text is never a formula; numbers stay numbers.
    style: (Styles, key, attrs) applied before the value (the quote prefix is part of the style)."""
    cell = ws.cell(row=row, column=col)
    if style is not None:
        style[0].apply(cell, style[1], **style[2])
    if value is None:
        return cell
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, (int, float, dt.date)):
        cell.value = value
        return cell
    s = str(value)
    if mask:                         # before cleaning: a zero-width space may sit inside an ID
        s = mask_text(s, keep)
    s = clean_text(s)
    cell.value = s
    if s[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"         # openpyxl would otherwise store '=…' as a formula
        cell.quotePrefix = True      # and the spreadsheet keeps it text when edited
    return cell


# ---------------------------------------------------------------------------
# names safe for any filesystem

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
_UNSAFE_RE = re.compile(r'[/\\:*?"<>|]')


def safe_name(name, limit: int = 60) -> str:
    """A file/folder name: separators, `..` and control characters → `_`; empty → 未知."""
    s = unicodedata.normalize("NFC", "" if name is None else str(name))
    s = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in s)
    s = _UNSAFE_RE.sub("_", s).strip()
    while ".." in s:
        s = s.replace("..", "_")
    if s.startswith("."):
        s = "_" + s[1:]
    if s.endswith((".", " ")):
        s = s.rstrip(". ") + "_"
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        s = "_" + s
    s = s[:limit]
    while len(s.encode("utf-8")) > 180:    # byte limits of common filesystems (255), with room for _2.xlsx
        s = s[:-1]
    return s or "未知"


def _unique(name: str, taken: set[str]) -> str:
    cand, n = name, 1
    while cand.casefold() in taken:        # case-insensitive filesystems collide too
        n += 1
        cand = f"{name}_{n}"
    taken.add(cand.casefold())
    return cand


def village_paths(villages: list[tuple[str, str]], root: Path) -> dict[tuple[str, str], Path]:
    """(township, village) → root/<乡镇>/<行政村>.xlsx, deterministic, collision-free."""
    folders: dict[str, str] = {}
    taken_f: set[str] = set()
    for t in sorted({t for t, _ in villages}):
        folders[t] = _unique(safe_name(t), taken_f)
    out: dict[tuple[str, str], Path] = {}
    taken_v: dict[str, set[str]] = defaultdict(set)
    for t, v in sorted(villages):
        stem = _unique(safe_name(v), taken_v[t])
        out[(t, v)] = root / folders[t] / f"{stem}.xlsx"
    return out


# ---------------------------------------------------------------------------
# data

def _exists(con, name: str) -> bool:
    """A table or view of the run's own database (not of an attached store)."""
    return con.execute("""
        SELECT count(*) FROM (
            SELECT database_name FROM duckdb_tables() WHERE table_name = ?
            UNION ALL SELECT database_name FROM duckdb_views() WHERE view_name = ?)
        WHERE database_name IN (current_database(), 'temp')""", [name, name]).fetchone()[0] > 0


def _columns(con, name: str) -> set[str]:
    return {r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()}


def _norm(v) -> str:
    return "" if v is None else str(v).strip()


def load_issues(con) -> list[dict]:
    """Non-waived current issues with a flag `registered` (household known in v_hh)."""
    cols = _columns(con, "issues_current")
    flag = "flag" if "flag" in cols else "CAST(NULL AS VARCHAR)"
    if _exists(con, "v_hh"):
        reg = "i.household_id IN (SELECT household_id FROM v_hh WHERE household_id IS NOT NULL)"
    elif _exists(con, "households"):
        reg = "i.household_id IN (SELECT household_id FROM households WHERE household_id IS NOT NULL)"
    else:
        reg = "i.household_id IS NOT NULL"
    cur = con.execute(f"""
        SELECT i.*, {flag} AS _flag, coalesce({reg}, false) AS _registered
        FROM issues_current i
        WHERE coalesce(i.status, '') <> 'waived'""")
    names = [d[0] for d in cur.description]
    rows = []
    for r in cur.fetchall():
        d = dict(zip(names, r))
        d["flag"] = d.pop("_flag")
        d["registered"] = d.pop("_registered")
        rows.append({k: (v if v is None or isinstance(v, bool) else str(v)) for k, v in d.items()})
    return rows


def village_of(issue: dict) -> tuple[str, str] | None:
    """The (township, village) workbook an issue goes to, or None (county level)."""
    t, v = _norm(issue.get("township")), _norm(issue.get("village"))
    if issue.get("registered") or (t and v):
        return (t, v)
    return None


def household_facts(con) -> dict[str, tuple]:
    """household_id → (status, monitor_type, income_per_capita), the first row of each household."""
    if not _exists(con, "households"):
        return {}
    cols = _columns(con, "households")
    need = {"household_id", "status", "monitor_type", "income_per_capita"}
    if not need <= cols:
        return {}
    order = "_rid" if "_rid" in cols else "household_id"
    rows = con.execute(f"""
        SELECT household_id, status, monitor_type, TRY_CAST(income_per_capita AS DOUBLE)
        FROM households WHERE household_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY {order}) = 1""").fetchall()
    return {str(r[0]): r[1:] for r in rows}


def household_class(status, monitor_type, income, line) -> str:
    """rules.md "Household class": 红 / 黄 / 绿, '' when the status is empty or unknown."""
    status = _norm(status)
    if status in ("未脱贫", "返贫"):
        return "红"
    if not status:
        return ""
    mt = _norm(monitor_type)
    if status == "已脱贫" and ((mt and mt != "无") or (income is not None and line is not None and income < line)):
        return "黄"
    return "绿"


def household_ids(con) -> frozenset[str]:
    """Every household ID known to the run."""
    ids: set[str] = set()
    for t in ("v_hh", "households", "members"):
        if _exists(con, t) and "household_id" in _columns(con, t):
            ids.update(str(r[0]) for r in con.execute(
                f'SELECT DISTINCT household_id FROM "{t}" WHERE household_id IS NOT NULL').fetchall())
    return frozenset(ids)


def keep_keys(ids) -> frozenset[str]:
    """Keys that stay readable in masked text: household and project IDs, except those that are
    themselves ID-shaped (a household registered under its head's 18-digit ID is personal data)."""
    return frozenset(normalise_id(i) for i in ids if i and not id_shaped(i))


def loaded_tables(con) -> frozenset[str]:
    """Canonical tables of the run with at least one row (what the texts may say was compared)."""
    from schemas.tables import TABLES

    out = set()
    for t in TABLES:
        if _exists(con, t) and con.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone():
            out.add(t)
    return frozenset(out)


def last_answers(con) -> dict[str, tuple]:
    """issue_id → (answer, note, period) of the latest answer before this run (temp table
    `_answers`, made by history.apply), when present."""
    if not _exists(con, "_answers"):
        return {}
    cols = _columns(con, "_answers")
    if not {"issue_id", "answer"} <= cols:
        return {}
    note = "note" if "note" in cols else "NULL"
    period = "period" if "period" in cols else "NULL"
    return {str(r[0]): r[1:] for r in con.execute(
        f"SELECT issue_id, answer, {note}, {period} FROM _answers WHERE issue_id IS NOT NULL").fetchall()}


# ---------------------------------------------------------------------------
# cell contents

def evidence_text(issue: dict, loaded: frozenset[str] | None = None) -> str:
    """比对依据 of an issue (pipeline.outputs.rule_texts)."""
    from pipeline.outputs.rule_texts import EvidenceContext, evidence_text as text

    return text(issue.get("rule_id"), issue.get("evidence"), issue.get("source"),
                EvidenceContext(issue.get("rule_id") or "", loaded))


def rule_category(issue: dict) -> str:
    sev = SEVERITY_CN.get(issue.get("severity") or "", issue.get("severity") or "")
    name = issue.get("rule_name") or issue.get("rule_id") or ""
    return f"{name}（{sev}）" if sev else name


def last_answer_text(answer: tuple | None, period: str) -> tuple[str | None, str | None]:
    """(上次核实结果, 上次核实说明): the answer, with its workbook's period when that is not the
    previous month."""
    if not answer or not answer[0]:
        return None, None
    ans, note, when = answer
    s = str(ans)
    if when and str(when) != period:
        s = f"{s}（{when}期）"
    return s, (note or None)


def _sort_key(i: dict):
    return (i.get("household_id") is None, i.get("household_id") or "",
            SEVERITY_ORDER.get(i.get("severity") or "", 9), rule_sort_key(i.get("rule_id") or ""),
            i.get("person_name") or "", i.get("issue_id") or "")


# ---------------------------------------------------------------------------
# the workbook

def _display_width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _fit_row(ws, row: int, texts: list[tuple[str | None, float]]) -> None:
    """Set a row's height for its wrapped texts (text, column width): spreadsheets do not
    reliably grow rows for wrapped text on opening a file."""
    lines = 1
    for text, width in texts:
        if not text:
            continue
        usable = max(width - 1.5, 4)
        n = sum(max(1, -(-_display_width(part) // int(usable))) for part in str(text).split("\n"))
        lines = max(lines, n)
    if lines > 1:
        ws.row_dimensions[row].height = min(409, 16 * lines + 2)


def _style_header(ws, headers: list[str], widths: list[int], fill_in=(), read_only=()) -> None:
    for c, (h, w) in enumerate(zip(headers, widths), start=1):
        cell = put(ws, 1, c, h)
        cell.font = _BOLD
        cell.fill = _INPUT_FILL if h in fill_in else _READ_ONLY_HEADER_FILL if h in read_only else _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22


def _print_setup(ws, landscape: bool = True) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_list_sheet(ws, issues: list[dict], *, mask: bool, keep: frozenset[str], styles: Styles,
                     loaded: frozenset[str] | None = None, answers: dict | None = None,
                     period: str = "") -> None:
    _style_header(ws, LIST_HEADERS, LIST_WIDTHS, FILL_IN, READ_ONLY)
    col = {h: i for i, h in enumerate(LIST_HEADERS, start=1)}
    wrapped = ("问题描述", "比对依据", "问题类别", NOTE_HEADER, LAST_NOTE_HEADER)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in SEVERITY_FILL.items()}
    red = Font(bold=True, color="C00000")
    answers = answers or {}
    prev = _previous_period(period)
    for n, i in enumerate(issues, start=1):
        r = n + 1
        person_id = i.get("id_number") or i.get("helper_id_number")
        last, last_note = last_answer_text(answers.get(i.get("issue_id") or ""), prev)
        values = {
            "序号": n,
            "户编号": i.get("household_id"),
            "户主姓名": i.get("head_name"),
            "成员姓名": i.get("person_name"),
            "证件号码": person_id,
            "问题类别": rule_category(i),
            "问题描述": i.get("message"),
            "比对依据": evidence_text(i, loaded),
            "责任单位": i.get("responsible_unit"),
            "状态": status_text(i.get("status"), i.get("flag")),
            "首次发现": i.get("first_seen"),
            LAST_ANSWER_HEADER: last,
            LAST_NOTE_HEADER: last_note,
            ID_HEADER: i.get("issue_id"),
        }
        sev = i.get("severity") if i.get("severity") in fills else None
        flagged = bool(i.get("flag"))
        for h, c in col.items():
            attrs = {"border": _BORDER, "alignment": _WRAP if h in wrapped else _TOP}
            if h in READ_ONLY:
                attrs.update(fill=_READ_ONLY_FILL, font=_READ_ONLY_FONT)
            elif h not in FILL_IN and sev:
                attrs["fill"] = fills[sev]
            if h == DATE_HEADER:
                attrs["number_format"] = "yyyy-mm-dd"
            if h == "状态" and flagged:
                attrs["font"] = red
            key = ("list", h in wrapped, h in FILL_IN, h in READ_ONLY, h == DATE_HEADER, sev,
                   h == "状态" and flagged)
            # the issue_id is a key and never masked; 户编号 is masked only when it is an ID itself
            put(ws, r, c, values.get(h), mask=mask and h != ID_HEADER, keep=keep, style=(styles, key, attrs))
        _fit_row(ws, r, [(ws.cell(row=r, column=col[h]).value, LIST_WIDTHS[col[h] - 1])
                         for h in ("问题类别", "问题描述", "比对依据", LAST_NOTE_HEADER)])
    last_row = max(len(issues) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LIST_HEADERS))}{last_row}"
    dv = DataValidation(type="list", formula1='"' + ",".join(ANSWERS) + '"', allow_blank=True,
                        showErrorMessage=True, showInputMessage=True,
                        errorTitle="核实结果", error="请从下拉列表中选择：" + "、".join(ANSWERS),
                        promptTitle="核实结果", prompt="请从下拉列表中选择")
    c = get_column_letter(col[ANSWER_HEADER])
    dv.add(f"{c}2:{c}{last_row}")
    ws.add_data_validation(dv)
    # the answer given last time is shown, never to be typed over: any entry is refused
    ro = DataValidation(type="textLength", operator="lessThan", formula1="0", allow_blank=True,
                        showErrorMessage=True, showInputMessage=True, errorStyle="stop",
                        errorTitle="仅供参考", promptTitle="仅供参考",
                        error="此列是上次交回的核实情况，仅供参考，不能填写。本期核实结果请在“核实结果”列选择。",
                        prompt="上次交回的核实情况，仅供参考")
    for h in READ_ONLY:
        c = get_column_letter(col[h])
        ro.add(f"{c}2:{c}{last_row}")
    ws.add_data_validation(ro)
    _print_setup(ws)
    ws.print_title_rows = "1:1"


def _previous_period(period: str) -> str:
    try:
        y, m = int(period[:4]), int(period[5:7])
    except (ValueError, TypeError):
        return ""
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return f"{y:04d}-{m:02d}"


def write_summary_sheet(ws, issues: list[dict], facts: dict[str, tuple], line, *, mask: bool,
                        keep: frozenset[str], styles: Styles) -> None:
    _style_header(ws, SUMMARY_HEADERS, [17, 12, 8, 8, 8, 8, 8])
    per: dict[str, dict] = {}
    for i in issues:
        hid = i.get("household_id")
        if not hid or not i.get("registered"):
            continue
        d = per.setdefault(hid, {"head": None, "error": 0, "suspect": 0, "notice": 0})
        d["head"] = d["head"] or i.get("head_name")
        if i.get("severity") in d:
            d[i["severity"]] += 1
    for r, hid in enumerate(sorted(per), start=2):
        d = per[hid]
        status, mt, income = facts.get(hid, (None, None, None))
        cls = household_class(status, mt, income, line)
        vals = [hid, d["head"], cls, d["error"], d["suspect"], d["notice"],
                d["error"] + d["suspect"] + d["notice"]]
        for c, v in enumerate(vals, start=1):
            attrs = {"border": _BORDER}
            if c == 3 and cls:
                attrs.update(fill=PatternFill("solid", fgColor=CLASS_FILL[cls]),
                             alignment=Alignment(horizontal="center"))
            put(ws, r, c, v, mask=mask and c <= 2, keep=keep,
                style=(styles, ("summary", cls if c == 3 else None), attrs))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SUMMARY_HEADERS))}{max(len(per) + 1, 2)}"
    _print_setup(ws, landscape=False)


def write_info_sheet(ws, meta: dict, issues: list[dict], *, mask: bool, keep: frozenset[str],
                     monitoring_line, params: dict | None = None) -> None:
    from checks.catalogue import RULES, all_rules
    from pipeline.outputs.rule_texts import MEANINGS, policy_text

    all_rules()
    widths = (16, 30, 10, 62, 40, 18, 8)
    for col, w in zip("ABCDEFG", widths):
        ws.column_dimensions[col].width = w
    title = put(ws, 1, 1, f"建档立卡数据核查问题清单（{meta['period']}）", mask=mask, keep=keep)
    title.font = Font(bold=True, size=14)
    for key, row in INFO_ROWS.items():
        put(ws, row, 1, INFO_LABELS[key]).font = _BOLD
        put(ws, row, 2, meta.get(key) or None, mask=mask, keep=keep)
    put(ws, 7, 1, "生成时间").font = _BOLD
    put(ws, 7, 2, local_text())
    put(ws, 8, 1, "证件号码").font = _BOLD
    put(ws, 8, 2, "已脱敏：只显示前6位和后4位" if mask else "未脱敏：完整号码，请妥善保管")
    put(ws, WORKBOOK_ID_ROW, 1, WORKBOOK_ID_LABEL).font = _BOLD
    put(ws, WORKBOOK_ID_ROW, 2, meta.get("workbook_id"))          # read back by cardcheck feedback
    put(ws, WORKBOOK_ID_ROW, 4, "本清单的编号，交回时据此核对，请勿改动")

    r = 11
    put(ws, r, 1, "问题统计").font = Font(bold=True, size=12)
    sev = Counter(i.get("severity") for i in issues)
    for s in ("error", "suspect", "notice"):
        r += 1
        c = put(ws, r, 1, SEVERITY_CN[s])
        c.fill = PatternFill("solid", fgColor=SEVERITY_FILL[s])
        put(ws, r, 2, sev.get(s, 0))
        put(ws, r, 4, SEVERITY_MEANING[s])
    r += 1
    put(ws, r, 1, "合计").font = _BOLD
    put(ws, r, 2, len(issues))
    r += 1
    put(ws, r, 1, "涉及户数")
    put(ws, r, 2, len({i["household_id"] for i in issues if i.get("household_id") and i.get("registered")}))
    st = Counter(i.get("status") for i in issues)
    for s in ("new", "persisting", "reopened"):
        r += 1
        put(ws, r, 1, STATUS_CN[s])
        put(ws, r, 2, st.get(s, 0))
    r += 1
    put(ws, r, 1, FLAG_NOT_FIXED)
    put(ws, r, 2, sum(1 for i in issues if i.get("flag")))
    put(ws, r, 4, "上期反馈“属实-已整改”，本期仍然存在的问题，请重点核实")

    r += 2
    put(ws, r, 1, "填写说明").font = Font(bold=True, size=12)
    line_txt = f"{monitoring_line:g}元" if monitoring_line is not None else "当年标准"
    steps = [
        "1. 在“问题清单”中逐条核实，在“核实结果”列的下拉框中选择：" + "、".join(ANSWERS) + "。",
        "2. 属实-已整改：已在系统中更正或已落实；属实-整改中：问题属实、正在整改；"
        "不属实-数据无误：经核实数据正确，下期起不再列出（比对依据变化时会再次列出）；无法核实：请在核实说明中写明原因。",
        "3. 在“核实说明”中简要写明核实情况和整改措施，填写“核实人”和“核实日期”（如 2026-11-05）。",
        "4. 灰色的“上次核实结果”“上次核实说明”两列是上次交回的核实情况，仅供参考，本期请重新选择“核实结果”。",
        "5. 请勿修改或删除最后一列的问题编号，也不要改动本页的工作簿编号；可以排序、筛选、隐藏列或增加备注行。"
        "本清单只能答复其中列出的问题。",
        f"6. “状态”：{STATUS_CN['new']}＝本期首次发现；{STATUS_CN['persisting']}＝上期已列出；"
        f"{STATUS_CN['reopened']}＝曾经消失后又出现；注明“{FLAG_NOT_FIXED}”的是上期反馈已整改但本期仍存在的问题。",
        f"7. 颜色：红色底为{SEVERITY_CN['error']}，黄色底为{SEVERITY_CN['suspect']}，蓝色底为{SEVERITY_CN['notice']}。"
        "“按户汇总”中分类为红卡（未脱贫或返贫）、"
        f"黄卡（已脱贫但属监测对象或人均纯收入低于监测标准{line_txt}）、绿卡（其他）。",
        "8. 本表含个人信息，仅限核实工作使用，填好后按原文件格式交回乡镇，请勿外传。",
    ]
    for s in steps:
        r += 1
        c = put(ws, r, 1, s)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        _fit_row(ws, r, [(s, sum(widths[:6]))])

    r += 2
    put(ws, r, 1, "本村出现的问题类别").font = Font(bold=True, size=12)
    r += 1
    for c, h in enumerate(["规则编号", "名称", "类别", "含义", "政策依据", "责任单位", "问题数"], start=1):
        cell = put(ws, r, c, h)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
    counts = Counter(i.get("rule_id") for i in issues)
    first = {}
    for i in issues:
        first.setdefault(i.get("rule_id"), i)
    for rid in sorted(counts, key=lambda x: rule_sort_key(x or "")):
        r += 1
        rule = RULES.get(rid)
        i = first[rid]
        name = i.get("rule_name") or (rule.name if rule else rid)
        sev = SEVERITY_CN.get((rule.severity if rule else i.get("severity")) or "", "")
        vals = [rid, name, sev, MEANINGS.get(rid, name), policy_text(rule.policy, params) if rule else "",
                i.get("responsible_unit"), counts[rid]]
        for c, v in enumerate(vals, start=1):
            cell = put(ws, r, c, v, mask=mask, keep=keep)
            cell.border = _BORDER
            cell.alignment = _WRAP
        _fit_row(ws, r, [(ws.cell(row=r, column=c).value, widths[c - 1]) for c in (2, 4, 5, 6)])
        sv = rule.severity if rule else i.get("severity")
        if sv in SEVERITY_FILL:
            ws.cell(row=r, column=3).fill = PatternFill("solid", fgColor=SEVERITY_FILL[sv])
    _print_setup(ws, landscape=False)


def new_workbook_id() -> str:
    """An unguessable workbook id (144 random bits)."""
    return secrets.token_urlsafe(18)


def write_village(path: Path, meta: dict, issues: list[dict], facts: dict[str, tuple], *,
                  mask: bool, keep: frozenset[str], monitoring_line=None, params: dict | None = None,
                  loaded: frozenset[str] | None = None, answers: dict | None = None) -> Path:
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    info = wb.active
    info.title = INFO_SHEET
    write_info_sheet(info, meta, issues, mask=mask, keep=keep, monitoring_line=monitoring_line, params=params)
    styles = Styles()
    write_list_sheet(wb.create_sheet(LIST_SHEET), issues, mask=mask, keep=keep, styles=styles, loaded=loaded,
                     answers=answers, period=meta["period"])
    write_summary_sheet(wb.create_sheet(SUMMARY_SHEET), issues, facts, monitoring_line, mask=mask, keep=keep,
                        styles=styles)
    # document properties go into docProps/*.xml: cleaned like cells (a BEL there breaks the file)
    title = f"{meta.get('township') or ''}{meta.get('village') or ''} {meta['period']} 问题清单"
    title = clean_text(title, one_line=True)
    wb.properties.title = mask_text(title, keep) if mask else title
    wb.properties.creator = "建档立卡数据核查"
    if meta.get("workbook_id"):
        wb.custom_doc_props.append(StringProperty(name=WORKBOOK_ID_PROPERTY, value=meta["workbook_id"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path


REGISTRY_COLUMNS = ("workbook_id", "period", "township", "village", "file", "issue_id")


def _create_registry(con) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE workbook_issues (workbook_id VARCHAR, period VARCHAR, "
                "township VARCHAR, village VARCHAR, file VARCHAR, issue_id VARCHAR)")


def persist_registry(con, schema: str = "store", created_at: str | None = None) -> int:
    """Append the temp table workbook_issues to <schema>.workbook_issues (append-only; a workbook
    id already there is not added twice). Call inside the run's transaction. Returns rows added."""
    if not _exists(con, "workbook_issues"):
        return 0
    created_at = created_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    before = con.execute(f"SELECT count(*) FROM {schema}.workbook_issues").fetchone()[0]
    con.execute(f"""INSERT INTO {schema}.workbook_issues
                    SELECT w.workbook_id, w.period, w.township, w.village, w.file, w.issue_id, ?
                    FROM workbook_issues w
                    WHERE w.workbook_id NOT IN (SELECT workbook_id FROM {schema}.workbook_issues
                                                WHERE workbook_id IS NOT NULL)""", [created_at])
    return con.execute(f"SELECT count(*) FROM {schema}.workbook_issues").fetchone()[0] - before


def write_all(con, out_dir: Path, period: str, *, mask_ids: bool = True,
              params: dict | None = None, progress=None) -> list[Path]:
    """One workbook per village with listed issues; returns the paths written. Creates the temp
    table workbook_issues (one row per issue listed in each workbook); progress(done, total) after
    each workbook."""
    from checks.params import load_params, monitoring_line

    _create_registry(con)
    if not _exists(con, "issues_current"):
        return []
    if params is None:
        params = load_params()
    try:
        line = monitoring_line(params, int(period[:4]))
    except (ValueError, KeyError, TypeError):
        line = None
    issues = load_issues(con)
    by_village: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for i in issues:
        key = village_of(i)
        if key is not None:
            by_village[key].append(i)
    if not by_village:
        return []
    facts = household_facts(con)
    keep = keep_keys(household_ids(con) | {i[k] for i in issues for k in ("household_id", "project_id") if i.get(k)})
    loaded = loaded_tables(con)
    answers = last_answers(con)
    out_dir = Path(out_dir)
    paths = village_paths(list(by_village), out_dir / "villages")
    written = []
    total = len(by_village)
    for done, key in enumerate(sorted(by_village), start=1):
        rows = sorted(by_village[key], key=_sort_key)
        county = Counter(_norm(i.get("county")) for i in rows if _norm(i.get("county"))).most_common(1)
        wbid = new_workbook_id()
        meta = {"county": county[0][0] if county else "", "township": key[0], "village": key[1],
                "period": period, "workbook_id": wbid}
        path = write_village(paths[key], meta, rows, facts, mask=mask_ids, keep=keep, monitoring_line=line,
                             params=params, loaded=loaded, answers=answers)
        written.append(path)
        rel = path.relative_to(out_dir).as_posix()
        con.executemany("INSERT INTO workbook_issues VALUES (?, ?, ?, ?, ?, ?)",
                        [(wbid, period, key[0], key[1], rel, i["issue_id"]) for i in rows])
        if progress:
            progress(done, total)
    return written
