"""The words people read, in one place (outputs.md "severity"): village workbooks, summary.html,
issues.xlsx, `validate` text output, the feedback report and (later) the portal import them from
here and nowhere else.

    SEVERITY_CN, STATUS_CN, FLAG_NOT_FIXED, ANSWERS     the vocabulary
    AUDIT_RESULTS, FLAG_AUDIT_OVERTURNED, HOW_CN        the waiver spot check; how an answer came
    severity_text(code), status_text(code, flag)        code → words
    DEPARTMENTS                                         agency table → department, in Chinese
    local_time(value) / local_text(value)               times shown to people: Asia/Shanghai
    problem_text(reason), skip_reason_text(reason)      loader and engine reasons in plain Chinese
    visible(text)                                       control, bidi and format characters made visible

Times stored for ordering (imported_at, …) stay UTC; only what people read is converted.
"""
from __future__ import annotations

import datetime as dt
import re

# ---------------------------------------------------------------------------
# the vocabulary

SEVERITY_CN = {"error": "错误", "suspect": "疑似", "notice": "提示"}
SEVERITY_ORDER = {"error": 0, "suspect": 1, "notice": 2}
SEVERITY_MEANING = {"error": "数据错误或保障未落实，必须核实更正",
                    "suspect": "疑似问题，需要实地核实，可能属于误报",
                    "notice": "提示信息，请留意"}
STATUS_CN = {"new": "新发现", "persisting": "仍存在", "reopened": "再次出现", "waived": "核实无误",
             "resolved": "已销号"}
FLAG_NOT_FIXED = "整改未见效"
ANSWERS = ("属实-已整改", "属实-整改中", "不属实-数据无误", "无法核实")
ANSWER_TRUE = ("属实-已整改", "属实-整改中")      # the rule was right
ANSWER_FALSE = "不属实-数据无误"                  # the rule was wrong (waives the issue)
ANSWER_UNKNOWN = "无法核实"                       # says nothing about the rule
AUDIT_RESULTS = {"confirmed": "确认", "overturned": "推翻"}     # the county's spot check of a waiver
FLAG_AUDIT_OVERTURNED = "抽查复核未通过"          # a waiver the county overturned: the issue is back
HOW_CN = {"browser": "网页填报", "workbook": "交回清单"}


def severity_text(code: str | None) -> str:
    return SEVERITY_CN.get(code or "", code or "")


def status_text(code: str | None, flag: str | None = None) -> str:
    s = STATUS_CN.get(code or "", code or "")
    if flag:
        s = f"{s}（{flag}）" if s else flag
    return s


# agency table → (department, its data as a reader names it)
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "civil_affairs": ("民政局", "民政低保特困数据"),
    "disability": ("残联", "残联残疾人数据"),
    "education": ("教育局", "教育学籍数据"),
    "medical_insurance": ("医保局", "医保参保数据"),
    "housing": ("住建局", "住建危房改造数据"),
    "hukou": ("公安户籍", "公安户籍数据"),
    "vehicles": ("公安车辆管理", "公安车辆登记数据"),
    "businesses": ("市场监管局", "市场监管企业登记数据"),
    "payroll": ("财政局", "财政供养人员数据"),
    "real_estate": ("不动产登记中心", "不动产登记数据"),
}


def department(table: str | None) -> str:
    """民政局, 公安户籍 … for an agency table; the table's Chinese title for a registry table."""
    if not table:
        return ""
    if table in DEPARTMENTS:
        return DEPARTMENTS[table][0]
    return table_title(table)


def table_title(table: str | None) -> str:
    """家庭成员表, 公安户籍 … (the canonical table's Chinese title)."""
    if not table:
        return ""
    from schemas.tables import TABLES

    t = TABLES.get(table)
    if t is None:
        return "未知数据表"
    return t.title + "表" if t.name in ("members", "households", "helpers", "pairings", "projects",
                                        "beneficiaries", "loans") else t.title


# ---------------------------------------------------------------------------
# local time

from pipeline.store.clock import (LOCAL_TZ_LABEL, LOCAL_TZ_NAME, local_date, local_text,  # noqa: E402,F401
                                   local_time, local_tz)


# ---------------------------------------------------------------------------
# characters a reader must see

# Characters a reader cannot see or that change what they see: C0/C1 controls and DEL, every
# format character (Unicode category Cf: bidi controls such as U+202E RIGHT-TO-LEFT OVERRIDE, which
# turns 'gpj.exe' round, zero-width characters, the BOM, the soft hyphen, tags), line/paragraph
# separators, lone surrogates and the non-characters U+FFFE/U+FFFF (XML cannot hold some of them).
# Tab and newline stay. Private-use characters stay: rare characters of names live there.
_RANGES = [(0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C),
           (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E),
           (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF),
           (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0xFFFE, 0xFFFF), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
           (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
           (0xE0020, 0xE007F)]
_INVISIBLE_RE = re.compile("[" + "".join(
    re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _RANGES) + "]")


def _show(ch: str) -> str:
    o = ord(ch)
    if o < 0x20:
        return chr(0x2400 + o)           # ␀ … ␟ (control pictures)
    if o == 0x7F:
        return "\u2421"                  # ␡
    return f"〔U+{o:04X}〕"


def visible(s: str, *, keep_newlines: bool = True) -> str:
    """Control, bidi-override and other invisible characters replaced by something a reader
    sees: ␇ for BEL, ␛ for ESC, 〔U+202E〕 for RIGHT-TO-LEFT OVERRIDE. Tabs and newlines stay
    (keep_newlines=False: shown as ␉ and ␤, for one-line places such as document properties)."""
    if not s:
        return s
    out = _INVISIBLE_RE.sub(lambda m: _show(m.group(0)), s)
    if not keep_newlines:
        out = out.replace("\n", "\u2424").replace("\r", "\u240d").replace("\t", "\u2409")
    return out


# ---------------------------------------------------------------------------
# reasons from the loader and the engine, for readers

_PROBLEMS = [
    (re.compile(r"^missing required column\(s\): (.+)$"), lambda m: "缺少必需列：" + m.group(1).replace(", ", "、")),
    (re.compile(r"^header matches no known table kind$"), lambda m: "表头与任何一种已知表格都对不上"),
    (re.compile(r"^no header row of any known table kind$"), lambda m: "没有找到已知表格的表头行"),
    (re.compile(r"^ambiguous header: matches (.+) equally$"),
     lambda m: "表头同时符合" + "和".join(table_title(t) for t in m.group(1).split(" and ")) + "，无法判断是哪种表"),
    (re.compile(r"^empty sheet$"), lambda m: "空工作表"),
    (re.compile(r"^empty file$"), lambda m: "空文件"),
    (re.compile(r"^not a file$"), lambda m: "不是文件"),
    (re.compile(r"^password-protected workbook"), lambda m: "文件设有密码，请取消密码后重新上传"),
    (re.compile(r"^corrupt or truncated xlsx"), lambda m: "文件已损坏或不完整"),
    (re.compile(r"^not a spreadsheet"), lambda m: "不是电子表格文件"),
    (re.compile(r"^unsupported file type"), lambda m: "不支持的文件类型，请另存为电子表格文件后再上传"),
    (re.compile(r"^cannot decode the csv file"), lambda m: "无法识别文本文件的编码（不是UTF-8或GBK）"),
    (re.compile(r"^not a text csv file"), lambda m: "不是文本格式的csv文件"),
    (re.compile(r"^refused: .*zip bomb"), lambda m: "文件解压后异常巨大，已拒收"),
    (re.compile(r"^refused: the workbook would expand"), lambda m: "文件解压后异常巨大，已拒收"),
]


def problem_text(reason: str | None) -> str:
    """A loader problem in plain Chinese (reasons already in Chinese pass through)."""
    if not reason:
        return ""
    s = str(reason).strip()
    for pat, fn in _PROBLEMS:
        m = pat.search(s)
        if m:
            return fn(m)
    return s


def skip_reason_text(reason: str | None) -> str:
    """Why a rule was not run, in plain Chinese (engine reasons are written for developers)."""
    if not reason:
        return ""
    s = str(reason).strip()
    m = re.match(r"^missing table: (.+)$", s)
    if m:
        return "缺少" + "、".join(table_title(t.strip()) for t in m.group(1).split(",")) + "，本期未检查"
    m = re.match(r"^missing tables: none of (.+)$", s)
    if m:
        return "本期没有任何部门数据，未检查"
    m = re.match(r"^no (poverty_line|monitoring_line) for year (\d+)", s)
    if m:
        what = "扶贫标准" if m.group(1) == "poverty_line" else "防返贫监测标准"
        return f"参数中没有{m.group(2)}年的{what}，本期未检查"
    return s
