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
import os
import re
import secrets
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

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

SEVERITY_FILL = {"error": "FFC7CE", "suspect": "FFEB9C", "notice": "DDEBF7"}     # RGB, as openpyxl takes them
CLASS_FILL = {"红": "FF9999", "黄": "FFE699", "绿": "C6EFCE"}

_HEADER_FILL = "#D9D9D9"
_INPUT_FILL = "#E2EFDA"
_READ_ONLY_FILL = "#EDEDED"
_READ_ONLY_HEADER_FILL = "#BFBFBF"
_READ_ONLY_FONT_COLOR = "#595959"
_BORDER = {"border": 1, "border_color": "#A6A6A6"}          # thin, on all four sides

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


_ID18_RE = re.compile(r"[0-9]{17}[0-9X]")


def id_shaped(s) -> bool:
    """An 18-char ID shape (17 digits and a digit or X) after normalising width, case and spaces."""
    return s is not None and _ID18_RE.fullmatch(normalise_id(s)) is not None


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
    out = set()
    for i in ids:
        if not i:
            continue
        # most keys are plain ASCII digits, which normalise_id leaves as they are
        n = i if i.isascii() and i.isdigit() else normalise_id(i)
        if _ID18_RE.fullmatch(n) is None:
            out.add(n)
    return frozenset(out)


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


def cell_value(value, *, mask: bool = False, keep=frozenset()):
    """What a cell holds: numbers and dates as they are, booleans in words, text masked (before
    cleaning: a zero-width space may sit inside an ID) and cleaned. Never a formula."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, dt.date)):
        return value
    s = str(value)
    if mask:
        s = mask_text(s, keep)
    return clean_text(s)


class Sheet:
    """One worksheet written with xlsxwriter (constant memory: rows in order), with a cache of
    formats by key. Text starting like a formula is written as a string with a quote prefix, so
    the spreadsheet keeps it text when edited."""

    def __init__(self, book: "Book", name: str):
        self.book = book
        self.ws = book.wb.add_worksheet(name)

    def put(self, row: int, col: int, value, fmt: dict | None = None, *, mask: bool = False, keep=frozenset()):
        """row, col 1-based like Excel; fmt: xlsxwriter format properties."""
        v = cell_value(value, mask=mask, keep=keep)
        r, c = row - 1, col - 1
        if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
            self.ws.write_string(r, c, v, self.book.fmt({**(fmt or {}), "quote_prefix": True}))
        elif isinstance(v, str):
            self.ws.write_string(r, c, v, self.book.fmt(fmt))
        elif v is None:
            if fmt:
                self.ws.write_blank(r, c, None, self.book.fmt(fmt))
        elif isinstance(v, dt.datetime):
            self.ws.write_datetime(r, c, v, self.book.fmt({**(fmt or {}), "num_format": "yyyy-mm-dd hh:mm:ss"}))
        elif isinstance(v, dt.date):
            self.ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day),
                                   self.book.fmt({**(fmt or {}), "num_format": "yyyy-mm-dd"}))
        else:
            self.ws.write_number(r, c, v, self.book.fmt(fmt))
        return v

    def widths(self, widths) -> None:
        for c, w in enumerate(widths):
            self.ws.set_column(c, c, w)

    def height(self, row: int, texts: list[tuple[str | None, float]]) -> None:
        """A row's height for its wrapped texts (text, column width), set before the row is
        written: spreadsheets do not reliably grow rows for wrapped text on opening a file."""
        lines = 1
        for text, width in texts:
            if not text:
                continue
            usable = max(width - 1.5, 4)
            n = sum(max(1, -(-_display_width(part) // int(usable))) for part in str(text).split("\n"))
            lines = max(lines, n)
        if lines > 1:
            self.ws.set_row(row - 1, min(409, 16 * lines + 2))

    def header(self, headers: list[str], widths: list[int], fill_in=(), read_only=()) -> None:
        self.widths(widths)
        self.ws.set_row(0, 22)
        for c, h in enumerate(headers, start=1):
            bg = _INPUT_FILL if h in fill_in else _READ_ONLY_HEADER_FILL if h in read_only else _HEADER_FILL
            self.put(1, c, h, {"bold": True, "bg_color": bg, "align": "center", "valign": "vcenter",
                               "text_wrap": True, **_BORDER})
        self.ws.freeze_panes(1, 0)

    def print_setup(self, landscape: bool = True) -> None:
        if landscape:
            self.ws.set_landscape()
        else:
            self.ws.set_portrait()
        self.ws.set_paper(9)                 # A4
        self.ws.fit_to_pages(1, 0)


class Book:
    def __init__(self, path: Path):
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                  "strings_to_numbers": False, "strings_to_urls": False})
        self._formats: dict = {}

    def fmt(self, props: dict | None):
        if not props:
            return None
        key = tuple(sorted(props.items()))
        f = self._formats.get(key)
        if f is None:
            f = self._formats[key] = self.wb.add_format(dict(props))
        return f


def write_list_sheet(sh: Sheet, issues: list[dict], *, mask: bool, keep: frozenset[str],
                     loaded: frozenset[str] | None = None, answers: dict | None = None, period: str = "") -> None:
    sh.header(LIST_HEADERS, LIST_WIDTHS, FILL_IN, READ_ONLY)
    col = {h: i for i, h in enumerate(LIST_HEADERS, start=1)}
    wrapped = ("问题描述", "比对依据", "问题类别", NOTE_HEADER, LAST_NOTE_HEADER)
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
        # the issue_id is a key and never masked; 户编号 is masked only when it is an ID itself
        shown = {h: cell_value(values.get(h), mask=mask and h != ID_HEADER, keep=keep) for h in col}
        sh.height(r, [(shown[h], LIST_WIDTHS[col[h] - 1]) for h in ("问题类别", "问题描述", "比对依据", LAST_NOTE_HEADER)])
        sev = i.get("severity") if i.get("severity") in SEVERITY_FILL else None
        flagged = bool(i.get("flag"))
        for h, c in col.items():
            f = {**_BORDER, "text_wrap": h in wrapped, "valign": "top"}
            if h in READ_ONLY:
                f.update(bg_color=_READ_ONLY_FILL, italic=True, font_color=_READ_ONLY_FONT_COLOR)
            elif h not in FILL_IN and sev:
                f["bg_color"] = "#" + SEVERITY_FILL[sev]
            if h == DATE_HEADER:
                f["num_format"] = "yyyy-mm-dd"
            if h == "状态" and flagged:
                f.update(bold=True, font_color="#C00000")
            sh.put(r, c, shown[h], f)
    last_row = max(len(issues) + 1, 2)
    sh.ws.autofilter(0, 0, last_row - 1, len(LIST_HEADERS) - 1)
    c = col[ANSWER_HEADER] - 1
    sh.ws.data_validation(1, c, last_row - 1, c, {
        "validate": "list", "source": list(ANSWERS), "ignore_blank": True,
        "input_title": "核实结果", "input_message": "请从下拉列表中选择",
        "error_title": "核实结果", "error_message": "请从下拉列表中选择：" + "、".join(ANSWERS)})
    # the answer given last time is shown, never to be typed over: any entry is refused
    for h in READ_ONLY:
        c = col[h] - 1
        sh.ws.data_validation(1, c, last_row - 1, c, {
            "validate": "length", "criteria": "<", "value": 0, "ignore_blank": True, "error_type": "stop",
            "input_title": "仅供参考", "input_message": "上次交回的核实情况，仅供参考",
            "error_title": "仅供参考",
            "error_message": "此列是上次交回的核实情况，仅供参考，不能填写。本期核实结果请在“核实结果”列选择。"})
    sh.print_setup()
    sh.ws.repeat_rows(0)


def _previous_period(period: str) -> str:
    try:
        y, m = int(period[:4]), int(period[5:7])
    except (ValueError, TypeError):
        return ""
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return f"{y:04d}-{m:02d}"


def write_summary_sheet(sh: Sheet, issues: list[dict], facts: dict[str, tuple], line, *, mask: bool,
                        keep: frozenset[str]) -> None:
    sh.header(SUMMARY_HEADERS, [17, 12, 8, 8, 8, 8, 8])
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
            f = dict(_BORDER)
            if c == 3 and cls:
                f.update(bg_color="#" + CLASS_FILL[cls], align="center")
            sh.put(r, c, v, f, mask=mask and c <= 2, keep=keep)
    sh.ws.autofilter(0, 0, max(len(per) + 1, 2) - 1, len(SUMMARY_HEADERS) - 1)
    sh.print_setup(landscape=False)


def write_info_sheet(sh: Sheet, meta: dict, issues: list[dict], *, mask: bool, keep: frozenset[str],
                     monitoring_line, params: dict | None = None) -> None:
    from checks.catalogue import RULES
    from pipeline.outputs.rule_texts import MEANINGS, policy_text

    widths = (16, 30, 10, 62, 40, 18, 8)
    sh.widths(widths)
    bold = {"bold": True}
    sh.put(1, 1, f"建档立卡数据核查问题清单（{meta['period']}）", {"bold": True, "font_size": 14},
           mask=mask, keep=keep)
    for key, row in INFO_ROWS.items():
        sh.put(row, 1, INFO_LABELS[key], bold)
        sh.put(row, 2, meta.get(key) or None, mask=mask, keep=keep)
    sh.put(7, 1, "生成时间", bold)
    sh.put(7, 2, local_text())
    sh.put(8, 1, "证件号码", bold)
    sh.put(8, 2, "已脱敏：只显示前6位和后4位" if mask else "未脱敏：完整号码，请妥善保管")
    sh.put(WORKBOOK_ID_ROW, 1, WORKBOOK_ID_LABEL, bold)
    sh.put(WORKBOOK_ID_ROW, 2, meta.get("workbook_id"))          # read back by cardcheck feedback
    sh.put(WORKBOOK_ID_ROW, 4, "本清单的编号，交回时据此核对，请勿改动")

    r = 11
    sh.put(r, 1, "问题统计", {"bold": True, "font_size": 12})
    sev = Counter(i.get("severity") for i in issues)
    for s in ("error", "suspect", "notice"):
        r += 1
        sh.put(r, 1, SEVERITY_CN[s], {"bg_color": "#" + SEVERITY_FILL[s]})
        sh.put(r, 2, sev.get(s, 0))
        sh.put(r, 4, SEVERITY_MEANING[s])
    r += 1
    sh.put(r, 1, "合计", bold)
    sh.put(r, 2, len(issues))
    r += 1
    sh.put(r, 1, "涉及户数")
    sh.put(r, 2, len({i["household_id"] for i in issues if i.get("household_id") and i.get("registered")}))
    st = Counter(i.get("status") for i in issues)
    for s in ("new", "persisting", "reopened"):
        r += 1
        sh.put(r, 1, STATUS_CN[s])
        sh.put(r, 2, st.get(s, 0))
    r += 1
    sh.put(r, 1, FLAG_NOT_FIXED)
    sh.put(r, 2, sum(1 for i in issues if i.get("flag") == FLAG_NOT_FIXED))
    sh.put(r, 4, "上期反馈“属实-已整改”，本期仍然存在的问题，请重点核实")

    r += 2
    sh.put(r, 1, "填写说明", {"bold": True, "font_size": 12})
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
        sh.height(r, [(s, sum(widths[:6]))])
        sh.ws.merge_range(r - 1, 0, r - 1, 5, clean_text(s), sh.book.fmt({"text_wrap": True, "valign": "top"}))

    r += 2
    sh.put(r, 1, "本村出现的问题类别", {"bold": True, "font_size": 12})
    r += 1
    for c, h in enumerate(["规则编号", "名称", "类别", "含义", "政策依据", "责任单位", "问题数"], start=1):
        sh.put(r, c, h, {"bold": True, "bg_color": _HEADER_FILL, **_BORDER})
    counts = Counter(i.get("rule_id") for i in issues)
    first = {}
    for i in issues:
        first.setdefault(i.get("rule_id"), i)
    for rid in sorted(counts, key=lambda x: rule_sort_key(x or "")):
        r += 1
        rule = RULES.get(rid)
        i = first[rid]
        name = i.get("rule_name") or (rule.name if rule else rid)
        sv = rule.severity if rule else i.get("severity")
        vals = [rid, name, SEVERITY_CN.get(sv or "", ""), MEANINGS.get(rid, name),
                policy_text(rule.policy, params) if rule else "", i.get("responsible_unit"), counts[rid]]
        shown = [cell_value(v, mask=mask, keep=keep) for v in vals]
        sh.height(r, [(shown[c - 1], widths[c - 1]) for c in (2, 4, 5, 6)])
        for c, v in enumerate(shown, start=1):
            f = {**_BORDER, "text_wrap": True, "valign": "top"}
            if c == 3 and sv in SEVERITY_FILL:
                f["bg_color"] = "#" + SEVERITY_FILL[sv]
            sh.put(r, c, v, f)
    sh.print_setup(landscape=False)


def new_workbook_id() -> str:
    """An unguessable workbook id (144 random bits)."""
    return secrets.token_urlsafe(18)


def write_village(path: Path, meta: dict, issues: list[dict], facts: dict[str, tuple], *,
                  mask: bool, keep: frozenset[str], monitoring_line=None, params: dict | None = None,
                  loaded: frozenset[str] | None = None, answers: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    book = Book(tmp)
    write_info_sheet(Sheet(book, INFO_SHEET), meta, issues, mask=mask, keep=keep, monitoring_line=monitoring_line,
                     params=params)
    write_list_sheet(Sheet(book, LIST_SHEET), issues, mask=mask, keep=keep, loaded=loaded, answers=answers,
                     period=meta["period"])
    write_summary_sheet(Sheet(book, SUMMARY_SHEET), issues, facts, monitoring_line, mask=mask, keep=keep)
    # document properties go into docProps/*.xml: cleaned like cells (a BEL there breaks the file)
    title = f"{meta.get('township') or ''}{meta.get('village') or ''} {meta['period']} 问题清单"
    title = clean_text(title, one_line=True)
    book.wb.set_properties({"title": mask_text(title, keep) if mask else title, "author": "建档立卡数据核查"})
    if meta.get("workbook_id"):
        book.wb.set_custom_property(WORKBOOK_ID_PROPERTY, meta["workbook_id"])
    book.wb.close()
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


PARALLEL_MIN_VILLAGES = 40      # below this, a process pool costs more than it saves
_SHARED: dict = {}


def _set_shared(shared: dict) -> None:
    """What every village shares (masking keys, parameters), set once per writing process."""
    _SHARED.clear()
    _SHARED.update(shared)


def _writer_init(shared: dict) -> None:
    """A writer process of the pool (never the run's own process: it must keep Ctrl-C)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the run's to handle
    _set_shared(shared)


def _write_job(job: tuple) -> str:
    path, meta, rows, facts, answers = job
    s = _SHARED
    write_village(Path(path), meta, rows, facts, mask=s["mask"], keep=s["keep"], monitoring_line=s["line"],
                  params=s["params"], loaded=s["loaded"], answers=answers)
    return path


def _writers(n_jobs: int) -> int:
    wanted = int(os.environ.get("CARDCHECK_WRITERS", os.cpu_count() or 1))
    return max(1, min(wanted, 4)) if n_jobs >= PARALLEL_MIN_VILLAGES else 1


def write_all(con, out_dir: Path, period: str, *, mask_ids: bool = True,
              params: dict | None = None, progress=None) -> list[Path]:
    """One workbook per village with listed issues; returns the paths written. Creates the temp
    table workbook_issues (one row per issue listed in each workbook); progress(done, total) after
    each workbook. Many villages are written by a pool of processes (CARDCHECK_WRITERS, default:
    the number of cores): the cell values are the same whoever writes them."""
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
    shared = {"mask": mask_ids, "keep": keep, "line": line, "params": params, "loaded": loaded_tables(con)}
    answers = last_answers(con)
    out_dir = Path(out_dir)
    paths = village_paths(list(by_village), out_dir / "villages")
    jobs, registry = [], {}
    for key in sorted(by_village):
        rows = sorted(by_village[key], key=_sort_key)
        county = Counter(_norm(i.get("county")) for i in rows if _norm(i.get("county"))).most_common(1)
        wbid = new_workbook_id()
        meta = {"county": county[0][0] if county else "", "township": key[0], "village": key[1],
                "period": period, "workbook_id": wbid}
        hids = {i.get("household_id") for i in rows}
        jobs.append((str(paths[key]), meta, rows, {h: facts[h] for h in hids if h in facts},
                     {i["issue_id"]: answers[i["issue_id"]] for i in rows if i.get("issue_id") in answers}))
        rel = paths[key].relative_to(out_dir).as_posix()
        registry[str(paths[key])] = [(wbid, period, key[0], key[1], rel, i["issue_id"]) for i in rows]
    written, total = [], len(jobs)

    def done(path: str) -> None:
        written.append(Path(path))
        con.executemany("INSERT INTO workbook_issues VALUES (?, ?, ?, ?, ?, ?)", registry[path])
        if progress:
            progress(len(written), total)

    workers = _writers(total)
    if workers == 1:
        _set_shared(shared)
        for job in jobs:
            done(_write_job(job))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                   initializer=_writer_init, initargs=(shared,))
        try:
            # the largest villages first, so that no writer is left with a big one at the end
            order = sorted(jobs, key=lambda j: -len(j[2]))
            for fut in as_completed([pool.submit(_write_job, j) for j in order]):
                done(fut.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            raise
        pool.shutdown(wait=True)
    written.sort()
    return written
