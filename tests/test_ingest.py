"""Reading, kind recognition and loading of small hand-made files, one per kind of mess."""
import csv
import json
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
import xlwt

from pipeline.ingest.load import ingest
from pipeline.ingest.read import ReadError, read_file

MEMBER_HEADER = ["户编号", "姓名", "证件号码", "与户主关系", "性别"]
HH_HEADER = ["户编号", "户主姓名", "家庭人口数", "贫困户属性", "脱贫属性"]
ID1, ID2 = "430624198006150131", "430624198208200125"


def load(tmp_path: Path, kind=None):
    con = duckdb.connect()
    files = sorted(p for p in tmp_path.iterdir() if p.is_file())
    reports = ingest(con, files, tmp_path, kind=kind)
    return con, reports


def conserve(reports):
    for r in reports:
        assert r.rows_read == r.rows_loaded + r.rows_rejected, r


def xlsx(path: Path, rows, *, sheet="Sheet1", merges=(), first_sheet_empty=False):
    wb = xlsxwriter.Workbook(str(path))
    if first_sheet_empty:
        wb.add_worksheet("说明").write(0, 0, "本表由系统导出")
    ws = wb.add_worksheet(sheet)
    for rng, text in merges:
        ws.merge_range(rng, text)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            ws.write_string(i, j, v) if isinstance(v, str) else ws.write(i, j, v)
    wb.close()


def test_title_rows_merged_and_second_sheet(tmp_path):
    xlsx(tmp_path / "m.xlsx", [
        [], ["导出日期：2026-10-31"], MEMBER_HEADER,
        ["001", "张三", ID1, "户主", "男"], [], ["001", "李四", ID2, "配偶", "女"],
        ["合计", "2人"], ["制表人：王五"],
    ], sheet="人员", merges=[("A1:E1", "XX县2026年10月建档立卡人口明细表")], first_sheet_empty=True)
    con, reps = load(tmp_path)
    conserve(reps)
    data = [r for r in reps if r.kind]
    assert [(r.kind, r.sheet, r.header_row, r.rows_read, r.rows_loaded, r.rows_skipped) for r in data] == \
        [("members", "人员", 3, 2, 2, 6)]
    assert [r.status for r in reps if not r.kind] == ["skipped"]        # the notes sheet
    assert con.execute("SELECT name, id_number, _row FROM members ORDER BY _row").fetchall() == \
        [("张三", ID1, 4), ("李四", ID2, 6)]


def test_two_row_header_with_vertical_merges(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "h.xlsx"))
    ws = wb.add_worksheet()
    ws.merge_range("A1:A2", "户编号")
    ws.merge_range("B1:C1", "户主信息")
    ws.write_row(1, 1, ["户主姓名", "户主身份证号"])
    ws.merge_range("D1:D2", "家庭人口数")
    ws.merge_range("E1:F1", "属性")
    ws.write_row(1, 4, ["贫困户属性", "脱贫属性"])
    ws.write_row(2, 0, ["001", "张三", ID1, "3人", "一般贫困户", "已脱贫"])
    wb.close()
    con, reps = load(tmp_path)
    conserve(reps)
    assert reps[0].kind == "households" and reps[0].header_row == 2
    assert con.execute("SELECT household_id, head_name, head_id_number, size FROM households").fetchall() == \
        [("001", "张三", ID1, 3)]


def test_headers_with_fullwidth_parens_breaks_units_and_shuffled_extra_columns(tmp_path):
    xlsx(tmp_path / "m.xlsx", [
        ["备注", "务工时间(月)", "与户主\n关系", " 姓 名 ", "身份证号码", "户编号", "序号"],
        ["x", "10个月", "户主", "张三", ID1, "001", "1"],
    ])
    con, reps = load(tmp_path)
    assert reps[0].kind == "members"
    assert set(reps[0].extra_columns) == {"备注", "序号"}
    row = con.execute("SELECT household_id, name, id_number, relation, work_months, _extra FROM members").fetchone()
    assert row[:5] == ("001", "张三", ID1, "户主", 10)
    assert json.loads(row[5]) == {"备注": "x", "序号": "1"}


def test_numeric_cell_ids_are_kept_rounded_and_codes_exact(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "m.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, MEMBER_HEADER + ["联系电话"])
    ws.write_row(1, 0, [1001.0, "张三", float(ID1), "户主", "男", 18549886754.0])
    ws.write_row(2, 0, [1001.0, "李四", 430624820615013.0, "配偶", "女", 13900000000.0])
    wb.close()
    con, _ = load(tmp_path)
    rows = con.execute("SELECT household_id, id_number, phone FROM members ORDER BY _row").fetchall()
    assert rows[0][0] == "1001" and rows[0][2] == "18549886754"
    assert rows[0][1].endswith("E+17") and rows[0][1] != ID1      # rounded, never repaired
    assert rows[1][1] == "430624820615013"                         # 15 digits are exact


def test_xls_file(tmp_path):
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Sheet1")
    for j, h in enumerate(MEMBER_HEADER):
        ws.write(0, j, h)
    for j, v in enumerate([1001, "张三", ID1, "户主", "男"]):
        ws.write(1, j, v)
    wb.save(str(tmp_path / "m.xls"))
    con, reps = load(tmp_path)
    assert reps[0].kind == "members" and reps[0].rows_loaded == 1
    assert con.execute("SELECT household_id, id_number FROM members").fetchone() == ("1001", ID1)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path, encoding):
    with open(tmp_path / "hh.csv", "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(["XX县家庭情况表"])
        w.writerow(HH_HEADER + ["识别时间"])
        w.writerow(["001", "张三", "3人", "一般贫困户", "已脱贫", "2019年7月8日"])
        w.writerow(["", "", "", "", "", ""])
        w.writerow(["002", "李四", "2", "低保贫困户", "未脱贫", "2019.7.8"])
    con, reps = load(tmp_path)
    conserve(reps)
    assert (reps[0].kind, reps[0].header_row, reps[0].rows_read, reps[0].rows_skipped) == ("households", 2, 2, 3)
    assert con.execute("SELECT head_name, size, CAST(recognized_on AS VARCHAR), _row FROM households ORDER BY _row").fetchall() == \
        [("张三", 3, "2019-07-08", 3), ("李四", 2, "2019-07-08", 5)]


def test_exact_duplicates_within_and_across_files_and_unattributable_rows(tmp_path):
    xlsx(tmp_path / "a.xlsx", [MEMBER_HEADER, ["001", "张三", ID1, "户主", "男"],
                                ["001", "张三", ID1, "户主", "男"], ["", "无名", "", "其他", "男"]])
    xlsx(tmp_path / "b.xlsx", [MEMBER_HEADER, ["001", "张三", ID1, "户主", "男"],
                                ["002", "李四", ID2, "户主", "女"]])
    con, reps = load(tmp_path)
    conserve(reps)
    assert [(r.path, r.rows_read, r.rows_loaded, r.rows_rejected) for r in reps] == \
        [("a.xlsx", 3, 1, 2), ("b.xlsx", 2, 1, 1)]
    reasons = [r[0] for r in con.execute('SELECT reason FROM rejected_rows ORDER BY file, "row"').fetchall()]
    assert reasons == ["duplicate of a.xlsx row 2", "cannot be attributed: no 户编号和证件号码",
                       "duplicate of a.xlsx row 2"]
    assert con.execute("SELECT count(*) FROM schema_findings WHERE rule_id = 'SCH-03'").fetchone()[0] == 2


def test_repeated_household_key_keeps_first_row(tmp_path):
    xlsx(tmp_path / "h.xlsx", [HH_HEADER, ["001", "张三", "3", "一般贫困户", "已脱贫"],
                                ["001", "张三丰", "4", "一般贫困户", "已脱贫"]])
    con, reps = load(tmp_path)
    conserve(reps)
    assert con.execute("SELECT head_name FROM households").fetchall() == [("张三",)]
    assert con.execute("SELECT reason FROM rejected_rows").fetchone()[0] == "duplicate key of h.xlsx row 2"


def test_unparseable_values_load_as_null_with_sch02_and_empty_required_sch04(tmp_path):
    xlsx(tmp_path / "h.xlsx", [HH_HEADER + ["识别时间"],
                                ["001", "张三", "abc", "一般贫困户", "", "2019.13.45"]])
    con, reps = load(tmp_path)
    assert reps[0].rows_loaded == 1
    assert con.execute("SELECT size, status, recognized_on FROM households").fetchone() == (None, None, None)
    found = sorted(con.execute("SELECT rule_id, field, value FROM schema_findings").fetchall())
    assert found == [("SCH-02", "recognized_on", "2019.13.45"), ("SCH-02", "size", "abc"),
                     ("SCH-04", "status", None)]


def test_recognition_refusals(tmp_path):
    # no kind at all
    xlsx(tmp_path / "a.xlsx", [["名称", "数量"], ["苹果", "3"]])
    # missing a required column (SCH-01): members without 与户主关系 — rows counted read and rejected
    xlsx(tmp_path / "b.xlsx", [["户编号", "姓名", "证件号码"], ["001", "张三", ID1]])
    con, reps = load(tmp_path)
    conserve(reps)
    a, b = reps
    assert a.kind is None and a.status == "skipped"
    assert b.kind == "members" and b.status == "rejected" and b.missing_columns == ["与户主关系"]
    assert b.problems == ["按家庭成员表识别，缺少必需列：与户主关系，未载入"]
    assert (b.rows_read, b.rows_rejected, b.rows_loaded) == (1, 1, 0)


def test_ambiguous_header(tmp_path):
    # 项目编号 + 户编号 fully matches beneficiaries (alias 户编号); with 项目名称+项目类型 it also
    # fully matches projects; projects has more headers present -> projects, not ambiguous
    xlsx(tmp_path / "p.xlsx", [["项目编号", "项目名称", "项目类型", "户编号"], ["P1", "修路", "基础设施", "001"]])
    con, reps = load(tmp_path)
    assert reps[0].kind == "projects"


@pytest.mark.parametrize("content,name,reason", [
    (b"", "e.xlsx", "文件是空的"),
    (b"%PDF-1.4 not a workbook\n", "t.xlsx", "不是电子表格（是PDF文件）"),
    (b"PK\x03\x04garbage", "z.xlsx", "文件已损坏或不完整"),
])
def test_unreadable_files(tmp_path, content, name, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ReadError, match=reason):
        read_file(tmp_path / name)
    con, reps = load(tmp_path)
    assert reps[0].status == "unreadable" and reason in reps[0].problems[0]
    assert reps[0].rows_read == reps[0].rows_loaded == reps[0].rows_rejected == 0


def test_truncated_xlsx(tmp_path):
    xlsx(tmp_path / "ok.xlsx", [MEMBER_HEADER, ["001", "张三", ID1, "户主", "男"]])
    data = (tmp_path / "ok.xlsx").read_bytes()
    (tmp_path / "ok.xlsx").unlink()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError):
        read_file(tmp_path / "cut.xlsx")


def test_text_cleanup_u3000_and_zero_width(tmp_path):
    xlsx(tmp_path / "m.xlsx", [MEMBER_HEADER, ["001", "\u3000张\u200b三 ", " 430624198006150131\u200b", "户主 ", "男"]])
    con, _ = load(tmp_path)
    assert con.execute("SELECT name, id_number, relation FROM members").fetchone() == ("张三", ID1, "户主")


def test_ambiguous_kind_is_reported_not_guessed(tmp_path):
    # fully matches both disability (姓名, 身份证号, 残疾证号) and payroll (姓名, 身份证号, 单位名称)
    xlsx(tmp_path / "x.xlsx", [["姓名", "身份证号", "残疾证号", "单位名称"], ["张三", ID1, ID1 + "41", "某局"]])
    con, reps = load(tmp_path)
    conserve(reps)
    assert reps[0].status == "rejected" and "无法确定是哪一种表" in reps[0].problems[0]
    assert (reps[0].rows_read, reps[0].rows_rejected) == (1, 1)
    assert con.execute("SELECT count(*) FROM disability").fetchone()[0] == 0


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
@pytest.mark.parametrize("wide_row", [False, True])
@pytest.mark.parametrize("multiline", [False, True])
def test_native_csv_path_equals_python_path(tmp_path, monkeypatch, encoding, wide_row, multiline):
    """Large csv files are parsed by DuckDB; the result must equal the Python reader's, row
    numbers included (a quoted field spanning lines or a blank line: the Python reader)."""
    import pipeline.ingest.load as L

    rows = [["XX县家庭成员表"], ["导出日期：2026-10-31"], MEMBER_HEADER + ["备注"]]
    for i in range(40):
        rows.append([f"{i // 3:03d}", f"张{i}", ID1 if i % 7 else "4.30624198006150E+17",
                     "户主" if i % 3 == 0 else "之子", "男", "a,b" if i % 5 == 0 else ""])
        if i == 10:
            rows.append([""] * 6)                           # an empty row in the middle
        if i == 20:
            rows.append(MEMBER_HEADER + ["备注"])            # a repeated header
        if i == 30:
            rows.append(rows[-1])                           # an exact duplicate
        if i == 35:                                         # first cells off the fast path
            rows.append(["\u3000合计", "3人"])               # a total row behind a U+3000
            rows.append([" 099", "王五", ID2, "之子", "男", ""])   # a data row behind a space
    rows.append(["", "无名", "", "其他", "男", ""])           # cannot be attributed
    if wide_row:
        rows.append(["039", "宽行", ID2, "之女", "女", "", "x"] + ["y"] * 20)   # wider than any header
    if multiline:
        rows.insert(8, ["005", "赵六", ID2, "之女", "女", "第一行\n第二行"])   # a note over two lines
    rows.append(["合计", "40人"])
    with open(tmp_path / "m.csv", "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows[:30])
        if multiline:
            f.write("\r\n")                                 # a blank line
        csv.writer(f).writerows(rows[30:])

    def snapshot(native_min):
        monkeypatch.setattr(L, "NATIVE_CSV_MIN_BYTES", native_min)
        con = duckdb.connect()
        reps = L.ingest(con, [tmp_path / "m.csv"], tmp_path, parallel=False)
        conserve(reps)
        q = lambda sql: con.execute(sql).fetchall()
        return ([(r.kind, r.header_row, r.rows_read, r.rows_loaded, r.rows_rejected, r.rows_skipped)
                 for r in reps],
                q("SELECT * EXCLUDE (_rid) FROM members ORDER BY _row"),
                q('SELECT "row", reason, raw FROM rejected_rows ORDER BY "row"'),
                q("SELECT rule_id, field, value, _row FROM schema_findings ORDER BY _row, rule_id, field"),
                q("SELECT name, _row FROM members ORDER BY _row"))

    python_path = snapshot(10**12)
    native_path = snapshot(0)
    assert native_path == python_path
    # rows read: 40 members + the duplicate + the unattributable row + " 099" (+ the wide row,
    # + the member with a two-line note)
    assert python_path[0][0][2] == 40 + 3 + (1 if wide_row else 0) + (1 if multiline else 0)
    if multiline:           # the row after the two-line note has the line number Excel/WPS show
        rows_of = python_path[4]
        at = next(n for name, n in rows_of if name == "赵六")
        assert min(n for _, n in rows_of if n > at) == at + 2


def test_parallel_workers_equal_serial_ingest(tmp_path):
    """The reader pool (workers normalise and hand back parquet) loads exactly what the
    serial path loads: same rows, ids, rejections, findings and reports."""
    from demo.generate import generate_demo
    from pipeline.ingest.load import ingest
    from pipeline.ingest.read import data_files
    from schemas.tables import TABLES

    drop = generate_demo(tmp_path / "raw", seed=3, n_households=120)[0]
    files = list(data_files(drop))

    def snapshot(parallel):
        con = duckdb.connect()
        reps = ingest(con, files, drop, parallel=parallel)
        conserve(reps)
        tables = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY _rid').fetchall() for t in TABLES}
        return ([r.as_dict() for r in reps], tables,
                con.execute('SELECT * FROM rejected_rows ORDER BY file, "row"').fetchall(),
                con.execute("SELECT * FROM schema_findings ORDER BY _rid, rule_id, field").fetchall())

    serial, parallel = snapshot(False), snapshot(True)
    assert parallel[0] == serial[0]
    assert parallel[1] == serial[1]
    assert parallel[2:] == serial[2:]


def test_duplicate_grouping_exact_under_hash_collisions(tmp_path, monkeypatch):
    """Exact duplicates are grouped by a hash of the canonical columns; when every row collides
    (hash forced to 0) the verification falls back to the columns: the same rows are loaded,
    rejected (with the same reasons) and reported."""
    import pipeline.ingest.load as L
    from demo.generate import generate_demo
    from pipeline.ingest.read import data_files
    from schemas.tables import TABLES

    drop = generate_demo(tmp_path / "raw", seed=5, n_households=80)[0]
    files = list(data_files(drop))

    def snapshot():
        con = duckdb.connect()
        conserve(L.ingest(con, files, drop, parallel=False))
        tables = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY _rid').fetchall() for t in TABLES}
        return (tables, con.execute('SELECT * FROM rejected_rows ORDER BY file, "row"').fetchall(),
                con.execute("SELECT * FROM schema_findings ORDER BY _rid, rule_id, field").fetchall())

    hashed = snapshot()
    assert any("duplicate of" in r[4] for r in hashed[1])      # the demo carries exact duplicates
    fallbacks = []
    real = L._classify_sql
    monkeypatch.setattr(L, "DUP_HASH", "0")
    monkeypatch.setattr(L, "_classify_sql", lambda t, s, p: fallbacks.append(p) or real(t, s, p))
    assert snapshot() == hashed
    assert "columns" in fallbacks
