"""Village workbooks (outputs.md "Village workbooks"): OUT/<period>/villages/<乡镇>/<行政村>.xlsx.

    write_all(con, out_dir, period, mask_ids=True, params=None) -> [paths written]

One workbook per village (the pair township, village) with at least one listed
issue. An issue belongs to a village when it is about a registered household
(the household's township/village, as the issue row carries them), or when its
own row names both a township and a village (projects, civil_affairs, member rows
without a household); any other issue stays county-level. Waived issues are not
listed.

Sheets:
  说明      fixed cells B3..B6 hold county, township, village and period (labels in
            A3..A6; pipeline.feedback reads them back), then counts, how to fill
            in, and the rules that occur with their meaning.
  问题清单  one row per issue (LIST_HEADERS), header in row 1, the 核实结果 dropdown.
  按户汇总  one row per registered household with issues: class 红/黄/绿, counts.

Every text cell goes through `_text`: ID-like values masked (unless mask_ids is
False), XML-illegal control characters made visible, and values that look like
formulas stored as plain strings (data_type 's', quote prefix), never formulas.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter, defaultdict
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from checks.catalogue import rule_sort_key

INFO_SHEET, LIST_SHEET, SUMMARY_SHEET = "说明", "问题清单", "按户汇总"

# 说明: label in column A, value in column B, at these rows (a contract with pipeline.feedback)
INFO_ROWS = {"county": 3, "township": 4, "village": 5, "period": 6}
INFO_LABELS = {"county": "县（市、区）", "township": "乡镇", "village": "行政村", "period": "期别"}

ANSWERS = ("属实-已整改", "属实-整改中", "不属实-数据无误", "无法核实")
ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER, ID_HEADER = "核实结果", "核实说明", "核实人", "核实日期", "issue_id"
LIST_HEADERS = ["序号", "户编号", "户主姓名", "成员姓名", "证件号码", "问题类别", "问题描述", "比对依据",
                "责任单位", "状态", "首次发现", ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER, ID_HEADER]
FILL_IN = (ANSWER_HEADER, NOTE_HEADER, WHO_HEADER, DATE_HEADER)
LIST_WIDTHS = [6, 17, 10, 10, 21, 24, 52, 46, 14, 16, 9, 16, 30, 10, 12, 18]
SUMMARY_HEADERS = ["户编号", "户主", "分类", "错误", "疑似", "提示", "合计"]

SEVERITY_CN = {"error": "错误", "suspect": "疑似", "notice": "提示"}
SEVERITY_ORDER = {"error": 0, "suspect": 1, "notice": 2}
SEVERITY_FILL = {"error": "FFC7CE", "suspect": "FFEB9C", "notice": "DDEBF7"}
STATUS_CN = {"new": "新发现", "persisting": "仍存在", "reopened": "再次出现", "waived": "已核实无误"}
FLAG_NOT_FIXED = "整改未见效"
CLASS_FILL = {"红": "FF9999", "黄": "FFE699", "绿": "C6EFCE"}

_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_INPUT_FILL = PatternFill("solid", fgColor="E2EFDA")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_BOLD = Font(bold=True)

MAX_CELL = 32000   # Excel's limit is 32,767 characters per cell

# ---------------------------------------------------------------------------
# text hygiene: masking, control characters, formulas

# 15..20 characters of digits with an optional X (15/18-char IDs, IDs with a suffix such
# as disability card numbers, truncated/over-long IDs), not inside a longer digit run
_ID_RE = re.compile(r"(?<![0-9])[0-9]{14,20}(?:[Xx][0-9]{0,2})?(?![0-9])")
# IDs that Excel turned into numbers and someone wrote back as text: 4.30624199001011E+17
_SCI_RE = re.compile(r"(?<![0-9.])[0-9]\.[0-9]{3,}[Ee]\+?1[4-9](?![0-9])")
_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def mask_token(tok: str) -> str:
    """First 6 + one '*' per hidden character + last 4: 430521********123X."""
    if len(tok) <= 10:
        return tok
    return tok[:6] + "*" * (len(tok) - 10) + tok[-4:]


def mask_text(s: str, keep: frozenset[str] | set[str] = frozenset()) -> str:
    """Mask every ID-like value inside s; values in `keep` (household IDs, project IDs) stay."""
    def sub(m: re.Match) -> str:
        tok = m.group(0)
        if tok in keep or len(tok) < 15:
            return tok
        return mask_token(tok)
    return _SCI_RE.sub(lambda m: mask_token(m.group(0)), _ID_RE.sub(sub, s))


def clean_text(s: str) -> str:
    """Control characters XML cannot hold become their visible Unicode pictures (U+2400…)."""
    s = _ILLEGAL_RE.sub(lambda m: chr(0x2400 + ord(m.group(0))), s)
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
    s = clean_text(str(value))
    if mask:
        s = mask_text(s, keep)
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
    """Every household ID known to the run: never masked (they are keys, not personal IDs)."""
    ids: set[str] = set()
    for t in ("v_hh", "households", "members"):
        if _exists(con, t) and "household_id" in _columns(con, t):
            ids.update(str(r[0]) for r in con.execute(
                f'SELECT DISTINCT household_id FROM "{t}" WHERE household_id IS NOT NULL').fetchall())
    return frozenset(ids)


# ---------------------------------------------------------------------------
# cell contents

def _label(key: str) -> str:
    from pipeline.rule_texts import EVIDENCE_LABELS

    if key in EVIDENCE_LABELS:
        return EVIDENCE_LABELS[key]
    return _column_headers().get(key, key)


_HEADERS: dict[str, str] | None = None


def _column_headers() -> dict[str, str]:
    global _HEADERS
    if _HEADERS is None:
        from schemas.tables import TABLES

        _HEADERS = {}
        for t in TABLES.values():
            for c in t.columns:
                _HEADERS.setdefault(c.name, c.header)
    return _HEADERS


def _fmt_value(key: str, v) -> str:
    """A value of the evidence, with codes (table and column names, edit kinds) in words."""
    from pipeline.rule_texts import EDIT_WORDS

    if key in ("table", "agency", "agencies", "source") and isinstance(v, str):
        from schemas.tables import TABLES

        return "、".join(TABLES[t].title if t in TABLES else t for t in re.split(r"[,、]\s*", v))
    if key == "field" and isinstance(v, str):
        return _column_headers().get(v, v)
    if key == "edit" and isinstance(v, str):
        return EDIT_WORDS.get(v, v)
    return _fmt(v)


def _fmt(v) -> str:
    if v is None:
        return "空"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dict):
        return "（" + "，".join(f"{_label(k)}：{_fmt_value(k, x)}" for k, x in v.items()) + "）"
    if isinstance(v, list):
        return "、".join(_fmt(x) for x in v) if v else "无"
    return str(v)


def evidence_text(evidence: str | None, source: str | None, field: str | None = None,
                  value: str | None = None) -> str:
    """比对依据: the evidence JSON as `标签：值；…` (after the field's value when the evidence
    does not hold it), prefixed by the agency when not the registry."""
    data = None
    if evidence:
        try:
            data = json.loads(evidence)
        except ValueError:
            data = evidence
    parts = []
    if field and value is not None and not (isinstance(data, dict) and (field in data or "value" in data)):
        parts.append(f"{_label(field)}：{value}")
    if isinstance(data, dict):
        parts += [f"{_label(k)}：{_fmt_value(k, v)}" for k, v in data.items()]
    elif data not in (None, ""):
        parts.append(_fmt(data))
    body = "；".join(parts)
    if source and source != "registry":
        from schemas.tables import TABLES

        title = TABLES[source].title if source in TABLES else source
        return f"【{title}】{body}"
    return body


def status_text(status: str | None, flag: str | None) -> str:
    s = STATUS_CN.get(status or "", status or "")
    if flag:
        s = f"{s}（{flag}）" if s else flag
    return s


def rule_category(issue: dict) -> str:
    sev = SEVERITY_CN.get(issue.get("severity") or "", issue.get("severity") or "")
    name = issue.get("rule_name") or issue.get("rule_id") or ""
    return f"{name}（{sev}）" if sev else name


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


def _style_header(ws, headers: list[str], widths: list[int], fill_in=()) -> None:
    for c, (h, w) in enumerate(zip(headers, widths), start=1):
        cell = put(ws, 1, c, h)
        cell.font = _BOLD
        cell.fill = _INPUT_FILL if h in fill_in else _HEADER_FILL
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


def write_list_sheet(ws, issues: list[dict], *, mask: bool, keep: frozenset[str], styles: Styles) -> None:
    _style_header(ws, LIST_HEADERS, LIST_WIDTHS, FILL_IN)
    col = {h: i for i, h in enumerate(LIST_HEADERS, start=1)}
    wrapped = ("问题描述", "比对依据", "问题类别", NOTE_HEADER)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in SEVERITY_FILL.items()}
    red = Font(bold=True, color="C00000")
    for n, i in enumerate(issues, start=1):
        r = n + 1
        person_id = i.get("id_number") or i.get("helper_id_number")
        values = {
            "序号": n,
            "户编号": i.get("household_id"),
            "户主姓名": i.get("head_name"),
            "成员姓名": i.get("person_name"),
            "证件号码": person_id,
            "问题类别": rule_category(i),
            "问题描述": i.get("message"),
            "比对依据": evidence_text(i.get("evidence"), i.get("source"), i.get("field"), i.get("value")),
            "责任单位": i.get("responsible_unit"),
            "状态": status_text(i.get("status"), i.get("flag")),
            "首次发现": i.get("first_seen"),
            ID_HEADER: i.get("issue_id"),
        }
        sev = i.get("severity") if i.get("severity") in fills else None
        flagged = bool(i.get("flag"))
        for h, c in col.items():
            attrs = {"border": _BORDER, "alignment": _WRAP if h in wrapped else _TOP}
            if h not in FILL_IN and sev:
                attrs["fill"] = fills[sev]
            if h == DATE_HEADER:
                attrs["number_format"] = "yyyy-mm-dd"
            if h == "状态" and flagged:
                attrs["font"] = red
            key = ("list", h in wrapped, h in FILL_IN, h == DATE_HEADER, sev, h == "状态" and flagged)
            # keys (户编号, issue_id) are never masked; everything else is
            put(ws, r, c, values.get(h), mask=mask and h not in ("户编号", ID_HEADER), keep=keep,
                style=(styles, key, attrs))
        _fit_row(ws, r, [(ws.cell(row=r, column=col[h]).value, LIST_WIDTHS[col[h] - 1])
                         for h in ("问题类别", "问题描述", "比对依据")])
    last = max(len(issues) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LIST_HEADERS))}{last}"
    dv = DataValidation(type="list", formula1='"' + ",".join(ANSWERS) + '"', allow_blank=True,
                        showErrorMessage=True, showInputMessage=True,
                        errorTitle="核实结果", error="请从下拉列表中选择：" + "、".join(ANSWERS),
                        promptTitle="核实结果", prompt="请从下拉列表中选择")
    c = get_column_letter(col[ANSWER_HEADER])
    dv.add(f"{c}2:{c}{last}")
    ws.add_data_validation(dv)
    _print_setup(ws)
    ws.print_title_rows = "1:1"


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
            put(ws, r, c, v, mask=mask and c == 2, keep=keep,
                style=(styles, ("summary", cls if c == 3 else None), attrs))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SUMMARY_HEADERS))}{max(len(per) + 1, 2)}"
    _print_setup(ws, landscape=False)


def write_info_sheet(ws, meta: dict, issues: list[dict], *, mask: bool, keep: frozenset[str],
                     monitoring_line) -> None:
    from checks.catalogue import RULES, all_rules
    from pipeline.rule_texts import MEANINGS

    all_rules()
    widths = (16, 30, 10, 62, 40, 18, 8)
    for col, w in zip("ABCDEFG", widths):
        ws.column_dimensions[col].width = w
    title = put(ws, 1, 1, f"建档立卡数据核查问题清单（{meta['period']}）")
    title.font = Font(bold=True, size=14)
    for key, row in INFO_ROWS.items():
        put(ws, row, 1, INFO_LABELS[key]).font = _BOLD
        put(ws, row, 2, meta.get(key) or None)        # fixed cells: read back by cardcheck feedback
    put(ws, 7, 1, "生成日期").font = _BOLD
    put(ws, 7, 2, dt.date.today().isoformat())
    put(ws, 8, 1, "证件号码").font = _BOLD
    put(ws, 8, 2, "已脱敏：只显示前6位和后4位" if mask else "未脱敏：完整号码，请妥善保管")

    r = 10
    put(ws, r, 1, "问题统计").font = Font(bold=True, size=12)
    sev = Counter(i.get("severity") for i in issues)
    for s in ("error", "suspect", "notice"):
        r += 1
        c = put(ws, r, 1, SEVERITY_CN[s])
        c.fill = PatternFill("solid", fgColor=SEVERITY_FILL[s])
        put(ws, r, 2, sev.get(s, 0))
        put(ws, r, 4, {"error": "数据错误或保障未落实，必须核实更正",
                       "suspect": "疑似问题，需要实地核实，可能属于误报",
                       "notice": "提示信息，请留意"}[s])
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
        "4. 请勿修改或删除“issue_id”列，也不要改动本页的县、乡镇、行政村和期别；可以排序、筛选、隐藏列或增加备注行。",
        "5. “状态”：新发现＝本期首次发现；仍存在＝上期已列出；再次出现＝曾经消失后又出现；"
        "注明“整改未见效”的是上期反馈已整改但本期仍存在的问题。",
        "6. 颜色：红色底为错误，黄色底为疑似，蓝色底为提示。“按户汇总”中分类为红卡（未脱贫或返贫）、"
        f"黄卡（已脱贫但属监测对象或人均纯收入低于监测标准{line_txt}）、绿卡（其他）。",
        "7. 本表含个人信息，仅限核实工作使用，填好后按原文件格式（xlsx）交回乡镇，请勿外传。",
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
        vals = [rid, name, sev, MEANINGS.get(rid, name), rule.policy if rule else "",
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


def write_village(path: Path, meta: dict, issues: list[dict], facts: dict[str, tuple], *,
                  mask: bool, keep: frozenset[str], monitoring_line=None) -> Path:
    wb = Workbook()
    info = wb.active
    info.title = INFO_SHEET
    write_info_sheet(info, meta, issues, mask=mask, keep=keep, monitoring_line=monitoring_line)
    styles = Styles()
    write_list_sheet(wb.create_sheet(LIST_SHEET), issues, mask=mask, keep=keep, styles=styles)
    write_summary_sheet(wb.create_sheet(SUMMARY_SHEET), issues, facts, monitoring_line, mask=mask, keep=keep,
                        styles=styles)
    wb.properties.title = f"{meta.get('township') or ''}{meta.get('village') or ''} {meta['period']} 问题清单"
    wb.properties.creator = "cardcheck"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path


def write_all(con, out_dir: Path, period: str, *, mask_ids: bool = True,
              params: dict | None = None) -> list[Path]:
    """One workbook per village with listed issues; returns the paths written."""
    from checks.params import load_params, monitoring_line

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
    keep = frozenset(household_ids(con) | {i[k] for i in issues for k in ("household_id", "project_id") if i.get(k)})
    paths = village_paths(list(by_village), Path(out_dir) / "villages")
    written = []
    for key in sorted(by_village):
        rows = sorted(by_village[key], key=_sort_key)
        county = Counter(_norm(i.get("county")) for i in rows if _norm(i.get("county"))).most_common(1)
        meta = {"county": county[0][0] if county else "", "township": key[0], "village": key[1],
                "period": period}
        written.append(write_village(paths[key], meta, rows, facts, mask=mask_ids, keep=keep,
                                     monitoring_line=line))
    return written
