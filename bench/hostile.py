"""Hostile and real-world-odd files, made on the spot (used by tests/test_hostile_*.py and
`make check-hostile`). Nothing here is downloaded; every file is generated.

Sizes are parameters: the tests make small versions (bounded work is asserted), the check
makes the full-size ones of issue K (200 MB junk csv, 1 GiB-inflating bomb, 5,000 sheets …).
"""
from __future__ import annotations

import random
import zipfile
from pathlib import Path

MEMBER_HEADER = ["户编号", "姓名", "证件号码", "与户主关系", "性别"]
ID1, ID2, ID3 = "430624198006150131", "430624198208200125", "430624200903150112"

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" '
      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '{sheets}</Types>')
SHEET_CT = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def col_letters(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def _esc(v: str) -> str:
    return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell(r: int, c: int, v) -> str:
    """One cell of row r (1-based), column c (0-based): text inline, numbers as numbers."""
    ref = f"{col_letters(c)}{r}"
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{_esc(str(v))}</t></is></c>'


def sheet_xml(rows: dict[int, list] | list[list], dimension: str | None = "auto", merges=(),
              extra_cells: str = "") -> str:
    """A worksheet part: rows (1-based row -> values), an optional <dimension> (a claim that may
    lie), merged ranges and raw extra cell XML appended to the last row."""
    if isinstance(rows, list):
        rows = {i + 1: r for i, r in enumerate(rows)}
    body = []
    last = max(rows, default=1)
    for r in sorted(rows):
        cells = "".join(cell(r, c, v) for c, v in enumerate(rows[r]) if v not in (None, ""))
        if r == last:
            cells += extra_cells
        body.append(f'<row r="{r}">{cells}</row>')
    if dimension == "auto":
        width = max((len(v) for v in rows.values()), default=1)
        dimension = f"A1:{col_letters(max(width, 1) - 1)}{last}"
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    mc = ""
    if merges:
        mc = f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS}>{dim}'
            f'<sheetData>{"".join(body)}</sheetData>{mc}</worksheet>')


def raw_xlsx(path: Path, sheets: list[tuple[str, str | bytes]], *, date1904: bool = False,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """An .xlsx written part by part (so that a sheet may hold what no writer library allows)."""
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("[Content_Types].xml", CT.format(sheets="".join(SHEET_CT.format(n=i + 1) for i in range(len(sheets)))))
        z.writestr("_rels/.rels", ROOT_RELS)
        pr = ' <workbookPr date1904="1"/>' if date1904 else ""
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {NS}>{pr}<sheets>'
                   + "".join(f'<sheet name="{_esc(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                             for i, (n, _) in enumerate(sheets)) + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   + "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/'
                             f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                             for i in range(len(sheets))) + "</Relationships>")
        for i, (_, xml) in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", xml)
    return path


def members(n: int, start: int = 0) -> list[list[str]]:
    """n plausible members rows (households of three)."""
    rel = ["户主", "配偶", "之子"]
    return [[f"{(start + i) // 3 + 1:03d}", f"张{start + i}", f"43062419800615{start + i:04d}"[:18],
             rel[(start + i) % 3], "男" if (start + i) % 2 == 0 else "女"] for i in range(n)]


# --- the files of issue K ----------------------------------------------------------------------

def far_cell(path: Path, lie: bool = False) -> Path:
    """A1 = 户编号 and one cell at XFD1048576 (a dense grid would be 17 billion cells); with
    lie=True the <dimension> claims A1:A1."""
    rows = {1: ["户编号"]}
    far = '</row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
    return raw_xlsx(path, [("Sheet1", sheet_xml(rows, "A1:A1" if lie else "A1:XFD1048576", extra_cells=far))])


def far_cell_with_data(path: Path, n: int = 3) -> Path:
    """A members table whose sheet also holds a stray cell at XFD1048576."""
    rows = {1: MEMBER_HEADER, **{i + 2: r for i, r in enumerate(members(n))}}
    far = '</row><row r="1048576"><c r="XFD1048576"><v>1</v></c>'
    return raw_xlsx(path, [("人员", sheet_xml(rows, "A1:XFD1048576", extra_cells=far))])


def far_cell_xls(path: Path) -> Path:
    """An .xls: a members header and one cell at IV65536 (a dense grid of 16.7 million cells)."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("人员")
    for j, h in enumerate(MEMBER_HEADER):
        ws.write(0, j, h)
    ws.write(65535, 255, "x")
    wb.save(str(path))
    return path


def wide(path: Path, cols: int = 16384, rows: int = 50) -> Path:
    """A sheet of `cols` columns × `rows` rows: a members header, then 'x' headers, every cell filled."""
    header = MEMBER_HEADER + ["x"] * (cols - len(MEMBER_HEADER))
    data = [header] + [r + list(range(cols - len(r))) for r in members(rows - 1)]
    return raw_xlsx(path, [("宽表", sheet_xml(data))])


def many_sheets(path: Path, n: int = 5000, rows: int = 2) -> Path:
    """A workbook of n sheets, each a small members table."""
    data = [MEMBER_HEADER] + members(rows)
    xml = sheet_xml(data)
    return raw_xlsx(path, [(f"S{i + 1}", xml) for i in range(n)])


def merges(path: Path, n: int = 5000, rows: int = 3) -> Path:
    """A members table with n overlapping full-sheet merged ranges."""
    data = [MEMBER_HEADER] + members(rows)
    ms = [f"A{1 + k % 3}:XFD1048576" for k in range(n)]
    return raw_xlsx(path, [("人员", sheet_xml(data, "A1:XFD1048576", merges=ms))])


def _bomb_rows(rng: random.Random, cells: int, n: int) -> list[bytes]:
    return [(f'<row><c t="inlineStr"><is><t>{rng.choice("abcdefgh")}</t></is></c>'
             + "<c><v>0</v></c>" * cells + "</row>").encode() for _ in range(n)]


def bomb(path: Path, inflated: int = 1100 * 1024**2, ratio: int = 250) -> Path:
    """A sheet whose XML inflates to `inflated` bytes at about `ratio`:1, honest zip sizes
    (rows of repeated cells with one random character each; the row length sets the ratio)."""
    import zlib as _z

    def measured(cells: int) -> float:
        data = b"".join(_bomb_rows(random.Random(1), cells, 3000))
        return len(data) / len(_z.compress(data, 6))
    cells = min((20, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960), key=lambda c: abs(measured(c) - ratio))
    rng = random.Random(1)
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {NS}><dimension ref="A1:E999999"/><sheetData>'
    raw_xlsx(path, [("Sheet1", sheet_xml([MEMBER_HEADER]))])
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            written = 0
            while written < inflated:
                block = b"".join(_bomb_rows(rng, cells, 2000))
                f.write(block)
                written += len(block)
            f.write(b"</sheetData></worksheet>")
    tmp.replace(path)
    return path


def lying_sizes(path: Path, inflated: int = 64 * 1024**2) -> Path:
    """A sheet part whose zip directory claims a few bytes but whose data inflates to
    `inflated` bytes (sizes and CRC patched)."""
    xml = sheet_xml([MEMBER_HEADER] + members(2)).encode()
    big = xml.replace(b"</sheetData>", b" " * inflated + b"</sheetData>")
    raw_xlsx(path, [("Sheet1", big)])
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        while pos != -1:
            nlen_at = 26 if sig == b"PK\x03\x04" else 28
            nlen = int.from_bytes(data[pos + nlen_at:pos + nlen_at + 2], "little")
            fname_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(data[fname_at:fname_at + nlen]) == name:
                data[size_at + pos:size_at + pos + 4] = len(xml).to_bytes(4, "little")
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))
    return path


def junk_csv(path: Path, size: int = 200 * 1024**2, seed: int = 1) -> Path:
    """A members header, then `size` bytes of junk rows (random letters, digits and CJK text in
    five fields: attributable, but no relation or gender parses)."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789张王李赵刘陈杨黄周吴"
    pool = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 18))) for _ in range(5000)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(MEMBER_HEADER) + "\n")
        written = 0
        while written < size:
            lines = "".join(",".join(rng.choice(pool) for _ in range(5)) + "\n" for _ in range(5000))
            f.write(lines)
            written += len(lines.encode())
    return path


def junk_bytes_csv(path: Path, size: int = 200 * 1024**2, seed: int = 2) -> Path:
    """A members header, then `size` bytes of random bytes in lines (no NUL): almost no line decodes."""
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.write((",".join(MEMBER_HEADER) + "\n").encode())
        written = 0
        while written < size:
            block = rng.randbytes(1 << 20).translate(bytes(range(256)), b"\x00\n\r\"")
            lines = b"\n".join(block[i:i + 100] for i in range(0, len(block), 100)) + b"\n"
            f.write(lines)
            written += len(lines)
    return path


# --- files as county offices really receive them -----------------------------------------------

def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", delim: str = ",") -> bytes:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def html_xls(path: Path, rows: list[list[str]], *, charset: str = "gbk", title: str | None = None) -> Path:
    """An 'xls' exported by a web system: an HTML table (a title row spanning every column,
    the header, the rows), in `charset`."""
    width = len(rows[0])
    trs = []
    if title:
        trs.append(f'<tr><td colspan="{width}" align="center"><b>{title}</b></td></tr>')
    trs.append("<tr>" + "".join(f"<th>{h}</th>" for h in rows[0]) + "</tr>")
    for r in rows[1:]:
        trs.append("<tr>" + "".join(f'<td style="mso-number-format:\'\\@\'">{v}</td>' for v in r) + "</tr>")
    page = (f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
            f'<meta http-equiv="Content-Type" content="text/html; charset={charset}"></head><body>'
            f'<table border="1">{"".join(trs)}</table></body></html>')
    path.write_bytes(page.encode("gb18030" if charset.lower() in ("gbk", "gb2312") else charset))
    return path


def xls_1904(path: Path, rows: list[list], date1904: bool = True) -> Path:
    import xlwt

    wb = xlwt.Workbook()
    wb.dates_1904 = date1904
    ws = wb.add_sheet("项目")
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    wb.save(str(path))
    return path
