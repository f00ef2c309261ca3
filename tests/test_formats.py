"""Files as county offices really receive them (issue F): each is read, or refused with one
plain-Chinese sentence; rows carry the row numbers the clerk sees in Excel/WPS."""
import datetime as dt
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
import xlwt

from bench import hostile as H
from pipeline.ingest.load import ingest
from pipeline.ingest.read import data_files, ole_info, read_file
from pipeline.ingest.recognise import recognise

ROOT = Path(__file__).resolve().parents[1]
HDR = H.MEMBER_HEADER
ID1, ID2 = H.ID1, H.ID2
ROWS = [["001", "张三", ID1, "户主", "男"], ["001", "李四", ID2, "配偶", "女"]]
TITLE = "XX县2026年10月建档立卡人口明细表"


def load(folder: Path, kind=None, files=None):
    con = duckdb.connect()
    files = files if files is not None else sorted(p for p in folder.iterdir() if p.is_file())
    reps = ingest(con, files, folder, kind=kind)
    for r in reps:
        assert r.rows_read == r.rows_loaded + r.rows_rejected, r
    return con, reps


def members_rows(con):
    return con.execute("SELECT name, relation, _row FROM members ORDER BY _row").fetchall()


def write_xlsx(path: Path, rows):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("人员")
    for i, r in enumerate(rows):
        ws.write_row(i, 0, r)
    wb.close()


def write_xls(path: Path, rows):
    wb = xlwt.Workbook()
    ws = wb.add_sheet("人员")
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    wb.save(str(path))


@pytest.mark.parametrize("real,named", [("xlsx", "xls"), ("xls", "xlsx"), ("xls", "et"), ("xlsx", "et")])
def test_workbook_named_otherwise_is_read_by_content(tmp_path, real, named):
    """An .xlsx renamed .xls, an .xls renamed .xlsx, a WPS .et holding either: decided by content."""
    src = tmp_path / f"src.{real}"
    (write_xlsx if real == "xlsx" else write_xls)(src, [[TITLE], HDR, *ROWS])
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.move(src, drop / f"家庭成员.{named}")
    con, reps = load(drop)
    assert [(r.kind, r.status, r.header_row, r.rows_loaded) for r in reps] == [("members", "loaded", 2, 2)]
    assert members_rows(con) == [("张三", "户主", 3), ("李四", "配偶", 4)]


@pytest.mark.parametrize("charset", ["gbk", "utf-8"])
def test_html_table_saved_as_xls(tmp_path, charset):
    """A web system's "xls" export is an HTML table: a title row spanning every column, a header
    with a line break in a cell, a household number spanning two rows (rowspan)."""
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head><body>'
            '<table border="1">'
            f'<tr><td colspan="5">{TITLE}</td></tr>'
            '<tr><th>户编号</th><th>姓名</th><th>证件号码</th><th>与户主<br>关系</th><th>性别</th></tr>'
            f'<tr><td rowspan="2">001</td><td>张三</td><td>{ID1}</td><td>户主</td><td>男</td></tr>'
            f'<tr><td>李四</td><td>{ID2}</td><td>配偶</td><td>女</td></tr>'
            '<tr><td>合计</td><td colspan="4">2人</td></tr>'
            '</table></body></html>')
    (tmp_path / "成员.xls").write_bytes(page.encode("gb18030" if charset == "gbk" else "utf-8"))
    con, reps = load(tmp_path)
    assert [(r.kind, r.status, r.header_row, r.rows_read, r.rows_loaded) for r in reps] == \
        [("members", "loaded", 2, 2, 2)]
    # the rowspan does not shift the second row's cells; its merged 户编号 is the top-left value's
    assert con.execute("SELECT household_id, name, id_number, relation, gender, _row FROM members "
                       "ORDER BY _row").fetchall() == \
        [("001", "张三", ID1, "户主", "男", 3), (None, "李四", ID2, "配偶", "女", 4)]


@pytest.mark.parametrize("name,encoding", [("m.txt", "utf-8"), ("m.csv", "utf-8-sig"), ("m.xls", "gb18030"),
                                           ("u.txt", "utf-16")])
def test_tab_separated_and_unicode_text(tmp_path, name, encoding):
    """Tab-separated exports (.txt/.csv, an .xls that is TSV) and Excel/WPS "Unicode text"
    (UTF-16 with BOM FF FE, tabs, CRLF); row numbers are physical lines."""
    rows = [[TITLE], HDR, ROWS[0], ["备注：无", ""], ROWS[1]]
    (tmp_path / name).write_bytes(H.csv_bytes(rows, encoding, "\t"))
    if encoding == "utf-16":
        assert (tmp_path / name).read_bytes()[:2] == b"\xff\xfe"
    con, reps = load(tmp_path)
    assert [(r.kind, r.header_row, r.rows_read, r.rows_loaded, r.rows_skipped) for r in reps] == \
        [("members", 2, 2, 2, 3)]
    assert members_rows(con) == [("张三", "户主", 3), ("李四", "配偶", 5)]


def test_every_file_of_a_drop_is_listed(tmp_path):
    """Non-spreadsheets are listed as not loaded with why; lock files and hidden files as skipped."""
    write_xlsx(tmp_path / "家庭成员.xlsx", [HDR, *ROWS])
    (tmp_path / "说明.txt").write_text("请各乡镇于月底前上报。\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "材料.zip", "w") as z:
        z.writestr("a.txt", "x")
    (tmp_path / "通知.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    (tmp_path / "文件.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "~$家庭成员.xlsx").write_bytes(b"\x05lock")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    files = list(data_files(tmp_path))
    assert [p.name for p in files] == sorted(p.name for p in tmp_path.iterdir())
    con, reps = load(tmp_path, files=files)
    got = {r.path: (r.status, r.problems[0] if r.problems else None) for r in reps}
    assert got["家庭成员.xlsx"] == ("loaded", None)
    assert got["材料.zip"] == ("unreadable", "不是电子表格文件（.zip），未读取")
    assert got["通知.doc"] == ("unreadable", "不是电子表格文件（.doc），未读取")
    assert got["文件.pdf"] == ("unreadable", "不是电子表格文件（.pdf），未读取")
    assert got["说明.txt"][0] == "unreadable" and "表头" in got["说明.txt"][1]
    assert got["~$家庭成员.xlsx"][0] == "skipped" and "锁定文件" in got["~$家庭成员.xlsx"][1]
    assert got[".DS_Store"][0] == "skipped" and "隐藏文件" in got[".DS_Store"][1]
    for r in reps:      # plain Chinese: no English words outside the quoted file suffix
        for p in r.problems:       # (names of products a clerk knows excepted)
            plain = re.sub(r"（\.[a-z]+）|Excel|WPS|PDF|Word|PowerPoint|xlsx|xls", "", p)
            assert not re.search(r"[A-Za-z]{2,}", plain), p


@pytest.mark.parametrize("content,needle", [
    (b"%PDF-1.4\n", "不是电子表格（是PDF文件）"),
    (b"PK\x03\x04\x14\x00truncated", "文件已损坏或不完整"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "文件已损坏或不完整"),
    (b"", "文件是空的"),
])
def test_unusable_workbooks_one_plain_sentence(tmp_path, content, needle):
    (tmp_path / "x.xls").write_bytes(content)
    con, reps = load(tmp_path)
    assert reps[0].status == "unreadable" and needle in reps[0].problems[0]
    assert "\n" not in reps[0].problems[0] and "Cfb" not in reps[0].problems[0]


def test_forced_kind_names_that_kinds_missing_columns(tmp_path):
    """validate --kind households on a members file: SCH-01 for each req header of households
    that is missing, although fewer than half of them are present."""
    write_xlsx(tmp_path / "m.xlsx", [HDR, *ROWS])
    sheet = read_file(tmp_path / "m.xlsx")[0]
    lay = recognise(sheet, "households")
    assert lay.kind == "households" and lay.missing == ["head_name", "size", "category", "status"]
    assert lay.problem == "按家庭情况表识别，缺少必需列：户主姓名、家庭人口数、贫困户属性、脱贫属性，未载入"
    proc = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "validate", str(tmp_path / "m.xlsx"),
                           "--kind", "households", "--period", "2026-10"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for header in ("户主姓名", "家庭人口数", "贫困户属性", "脱贫属性"):
        assert header in proc.stdout


@pytest.mark.parametrize("date1904", [True, False])
def test_xls_1904_flag_for_plain_serial_numbers(tmp_path, date1904):
    """A plain serial number (no date format) in an .xls saved with the 1904 date system is
    read in that system (today it would be 1,462 days early)."""
    rows = [["项目编号", "项目名称", "项目类型", "开工时间", "完工时间"], ["P1", "修路", "基础设施", 43000, 43100]]
    H.xls_1904(tmp_path / "项目.xls", rows, date1904)
    con, reps = load(tmp_path)
    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    assert con.execute("SELECT start_on, end_on FROM projects").fetchone() == \
        (epoch + dt.timedelta(43000), epoch + dt.timedelta(43100))
    assert read_file(tmp_path / "项目.xls")[0].date1904 is date1904
    assert ole_info(tmp_path / "项目.xls")["date1904"] is date1904      # BIFF DATEMODE


def test_read_excel_reads_any_workbook(tmp_path):
    """read_excel serves other callers (feedback reads returned village workbooks): a workbook of
    arbitrary text is read as it is, header in row 1."""
    from pipeline.ingest.read import read_excel

    wb = xlsxwriter.Workbook(str(tmp_path / "村.xlsx"))
    wb.add_worksheet("说明").write_column(0, 0, ["县", "乡镇", "行政村"])
    ws = wb.add_worksheet("问题清单")
    ws.write_row(0, 0, ["序号", "户编号", "问题描述"] + [f"列{i}" for i in range(13)])
    ws.write_row(1, 0, [1, "001", "任意文字"])
    wb.close()
    sheets = read_excel(tmp_path / "村.xlsx")
    assert [s.name for s in sheets] == ["说明", "问题清单"]
    assert sheets[1].rows[1][:3] == [1.0, "001", "任意文字"]
