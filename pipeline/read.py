"""Stage 1 — read: spreadsheet files → sheets of text cells with Excel row numbers.

One job: turn .xlsx/.xls/.csv bytes into rows of strings, exactly as the clerk
sees them, and refuse what cannot be read with a one-line reason. Cell types
matter and are decided here (stack.md): a numeric cell of up to 15 digits is
exact and read as its digits; a larger one is already rounded by Excel and is
kept the way Excel displays it (`4.30521198503123E+17`), never "repaired".

Readers: python-calamine for .xlsx/.xls (measured ~5× faster than openpyxl),
the csv module for .csv (UTF-8, UTF-8-BOM, GBK/GB18030).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv"}
DATA_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES

# Hostile-input limits (checked before parsing).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3      # all parts of an xlsx together
MAX_COMPRESSION_RATIO = 400               # a sheet XML part this many times its packed size is a bomb
MAX_SHEET_ROWS = 2_000_000


class ReadError(Exception):
    """A file cannot be read at all; str(exc) is the one-line reason."""


@dataclass
class Sheet:
    """One sheet's cells. rows[i] is Excel row i + 1 (CSV: row_numbers[i]).

    Cells are the reader's raw values (str, float, date, bool …); use cell_text() or
    text_column() to turn them into text — done lazily, column by column, because
    most cells are already strings and converting every cell is the hot path."""
    name: str
    rows: list[list[str]]
    row_numbers: list[int] | None = None   # CSV: physical line number of each record
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    date1904: bool = False

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


# --- xlsx / xls --------------------------------------------------------------

def _check_zip(path: Path) -> bool:
    """Refuse zip bombs and non-workbooks before parsing; return the workbook's 1904 flag."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise ReadError("not an Excel workbook (a zip file without workbook parts)")
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise ReadError(f"refused: the workbook would expand to {total / 1024**3:.1f} GiB "
                                f"(limit {MAX_UNCOMPRESSED_BYTES / 1024**3:.0f} GiB)")
            for i in infos:
                if i.compress_size and i.file_size / i.compress_size > MAX_COMPRESSION_RATIO \
                        and i.file_size > 50 * 1024**2:
                    raise ReadError(f"refused: part {i.filename} expands {i.file_size // i.compress_size}× "
                                    f"to {i.file_size / 1024**2:.0f} MiB (a zip bomb?)")
            date1904 = False
            if "xl/workbook.xml" in names:
                head = z.read("xl/workbook.xml")[:4096]
                date1904 = b'date1904="1"' in head or b'date1904="true"' in head
            return date1904
    except zipfile.BadZipFile:
        raise ReadError("corrupt or truncated xlsx (not a valid zip archive)") from None


def _sniff(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ReadError("empty file")
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return "other"


def read_excel(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    kind = _sniff(path)
    date1904 = False
    if kind == "zip":
        date1904 = _check_zip(path)
    elif kind == "ole":
        if path.suffix.lower() != ".xls":
            # an encrypted .xlsx is an OLE container holding EncryptedPackage
            with open(path, "rb") as f:
                blob = f.read(1 << 20)
            if "EncryptedPackage".encode("utf-16-le") in blob:
                raise ReadError("password-protected workbook: save it without a password and upload again")
    else:
        raise ReadError(f"not a spreadsheet: {path.suffix} file does not hold an Excel workbook")
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises various errors for broken files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "password" in msg.lower() or "encrypt" in msg.lower():
            raise ReadError("password-protected workbook: save it without a password and upload again") from None
        raise ReadError(f"cannot open workbook: {msg[:200]}") from None
    sheets = []
    for name in wb.sheet_names:
        try:
            sh = wb.get_sheet_by_name(name)
            if sh.total_height and sh.total_height > MAX_SHEET_ROWS:
                raise ReadError(f"sheet {name} has {sh.total_height} rows (limit {MAX_SHEET_ROWS})")
            grid = sh.to_python(skip_empty_area=False)
            merged = list(sh.merged_cell_ranges or [])
        except ReadError:
            raise
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ReadError(f"cannot read sheet {name}: {msg[:200]}") from None
        # drop trailing empty rows (formatted but empty) cheaply
        end = len(grid)
        while end and not any(grid[end - 1]):
            end -= 1
        rows = grid[:end] if end < len(grid) else grid
        sheets.append(Sheet(name=name, rows=rows, merged=merged, date1904=date1904))
        sheets[-1].trailing_empty = len(grid) - end  # type: ignore[attr-defined]
    return sheets


# --- csv ----------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ReadError("cannot decode the csv file: neither UTF-8 nor GBK/GB18030") from None


def read_csv(path: Path) -> list[Sheet]:
    data = path.read_bytes()
    if not data:
        raise ReadError("empty file")
    if b"\x00" in data[:4096]:
        raise ReadError("not a text csv file (binary content)")
    text, _enc = decode(data)
    rows, numbers, _ = _records(io.StringIO(text, newline=""))
    return [Sheet(name="", rows=rows, row_numbers=numbers)]


def _records(stream, limit: int | None = None) -> tuple[list[list[str]], list[int], list[int]]:
    """csv records of a text stream (up to `limit`): the records, the physical line each starts
    on, and the physical line count after each (a quoted field may span lines)."""
    reader = csv.reader(stream)
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
    except csv.Error as exc:
        raise ReadError(f"malformed csv at line {reader.line_num}: {exc}") from None
    return rows, numbers, after


NATIVE_CSV_MIN_BYTES = 4 * 1024**2     # larger csv files: data rows parsed by DuckDB's reader
HEAD_RECORDS = 60


@dataclass
class CsvHead:
    """The first records of a large csv file, for recognition; DuckDB parses the rest."""
    utf8_path: str               # the file itself (UTF-8) or a UTF-8 copy (GBK/GB18030 input)
    sheet: Sheet                 # the first HEAD_RECORDS records, with their line numbers
    line_after: list[int]        # physical line count after each head record


@dataclass
class TextFacts:
    """What one pass over a csv file's bytes tells (so a large file is read once for them)."""
    sha256: str
    utf8: bool                   # decodes as UTF-8
    lines: int                   # physical lines as the csv module counts them


def text_facts(path: Path) -> TextFacts:
    """sha256, UTF-8 validity and physical line count in one pass. The line count is the same
    after transcoding GBK/GB18030 to UTF-8 (their multi-byte characters never contain 0x0A)."""
    import codecs
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


def csv_head(path: Path, tmpdir: str, utf8: bool) -> CsvHead:
    """The head records of a large csv file (`utf8`: from text_facts); a GBK/GB18030 file is
    transcoded to a UTF-8 copy for DuckDB, streaming."""
    with open(path, "rb") as f:
        start = f.read(4096)
    if not start:
        raise ReadError("empty file")
    if b"\x00" in start:
        raise ReadError("not a text csv file (binary content)")
    target = path
    encoding = "utf-8-sig" if start.startswith(b"\xef\xbb\xbf") else "utf-8"
    if encoding == "utf-8" and not utf8:
        import shutil

        target = Path(tmpdir) / (path.stem + ".utf8.csv")
        try:
            with open(path, encoding="gb18030", errors="strict", newline="") as src, \
                    open(target, "w", encoding="utf-8", newline="") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except UnicodeDecodeError:
            raise ReadError("cannot decode the csv file: neither UTF-8 nor GBK/GB18030") from None
        encoding = "utf-8"
    with open(target, encoding=encoding, newline="") as f:
        rows, numbers, after = _records(f, HEAD_RECORDS)
    return CsvHead(str(target), Sheet(name="", rows=rows, row_numbers=numbers), after)


def read_file(path: Path) -> list[Sheet]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ReadError("not a file")
    if path.stat().st_size == 0:
        raise ReadError("empty file")
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    raise ReadError(f"unsupported file type {suffix or '(none)'}: expected .xlsx, .xls or .csv")


def data_files(drop: Path) -> Iterator[Path]:
    """Spreadsheet files of a drop, sorted by path (file order decides which duplicate loads)."""
    for p in sorted(drop.rglob("*")):
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(("~$", ".")):
            yield p
