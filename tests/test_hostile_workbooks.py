"""Workbooks that crashed or stalled the reader (issue K items 1–3): each is read or refused with
one sentence, doing work bounded by the cells that hold data — asserted by what is touched
(cells kept, sheets parsed, parts inflated, queries run), not by wall time. The full-size files
are in `make check-hostile`."""
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

import pipeline.ingest.load as L
import pipeline.ingest.read as R
from bench import hostile as H
from pipeline.ingest.load import ingest
from pipeline.ingest.read import ReadError, read_excel

ROOT = Path(__file__).resolve().parents[1]
HDR = H.MEMBER_HEADER


def load(folder, files=None):
    con = duckdb.connect()
    files = files or sorted(p for p in folder.iterdir() if p.is_file())
    reps = ingest(con, files, folder, parallel=False)
    for r in reps:
        assert r.rows_read == r.rows_loaded + r.rows_rejected, r
    return con, reps


@pytest.mark.parametrize("lie", [False, True])
def test_cell_at_xfd1048576_does_not_allocate_the_extent(tmp_path, lie):
    """A1 = 户编号 and one cell at XFD1048576 aborted the process (a 17-billion-cell grid); read in
    a subprocess so that a regression cannot take the test run down with it."""
    p = H.far_cell(tmp_path / "far.xlsx", lie=lie)
    code = ("import sys; from pathlib import Path; from pipeline.ingest.read import read_excel;"
            "s = read_excel(Path(sys.argv[1]))[0]; print(len(s.rows), max(len(r) for r in s.rows))")
    proc = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.split() == ["1", "1"]          # one row, one column: the header's


def test_table_with_a_far_stray_cell_loads(tmp_path, monkeypatch):
    p = H.far_cell_with_data(tmp_path / "m.xlsx", n=3)
    with zipfile.ZipFile(p) as z:
        assert not R.sheet_is_dense_safe(z, "xl/worksheets/sheet1.xml")
    con, reps = load(tmp_path)
    assert [(r.kind, r.status, r.rows_loaded) for r in reps] == [("members", "loaded", 3)]
    assert con.execute("SELECT name, _row FROM members ORDER BY _row").fetchall() == \
        [("张0", 2), ("张1", 3), ("张2", 4)]
    sheet = read_excel(p)[0]
    assert len(sheet.rows) == 4 and max(len(r) for r in sheet.rows) == 5


def test_dense_check_finds_a_cell_beyond_the_claimed_dimension(tmp_path):
    rows = [HDR] + H.members(3)
    ok = H.raw_xlsx(tmp_path / "ok.xlsx", [("S", H.sheet_xml(rows))])
    liar = H.raw_xlsx(tmp_path / "liar.xlsx", [("S", H.sheet_xml(rows, "A1:E4", extra_cells='<c r="F4"><v>1</v></c>'))])
    # rows are checked by their number of digits while that bound is small (A5 passes: at most
    # 9 rows × 5 columns), exactly when it is not
    below = H.raw_xlsx(tmp_path / "below.xlsx", [("S", H.sheet_xml(rows, "A1:E4", extra_cells='<c r="A10"><v>1</v></c>'))])
    norefs = H.raw_xlsx(tmp_path / "norefs.xlsx", [("S", H.sheet_xml(rows, "A1:E4", extra_cells="<c><v>1</v></c>"))])
    verdicts = []
    for p in (ok, liar, below, norefs):
        with zipfile.ZipFile(p) as z:
            verdicts.append(R.sheet_is_dense_safe(z, "xl/worksheets/sheet1.xml"))
    assert verdicts == [True, False, False, False]


def test_dense_check_exact_rows_when_the_digit_bound_is_too_large(monkeypatch):
    monkeypatch.setattr(R, "MAX_DENSE_CELLS", 1000)
    exact = R._violation(b"", "E", "150", exact_rows=True)
    assert not exact.search(b'<c r="E150"/>') and exact.search(b'<c r="A151"/>') and exact.search(b'<c r="A999"/>')
    coarse = R._violation(b"", "E", "150", exact_rows=False)
    assert not coarse.search(b'<c r="A999"/>') and coarse.search(b'<c r="A1000"/>') and coarse.search(b'<c r="F1"/>')


def test_wide_sheet_reads_only_the_header_columns(tmp_path):
    """4,096 columns × 30 rows, every cell filled: at most MAX_COLUMNS columns are looked at and
    kept, the members table loads, extra columns are capped."""
    p = H.wide(tmp_path / "w.xlsx", cols=4096, rows=30)
    sheet = read_excel(p)[0]
    assert sum(len(r) for r in sheet.rows) <= R.MAX_COLUMNS * 30
    assert "工作表超过512列，其后的列未读取" in sheet.notes
    con, reps = load(tmp_path)
    r = reps[0]
    assert (r.kind, r.status, r.rows_loaded) == ("members", "loaded", 29)
    assert len(r.extra_columns) == L.MAX_EXTRAS


def test_extra_columns_capped_and_duplicate_names_numbered():
    """A header of thousands of equal names: at most MAX_EXTRAS extra columns are kept (the names
    numbered once each, not by searching), the others counted."""
    from pipeline.ingest.read import Sheet
    from pipeline.ingest.recognise import MAX_EXTRAS, recognise

    lay = recognise(Sheet("s", [HDR + ["备注"] * 2000]))
    assert lay.kind == "members" and len(lay.extras) == MAX_EXTRAS and lay.dropped_extras == 2000 - MAX_EXTRAS
    assert "备注" + "_" * (MAX_EXTRAS - 1) in lay.extras


def test_too_many_sheets_refused_before_any_sheet_is_parsed(tmp_path, monkeypatch):
    p = H.many_sheets(tmp_path / "s.xlsx", n=R.MAX_SHEETS + 1, rows=1)
    monkeypatch.setattr(R, "sheet_is_dense_safe", lambda *a: pytest.fail("a sheet was parsed"))
    with pytest.raises(ReadError, match=f"工作簿有{R.MAX_SHEETS + 1}个工作表，超过{R.MAX_SHEETS}个的上限"):
        read_excel(p)
    monkeypatch.undo()
    assert len(read_excel(p, max_sheets=R.MAX_SHEETS + 1)) == R.MAX_SHEETS + 1      # the limit is a parameter


def test_many_sheets_cost_one_normalisation(tmp_path, monkeypatch):
    """150 small tables in one workbook: one chunk, one normalisation query (not 150)."""
    H.many_sheets(tmp_path / "s.xlsx", n=150, rows=2)
    calls = []
    real = L.Stager.add_select
    monkeypatch.setattr(L.Stager, "add_select", lambda self, *a: calls.append(a[0]) or real(self, *a))
    con, reps = load(tmp_path)
    assert calls == ["members"]
    assert len(reps) == 150 and all(r.kind == "members" and r.status == "loaded" for r in reps)
    assert [r.rows_loaded for r in reps[:2]] == [2, 0]           # later sheets: exact duplicates
    assert con.execute("SELECT _sheet, _row FROM members ORDER BY _rid").fetchall() == [("S1", 2), ("S1", 3)]


def test_thousands_of_overlapping_merges(tmp_path, monkeypatch):
    """5,000 overlapping full-width merges of the title row: only merges touching the header
    rows count, each once, clipped to the header's width."""
    data = [["XX县家庭成员表"], HDR] + H.members(3)
    H.raw_xlsx(tmp_path / "m.xlsx", [("S", H.sheet_xml(data, "A1:XFD5", merges=["A1:XFD1"] * 5000))])
    import pipeline.ingest.recognise as RC
    seen = []
    real = RC._merges_at
    monkeypatch.setattr(RC, "_merges_at", lambda *a: seen.append(real(*a)) or seen[-1])
    con, reps = load(tmp_path)
    assert [(r.kind, r.header_row, r.rows_loaded) for r in reps] == [("members", 2, 3)]
    assert seen == [[(0, 0, 0, 4)]]


@pytest.mark.parametrize("ratio", [250, 343])
def test_zip_bomb_refused_from_the_directory(tmp_path, monkeypatch, ratio):
    """A sheet that inflates at 250:1 or 343:1 is refused before any part is inflated."""
    p = H.bomb(tmp_path / "b.xlsx", inflated=40 * 1024**2, ratio=ratio)
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("a part was inflated"))
    with pytest.raises(ReadError, match="疑似恶意文件"):
        read_excel(p)


def test_lying_zip_sizes_refused(tmp_path):
    """A part whose directory claims a few bytes but inflates to 64 MiB: refused (CRC) while at
    most the claimed size was inflated."""
    p = H.lying_sizes(tmp_path / "l.xlsx")
    with pytest.raises(ReadError, match="文件已损坏或不完整"):
        read_excel(p)


def test_validate_on_hostile_workbooks_one_line(tmp_path):
    """The CLI on each small hostile workbook: exit 2 with a plain reason, no traceback."""
    files = [H.far_cell(tmp_path / "far.xlsx"), H.many_sheets(tmp_path / "many.xlsx", n=R.MAX_SHEETS + 1, rows=1),
             H.bomb(tmp_path / "bomb.xlsx", inflated=40 * 1024**2)]
    proc = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "validate", *map(str, files),
                           "--period", "2026-10"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "超过200个的上限" in proc.stdout and "疑似恶意文件" in proc.stdout


def test_sheet_cap_is_a_parameter_of_ingest(tmp_path):
    H.many_sheets(tmp_path / "s.xlsx", n=4, rows=1)
    con = duckdb.connect()
    reps = ingest(con, [tmp_path / "s.xlsx"], tmp_path, max_sheets=3)
    assert [(r.status, r.problems) for r in reps] == \
        [("unreadable", ["工作簿有4个工作表，超过3个的上限，未读取；请只保留数据表后重新上传"])]


def test_xls_with_a_far_stray_cell_refused_before_calamine_opens_it(tmp_path, monkeypatch):
    """python-calamine builds every .xls sheet as a dense grid when it opens the file: a cell at
    IV65536 beside a small table cost 1.2 GB. The BIFF cell records are walked first."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("人员")
    for j, h in enumerate(HDR):
        ws.write(0, j, h)
    ws.write(65535, 255, "x")
    wb.save(str(tmp_path / "m.xls"))
    monkeypatch.setattr(R, "_open_calamine", lambda *a: pytest.fail("calamine opened the file"))
    with pytest.raises(ReadError, match="工作表“人员”的第65,536行第256列有内容，远在数据之外"):
        read_excel(tmp_path / "m.xls")
    info = R.ole_info(tmp_path / "m.xls")
    assert info["names"] == ["人员"] and info["extents"] == [[65535, 255, 6]]


@pytest.mark.parametrize("block", [7, 13, 64, 65, 100, 257])
def test_extent_scan_is_not_fooled_by_block_boundaries(tmp_path, monkeypatch, block):
    """A cell tag cut by the scan's block boundary (`<c ` | `r="B17"`) once made an ordinary sheet
    look unsafe, so large ordinary sheets went to the slow streaming reader (seen on a 180,000-row
    members workbook). Any block size must give the same answer."""
    import zipfile

    import pipeline.ingest.read as R

    import openpyxl

    p = tmp_path / "m.xlsx"
    wb = openpyxl.Workbook()
    for r in [["户编号", "姓名", "证件号码", "与户主关系"]] + [[f"{i:03d}", "张三", "x", "户主"] for i in range(40)]:
        wb.active.append(r)
    wb.save(p)
    monkeypatch.setattr(R, "SCAN_BLOCK", block)
    with zipfile.ZipFile(p) as z:
        assert R.sheet_is_dense_safe(z, "xl/worksheets/sheet1.xml")
