"""Stage 1 — read: spreadsheet files → sheets of cells with the row numbers the clerk sees.

One job: turn the bytes of a file into rows of cells, exactly as the clerk sees them in
Excel/WPS, and refuse what cannot be read with one plain-Chinese sentence (ReadError). Cell
types matter and are decided here (stack.md): a numeric cell of up to 15 digits is exact and
read as its digits; a larger one is already rounded by Excel and is kept the way Excel
displays it (`4.30521198503123E+17`), never "repaired".

What a file is, is decided by its content, not its name (sniff): an OOXML workbook (zip), a
BIFF workbook (OLE: .xls, WPS .et), an HTML table saved as ".xls" by a web system, or text
(csv, tab-separated, UTF-16 "Unicode text"; UTF-8, GBK/GB18030). Other files of a drop are
refused with a sentence.

Hostile files are judged before anything is allocated for them, in read_excel and so for
every caller (validate, run, feedback, the portal):
  * the zip directory: total size, the ratio of every part (lower for large parts);
  * the number of sheets (MAX_SHEETS);
  * every sheet's cell extent: the sheet XML is scanned (streaming) for a cell outside the
    extent its <dimension> claims; only a sheet whose true extent is small enough for a dense
    grid goes to python-calamine (fast, Rust); any other sheet is read by a streaming reader
    that keeps only the columns that carry something in the first rows (the header) and
    never builds the dense extent.
Text is decoded line by line where a file is not clean: a line that does not decode becomes
a `bad` line of the sheet (its number and what could be shown), the rest is read.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".ett"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = WORKBOOK_SUFFIXES          # (old name)
CSV_SUFFIXES = TEXT_SUFFIXES                # text files: csv or tab-separated
DATA_SUFFIXES = WORKBOOK_SUFFIXES | TEXT_SUFFIXES

# Hostile-input limits (checked before parsing).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3      # all parts of an xlsx together
MAX_COMPRESSION_RATIO = 400               # any part over 1 MiB may expand at most this much
LARGE_PART_BYTES = 32 * 1024**2           # a part larger than this expanded …
MAX_LARGE_PART_RATIO = 100                # … may expand at most this much (real sheets: 5–30×)
MAX_SHEET_ROWS = 2_000_000
MAX_SHEETS = 200                          # sheets per workbook (checks/params.py may pass another)
MAX_DENSE_CELLS = 20_000_000              # a sheet's extent (rows × columns) read as a dense grid
MAX_DENSE_COLUMNS = 702                   # … and its width (ZZ); wider sheets: the streaming reader
MAX_COLUMNS = 512                         # columns the streaming reader looks at (and keeps)
SCAN_ROWS = 40                            # the first rows, where the header is looked for
BAD_LINE = "\x01"                         # marks an undecodable line in decoded text

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ReadError(Exception):
    """A file cannot be read at all; str(exc) is the one-line reason, in plain Chinese."""


# the sentences a clerk reads (the caller prefixes the file name)
EMPTY_FILE = "文件是空的（0字节），未读取"
PASSWORD = "工作簿设有密码，请取消密码后重新上传"


def corrupt(fmt: str) -> str:
    return f"文件已损坏或不完整，无法打开（不是有效的{fmt}文件）"


def not_spreadsheet(suffix: str) -> str:
    return f"不是电子表格文件（{suffix or '无扩展名'}），未读取"


def _n(x: int) -> str:
    return f"{x:,}"


@dataclass
class Sheet:
    """One sheet's cells. rows[i] is Excel row i + 1 (text files: row_numbers[i], the physical line).

    Cells are the reader's raw values (str, float, date, bool …); use cell_text() or
    text_column() to turn them into text — done lazily, column by column, because
    most cells are already strings and converting every cell is the hot path."""
    name: str
    rows: list
    row_numbers: list[int] | None = None   # text files: physical line number of each record
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    date1904: bool = False
    trailing_empty: int = 0                # empty rows after the last row (formatted, not data)
    bad: list[tuple[int, str]] = field(default_factory=list)   # undecodable lines: (line, text shown)
    error: str | None = None               # the sheet could not be read (the others could)
    notes: list[str] = field(default_factory=list)   # plain-Chinese remarks for the report

    def row_number(self, i: int) -> int:
        return self.row_numbers[i] if self.row_numbers is not None else i + 1


# --- cell → text ----------------------------------------------------------

def excel_display(v: float) -> str:
    """How Excel shows a number with more than 15 significant digits: 4.30521198503123E+17
    (15 significant digits, trailing zeros kept: 4.30624194605150E+17)."""
    mant, exp = f"{v:.14E}".split("E")    # 15 significant digits, as Excel's scientific display
    e = int(exp)
    return f"{mant}E{'+' if e >= 0 else '-'}{abs(e):02d}"


def cell_text(v) -> str:
    t = type(v)
    if t is str:
        return v
    if v is None:
        return ""
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is int:
        return str(v) if abs(v) < 10**15 else excel_display(float(v))
    if t is float:
        if math.isnan(v) or math.isinf(v):
            return ""
        if v.is_integer():
            return str(int(v)) if abs(v) < 1e15 else excel_display(v)
        return repr(v)
    if t is dt.datetime:
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if t is dt.date:
        return v.strftime("%Y-%m-%d")
    if t is dt.time:
        return v.strftime("%H:%M:%S")
    if t is dt.timedelta:
        return str(v)
    return str(v)


def row_text(row) -> list[str]:
    return [c if type(c) is str else cell_text(c) for c in row]


def text_column(values) -> list[str]:
    """Raw cell values of one column as text (a C-speed pass when they already are strings)."""
    types = set(map(type, values))
    if types == {str}:
        return values if isinstance(values, list) else list(values)
    if types <= {str, float}:
        # the common mixed case (numeric cells): integers up to 15 digits are exact
        return [v if type(v) is str else
                (str(int(v)) if v.is_integer() and -1e15 < v < 1e15 else cell_text(v)) for v in values]
    return [v if type(v) is str else cell_text(v) for v in values]


# --- what a file is ----------------------------------------------------------

CONTENT_NAMES = {"pdf": "PDF文件", "rtf": "RTF文档", "binary": "二进制文件", "xml": "XML文件",
                 "xml2003": "Excel 2003 XML表格", "archive": "压缩包", "image": "图片"}


def sniff(path: Path) -> str:
    """zip | ole | html | utf16 | text, or a kind that is no spreadsheet (CONTENT_NAMES)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        raise ReadError(EMPTY_FILE)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf16"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith((b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        return "archive"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "image"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith(b"<?xml"):
        return "xml2003" if b"urn:schemas-microsoft-com:office:spreadsheet" in low else "xml"
    if low.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body", b"<!--")) \
            or (low.startswith(b"<") and b"<table" in low):
        return "html"
    if b"\x00" in head:
        return "binary"
    return "text"


def read_file(path: Path, *, max_sheets: int = MAX_SHEETS) -> list[Sheet]:
    """Every sheet of a data file (a text file is one sheet named ''), or ReadError."""
    if not path.is_file():
        raise ReadError("找不到文件")
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise ReadError(not_spreadsheet(suffix))
    if path.stat().st_size == 0:
        raise ReadError(EMPTY_FILE)
    return read_any(path, max_sheets=max_sheets)


def read_any(path: Path, *, max_sheets: int = MAX_SHEETS) -> list[Sheet]:
    """Read a file by its content, whatever its name."""
    kind = sniff(path)
    if kind in ("zip", "ole"):
        return read_excel(path, max_sheets=max_sheets)
    if kind == "html":
        return read_html(path)
    if kind in ("text", "utf16"):
        return read_text(path)
    what = CONTENT_NAMES.get(kind, "无法识别的文件")
    if kind == "xml2003":
        raise ReadError(f"文件是{what}，请在Excel或WPS中另存为.xlsx后重新上传")
    raise ReadError(f"文件内容不是电子表格（是{what}），未读取")


def data_files(drop: Path) -> Iterator[Path]:
    """Every file of a drop, sorted by path (file order decides which duplicate loads); the
    reader says what each one is (not a spreadsheet, an Office lock file, hidden …)."""
    for p in sorted(drop.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(drop).parts[:-1]):
            yield p


def skip_reason(path: Path) -> str | None:
    """Why a file of a drop is listed but not read (not an error): an Office lock file, a hidden file."""
    name = path.name
    if name.startswith(("~$", ".~lock.")):
        return "Excel/WPS打开文件时留下的临时锁定文件，不是数据，已跳过"
    if name.startswith("."):
        return "隐藏文件，不是数据，已跳过"
    if name.lower() in ("thumbs.db", "desktop.ini"):
        return "Windows系统文件，不是数据，已跳过"
    return None


# --- xlsx: the zip directory, the workbook, the sheets' true extent --------------------------

@dataclass
class ZipBook:
    date1904: bool
    sheets: list[tuple[str, str | None]]      # (sheet name, its part in the zip) in workbook order


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")


def _attrs(s: bytes) -> dict[str, str]:
    return {k.decode("ascii", "replace").split(":")[-1] if k != b"r:id" and not k.endswith(b":id") else "rid":
            html.unescape(v.decode("utf-8", "replace")) for k, v in _ATTR.findall(s)}


def check_zip(path: Path, max_sheets: int = MAX_SHEETS) -> ZipBook:
    """Refuse zip bombs and non-workbooks from the zip directory alone, before any part is
    inflated; return the workbook's 1904 flag and its sheets (name, part)."""
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ReadError(corrupt("xlsx")) from None
    with z:
        infos = z.infolist()
        names = {i.filename for i in infos}
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ReadError(f"文件解压后过大（约{total / 1024**3:.1f} GB，压缩了{total // packed:,}倍），"
                            f"疑似恶意文件，未读取")
        for i in infos:
            ratio = i.file_size / max(i.compress_size, 1)
            if (i.file_size > LARGE_PART_BYTES and ratio > MAX_LARGE_PART_RATIO) or \
                    (i.file_size > 1024**2 and ratio > MAX_COMPRESSION_RATIO):
                raise ReadError(f"文件解压后过大（其中一部分从{i.compress_size / 1024**2:.1f} MB解压为"
                                f"{i.file_size / 1024**2:,.0f} MB，{ratio:,.0f}倍），疑似恶意文件，未读取")
        if "word/document.xml" in names:
            raise ReadError("文件是Word文档，不是电子表格，未读取")
        if "ppt/presentation.xml" in names:
            raise ReadError("文件是PowerPoint演示文稿，不是电子表格，未读取")
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            if "xl/workbook.bin" in names:
                raise ReadError("文件是.xlsb格式，请在Excel或WPS中另存为.xlsx后重新上传")
            raise ReadError("文件是压缩包，不是Excel工作簿，未读取")
        wbinfo = z.getinfo("xl/workbook.xml")
        if wbinfo.file_size > 64 * 1024**2:
            raise ReadError("工作簿结构异常（目录部分过大），疑似恶意文件，未读取")
        try:
            wbxml = z.read("xl/workbook.xml")
            rels = z.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
            raise ReadError(corrupt("xlsx")) from None
    date1904 = re.search(rb'date1904\s*=\s*"(1|true)"', wbxml[:1 << 16]) is not None
    tags = _SHEET_TAG.findall(wbxml)
    if len(tags) > max_sheets:
        raise ReadError(f"工作簿有{_n(len(tags))}个工作表，超过{_n(max_sheets)}个的上限，未读取；"
                        f"请只保留数据表后重新上传")
    targets = {}
    for t in _REL_TAG.findall(rels):
        a = _attrs(t)
        if "Id" in a and "Target" in a:
            tgt = a["Target"]
            tgt = tgt.lstrip("/") if tgt.startswith("/") else "xl/" + tgt
            targets[a["Id"]] = re.sub(r"[^/]+/\.\./", "", tgt)
    sheets = []
    for t in tags:
        a = _attrs(t)
        part = targets.get(a.get("rid", ""))
        sheets.append((a.get("name", ""), part if part in names else None))
    return ZipBook(date1904, sheets)


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


_DIM = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')
_PREFIX = re.compile(rb"<(\w+:)?sheetData\b")
SCAN_BLOCK = 1 << 22                      # bytes of sheet XML inflated per step of the extent scan


def _greater(s: str, lo: str, hi: str) -> str:
    """A regular expression for the strings of len(s) characters in [lo-hi] that sort after s."""
    alts = []
    for i, ch in enumerate(s):
        if ch < hi:
            rest = len(s) - i - 1
            alts.append(re.escape(s[:i]) + f"[{chr(ord(ch) + 1)}-{hi}]" + (f"[{lo}-{hi}]{{{rest}}}" if rest else ""))
    return "|".join(alts) or "(?!)"


def _violation(prefix: bytes, letters: str, row: str, exact_rows: bool) -> re.Pattern:
    """A cell tag without a leading r attribute, or whose reference lies right of column
    `letters`, or below row `row` (exact_rows) or beyond its number of digits."""
    L, D = len(letters), len(row)
    p = re.escape(prefix.decode("ascii"))
    ref = f"[A-Z]{{{L + 1}}}|(?:{_greater(letters, 'A', 'Z')})[0-9]|[A-Z]{{1,{L}}}[0-9]{{{D + 1}}}"
    if exact_rows:
        ref += f"|[A-Z]{{1,{L}}}(?:{_greater(row, '0', '9')})\""
    return re.compile(f'<{p}c(?:(?! r=")[\\s>/]| r="(?:{ref}))'.encode())


def sheet_is_dense_safe(z: zipfile.ZipFile, part: str) -> bool:
    """True when the sheet's cells lie within an extent small enough for a dense grid.

    One streaming pass over the sheet XML, never trusting its <dimension>: the dimension gives
    a claim, and one regular expression finds any cell that breaks it (right of its last
    column, below its last row, or without a leading r attribute). A CRC error (sizes that
    lie) raises ReadError."""
    try:
        with z.open(part) as f:
            head = b""
            while True:
                block = f.read(SCAN_BLOCK)
                head += block
                m_pref = _PREFIX.search(head)
                if m_pref or not block or len(head) >= 1 << 24:
                    break
            if not m_pref:
                return False
            m = _DIM.search(head, 0, m_pref.start())
            if not m:
                return False
            letters, row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
            letters, row = letters.decode(), row.decode()
            cols, rows = _col_index(letters.encode()) + 1, int(row)
            if cols > MAX_DENSE_COLUMNS or cols * rows > MAX_DENSE_CELLS:
                return False
            # rows are checked by their number of digits when that bound is small enough (cheaper)
            exact_rows = cols * (10 ** len(row) - 1) > MAX_DENSE_CELLS
            pattern = _violation(m_pref.group(1) or b"", letters, row, exact_rows)
            # a tag cut by a block boundary (`<c ` | `r="B15967"`) must not look like a cell without
            # its r attribute: the last bytes of a block are searched again with the next one
            buf, tail = head, 64
            while True:
                block = f.read(SCAN_BLOCK)
                limit = len(buf) if not block else max(len(buf) - tail, 0)
                m = pattern.search(buf)          # a match starting at `limit` or later is judged
                if m and m.start() < limit:      # again next round, with the bytes that follow it
                    return False
                if not block:
                    return True
                buf = buf[limit:] + block
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        raise ReadError(corrupt("xlsx")) from None


# --- the streaming sheet reader (sheets that are not safe for a dense grid) -------------------

_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?t>)", re.S)
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROWR = re.compile(rb'\br="([0-9]{1,7})"')
_TYPE = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<(?:\w+:)?v\b[^>]*>(.*?)</(?:\w+:)?v>", re.S)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"')
MAX_CARRY = 64 * 1024**2


def _xml_text(b: bytes) -> str:
    s = b.decode("utf-8", "replace")
    return html.unescape(s) if "&" in s else s


def _close_end(buf: bytes, local: bytes) -> int:
    """The end of the last closing tag </local> (any namespace prefix) in buf, or -1."""
    i = len(buf)
    while True:
        i = buf.rfind(local + b">", 0, i)
        if i < 0:
            return -1
        lt = buf.rfind(b"</", max(0, i - 24), i)
        if lt >= 0 and re.fullmatch(rb"(?:\w+:)?", buf[lt + 2:i]):
            return i + len(local) + 1


def _stream_parts(z: zipfile.ZipFile, part: str, local: bytes) -> Iterator[bytes]:
    """The part's bytes in pieces that end just after a closing tag </local> (whole elements)."""
    carry = b""
    try:
        with z.open(part) as f:
            while True:
                block = f.read(1 << 22)
                if not block:
                    break
                buf = carry + block if carry else block
                end = _close_end(buf, local)
                if end < 0:
                    carry = buf
                    if len(carry) > MAX_CARRY:
                        raise ReadError("工作表结构异常（一行数据过长），疑似恶意文件，未读取")
                    continue
                yield buf[:end]
                carry = buf[end:]
            if carry:
                yield carry
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        raise ReadError(corrupt("xlsx")) from None


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    name = next((n for n in ("xl/sharedStrings.xml", "xl/SharedStrings.xml") if n in z.NameToInfo), None)
    if name is None:
        return []
    out = []
    for piece in _stream_parts(z, name, b"si"):
        for m in _SI.finditer(piece):
            body = m.group(1) or b""
            if b"<rPh" in body:
                body = _RPH.sub(b"", body)
            out.append("".join(_xml_text(t.group(1) or b"") for t in _T.finditer(body)))
    return out


def _cell_value(attrs: bytes, body: bytes | None, sst: list[str]):
    if not body:
        return None
    if b"t=" not in attrs:                      # a number (the common case)
        if body[:3] == b"<v>" and body[-4:] == b"</v>":
            try:
                return float(body[3:-4])
            except ValueError:
                return _xml_text(body[3:-4])
        t = b"n"
    else:
        mt = _TYPE.search(attrs)
        t = mt.group(1) if mt else b"n"
    if t == b"inlineStr":
        return "".join(_xml_text(x.group(1) or b"") for x in _T.finditer(body))
    mv = _V.search(body)
    if not mv:
        return None
    v = mv.group(1)
    if t == b"s":
        try:
            return sst[int(v)]
        except (ValueError, IndexError):
            return None
    if t in (b"str", b"e"):
        return _xml_text(v)
    if t == b"b":
        return v.strip() == b"1"
    try:
        return float(v)
    except ValueError:
        return _xml_text(v)


_COLS: dict[bytes, int] = {}


def _col(letters: bytes) -> int:
    c = _COLS.get(letters)
    if c is None:
        c = _COLS[letters] = _col_index(letters)
    return c


def _beyond(prefix: bytes, last_col: int) -> re.Pattern:
    """A cell whose column lies right of `last_col` (0-based)."""
    letters = _letters(last_col)
    p = re.escape(prefix.decode("ascii"))
    return re.compile(f'<{p}c r="(?:[A-Z]{{{len(letters) + 1}}}|(?:{_greater(letters, "A", "Z")})[0-9])'.encode())


def _letters(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def stream_sheet(z: zipfile.ZipFile, part: str, name: str, sst: list[str], date1904: bool,
                 max_rows: int = MAX_SHEET_ROWS) -> Sheet:
    """A sheet read without a dense grid: the first MAX_COLUMNS columns of the first SCAN_ROWS
    rows, then only the columns that carry something there (renumbered left to right), and
    rows up to max_rows. In each row, cells right of the last wanted column are skipped with
    one search (cells come left to right). Work is linear in the sheet's XML and in the cells
    kept; memory in the cells kept."""
    head: dict[int, dict[int, object]] = {}
    body: dict[int, list] = {}
    keep: dict[int, int] | None = None
    merges: list = []
    cut = wide = False
    row_no = 0
    cells_re = head_cut = body_cut = None
    open_tag = close_tag = b""
    prefix = b""
    for piece in _stream_parts(z, part, b"row"):
        if cells_re is None:
            mp = _PREFIX.search(piece)
            prefix = (mp.group(1) or b"") if mp else b""
            p = re.escape(prefix)
            cells_re = re.compile(rb"<" + p + rb"c\b([^>]*?)(?:/>|>(.*?)</" + p + rb"c>)", re.S)
            head_cut = _beyond(prefix, MAX_COLUMNS - 1)
            open_tag, close_tag = b"<" + prefix + b"row", b"</" + prefix + b"row>"
        if b"mergeCell" in piece:
            merges.extend(_MERGE.findall(piece))
        pos = 0
        while True:                   # rows found with bytes.find (a regular expression that
            i = piece.find(open_tag, pos)     # looks for the end of a wide row is slow)
            if i < 0:
                break
            j = i + len(open_tag)
            if piece[j:j + 1] not in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                pos = j
                continue
            gt = piece.find(b">", j)
            if gt < 0:
                break
            mr = _ROWR.search(piece, j, gt)
            row_no = int(mr.group(1)) if mr else row_no + 1
            if piece[gt - 1:gt] == b"/":          # <row …/>: no cells
                pos = gt + 1
                continue
            close = piece.find(close_tag, gt)
            if close < 0:
                break
            pos = close + len(close_tag)
            if row_no > max_rows:
                cut = True
                continue
            in_head = keep is None and row_no <= SCAN_ROWS
            if not in_head and keep is None:
                keep, body_cut = _keep(head, prefix)
            if not in_head and not keep:
                continue
            start, end = gt + 1, close
            stop = (head_cut if in_head else body_cut).search(piece, start, end)
            if stop and in_head:
                wide = True
            col = -1
            for cm in cells_re.finditer(piece, start, stop.start() if stop else end):
                attrs, content = cm.group(1), cm.group(2)
                mref = _REF.search(attrs)
                if mref:
                    col, r = _col(mref.group(1)), int(mref.group(2))
                else:
                    col, r = col + 1, row_no
                if not content or r > max_rows:
                    continue
                if in_head:
                    if col < MAX_COLUMNS:
                        v = _cell_value(attrs, content, sst)
                        if v is not None and v != "":
                            head.setdefault(r, {})[col] = v
                    continue
                k = keep.get(col)
                if k is None:
                    continue
                v = _cell_value(attrs, content, sst)
                if v is None or v == "":
                    continue
                row = body.get(r)
                if row is None:
                    row = body[r] = [None] * len(keep)
                row[k] = v
    if keep is None:
        keep, _ = _keep(head, prefix)
    width = len(keep)
    for r, cells in head.items():
        row = body[r] = [None] * width
        for c, v in cells.items():
            if c in keep:
                row[keep[c]] = v
    last = max(body, default=0)
    empty: tuple = ()
    rows = [body.get(r, empty) for r in range(1, last + 1)]
    for row in rows:               # trailing None cells: as calamine's rows end at the last cell
        while row and row[-1] is None:
            row.pop()
    merged = []
    for c0, r0, c1, r1 in merges[:10_000]:
        r0, r1, a, b = int(r0) - 1, int(r1) - 1, _col(c0), _col(c1)
        if r0 >= SCAN_ROWS:
            continue
        inside = [keep[c] for c in keep if a <= c <= b]
        if inside:
            merged.append(((r0, min(inside)), (min(r1, last), max(inside))))
    sh = Sheet(name=name, rows=rows, merged=merged, date1904=date1904)
    if cut:
        sh.notes.append(f"工作表超过{_n(max_rows)}行，其后的行未读取")
    if wide:
        sh.notes.append(f"工作表超过{_n(MAX_COLUMNS)}列，其后的列未读取")
    return sh


def _keep(head: dict[int, dict[int, object]], prefix: bytes) -> tuple[dict[int, int], re.Pattern | None]:
    """The columns that carry something in the head rows (renumbered), and the search that
    finds the first cell right of them."""
    used = sorted({c for cells in head.values() for c in cells})[:MAX_COLUMNS]
    keep = {c: i for i, c in enumerate(used)}
    return keep, (_beyond(prefix, used[-1]) if used else None)


# --- xlsx / xls through python-calamine ---------------------------------------------------

def _open_calamine(path: Path, kind: str):
    from python_calamine import CalamineWorkbook

    fmt = "xlsx" if kind == "zip" else "xls"
    try:
        if (kind == "zip" and path.suffix.lower() in (".xlsx", ".xlsm")) or \
                (kind == "ole" and path.suffix.lower() == ".xls"):
            return CalamineWorkbook.from_path(str(path))
        with open(path, "rb") as f:          # named otherwise (.et, .xls holding xlsx …): by content
            return CalamineWorkbook.from_filelike(f)
    except Exception as exc:  # calamine raises various errors for broken files
        msg = str(exc).lower()
        if "password" in msg or "encrypt" in msg:
            raise ReadError(PASSWORD) from None
        raise ReadError(corrupt(fmt)) from None


def _calamine_sheet(wb, name: str, date1904: bool, max_rows: int) -> Sheet:
    try:
        sh = wb.get_sheet_by_name(name)
        if sh.total_height and sh.total_height > max_rows:
            return Sheet(name=name, rows=[], error=f"工作表超过{_n(max_rows)}行，未读取")
        grid = sh.to_python(skip_empty_area=False)
        merged = list(sh.merged_cell_ranges or [])
    except Exception:
        return Sheet(name=name, rows=[], error="工作表已损坏，无法读取")
    # drop trailing empty rows (formatted but empty) cheaply
    end = len(grid)
    while end and not any(grid[end - 1]):
        end -= 1
    rows = grid[:end] if end < len(grid) else grid
    return Sheet(name=name, rows=rows, merged=merged, date1904=date1904, trailing_empty=len(grid) - end)


def read_excel(path: Path, *, max_sheets: int = MAX_SHEETS, max_rows: int = MAX_SHEET_ROWS) -> list[Sheet]:
    """Every sheet of a workbook, raw cell values per row, whatever the file is named: .xlsx,
    .xls, WPS .et (and an HTML table or a text file saved as .xls). Works on any workbook (data
    tables, returned village workbooks …). Hostile files are refused, or read without a dense
    grid, before anything is allocated for them (see the module doc)."""
    kind = sniff(path)
    if kind == "zip":
        return _read_xlsx(path, check_zip(path, max_sheets), max_rows)
    if kind == "ole":
        return _read_xls(path, max_sheets, max_rows)
    return read_any(path, max_sheets=max_sheets)


def _read_xlsx(path: Path, book: ZipBook, max_rows: int) -> list[Sheet]:
    streamed: dict[str, Sheet] = {}
    with zipfile.ZipFile(path) as z:
        unsafe = [(n, part) for n, part in book.sheets if part is None or not sheet_is_dense_safe(z, part)]
        if unsafe:
            sst = _shared_strings(z) if any(part for _, part in unsafe) else []
            for name, part in unsafe:
                streamed[name] = stream_sheet(z, part, name, sst, book.date1904, max_rows) if part \
                    else Sheet(name=name, rows=[], date1904=book.date1904)
    wb = _open_calamine(path, "zip") if len(streamed) < len(book.sheets) else None
    sheets = []
    for name, _part in book.sheets:
        sheets.append(streamed[name] if name in streamed else _calamine_sheet(wb, name, book.date1904, max_rows))
    return sheets


def _read_xls(path: Path, max_sheets: int, max_rows: int) -> list[Sheet]:
    info = ole_info(path)
    if not info:            # a directory we cannot walk: the stream name is still there
        with open(path, "rb") as f:
            if "EncryptedPackage".encode("utf-16-le") in f.read(1 << 20):
                info = {"encrypted": True}
    if info.get("encrypted"):
        raise ReadError(PASSWORD)
    if info.get("other"):
        raise ReadError(f"文件是{info['other']}，不是电子表格，未读取")
    # python-calamine builds every sheet as a dense grid of its cells' extent when it opens the
    # file: a stray cell far from the data (IV65536) costs 16.7 million cells; such a sheet is
    # refused by name before calamine opens the file
    names = info.get("names") or []
    if len(names) > max_sheets:
        raise ReadError(f"工作簿有{_n(len(names))}个工作表，超过{_n(max_sheets)}个的上限，未读取；"
                        f"请只保留数据表后重新上传")
    for k, (rows, cols, cells) in enumerate(info.get("extents") or []):
        area = (rows + 1) * (cols + 1)
        if area > MAX_XLS_SPARSE_AREA and cells * 8 < area:
            name = names[k] if k < len(names) else f"第{k + 1}个"
            raise ReadError(f"工作表“{name}”的第{_n(rows + 1)}行第{_n(cols + 1)}列有内容，远在数据之外"
                            f"（整张表要按{_n(area)}个单元格读取），请删除多余的单元格后重新上传")
    wb = _open_calamine(path, "ole")
    names = list(wb.sheet_names)
    if len(names) > max_sheets:
        raise ReadError(f"工作簿有{_n(len(names))}个工作表，超过{_n(max_sheets)}个的上限，未读取；"
                        f"请只保留数据表后重新上传")
    return [_calamine_sheet(wb, n, info.get("date1904", False), max_rows) for n in names]


# --- OLE (compound file): what an .xls/.et really holds ------------------------------------

def ole_info(path: Path) -> dict:
    """What a compound file holds, read from its directory and the BIFF globals of its
    Workbook stream: {"encrypted": …, "date1904": …, "other": "Word文档" …}. The 1904 flag is
    the DATEMODE record (0x0022); FILEPASS (0x002F) means a password. python-calamine exposes
    neither for plain numbers. Anything unparseable: {} (calamine then decides)."""
    try:
        with open(path, "rb") as f:
            return _ole_info(f, path.stat().st_size)
    except (ValueError, struct.error, IndexError, OSError, UnicodeDecodeError):
        return {}


def _ole_info(f, size: int) -> dict:
    hdr = f.read(512)
    if hdr[:8] != OLE_MAGIC:
        raise ValueError("not OLE")
    ss = 1 << struct.unpack_from("<H", hdr, 0x1E)[0]
    mss = 1 << struct.unpack_from("<H", hdr, 0x20)[0]
    if ss not in (512, 4096) or mss > ss:
        raise ValueError("sector size")
    nfat, dir_start = struct.unpack_from("<II", hdr, 0x2C)
    cutoff, minifat_start = struct.unpack_from("<II", hdr, 0x38)
    difat_start, ndifat = struct.unpack_from("<II", hdr, 0x44)
    limit = size // ss + 2

    def sector(i: int) -> bytes:
        f.seek((i + 1) * ss)
        b = f.read(ss)
        if len(b) < ss:
            raise ValueError("short sector")
        return b

    difat = [x for x in struct.unpack_from("<109I", hdr, 0x4C)]
    s, seen = difat_start, 0
    while s < 0xFFFFFFFA and seen < min(ndifat, limit):
        ids = struct.unpack(f"<{ss // 4}I", sector(s))
        difat.extend(ids[:-1])
        s, seen = ids[-1], seen + 1
    fat: list[int] = []
    for x in [x for x in difat if x < 0xFFFFFFFA][:min(nfat, limit)]:
        fat.extend(struct.unpack(f"<{ss // 4}I", sector(x)))

    def chain(start: int) -> list[int]:
        out = []
        while start < 0xFFFFFFFA and len(out) < limit:
            out.append(start)
            start = fat[start]
        return out

    entries = {}
    root = None
    for sec in chain(dir_start):
        blob = sector(sec)
        for k in range(0, ss, 128):
            e = blob[k:k + 128]
            nlen = struct.unpack_from("<H", e, 0x40)[0]
            typ = e[0x42]
            if typ not in (1, 2, 5) or not 2 <= nlen <= 64:
                continue
            name = e[:nlen - 2].decode("utf-16-le")
            start, sz = struct.unpack_from("<II", e, 0x74)
            if typ == 5:
                root = (start, sz)
            entries[name.lower()] = (start, sz)
    if "encryptedpackage" in entries or "encryptioninfo" in entries:
        return {"encrypted": True}
    for stream, what in (("worddocument", "Word文档"), ("powerpoint document", "PowerPoint演示文稿")):
        if stream in entries:
            return {"other": what}
    wbk = entries.get("workbook") or entries.get("book")
    if wbk is None:
        return {"other": "Office文件（不含工作簿）"}
    start, sz = wbk
    sz = min(sz, size)
    if sz < cutoff and root is not None:          # a small stream lives in the mini stream
        mini = b"".join(sector(s) for s in chain(root[0]))
        mfat: list[int] = []
        for s in chain(minifat_start):
            mfat.extend(struct.unpack(f"<{ss // 4}I", sector(s)))
        parts, s = [], start
        while s < 0xFFFFFFFA and len(parts) * mss < sz:
            parts.append(mini[s * mss:(s + 1) * mss])
            s = mfat[s]
    else:
        parts = [sector(s) for s in chain(start)]
    data = b"".join(parts)[:sz]
    out = {"date1904": False, "extents": []}
    pos, n, globals_, ext = 0, len(data), True, None
    unpack = struct.unpack_from
    while pos + 4 <= n:
        rtype, rlen = unpack("<HH", data, pos)
        body = pos + 4
        pos = body + rlen
        if globals_:
            if rtype == 0x002F:
                return {"encrypted": True}
            if rtype == 0x0022 and rlen >= 2:
                out["date1904"] = unpack("<H", data, body)[0] == 1
            elif rtype == 0x0085 and rlen >= 8:    # BOUNDSHEET: a sheet's name
                cch, high = data[body + 6], data[body + 7] & 1
                raw = data[body + 8:body + 8 + cch * (2 if high else 1)]
                out.setdefault("names", []).append(raw.decode("utf-16-le" if high else "latin-1", "replace"))
            elif rtype == 0x000A:              # EOF of the globals substream
                globals_ = False
        elif rtype in _XLS_CELLS and rlen >= 4 and ext is not None:
            r, c = unpack("<HH", data, body)
            if rtype in (0x00BD, 0x00BE) and rlen >= 6:        # MULRK, MULBLANK: last column at the end
                c = unpack("<H", data, body + rlen - 2)[0]
            ext[2] += 1
            if r > ext[0]:
                ext[0] = r
            if c > ext[1]:
                ext[1] = c
        elif rtype == 0x0809:                  # BOF of a sheet substream
            ext = [0, 0, 0]
            out["extents"].append(ext)
    return out


# cell records of a BIFF sheet: NUMBER, LABELSST, LABEL, RK, BLANK, BOOLERR, FORMULA, RSTRING, MULRK, MULBLANK
_XLS_CELLS = frozenset((0x0203, 0x00FD, 0x0204, 0x027E, 0x0201, 0x0205, 0x0006, 0x00D6, 0x00BD, 0x00BE))
MAX_XLS_SPARSE_AREA = 4_000_000      # an .xls sheet's extent read as a dense grid when its cells are sparse


# --- text: csv, tab-separated, UTF-16 -----------------------------------------------------------

BOM8 = b"\xef\xbb\xbf"


def bad_line(shown: str) -> str:
    """The line that stands for an undecodable one: one quoted field, BAD_LINE + what could be shown."""
    return '"' + BAD_LINE + shown.replace("\r", "").replace('"', '""')[:500] + '"'


def _decodes(b: bytes, enc: str) -> bool:
    try:
        b.decode(enc)
        return True
    except UnicodeDecodeError:
        return False


HEAD_LINES = 30      # the lines that hold the header: their encoding decides first


def _choose(fails: dict[str, tuple[int, int]]) -> str:
    """The encoding in which the head lines, then the most lines, decode (UTF-8 on a tie); GB18030
    decodes almost any bytes, so a header that is UTF-8 keeps the file UTF-8."""
    return min(fails, key=lambda e: (fails[e][0], fails[e][0] + fails[e][1], e != "utf-8"))


def decode_text(data: bytes) -> tuple[str, str, int]:
    """(text, encoding, undecodable lines). UTF-16 with a BOM; UTF-8 (with or without BOM), else
    GB18030 (a superset of GBK); a file that is neither throughout is decoded line by line in the
    encoding most of its lines decode in (UTF-8 after a UTF-8 BOM), and each line that does not
    decode is replaced by bad_line() — so every physical line stays one line."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", "replace")
        if "\ufffd" not in text:
            return text, "utf-16", 0
        lines = text.split("\n")
        bad = 0
        for i, line in enumerate(lines):
            if "\ufffd" in line:
                lines[i], bad = bad_line(line), bad + 1
        return "\n".join(lines), "utf-16", bad
    bom = data.startswith(BOM8)
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), ("utf-8-sig" if bom else "utf-8"), 0
    except UnicodeDecodeError:
        pass
    if not bom:
        try:
            return body.decode("gb18030"), "gb18030", 0
        except UnicodeDecodeError:
            pass
    lines = body.split(b"\n")
    enc = "utf-8"
    if not bom:
        enc = _choose({e: (sum(not _decodes(x, e) for x in lines[:HEAD_LINES]),
                           sum(not _decodes(x, e) for x in lines[HEAD_LINES:])) for e in ("utf-8", "gb18030")})
    out, bad = [], 0
    for line in lines:
        try:
            out.append(line.decode(enc))
        except UnicodeDecodeError:
            out.append(bad_line(line.decode(enc, "replace")))
            bad += 1
    return "\n".join(out), enc, bad


def decode(data: bytes) -> tuple[str, str]:
    """Decoded text and encoding of text-file bytes (undecodable lines marked, see decode_text)."""
    text, enc, _ = decode_text(data)
    return text, enc


def delimiter(text: str) -> str:
    """',' or tab ('Unicode text' and tab-separated exports), judged from the first lines."""
    head = text[:1 << 16].split("\n", 30)[:30]
    return "\t" if sum(x.count("\t") for x in head) > sum(x.count(",") for x in head) else ","


def read_text(path: Path) -> list[Sheet]:
    """A text file as one sheet (name ''): csv or tab-separated, any of the encodings of
    decode_text; undecodable lines go to Sheet.bad with their line numbers."""
    data = path.read_bytes()
    if not data:
        raise ReadError(EMPTY_FILE)
    text, _enc, nbad = decode_text(data)
    if "\x00" in text[:4096]:
        raise ReadError("文件内容不是文本表格（是二进制文件），未读取")
    rows, numbers, _ = _records(io.StringIO(text, newline=""), delim=delimiter(text))
    sheet = Sheet(name="", rows=rows, row_numbers=numbers)
    if nbad:
        split_bad(sheet)
    return [sheet]


MAX_LINE_CHARS = 1 << 20


def capped_lines(f) -> Iterator[str]:
    """The lines of a text file, a line longer than MAX_LINE_CHARS in pieces (no line of junk is
    ever held whole; the csv module refuses a field that long anyway)."""
    return iter(lambda: f.readline(MAX_LINE_CHARS), "")


def is_bad(rec) -> bool:
    return len(rec) == 1 and rec[0][:1] == BAD_LINE


def split_bad(sheet: Sheet, after: list[int] | None = None) -> list[int] | None:
    """Move the records that stand for undecodable lines from sheet.rows to sheet.bad (and drop
    them from `after`, the line counts of a head)."""
    keep = [i for i, r in enumerate(sheet.rows) if not is_bad(r)]
    sheet.bad = [(sheet.row_numbers[i], sheet.rows[i][0][1:]) for i in range(len(sheet.rows)) if is_bad(sheet.rows[i])]
    sheet.rows = [sheet.rows[i] for i in keep]
    sheet.row_numbers = [sheet.row_numbers[i] for i in keep]
    return [after[i] for i in keep] if after is not None else None


def _records(stream, limit: int | None = None, delim: str = ",") -> tuple[list[list[str]], list[int], list[int]]:
    """csv records of a text stream (up to `limit`): the records, the physical line each starts
    on, and the physical line count after each (a quoted field may span lines)."""
    reader = csv.reader(stream, delimiter=delim)
    rows, numbers, after = [], [], []
    last = 0
    try:
        for rec in reader:
            rows.append(rec)
            numbers.append(last + 1)
            last = reader.line_num
            after.append(last)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error:
        raise ReadError(f"第{reader.line_num}行格式错误（引号不成对或单元格过长），文件无法按表格读取") from None
    return rows, numbers, after


# --- HTML tables ("xls" exports of web systems) ----------------------------------------------

class _Tables(HTMLParser):
    """Every <table> as rows of cell texts; rowspan/colspan become merged ranges (the value at
    the top-left cell, as in Excel)."""
    MAX_SPAN = 1000

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.done: list[dict] = []
        self.stack: list[dict] = []

    def _t(self):
        return self.stack[-1] if self.stack else None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.stack.append({"rows": {}, "r": -1, "cell": None, "taken": set(), "merged": [], "c": 0})
            return
        t = self._t()
        if t is None:
            return
        if tag == "tr":
            self._end_cell(t)
            t["r"] += 1
            t["c"] = 0
        elif tag in ("td", "th"):
            self._end_cell(t)
            if t["r"] < 0:
                t["r"] = 0
            a = dict(attrs)
            cs = _span(a.get("colspan"), self.MAX_SPAN)
            rs = _span(a.get("rowspan"), self.MAX_SPAN)
            r, c = t["r"], t["c"]
            while (r, c) in t["taken"]:
                c += 1
            t["cell"] = {"r": r, "c": c, "parts": []}
            if cs > 1 or rs > 1:
                t["merged"].append(((r, c), (r + rs - 1, c + cs - 1)))
                if len(t["taken"]) < 1_000_000:
                    t["taken"].update((r + i, c + j) for i in range(rs) for j in range(cs) if i or j)
            t["c"] = c + cs
        elif tag == "br" and t["cell"] is not None:
            t["cell"]["parts"].append("\n")

    def handle_endtag(self, tag):
        t = self._t()
        if t is None:
            return
        if tag in ("td", "th"):
            self._end_cell(t)
        elif tag == "table":
            self._end_cell(t)
            self.done.append(self.stack.pop())

    def handle_data(self, data):
        t = self._t()
        if t is not None and t["cell"] is not None:
            t["cell"]["parts"].append(re.sub(r"[ \t\r\n]+", " ", data))

    @staticmethod
    def _end_cell(t):
        cell = t["cell"]
        if cell is None:
            return
        t["cell"] = None
        text = "".join(cell["parts"]).strip(" ")
        text = "\n".join(x.strip(" ") for x in text.split("\n")).strip("\n")
        row = t["rows"].setdefault(cell["r"], {})
        row[cell["c"]] = text


def _span(v, cap: int) -> int:
    try:
        return max(1, min(int(str(v).strip()), cap))
    except (TypeError, ValueError):
        return 1


MAX_HTML_BYTES = 64 * 1024**2


def read_html(path: Path) -> list[Sheet]:
    """An HTML page saved as .xls (web systems export so): each <table> is a sheet, rows as the
    clerk sees them when Excel/WPS opens the file (row 1 = the table's first row)."""
    if path.stat().st_size > MAX_HTML_BYTES:
        raise ReadError(f"网页格式的表格过大（超过{MAX_HTML_BYTES // 1024**2} MB），请在Excel或WPS中另存为.xlsx后重新上传")
    data = path.read_bytes()
    head = data[:4096]
    m = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", head, re.I)
    enc = m.group(1).decode("ascii").lower() if m else None
    if data.startswith(BOM8):
        text = data[3:].decode("utf-8", "replace")
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", "replace")
    elif enc in ("gbk", "gb2312", "gb18030", "x-gbk", "cp936"):
        text = data.decode("gb18030", "replace")
    else:
        try:
            text = data.decode(enc or "utf-8")
        except (UnicodeDecodeError, LookupError):
            text = data.decode("gb18030", "replace")
    p = _Tables()
    try:
        p.feed(text)
        p.close()
    except Exception:
        raise ReadError(corrupt("网页表格")) from None
    while p.stack:
        p._end_cell(p.stack[-1])
        p.done.append(p.stack.pop())
    tables = [t for t in p.done if t["rows"]]
    if not tables:
        raise ReadError("文件是网页，但其中没有表格，未读取")
    sheets = []
    for k, t in enumerate(tables):
        last = max(t["rows"])
        rows = []
        for r in range(last + 1):
            cells = t["rows"].get(r, {})
            width = max(cells, default=-1) + 1
            rows.append([cells.get(c, "") for c in range(width)])
        sheets.append(Sheet(name="" if len(tables) == 1 else f"表格{k + 1}", rows=rows, merged=t["merged"]))
    return sheets


# --- large text files: DuckDB parses them (see pipeline.ingest.load.NativeCsv) ----------------------

NATIVE_CSV_MIN_BYTES = 4 * 1024**2     # larger csv files: data rows parsed by DuckDB's reader
HEAD_RECORDS = 60


@dataclass
class CsvHead:
    """The first records of a large text file, for recognition; DuckDB parses the rest."""
    utf8_path: str               # the file itself (clean UTF-8) or a UTF-8 copy (see transcode)
    sheet: Sheet                 # the first HEAD_RECORDS records, with their line numbers
    line_after: list[int]        # physical line count after each head record
    delim: str = ","


@dataclass
class TextFacts:
    """What one pass over a text file's bytes tells (so a large file is read once for them)."""
    sha256: str
    utf8: bool                   # decodes as UTF-8 throughout (a copy is needed otherwise)
    lines: int                   # physical lines as the csv module counts them


def text_facts(path: Path) -> TextFacts:
    """sha256, UTF-8 validity and physical line count in one pass. The line count is the same
    in the UTF-8 copy (transcode keeps every line one line)."""
    import hashlib

    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    utf8, n, last = True, 0, b""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            n += block.count(b"\n")
            last = block[-1:]
            if utf8:
                try:
                    dec.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return TextFacts(h.hexdigest(), utf8, n + (1 if last and last != b"\n" else 0))


def _line_blocks(f, size: int = 1 << 20) -> Iterator[bytes]:
    """A binary file in blocks of about `size` bytes that end at a line end (bounded: a line
    longer than 64 MiB is cut)."""
    while True:
        block = f.read(size)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += f.readline(64 * 1024**2)
        yield block


def _bad_lines_in(block: bytes, enc: str) -> int:
    try:
        block.decode(enc)
        return 0
    except UnicodeDecodeError:
        return sum(not _decodes(line, enc) for line in block.split(b"\n"))


def transcode(path: Path, target: Path) -> tuple[str, int]:
    """A UTF-8 copy of a text file that is not clean UTF-8, streaming, for DuckDB: UTF-16 and
    GBK/GB18030 converted; in a file that does not decode throughout, the encoding most lines
    decode in is used and every other line is replaced by bad_line() (every physical line
    stays one line). Returns (encoding, undecodable lines)."""
    with open(path, "rb") as f:
        head = f.read(3)
    bad = 0
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        dec = codecs.getincrementaldecoder("utf-16")("replace")
        with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
            carry = ""
            for block in iter(lambda: src.read(1 << 20), b""):
                text = carry + dec.decode(block)
                cut = text.rfind("\n") + 1
                chunk, carry = text[:cut], text[cut:]
                if len(carry) > 64 * 1024**2:
                    chunk, carry = text, ""
                if "\ufffd" in chunk:
                    lines = chunk.split("\n")
                    for i, line in enumerate(lines):
                        if "\ufffd" in line:
                            lines[i], bad = bad_line(line), bad + 1
                    chunk = "\n".join(lines)
                dst.write(chunk)
            rest = carry + dec.decode(b"", final=True)
            if "\ufffd" in rest:
                rest, bad = bad_line(rest), bad + 1
            dst.write(rest)
        return "utf-16", bad
    bom = head == BOM8
    enc = "utf-8"
    if not bom:
        fails = {"utf-8": [0, 0], "gb18030": [0, 0]}
        with open(path, "rb") as src:
            for k, block in enumerate(_line_blocks(src)):
                for e in fails:
                    if k == 0:
                        lines = block.split(b"\n")
                        fails[e][0] += sum(not _decodes(x, e) for x in lines[:HEAD_LINES])
                        fails[e][1] += _bad_lines_in(b"\n".join(lines[HEAD_LINES:]), e)
                    else:
                        fails[e][1] += _bad_lines_in(block, e)
        enc = _choose(fails)
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        if bom:
            src.read(3)
        for block in _line_blocks(src):
            try:
                dst.write(block.decode(enc))
                continue
            except UnicodeDecodeError:
                pass
            pieces = block.split(b"\n")
            for k, line in enumerate(pieces):
                end = "\n" if k < len(pieces) - 1 else ""
                if not line and not end:
                    continue
                try:
                    dst.write(line.decode(enc) + end)
                except UnicodeDecodeError:
                    dst.write(bad_line(line.decode(enc, "replace")) + end)
                    bad += 1
    return enc, bad


def csv_head(path: Path, tmpdir: str, utf8: bool) -> CsvHead:
    """The head records of a large text file (`utf8`: from text_facts); a file that is not clean
    UTF-8 is first copied to UTF-8 for DuckDB (transcode), streaming."""
    with open(path, "rb") as f:
        start = f.read(4096)
    if not start:
        raise ReadError(EMPTY_FILE)
    utf16 = start[:2] in (b"\xff\xfe", b"\xfe\xff")
    if b"\x00" in start and not utf16:
        raise ReadError("文件内容不是文本表格（是二进制文件），未读取")
    target = path
    encoding = "utf-8-sig" if start.startswith(BOM8) else "utf-8"
    if not utf8:
        target = Path(tmpdir) / (path.stem + ".utf8.csv")
        transcode(path, target)
        encoding = "utf-8"
    with open(target, encoding=encoding, newline="") as f:
        sample = f.read(1 << 16)
        f.seek(0)
        delim = delimiter(sample)
        rows, numbers, after = _records(capped_lines(f), HEAD_RECORDS, delim)
    sheet = Sheet(name="", rows=rows, row_numbers=numbers)
    after = split_bad(sheet, after)
    return CsvHead(str(target), sheet, after, delim)
