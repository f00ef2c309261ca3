"""Stage 3 — load: recognised sheets → canonical DuckDB tables, conserving every row.

    ingest(con, files, root, *, kind=None, progress=None, parallel=None, max_sheets=None)
        -> list[FileReport]

Every file of a drop gets at least one FileReport: `loaded`, `rejected` (a table that was not
loaded), `unreadable` (not a spreadsheet, corrupt, refused as hostile), `skipped` (an empty or
notes sheet, an Office lock file, a hidden file). Problems are plain-Chinese sentences.

Flow per file (read_one, no database, may run in a worker process):
  read (pipeline.ingest.read: by content) → recognise the header and kind (pipeline.ingest.recognise) →
  mark title, header, empty, repeated-header and 合计/总计/… rows as skipped (skip_rows) →
  undecodable text lines become rejected rows → the rows' raw text as columns, one Chunk per
  kind and file however many sheets (Arrow in a reader worker, a CSV file otherwise). Large
  text files: DuckDB parses them directly (NativeCsv), streaming; when DuckDB cannot number
  their records as lines, the Python reader streams them in batches.
Then (stage_outcome, in the worker's or the main DuckDB): each chunk is normalised with the
SQL macros of pipeline.ingest.normalise straight from the chunk (typed values, with the raw
text of typed and required columns kept beside them), and each sheet is judged (judge: the
>half rule — more than half of its rows undecodable, unattributable or, from 20 rows on,
holding a value that does not parse, and the sheet is not loaded; a large text file is
judged before it is staged, see prejudge). Workers hand their chunks back as
parquet, read per kind when the kind is finalised; the serial path stages `_norm_<kind>`.
Finally, per kind (finalize_kind, main process, all files together): unattributable rows are
rejected; exact duplicates (all canonical columns equal, within or across files; grouped by
a hash, verified column by column) keep the first copy in file order and raise SCH-03;
repeated keys with different content (households,
helpers, projects) keep the first row; SCH-02/SCH-04 findings go to `schema_findings`,
rejected rows to `rejected_rows`. Every data row is loaded or rejected:
rows_read = rows_loaded + rows_rejected (a sheet that is not loaded lists its first
MAX_LISTED_REJECTED rows in rejected_rows; all of them are counted).
"""
from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from operator import itemgetter
from pathlib import Path

from checks.engine import ensure_tables
from pipeline.ingest import normalise as N
from pipeline.ingest.cache import IngestCache, code_fingerprint, file_key
from pipeline.ingest.read import (DATA_SUFFIXES, EMPTY_FILE, MAX_SHEETS, NATIVE_CSV_MIN_BYTES, ReadError, Sheet,
                           capped_lines, csv_head,
                           not_spreadsheet, read_any, row_text, skip_reason, sniff, split_bad, text_column,
                           text_facts)
from pipeline.ingest.recognise import MAX_EXTRAS, SKIP_PREFIXES, recognise, skip_rows
from schemas.headers import norm_header
from schemas.sql import lit as _lit
from schemas.tables import TABLES, Table

REJECTED_DDL = """
CREATE TABLE IF NOT EXISTS rejected_rows (
    file VARCHAR, sheet VARCHAR, "row" INTEGER, kind VARCHAR, reason VARCHAR, raw VARCHAR
)"""

KEY_LABEL = {"members": "户编号和证件号码", "households": "户编号", "helpers": "帮扶责任人证件号码",
             "pairings": "户编号", "projects": "项目编号", "beneficiaries": "项目编号和受益户编号",
             "loans": "借款人证件号码和户编号"}


@dataclass
class FileReport:
    path: str
    sha256: str = ""
    kind: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    status: str = "loaded"            # loaded | rejected | skipped | unreadable
    problems: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)   # SCH-01
    extra_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)    # canonical column -> header as in the file

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Chunk:
    """The rows after the header of one or more sheets of one kind of a file, as text columns:
    _row (the Excel/CSV row number), _k (the sheet's ordinal in the file), _sheet, _skip (not a
    data row), the canonical columns present, the extra columns x0, x1, … Held as an in-memory
    Arrow table (`data`, reader workers) or written as a CSV file (`path`, the serial path):
    DuckDB's Python bridge for Arrow imports pandas (~0.3 s), which `cardcheck validate` must
    not pay; a worker pays it once. One chunk per kind and file (not per sheet): every chunk
    costs one normalisation query (~80 ms of planning), so a workbook of many small sheets
    costs what one sheet costs."""
    table: str
    rel: str
    date1904: bool
    columns: list[str] = field(default_factory=list)  # the canonical columns present
    extras: list[str] = field(default_factory=list)   # headers of the extra columns x0, x1, …
    path: str | None = None                           # CSV hand-off
    data: object = None                               # Arrow hand-off (pyarrow.Table)
    sheets: dict[str, int] = field(default_factory=dict)   # sheet name -> index of its FileReport


@dataclass
class Piece:
    """One recognised sheet's rows to load (or a batch of a streamed text file)."""
    k: int                       # the sheet's ordinal in the file (_seq = base + k << 24 + row)
    sheet: Sheet
    columns: dict[str, int]
    extras: dict[str, int]
    start: int
    skips: dict[int, str]
    report_index: int


def make_chunk(target: Path, table: Table, rel: str, pieces: list[Piece], date1904: bool,
               arrow: bool) -> Chunk:
    """The pieces' rows as text columns (skipped rows flagged, not removed: DuckDB filters
    them; the transposition runs at C speed). Columns are the union of the pieces'."""
    present = [c.name for c in table.columns if any(c.name in p.columns for p in pieces)]
    kept: list[str] = []
    for p in pieces:
        kept += [h for h in p.extras if h not in kept]
    names = present + [f"x{k}" for k in range(len(kept))]
    row_col, k_col, sheet_col, skip_col = [], [], [], []
    texts: list[list[str]] = [[] for _ in names]
    for p in pieces:
        rows = p.sheet.rows[p.start:]
        n = len(rows)
        widths = set(map(len, rows))
        if len(widths) == 1:        # a grid (every spreadsheet sheet): only the wanted columns, as lists
            width = widths.pop()
            cols = _Columns(rows)
        else:                       # ragged rows (text files): transpose, padding short rows
            cols = list(zip_longest(*rows, fillvalue=""))   # (C speed)
            width = len(cols)
        row_col += range(p.start + 1, p.start + n + 1) if p.sheet.row_numbers is None \
            else p.sheet.row_numbers[p.start:]
        k_col += [p.k] * n
        sheet_col += [p.sheet.name] * n
        skip = [False] * n
        for i in p.skips:
            skip[i - p.start] = True
        skip_col += skip
        blank = [""] * n
        wanted = [p.columns.get(c) for c in present] + [p.extras.get(h) for h in kept]
        raw = arrow and len(pieces) == 1        # Arrow checks the cells' types as it converts them
        for j, i in enumerate(wanted):
            col = cols[i] if i is not None and i < width else blank
            if raw:
                texts[j] = col          # read only from here on: no copy
            else:
                texts[j] += text_column(col)
    chunk = Chunk(table.name, rel, date1904, present, kept,
                  sheets={p.sheet.name: p.report_index for p in pieces})
    if arrow:
        import pyarrow as pa

        chunk.data = pa.table({"_row": pa.array(row_col, pa.int64()), "_k": pa.array(k_col, pa.int64()),
                               "_sheet": pa.array(sheet_col, pa.string()), "_skip": pa.array(skip_col, pa.bool_()),
                               **{nm: _arrow_text(v, pa) for nm, v in zip(names, texts)}})
        return chunk
    with open(target, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        try:
            w.writerows(zip(row_col, k_col, sheet_col, skip_col, *texts))
        except csv.Error:       # a NUL character in a cell: not data, drop it
            f.seek(0)
            f.truncate()
            w.writerows([[v.replace("\x00", "") if isinstance(v, str) else v for v in r]
                         for r in zip(row_col, k_col, sheet_col, skip_col, *texts)])
    chunk.path = str(target)
    return chunk


def _arrow_text(values: list, pa):
    """A column of cell values as an Arrow string array of their text (read.text_column). A column
    of nothing but strings (almost every one) goes straight in: the type check is Arrow's own, done
    while it converts, instead of a Python pass over the cells."""
    try:
        arr = pa.array(values, pa.string())
        if arr.null_count == 0:
            return arr
    except (pa.ArrowTypeError, pa.ArrowInvalid):        # a number, a date … among the strings
        pass
    return pa.array(text_column(values), pa.string())


class _Columns:
    """Column j of equally wide rows, made when asked (C speed: one itemgetter pass per column)."""

    def __init__(self, rows: list):
        self.rows = rows

    def __getitem__(self, j: int) -> list:
        return list(map(itemgetter(j), self.rows))


@dataclass
class NativeCsv:
    """A large text file whose data rows DuckDB parses directly (header found from its head)."""
    table: str
    path: str                 # UTF-8 file to read
    source: str               # the original file (for a fallback to the Python reader)
    rel: str
    skip: int                 # physical lines before the first data record
    width: int                # declared columns (spare ones detect rows wider than expected)
    columns: dict[str, int]
    extras: dict[str, int]
    header_cells: list[str]
    report_index: int
    lines: int                # physical lines of the file (records must match them, see load_native)
    delim: str = ","


@dataclass
class FileOutcome:
    """Everything one file contributes, computed without a database (so it can run in a worker)."""
    reports: list[FileReport]
    chunks: list  # Chunk | NativeCsv
    rejected: list[tuple]                     # rows of sheets that were not loaded, undecodable lines
    rejected_files: list[str] = field(default_factory=list)   # parquet files of rejected rows (workers)
    undecodable: dict[int, int] = field(default_factory=dict)  # report index -> undecodable data lines
    pieces: dict[str, list] = field(default_factory=dict)      # kind -> Pieces not yet in a chunk


# _seq = file index << SEQ_FILE_SHIFT + sheet ordinal << 24 + row (text files: the line); unique
# across the run and in file order (any number of sheets below 2**16, of rows below 2**24)
SEQ_FILE_SHIFT = 40

UNDECODABLE = "此行含有无法识别的字符（与文件其余部分的编码不一致），未载入"
MAX_LISTED_REJECTED = 10_000     # rows of a sheet that is not loaded listed in rejected_rows (all are counted)
HALF_RULE_MIN_ROWS = 20          # the unparseable part of the >half rule needs this many data rows


def _raw_of(headers: list[str], cells) -> str:
    return json.dumps({(headers[i] if i < len(headers) and headers[i] else f"col{i + 1}"): v
                       for i, v in enumerate(row_text(cells)) if v}, ensure_ascii=False)


def _unreadable(rel: str, digest: str, why: str) -> FileOutcome:
    return FileOutcome([FileReport(rel, digest, status="unreadable", problems=[why])], [], [])


def read_one(path: Path, rel: str, kind: str | None, tmpdir: str, index: int = 0,
             native: bool = True, arrow: bool = False, max_sheets: int | None = None) -> FileOutcome:
    why = skip_reason(path)
    if why:
        return FileOutcome([FileReport(rel, status="skipped", problems=[why])], [], [])
    if not path.is_file():
        return _unreadable(rel, "", "找不到文件")
    if path.suffix.lower() not in DATA_SUFFIXES:
        return _unreadable(rel, "", not_spreadsheet(path.suffix.lower()))
    size = path.stat().st_size
    if size == 0:
        return _unreadable(rel, "", EMPTY_FILE)
    try:
        content = sniff(path)
    except ReadError as exc:
        return _unreadable(rel, "", str(exc))
    large_text = content in ("text", "utf16") and size >= NATIVE_CSV_MIN_BYTES
    facts = text_facts(path) if large_text else None      # one pass: hash, encoding, lines
    digest = facts.sha256 if facts else sha256_file(path)
    if large_text:
        try:
            head = csv_head(path, tmpdir, facts.utf8)
        except ReadError as exc:
            return _unreadable(rel, digest, str(exc))
        lay = recognise(head.sheet, kind)
        if lay is None:
            return _unreadable(rel, digest, NO_TABLE)
        if native and not lay.problem:
            rep = FileReport(rel, digest, kind=lay.kind, header_row=head.sheet.row_number(lay.header_index))
            rep.rows_skipped = lay.header_index + 1 + len([b for b in head.sheet.bad if b[0] <= rep.header_row])
            rep.extra_columns = list(lay.extras)
            rep.columns = {c: (lay.headers[i] or "").replace("\n", "") for c, i in lay.columns.items()}
            width = max(len(r) for r in head.sheet.rows) + 16
            return FileOutcome([rep], [NativeCsv(
                lay.kind, head.utf8_path, str(path), rel, head.line_after[lay.header_index], width,
                lay.columns, lay.extras, list(head.sheet.rows[lay.header_index]), 0, facts.lines,
                head.delim)], [])
        # refused, or records that DuckDB cannot number as lines: the Python reader, streaming
        try:
            return _text_streaming(head, lay, rel, digest, tmpdir, index)
        except ReadError as exc:
            return _unreadable(rel, digest, str(exc))
    try:
        sheets = read_any(path, max_sheets=max_sheets or MAX_SHEETS)
    except ReadError as exc:
        return _unreadable(rel, digest, str(exc))
    out = FileOutcome([], [], [])
    text_like = content in ("text", "utf16") or (content == "html" and len(sheets) == 1)
    for sheet in sheets:
        rep = FileReport(rel, digest, sheet=sheet.name or None)
        out.reports.append(rep)
        trailing = sheet.trailing_empty
        if sheet.error:
            rep.status = "unreadable"
            rep.problems.append(sheet.error)
            continue
        if not sheet.bad and not any(any(v is not None and v != "" for v in r) for r in sheet.rows):
            rep.status, rep.rows_skipped = "skipped", len(sheet.rows) + trailing
            rep.problems.append("空工作表" if sheet.name else "文件中没有内容")
            continue
        lay = recognise(sheet, kind)
        if lay is None:
            rep.rows_skipped = len(sheet.rows) + trailing
            if text_like:
                rep.status, rep.rows_skipped = "unreadable", 0
                rep.problems.append(NO_TABLE)
            else:
                rep.status = "skipped"
                rep.problems.append("没有找到数据表的表头（说明页或其他内容），已跳过")
            continue
        rep.problems.extend(sheet.notes)
        _add_sheet(out, rep, sheet, lay, rel, tmpdir, index, arrow)
    _flush(out, rel, tmpdir, index, arrow, any(s.date1904 for s in sheets))
    return out


NO_TABLE = "文件中找不到数据表的表头（不是本系统能识别的数据表），未读取"


def _bad_after(sheet: Sheet, header_line: int) -> list[tuple[int, str]]:
    return [b for b in sheet.bad if b[0] > header_line]


def _add_sheet(out: FileOutcome, rep: FileReport, sheet: Sheet, lay, rel: str, tmpdir: str,
               index: int, arrow: bool, start: int | None = None, skipped_before: int | None = None) -> None:
    """One recognised sheet (or a batch of a streamed text file): its report counts, the rows of
    a refused sheet, undecodable lines, and its chunk."""
    rep.kind = lay.kind
    if rep.header_row is None:
        rep.header_row = sheet.row_number(lay.header_index)
    header_norm = [norm_header(h) for h in row_text(lay.header_cells)] if hasattr(lay, "header_cells") \
        else [norm_header(h) for h in row_text(sheet.rows[lay.header_index])]
    while header_norm and not header_norm[-1]:
        header_norm.pop()
    if start is None:
        start = lay.header_index + 1
    skips = skip_rows(sheet.rows, start, header_norm)
    bad = _bad_after(sheet, rep.header_row)
    rep.rows_skipped += (start if skipped_before is None else skipped_before) + len(skips) \
        + sheet.trailing_empty + len(sheet.bad) - len(bad)
    rep.rows_read += len(sheet.rows) - start - len(skips) + len(bad)
    t = TABLES[lay.kind] if lay.kind else None
    if bad:
        out.rejected.extend((rel, sheet.name, line, lay.kind, UNDECODABLE,
                             json.dumps({"行内容": shown}, ensure_ascii=False))
                            for line, shown in bad[:_listed_bad(len(bad), rep.rows_read)])
    if lay.problem:
        rep.status = "rejected"
        if lay.problem not in rep.problems:
            rep.problems.append(lay.problem)
        rep.missing_columns = [t.col(m).header for m in lay.missing] if t else []
        listed = sum(1 for r in out.rejected if r[0] == rel and r[1] == sheet.name)
        room = max(0, MAX_LISTED_REJECTED - listed)
        data = (i for i in range(start, len(sheet.rows)) if i not in skips)
        out.rejected.extend((rel, sheet.name, sheet.row_number(i), lay.kind, lay.problem,
                             _raw_of(lay.headers, sheet.rows[i])) for i, _ in zip(data, range(room)))
        rep.rows_rejected = rep.rows_read
        return
    rep.extra_columns = list(lay.extras)
    rep.columns = {c: (lay.headers[i] or "").replace("\n", "") for c, i in lay.columns.items()}
    if lay.dropped_extras and not any("其他列" in p for p in rep.problems):
        rep.problems.append(f"表头中另有{lay.dropped_extras:,}个其他列未读取（最多保留{MAX_EXTRAS}个其他列）")
    ri = next(i for i, r in enumerate(out.reports) if r is rep)
    out.undecodable[ri] = out.undecodable.get(ri, 0) + len(bad)
    if len(sheet.rows) - start - len(skips) > 0:
        out.pieces.setdefault(lay.kind, []).append(
            Piece(ri, sheet, lay.columns, lay.extras, start, skips, ri))


def _flush(out: FileOutcome, rel: str, tmpdir: str, index: int, arrow: bool, date1904: bool) -> None:
    """The pending pieces as chunks, one per kind."""
    for kind, pieces in out.pieces.items():
        target = Path(tmpdir) / f"{index:06d}_{len(out.chunks):05d}.csv"
        out.chunks.append(make_chunk(target, TABLES[kind], rel, pieces, date1904, arrow))
    out.pieces = {}


STREAM_BATCH = 100_000


def _text_streaming(head, lay, rel: str, digest: str, tmpdir: str, index: int) -> FileOutcome:
    """A large text file through the Python csv reader in batches of STREAM_BATCH records, each
    written as a chunk file (memory bounded by a batch): records that DuckDB cannot number as
    physical lines (a quoted field over two lines, blank lines), or a refused header."""
    rep = FileReport(rel, digest, kind=lay.kind, header_row=head.sheet.row_number(lay.header_index))
    out = FileOutcome([rep], [], [])
    lay.header_cells = list(head.sheet.rows[lay.header_index])
    skip_lines = head.line_after[lay.header_index]
    with open(head.utf8_path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(capped_lines(f), delimiter=head.delim)
        last = 0
        rows, numbers = [], []
        first = True
        try:
            for rec in reader:
                number = last + 1
                last = reader.line_num
                if number <= skip_lines:
                    continue
                rows.append(rec)
                numbers.append(number)
                if len(rows) >= STREAM_BATCH:
                    _stream_batch(out, rep, lay, rows, numbers, rel, tmpdir, index, skip_lines if first else 0)
                    rows, numbers, first = [], [], False
        except csv.Error:
            raise ReadError(f"第{reader.line_num}行格式错误（引号不成对或单元格过长），文件无法按表格读取") from None
    _stream_batch(out, rep, lay, rows, numbers, rel, tmpdir, index, skip_lines if first else 0)
    if rep.status == "rejected":
        rep.rows_rejected = rep.rows_read
    return out


def _stream_batch(out, rep, lay, rows, numbers, rel, tmpdir, index, skipped_before) -> None:
    sheet = Sheet(name="", rows=rows, row_numbers=numbers)
    split_bad(sheet)
    _add_sheet(out, rep, sheet, lay, rel, tmpdir, index, False, start=0, skipped_before=skipped_before)
    _flush(out, rel, tmpdir, index, False, False)


@dataclass
class Typed:
    """A chunk already normalised (typed values + raw text) by a worker, as a parquet file."""
    table: str
    path: str


def chunk_source(chunk: Chunk, file_index: int) -> str:
    """SQL over a Python-reader chunk: the data rows' raw text under canonical names (empty
    cells NULL, NUL characters removed: they are not data)."""
    table = TABLES[chunk.table]
    base = file_index << SEQ_FILE_SHIFT
    present = set(chunk.columns) | {f"x{i}" for i in range(len(chunk.extras))}

    def text(name: str) -> str:
        return f"nullif(replace(a.\"{name}\", chr(0), ''), '')" if name in present else "CAST(NULL AS VARCHAR)"

    xs = [f"x{i}" for i in range(len(chunk.extras))]
    if chunk.data is not None:
        rel = "_arrow_chunk"            # registered by the caller
    else:
        decl = ", ".join(["'_row': 'BIGINT'", "'_k': 'BIGINT'", "'_sheet': 'VARCHAR'", "'_skip': 'BOOLEAN'"]
                         + [f"'{n}': 'VARCHAR'" for n in [*chunk.columns, *xs]])
        rel = (f"read_csv({_lit(chunk.path)}, header = false, columns = {{{decl}}}, delim = ',', "
               f"quote = '\"', escape = '\"', auto_detect = false, strict_mode = false)")
    return (f"SELECT a._row + (a._k << 24) + {base} AS _seq, {_lit(chunk.rel)} AS _file, "
            f"coalesce(a._sheet, '') AS _sheet, "
            f"CAST(a._row AS INTEGER) AS _row, {'true' if chunk.date1904 else 'false'} AS _d1904, "
            + ", ".join(f'{text(n)} AS "{n}"' for n in table.names)
            + f", {_extra_sql([(h, text(x)) for h, x in zip(chunk.extras, xs)])} AS _extra "
            f"FROM {rel} a WHERE NOT a._skip")


def _native_source(chunk: NativeCsv) -> str:
    decl = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(chunk.width)) + "}"
    delim = "'\\t'" if chunk.delim == "\t" else "','"
    return (f"read_csv({_lit(chunk.path)}, header = false, skip = {chunk.skip}, columns = {decl}, "
            f"delim = {'E' if chunk.delim == chr(9) else ''}{delim}, quote = '\"', escape = '\"', "
            f"auto_detect = false, null_padding = true, strict_mode = false, parallel = false)")


def load_native(con, chunk: NativeCsv, file_index: int) -> tuple[int, int, int, str] | None:
    """A large text file parsed by DuckDB -> temp view _rawc; (data rows read — undecodable
    lines included —, rows skipped, undecodable lines, the SELECT of the data rows' raw text),
    or None when a row is wider than expected, or when records and physical lines differ (a
    quoted field spanning lines, a blank line, bare-CR line ends): the caller then falls back
    to the Python reader, whose row numbers are physical line numbers. Nothing the size of the
    file is held: the counts are one streaming pass, the rows another (emit)."""
    table = TABLES[chunk.table]
    base = file_index << SEQ_FILE_SHIFT
    trim = "' \t\r\n\u3000\u00a0\u200b\ufeff'"
    first = "coalesce(" + ", ".join(f"nullif(trim(c{i}, {trim}), '')" for i in range(chunk.width)) + ")"
    hdr = [h if isinstance(h, str) else "" for h in chunk.header_cells]
    # fast path (almost every row): a first cell that starts with neither a trimmed character,
    # a 合计-like prefix nor the header's first character is a data row
    h0c = (hdr[0].strip()[:1] if hdr else "")
    prefixes = "|".join(SKIP_PREFIXES)
    fast = (f"regexp_matches(c0, '^[^{trim[1:-1]}\x01]') AND NOT regexp_matches(c0, '^({prefixes})')"
            + (f" AND NOT starts_with(c0, {_lit(h0c)})" if h0c else ""))
    same = " AND ".join(
        [f"coalesce(trim(c{i}, {trim}), '') = {_lit(h.strip())}" for i, h in enumerate(hdr)]
        + [f"c{i} IS NULL" for i in range(len(hdr), chunk.width)])
    # a view, not a table: every pass streams the file (row_number() OVER () streams, and the
    # reader is not parallel, so _i is the record's position); nothing the size of the file is held
    view = f"""
        CREATE OR REPLACE TEMP VIEW _rawc AS
        SELECT row_number() OVER () - 1 AS _i, *,
               CASE WHEN {fast} THEN NULL
                    WHEN starts_with(c0, chr(1)) THEN 'bad'
                    WHEN {first} IS NULL THEN 'empty'
                    WHEN regexp_matches({first}, '^({"|".join(SKIP_PREFIXES)})') THEN 'total'
                    WHEN {same} THEN 'header' END AS _skip
        FROM {_native_source(chunk)}"""
    import duckdb

    side = side_connection()
    side.execute(view)
    try:
        wide, records, read, skipped, bad = side.execute(
            f"SELECT count(*) FILTER (WHERE c{chunk.width - 1} IS NOT NULL), count(*), "
            "count(*) FILTER (WHERE _skip IS NULL), count(*) FILTER (WHERE _skip IN ('empty', 'total', 'header')), "
            "count(*) FILTER (WHERE _skip = 'bad') FROM _rawc").fetchall()[0]
    except duckdb.Error:          # what DuckDB's reader refuses (a line over its limit …): the Python reader
        side.execute("DROP VIEW _rawc")
        return None
    if wide or chunk.skip + records != chunk.lines:
        side.execute("DROP VIEW _rawc")
        return None
    con.execute(view)
    sel = ", ".join(
        (f'c{chunk.columns[c]}' if c in chunk.columns else "CAST(NULL AS VARCHAR)") + f' AS "{c}"'
        for c in table.names)
    extra = _extra_sql([(h, f"c{i}") for h, i in chunk.extras.items()])
    source = (f"(SELECT _i + {base} AS _seq, {_lit(chunk.rel)} AS _file, '' AS _sheet, "
              f"CAST({chunk.skip} + _i + 1 AS INTEGER) AS _row, false AS _d1904, {sel}, {extra} AS _extra "
              f"FROM _rawc WHERE _skip IS NULL)")
    return read + bad, skipped, bad, source


_SIDE = None


def side_connection():
    """A small DuckDB of this process for the passes over a large text file that need no table
    (counts, the >half rule): its own memory limit keeps DuckDB's reader from holding the
    whole file (a reader that is not parallel keeps every buffer it read while it has room)."""
    global _SIDE
    if _SIDE is None:
        from pipeline.store.duck import connect

        _SIDE = connect(config={"memory_limit": "192MB", "threads": 1})
        N.install(_SIDE)
    return _SIDE


def _native_bad_rows(chunk: NativeCsv, limit: int) -> str:
    """SELECT of the (first `limit`) undecodable lines of a native chunk, as rejected_rows."""
    return (f"SELECT {_lit(chunk.rel)}, '', CAST({chunk.skip} + _i + 1 AS INTEGER), {_lit(chunk.table)}, "
            f"{_lit(UNDECODABLE)}, CAST(json_object('行内容', substr(c0, 2)) AS VARCHAR) "
            f"FROM _rawc WHERE _skip = 'bad' LIMIT {limit}")


def _listed_bad(bad: int, read: int) -> int:
    """Undecodable lines listed in rejected_rows: all of them, unless they alone make the sheet
    not loaded (more than half): then the first MAX_LISTED_REJECTED (all are counted)."""
    return bad if bad * 2 <= read else min(bad, MAX_LISTED_REJECTED)


def norm_select(table: Table, source: str = "_chunk") -> str:
    """SELECT over the raw rows `source`: typed canonical values, with the raw text of
    typed/required columns (in no particular order: finalize_kind orders by _seq)."""
    prep = N.prep_list(table, prefix="s.")
    typed = N.select_list(table, date1904="p._d1904", prefix="p.")
    raws = "".join(f', s."{c}" AS "raw:{c}"' for c in _raw_kept(table))
    praws = "".join(f', p."raw:{c}"' for c in _raw_kept(table))
    return (f"SELECT p._seq, p._file, p._sheet, p._row, p._extra, {typed}{praws} "
            f"FROM (SELECT s._seq, s._file, s._sheet, s._row, s._extra, s._d1904, {prep}{raws} "
            f"FROM {source} s) p")


@dataclass
class Emitted:
    """Normalised rows handed to the stager: the relation that holds them, the reports of their
    sheets (sheet name -> report index), and how to take a sheet's rows back (drop(sheet))."""
    table: str
    relation: str
    sheets: dict[str, int]
    drop: object          # callable(sheet name)


def stage_outcome(con, out: FileOutcome, path: Path, rel: str, kind: str | None, tmpdir: str,
                  index: int, emit, reject) -> FileOutcome:
    """Load and normalise every chunk of a file's outcome; emit(table, select_sql, lo, hi, sheets)
    takes each normalised chunk (rows with lo <= _seq < hi) and returns an Emitted;
    reject(select_sql) takes rejected rows. Updates the native csv reports; falls back to the
    Python reader when DuckDB cannot number a large csv's records as its lines. Then judges
    every loaded sheet (judge): more than half of its rows unusable, and it is not loaded."""
    pending = list(out.chunks)
    emitted: list[Emitted] = []
    base = index << SEQ_FILE_SHIFT
    while pending:
        chunk = pending.pop(0)
        if isinstance(chunk, NativeCsv):
            counts = load_native(con, chunk, index)
            if counts is None:            # records are not lines, or a row wider than the header
                if chunk.path != chunk.source:
                    os.unlink(chunk.path)
                fallback = read_one(path, rel, kind, tmpdir, index, native=False)
                out.reports, out.rejected = fallback.reports, out.rejected + fallback.rejected
                out.undecodable = fallback.undecodable
                pending = list(fallback.chunks) + pending
                continue
            read, skipped, bad, source = counts
            rep = out.reports[chunk.report_index]
            rep.rows_read, rep.rows_skipped = read, rep.rows_skipped + skipped
            out.undecodable[chunk.report_index] = bad
            if bad:
                reject(_native_bad_rows(chunk, _listed_bad(bad, read)))
            if not prejudge(side_connection(), out, chunk.report_index, TABLES[chunk.table], source, reject):
                emitted.append(emit(chunk.table, norm_select(TABLES[chunk.table], source), base,
                                    base + (1 << SEQ_FILE_SHIFT), {"": chunk.report_index}))
            con.execute("DROP VIEW _rawc")
            side_connection().execute("DROP VIEW _rawc")
            if chunk.path != chunk.source:
                os.unlink(chunk.path)
        else:           # normalised straight from the chunk (no staging table)
            if chunk.data is not None:
                con.register("_arrow_chunk", chunk.data)
            try:
                emitted.append(emit(chunk.table, norm_select(TABLES[chunk.table], f"({chunk_source(chunk, index)})"),
                                    base, base + (1 << SEQ_FILE_SHIFT), chunk.sheets))
            finally:
                if chunk.data is not None:
                    con.unregister("_arrow_chunk")
                    chunk.data = None
                else:
                    os.unlink(chunk.path)
    out.chunks = []
    for table in {e.table for e in emitted}:
        judge(con, out, [e for e in emitted if e.table == table], reject)
    staged = {ri for e in emitted for ri in e.sheets.values()}
    for ri, rep in enumerate(out.reports):       # sheets whose every data row was undecodable
        if ri not in staged and rep.status == "loaded" and rep.kind and out.undecodable.get(ri):
            table = TABLES[rep.kind]
            failing = [c for c in table.columns if N.raw_present_typed_null(c, "r", "t")]
            reason = _verdict(table, rep, ("", 0, 0, *[0] * len(failing)), failing, out.undecodable[ri])
            if reason:
                _refuse(table, rep, reason, None, "", out.undecodable[ri], reject)
    return out


def _stats_sql(table: Table, rel: str) -> tuple[str, list]:
    """Per sheet of the normalised rows `rel`: rows that cannot be attributed, rows (otherwise
    attributable) with a value that does not parse, and per typed column its parse failures."""
    # SCH-02's condition (N.raw_present_typed_null), the cleaning only where the value is NULL
    fails = [(c, f'CASE WHEN n."{c.name}" IS NULL AND n."raw:{c.name}" IS NOT NULL '
                 f'THEN cc_text(n."raw:{c.name}") IS NOT NULL ELSE false END')
             for c in table.columns if N.raw_present_typed_null(c, "r", "t")]
    unattr = " AND ".join(f'n."{k}" IS NULL' for k in table.keys)
    anyfail = " OR ".join(f"({f})" for _, f in fails) or "false"
    cols = "".join(f", count(*) FILTER (WHERE {f})" for _, f in fails)
    return (f"SELECT n._sheet, count(*) FILTER (WHERE {unattr}), "
            f"count(*) FILTER (WHERE NOT ({unattr}) AND ({anyfail})){cols} "
            f"FROM ({rel}) n GROUP BY n._sheet"), [c for c, _ in fails]


def _verdict(table: Table, rep: FileReport, stats: tuple, failing: list, n_bad: int) -> str | None:
    """The sentence of a sheet that is not loaded by the >half rule, or None."""
    n_unattr, n_unparse, per_col = stats[1], stats[2], stats[3:]
    total = rep.rows_read
    bad = n_bad + n_unattr + (n_unparse if total >= HALF_RULE_MIN_ROWS else 0)
    if bad * 2 <= total:
        return None
    causes = [(n_bad, "是含有无法识别的字符（文件编码错误）"),
              (n_unattr, f"是缺少{KEY_LABEL.get(table.name, table.col(table.keys[0]).header)}")]
    if total >= HALF_RULE_MIN_ROWS:
        causes += [(k, f"在“{rep.columns.get(c.name) or c.header}”列") for c, k in zip(failing, per_col)]
    cause = max(causes, key=lambda x: x[0])[1]
    return f"超过一半的行无法识别（{total:,}行中有{bad:,}行），最常见的问题{cause}：文件未载入"


def _refuse(table: Table, rep: FileReport, reason: str, rel, sheet: str, n_bad: int, reject) -> None:
    """Mark a sheet not loaded; list its first rows (`rel`: normalised rows, or a function of a
    row count giving the first normalised rows) in rejected_rows."""
    rep.status = "rejected"
    rep.problems.append(reason)
    rep.rows_rejected, rep.rows_loaded = rep.rows_read, 0
    room = max(0, MAX_LISTED_REJECTED - min(n_bad, MAX_LISTED_REJECTED))
    if room and rel is not None:
        src = rel(room) if callable(rel) else rel
        reject(f"SELECT n._file, n._sheet, n._row, '{table.name}', {_lit(reason)}, {_raw_json(table)} "
               f"FROM ({src}) n WHERE n._sheet = {_lit(sheet)} ORDER BY n._seq LIMIT {room}")


def judge(con, out: FileOutcome, parts: list[Emitted], reject) -> None:
    """The >half rule, for the sheets of one kind of a file (one query, grouped by sheet).

    A sheet is not loaded when more than half of its data rows cannot be decoded, cannot be
    attributed (no key), or — in a sheet of at least HALF_RULE_MIN_ROWS data rows — hold a
    value that does not parse (SCH-02). Then every row of it counts as rejected with one
    sentence naming the count and the commonest cause (rejected_rows lists the first
    MAX_LISTED_REJECTED); its rows leave no canonical row and no schema finding (they are
    taken back from the stager)."""
    sheets: dict[str, int] = {}
    for p in parts:
        sheets.update(p.sheets)
    if not any(out.reports[ri].status == "loaded" and out.reports[ri].rows_read for ri in sheets.values()):
        return
    table = TABLES[parts[0].table]
    unique = list({p.relation: p for p in parts}.values())     # chunks of a file may share a range
    rel = " UNION ALL ".join(f"SELECT * FROM {p.relation}" for p in unique)
    sql, failing = _stats_sql(table, rel)
    stats = {row[0]: row for row in con.execute(sql).fetchall()}
    for sheet, ri in sheets.items():
        if out.reports[ri].status != "loaded" or not out.reports[ri].rows_read:
            continue
        row = stats.get(sheet) or (sheet, 0, 0, *[0] * len(failing))     # every row undecodable
        rep, n_bad = out.reports[ri], out.undecodable.get(ri, 0)
        reason = _verdict(table, rep, row, failing, n_bad)
        if reason:
            _refuse(table, rep, reason, rel, row[0], n_bad, reject)
            for p in unique:
                if row[0] in p.sheets:
                    p.drop(row[0])


PREJUDGE_SAMPLE = 2_000


def prejudge(con, out: FileOutcome, ri: int, table: Table, source: str, reject) -> bool:
    """The >half rule on a large text file before its rows are staged (so that a file of junk
    is never held twice): a sample of its first rows first; only when more than 40% of them
    are unusable, the whole file, streaming (an aggregate, nothing materialised). True when the
    file is not loaded (then it has been refused)."""
    rep = out.reports[ri]
    n_bad = out.undecodable.get(ri, 0)
    if rep.rows_read < 2 * PREJUDGE_SAMPLE:
        return False
    if n_bad * 2 <= rep.rows_read:      # else undecodable lines alone decide: no sample needed
        sql, failing = _stats_sql(table, norm_select(table, f"(SELECT * FROM {source} LIMIT {PREJUDGE_SAMPLE})"))
        rows = con.execute(sql).fetchall()
        sample = rows[0] if rows else (None, 0, 0)
        if (sample[1] + sample[2]) / PREJUDGE_SAMPLE + n_bad / rep.rows_read <= 0.4:
            return False
    sql, failing = _stats_sql(table, norm_select(table, source))
    rows = con.execute(sql).fetchall()
    if not rows:
        return False
    reason = _verdict(table, rep, rows[0], failing, n_bad)
    if reason:
        _refuse(table, rep, reason, lambda k: norm_select(table, f"(SELECT * FROM {source} LIMIT {k})"),
                rows[0][0], n_bad, reject)
    return reason is not None


_WORKER_CON = None


def _worker(args) -> FileOutcome:
    """Pool worker: read one file and normalise it in its own DuckDB; typed chunks go back as
    parquet files in `outdir` (the shared temporary folder, or the file's cache entry being made)."""
    global _WORKER_CON

    path, rel, kind, tmpdir, index, max_sheets, outdir = args
    if _WORKER_CON is None:
        # bounded memory per worker: beyond the limit DuckDB spills to the ingest's temp folder
        from pipeline.store.duck import connect

        _WORKER_CON = connect(config={
            "threads": 1, "temp_directory": str(Path(tmpdir) / f"spill-{os.getpid()}"),
            "memory_limit": os.environ.get("CARDCHECK_WORKER_MEMORY_LIMIT", "1GB")})
        N.install(_WORKER_CON)
    return process_file(_WORKER_CON, Path(path), rel, kind, tmpdir, index, max_sheets, outdir, arrow=True)


def process_file(con, path: Path, rel: str, kind: str | None, tmpdir: str, index: int, max_sheets: int | None,
                 outdir: str, arrow: bool) -> FileOutcome:
    """Read one file and normalise it in `con`: its typed chunks and rejected rows as parquet files
    in `outdir` (self-contained: what a reader worker hands back, and what the cache keeps)."""
    out = read_one(path, rel, kind, tmpdir, index, arrow=arrow, max_sheets=max_sheets)
    typed: list[Typed] = []
    # what goes to the cache is kept for weeks: compressed (snappy costs little); what is only
    # handed over to the run's process is not
    codec = "uncompressed" if Path(outdir) == Path(tmpdir) else "snappy"

    def emit(table: str, select: str, lo: int, hi: int, sheets: dict[str, int]) -> Emitted:
        target = Path(outdir) / f"{index:06d}_{len(typed):05d}.parquet"
        con.execute(f"COPY ({select}) TO {_lit(str(target))} (FORMAT parquet, COMPRESSION {codec})").fetchall()
        t = Typed(table, str(target))
        typed.append(t)

        def drop(sheet: str) -> None:       # rewrite the chunk without that sheet's rows
            kept = t.path + ".kept"
            con.execute(f"COPY (SELECT * FROM read_parquet({_lit(t.path)}) WHERE _sheet <> {_lit(sheet)}) "
                        f"TO {_lit(kept)} (FORMAT parquet, COMPRESSION {codec})").fetchall()
            os.replace(kept, t.path)
        return Emitted(table, f"read_parquet({_lit(str(target))})", sheets, drop)

    def reject(select: str) -> None:
        target = Path(outdir) / f"{index:06d}_rej{len(out.rejected_files):03d}.parquet"
        con.execute(f"COPY ({select}) TO {_lit(str(target))} (FORMAT parquet)").fetchall()
        out.rejected_files.append(str(target))

    stage_outcome(con, out, Path(path), rel, kind, tmpdir, index, emit, reject)
    out.chunks = typed
    return out


# ---------------------------------------------------------------------------- the cache of readings

def _entry_of(out: FileOutcome, rel: str, index: int, folder: Path) -> dict:
    folder = Path(folder)
    return {"rel": rel, "index": index, "reports": [r.as_dict() for r in out.reports],
            "rejected": [list(r) for r in out.rejected],
            "chunks": [{"table": c.table, "file": Path(c.path).relative_to(folder).as_posix()} for c in out.chunks],
            "rejected_files": [Path(f).relative_to(folder).as_posix() for f in out.rejected_files]}


def _outcome_of(con, entry: dict, rel: str, index: int, tmpdir: str) -> FileOutcome:
    """A cached reading as this run's outcome of file `index` named `rel` (rewritten if it was
    another file's index or name)."""
    folder = Path(entry["dir"])
    same = entry["rel"] == rel and entry["index"] == index
    mask = (1 << SEQ_FILE_SHIFT) - 1
    n = [0]

    def local(name: str, kind: str) -> str:
        src = str(folder / name)
        if same:
            return src
        n[0] += 1
        target = str(Path(tmpdir) / f"cached_{index:06d}_{n[0]:05d}.parquet")
        if kind == "rows":
            sel = (f"SELECT * REPLACE (((_seq & {mask}::BIGINT) | ({index}::BIGINT << {SEQ_FILE_SHIFT}))::BIGINT AS _seq, "
                   f"{_lit(rel)} AS _file)")
        else:
            sel = f"SELECT * REPLACE ({_lit(rel)} AS file)"
        con.execute(f"COPY ({sel} FROM read_parquet({_lit(src)})) TO {_lit(target)} "
                    f"(FORMAT parquet, COMPRESSION uncompressed)")
        return target

    reports = [FileReport(**{**r, "path": rel}) for r in entry["reports"]]
    rejected = [tuple([rel, *r[1:]]) for r in entry["rejected"]]
    out = FileOutcome(reports, [Typed(c["table"], local(c["file"], "rows")) for c in entry["chunks"]], rejected)
    out.rejected_files = [local(f, "rejected") for f in entry["rejected_files"]]
    out.from_cache = True
    return out


PARALLEL_MIN_BYTES = 8 * 1024**2      # below this, a worker pool's start-up costs more than it saves
PARALLEL_SECOND_FILE_BYTES = 512 * 1024   # … and unless a second file has this much to read


class Stager:
    """Collects the normalised chunks of every kind (their order does not matter: every row
    carries _seq, which encodes file order, and finalize_kind orders by it).

    The serial path inserts into `_norm_<kind>`; workers' parquet chunks are only listed while
    the pool runs (both cores parse) and are read per kind, in parallel, when it is finalised."""

    def __init__(self, con):
        self.con = con
        self.kinds: set[str] = set()
        self.tables: set[str] = set()
        self.parquet: dict[str, list[str]] = {}

    def add_select(self, table: str, select: str, lo: int, hi: int, sheets: dict[str, int]) -> Emitted:
        self.kinds.add(table)
        name = f'"_norm_{table}"'
        if table not in self.tables:
            self.con.execute(f'CREATE OR REPLACE TEMP TABLE {name} AS {select}')
            self.tables.add(table)
        else:
            self.con.execute(f'INSERT INTO {name} {select}')
        where = f"_seq >= {lo} AND _seq < {hi}"
        return Emitted(table, f"(SELECT * FROM {name} WHERE {where})", sheets,
                       lambda sheet: self.con.execute(
                           f"DELETE FROM {name} WHERE {where} AND _sheet = {_lit(sheet)}").fetchall())

    def add_typed(self, chunk: Typed) -> None:
        self.kinds.add(chunk.table)
        self.parquet.setdefault(chunk.table, []).append(chunk.path)

    def source(self, table: str) -> str:
        """The relation holding every normalised row of `table`: the worker's parquet chunks
        read in parallel, or the staged table (with any parquet chunks added to it)."""
        paths = self.parquet.get(table, [])
        parquet = "read_parquet([" + ", ".join(_lit(p) for p in paths) + "])"
        if table not in self.tables:
            return parquet
        if paths:
            self.con.execute(f'INSERT INTO "_norm_{table}" SELECT * FROM {parquet}')
        return f'"_norm_{table}"'


def _extra_sql(pairs: list[tuple[str, str]]) -> str:
    """SQL: the non-empty extra columns of a row as a JSON object (NULL when none)."""
    if not pairs:
        return "CAST(NULL AS VARCHAR)"
    entries = ", ".join(f"{{'k': {_lit(h)}, 'v': {x}}}" for h, x in pairs)
    return (f"nullif(CAST(to_json(map_from_entries(list_filter([{entries}], "
            f"lambda e: e.v IS NOT NULL AND e.v <> ''))) AS VARCHAR), '{{}}')")


def _raw_kept(table: Table) -> list[str]:
    """Columns whose raw text stays beside the typed value (SCH-02 needs it, SCH-04 too)."""
    return [c.name for c in table.columns
            if c.type not in ("text", "id", "code") or c.name in table.not_null]


def _raw_json(table: Table) -> str:
    """The values of a rejected row by header: raw text where it is kept beside the typed value,
    else the cleaned text (trimmed, zero-width characters removed)."""
    kept = set(_raw_kept(table))
    parts = ", ".join(
        f"'{c.header}', " + (f'n."raw:{c.name}"' if c.name in kept else f'CAST(n."{c.name}" AS VARCHAR)')
        for c in table.columns)
    return f"json_object({parts})"


def _keys_of(table: Table) -> dict[str, str]:
    """Issue-key expressions of a row, for schema findings (on the typed relation n)."""
    t = table.name
    k = {"household_id": "NULL", "id_number": "NULL", "helper_id_number": "NULL",
         "project_id": "NULL", "person_name": "NULL", "township": "NULL", "village": "NULL"}
    cols = set(table.names)
    if "household_id" in cols:
        k["household_id"] = "n.household_id"
    if t == "members":
        k["id_number"], k["person_name"] = "n.id_number", "n.name"
    elif t == "households":
        k["person_name"] = "n.head_name"
    elif t == "helpers":
        k["helper_id_number"], k["person_name"] = "n.id_number", "n.name"
    elif t == "pairings":
        k["helper_id_number"] = "n.helper_id_number"
    elif t in ("projects", "beneficiaries"):
        k["project_id"] = "n.project_id"
    elif t == "loans":
        k["id_number"], k["person_name"] = "n.borrower_id_number", "n.borrower_name"
    elif table.person_col:
        k["id_number"] = f"n.{table.person_col}"
        name = next((c for c in ("name", "owner", "legal_rep", "head_name") if c in cols), None)
        if name:
            k["person_name"] = f"n.{name}"
    if "township" in cols:
        k["township"] = "n.township"
    if "village" in cols:
        k["village"] = "n.village"
    return k


DUP_HASH = "hash({canon})"     # groups candidate exact duplicates (tests force collisions with "0")


def _classify_sql(table: Table, source: str, partition: str) -> str:
    """The rows of `source` that are not loaded, with their reason: unattributable, exact
    duplicate (the first copy in file order stays), repeated key with other content.
    Windows run over a narrow projection; `partition` groups candidate exact duplicates."""
    t = table.name
    canon = ", ".join(f'"{c}"' for c in table.names)
    key_null = " AND ".join(f'"{k}" IS NULL' for k in table.keys)
    keyed = "true" if table.unique_key else "false"
    ukey = f'"{table.unique_key or table.keys[0]}"'
    part = DUP_HASH.format(canon=canon) + " AS _h" if partition == "hash" else canon
    part_ref = "_h" if partition == "hash" else canon
    label = KEY_LABEL.get(t, table.col(table.keys[0]).header)
    return f"""
        WITH a AS (
            SELECT _seq, _file, _row, _ukey, _unattr,
                   first_value(_file) OVER w AS _dup_file, first_value(_row) OVER w AS _dup_row,
                   first_value(_seq) OVER w AS _dup_first, row_number() OVER w AS _dup_n
            FROM (SELECT _seq, _file, _row, {ukey} AS _ukey, ({key_null}) AS _unattr,
                         {part} FROM {source})
            WINDOW w AS (PARTITION BY {part_ref} ORDER BY _seq)
        ), c AS (
            SELECT a.*,
                   CASE WHEN {keyed} AND NOT _unattr AND _dup_n = 1 AND _ukey IS NOT NULL
                        THEN row_number() OVER k END AS _key_n,
                   CASE WHEN {keyed} AND _ukey IS NOT NULL THEN first_value(_file) OVER k END AS _key_file,
                   CASE WHEN {keyed} AND _ukey IS NOT NULL THEN first_value(_row) OVER k END AS _key_row
            FROM a
            WINDOW k AS (PARTITION BY _ukey, (NOT _unattr AND _dup_n = 1) ORDER BY _seq)
        ), r AS (
            SELECT _seq, _dup_first, _dup_n,
                   CASE WHEN _unattr THEN 'cannot be attributed: no {label}'
                        WHEN _dup_n > 1 THEN 'duplicate of ' || _dup_file || ' row ' || _dup_row
                        WHEN _key_n > 1 THEN 'duplicate key of ' || _key_file || ' row ' || _key_row
                   END AS reason,
                   (NOT _unattr AND _dup_n > 1) AS is_dup
            FROM c
        )
        SELECT * FROM r WHERE reason IS NOT NULL"""


def finalize_kind(con, table: Table, source: str | None = None) -> None:
    """Reject, dedupe, findings and canonical rows of one kind's normalised rows (`source`:
    a relation, by default the staged table `_norm_<kind>`).

    Exact duplicates are grouped by a hash of the canonical columns; every duplicate found is
    then compared column by column with the copy it duplicates, and on any hash collision the
    grouping is redone on the columns themselves, so the result is exact either way."""
    t = table.name
    source = source or f'"_norm_{t}"'
    canon = ", ".join(f'"{c}"' for c in table.names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _class AS {_classify_sql(table, source, 'hash')}")
    same = " AND ".join(f'd."{c}" IS NOT DISTINCT FROM f."{c}"' for c in table.names)
    collisions = con.execute(f"""
        SELECT count(*) FROM _class c JOIN {source} d ON d._seq = c._seq
        JOIN {source} f ON f._seq = c._dup_first
        WHERE c._dup_n > 1 AND NOT ({same})""").fetchone()[0]
    if collisions:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _class AS {_classify_sql(table, source, 'columns')}")
    # rejected rows with their raw values
    con.execute(f"""
        INSERT INTO rejected_rows
        SELECT n._file, n._sheet, n._row, '{t}', c.reason, {_raw_json(table)}
        FROM {source} n JOIN _class c USING (_seq) ORDER BY n._seq""")
    # canonical rows
    con.execute(f"""
        INSERT INTO "{t}" BY NAME
        SELECT {canon}, n._seq AS _rid, n._file, n._sheet, n._row, n._extra
        FROM {source} n ANTI JOIN _class c USING (_seq) ORDER BY n._seq""")
    # schema findings (for loaded rows; a duplicate copy raises SCH-03 only)
    k = _keys_of(table)
    keycols = ", ".join(f"{v} AS {name}" for name, v in k.items())
    parts = []
    for c in table.columns:
        fails = N.raw_present_typed_null(c, f'n."raw:{c.name}"', f'n."{c.name}"')
        if fails:
            parts.append(f"SELECT 'SCH-02' AS rule_id, '{c.name}' AS field, n.\"raw:{c.name}\" AS value, "
                         f"n._seq FROM {source} n WHERE {fails}")
        if c.name in table.not_null:
            parts.append(f"SELECT 'SCH-04' AS rule_id, '{c.name}' AS field, NULL AS value, n._seq "
                         f"FROM {source} n WHERE cc_text(n.\"raw:{c.name}\") IS NULL")
    if parts:
        con.execute(f"""
            INSERT INTO schema_findings
            SELECT f.rule_id, '{t}', f.field, f.value, {keycols}, NULL,
                   n._seq, n._file, n._sheet, n._row
            FROM (SELECT * FROM ({' UNION ALL '.join(parts)}) ANTI JOIN _class c USING (_seq)) f
            JOIN {source} n USING (_seq)
            ORDER BY n._seq""")
    con.execute(f"""
        INSERT INTO schema_findings
        SELECT 'SCH-03', '{t}', NULL, NULL, {keycols},
               substr(sha256(CAST(to_json(struct_pack({', '.join(f'"{x}" := n."{x}"' for x in table.names)})) AS VARCHAR)), 1, 16),
               n._seq, n._file, n._sheet, n._row
        FROM {source} n JOIN _class c USING (_seq) WHERE c.is_dup""")
    con.execute("DROP TABLE _class")
    if source == f'"_norm_{t}"':
        con.execute(f'DROP TABLE "_norm_{t}"')


def _outcomes(files: list[Path], rels: list[str], todo: list[int], kind: str | None, tmpdir: str,
              parallel: bool, max_sheets: int | None = None, outdirs: dict[int, str] | None = None, con=None):
    """(index, rel, FileOutcome) for the files `todo`: in file order, or — in a process pool for big
    drops — as the workers finish them, the largest files handed out first (longest-processing-time
    scheduling: a big workbook starts at once and the small ones fill the other core around it, so
    no core idles while one file is read). The order of arrival does not matter: every row carries
    its file's index in _seq, and ingest puts the reports back in file order. With `outdirs` (the
    cache), every file is normalised into parquet in its own folder, in the pool or in `con`."""
    if not parallel:
        for i in todo:
            if outdirs and i in outdirs:
                yield i, rels[i], process_file(con, files[i], rels[i], kind, tmpdir, i, max_sheets, outdirs[i],
                                               arrow=False)
            else:
                yield i, rels[i], read_one(files[i], rels[i], kind, tmpdir, i, max_sheets=max_sheets)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # the main process normalises in DuckDB while the workers parse: leave it a core
    # workers read and normalise; the main process only loads their parquet and dedupes
    workers = max(1, min(len(todo), int(os.environ.get("CARDCHECK_READERS", os.cpu_count() or 1)), 4))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init)
    try:
        from concurrent.futures import as_completed

        def size(i: int) -> int:
            try:
                return files[i].stat().st_size
            except OSError:
                return 0

        order = sorted(todo, key=lambda i: (-size(i), i))
        futures = {pool.submit(_worker, (str(files[i]), rels[i], kind, tmpdir, i, max_sheets,
                                         outdirs.get(i, tmpdir) if outdirs else tmpdir)): i for i in order}
        for fut in as_completed(futures):
            i = futures[fut]
            yield i, rels[i], fut.result()
    except BaseException:
        # Ctrl-C, SIGTERM or a failure: stop the readers now rather than wait for their files
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
        raise
    pool.shutdown(wait=True)


def _worker_init() -> None:
    """Reader workers leave Ctrl-C to the main process (which stops them and says what was kept):
    without this each worker would print its own KeyboardInterrupt traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def ingest(con, files: list[Path], root: Path, *, kind: str | None = None,
           progress=None, parallel: bool | None = None,
           max_sheets: int | None = None, cache_dir: Path | None = None,
           stats: dict | None = None) -> list[FileReport]:
    """Read, recognise, stage and load every file; return one report per (file, sheet).

    `max_sheets`: sheets a workbook may have (default pipeline.ingest.read.MAX_SHEETS); a workbook
    with more is refused before any sheet is read. `cache_dir`: where readings are kept between
    runs (pipeline.ingest.cache): a file read before, with the same bytes and the same reader, is
    not read again. `stats`, when given, receives files_read / files_from_cache."""
    ensure_tables(con)
    con.execute(REJECTED_DDL)
    N.install(con)
    stager = Stager(con)
    by_file: dict[int, list[FileReport]] = {}
    rels = [str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in files]
    cache = IngestCache(cache_dir) if cache_dir is not None else None
    keys: dict[int, str] = {}
    hits: dict[int, dict] = {}
    if cache is not None:
        code = code_fingerprint()
        for i, p in enumerate(files):
            if p.is_file() and not skip_reason(p):
                try:
                    keys[i] = file_key(sha256_file(p), kind, max_sheets, code)
                except OSError:
                    continue
                entry = cache.get(keys[i])
                if entry is not None:
                    hits[i] = entry
    todo = [i for i in range(len(files)) if i not in hits]
    if stats is not None:
        stats.update(files_read=len(todo), files_from_cache=len(hits))
    if parallel is None:
        # a pool pays when at least two files have real work (one huge file beside small ones
        # gains nothing, and each worker holds its own interpreter and DuckDB)
        sizes = sorted((files[i].stat().st_size for i in todo if files[i].is_file()), reverse=True)
        parallel = len(sizes) > 1 and (os.cpu_count() or 1) > 1 and sum(sizes) >= PARALLEL_MIN_BYTES \
            and sizes[1] >= PARALLEL_SECOND_FILE_BYTES
    with tempfile.TemporaryDirectory(prefix="cardcheck-") as tmp:
        def reject(select: str) -> None:
            con.execute(f"INSERT INTO rejected_rows {select}")

        outdirs = {i: str(cache.staging(keys[i], i)) for i in todo if i in keys} if cache is not None else None
        cached = ((i, rels[i], _outcome_of(con, hits[i], rels[i], i, tmp)) for i in sorted(hits))
        fresh = _outcomes(files, rels, todo, kind, tmp, parallel, max_sheets, outdirs, con)
        for i, rel, out in itertools.chain(cached, fresh):
            if outdirs and i in outdirs:        # a new reading: kept for the next run, then used from there
                folder = Path(outdirs[i])
                try:
                    cache.put(keys[i], folder, _entry_of(out, rel, i, folder))
                    entry = cache.get(keys[i])
                except OSError:                 # the cache could not keep it: use it where it is
                    entry = None
                if entry is not None:
                    out = _outcome_of(con, entry, rel, i, tmp)
            if out.rejected:
                con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?, ?)", out.rejected)
            if out.chunks and isinstance(out.chunks[0], Typed):      # normalised by a worker
                for chunk in out.chunks:
                    stager.add_typed(chunk)
            else:
                n = len(out.rejected)
                stage_outcome(con, out, files[i], rel, kind, tmp, i, stager.add_select, reject)
                if len(out.rejected) > n:           # a fallback's own rows
                    con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?, ?)", out.rejected[n:])
            for f in out.rejected_files:
                con.execute(f"INSERT INTO rejected_rows SELECT * FROM read_parquet({_lit(f)})")
                if not getattr(out, "from_cache", False):
                    os.unlink(f)
            by_file[i] = list(out.reports)          # after staging: a csv fallback may have replaced them
            if progress:
                progress(rel)
        for t in TABLES.values():
            if t.name in stager.kinds:
                finalize_kind(con, t, stager.source(t.name))
    if cache is not None:
        cache.prune(keep=set(keys.values()))
    reports = [r for i in sorted(by_file) for r in by_file[i]]
    # rejected counts per (file, sheet)
    counts = {(f, s): n for f, s, n in con.execute(
        "SELECT file, coalesce(sheet, ''), count(*) FROM rejected_rows GROUP BY ALL").fetchall()}
    for rep in reports:
        if rep.status == "loaded" and rep.kind:
            rep.rows_rejected = counts.get((rep.path, rep.sheet or ""), 0)
            rep.rows_loaded = rep.rows_read - rep.rows_rejected
    return reports
