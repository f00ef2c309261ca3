"""One bad byte loses one row, not a file; a file of mostly unusable rows is not loaded
(issue F, K item 4). Every case runs on both text paths: the Python reader (small files) and
DuckDB's reader (files of NATIVE_CSV_MIN_BYTES and more), which must agree."""
import json

import duckdb
import pytest
import xlsxwriter

import pipeline.ingest.load as L
from bench import hostile as H
from pipeline.ingest.load import UNDECODABLE, ingest

HDR = H.MEMBER_HEADER
TITLE = "XX县家庭成员表"


@pytest.fixture(params=["python", "duckdb"])
def path_kind(request, monkeypatch):
    monkeypatch.setattr(L, "NATIVE_CSV_MIN_BYTES", 10**12 if request.param == "python" else 0)
    return request.param


def load(folder):
    con = duckdb.connect()
    reps = ingest(con, sorted(p for p in folder.iterdir() if p.is_file()), folder, parallel=False)
    for r in reps:
        assert r.rows_read == r.rows_loaded + r.rows_rejected, r
    return con, reps


def lines(rows, encoding="utf-8") -> list[bytes]:
    return [H.csv_bytes([r], encoding) for r in rows]


def rejected(con):
    return con.execute('SELECT "row", reason, raw FROM rejected_rows ORDER BY "row"').fetchall()


def test_utf8_file_with_bad_bytes_loses_those_lines_only(tmp_path, path_kind):
    rows = [[TITLE], HDR] + H.members(30)
    data = lines(rows)
    data[6] = data[6].replace("张".encode(), b"\xff\xfe")       # line 7: not UTF-8
    data[20] = data[20][:-3] + b"\xe5\r\n"                      # line 21: a truncated character
    (tmp_path / "m.csv").write_bytes(b"".join(data))
    con, reps = load(tmp_path)
    assert [(r.status, r.header_row, r.rows_read, r.rows_loaded, r.rows_rejected) for r in reps] == \
        [("loaded", 2, 30, 28, 2)]
    got = rejected(con)
    assert [(r, reason) for r, reason, _ in got] == [(7, UNDECODABLE), (21, UNDECODABLE)]
    assert "\ufffd" in json.loads(got[0][2])["行内容"]           # what could be shown of it
    rows_loaded = [r for (r,) in con.execute("SELECT _row FROM members ORDER BY _row").fetchall()]
    assert rows_loaded == [n for n in range(3, 33) if n not in (7, 21)]


def test_gbk_file_with_a_bad_byte(tmp_path, path_kind):
    rows = [HDR] + H.members(25)
    data = lines(rows, "gb18030")
    data[9] = data[9].replace(b"\r\n", b"\x81\r\n")             # line 10: a lead byte without its pair
    (tmp_path / "m.csv").write_bytes(b"".join(data))
    con, reps = load(tmp_path)
    assert (reps[0].status, reps[0].rows_read, reps[0].rows_loaded) == ("loaded", 25, 24)
    assert [r for r, _, _ in rejected(con)] == [10]
    assert con.execute("SELECT name FROM members WHERE _row = 2").fetchone() == ("张0",)   # GBK read


def test_utf8_bom_then_gbk_lines(tmp_path, path_kind):
    """Two exports concatenated: a UTF-8 file with BOM, then GBK lines (crashed validate before)."""
    data = b"\xef\xbb\xbf" + b"".join(lines([HDR] + H.members(20))) + b"".join(lines(H.members(4, 20), "gb18030"))
    (tmp_path / "m.csv").write_bytes(data)
    con, reps = load(tmp_path)
    assert (reps[0].status, reps[0].rows_read, reps[0].rows_loaded, reps[0].rows_rejected) == ("loaded", 24, 20, 4)
    assert [r for r, _, _ in rejected(con)] == [22, 23, 24, 25]


def test_more_than_half_undecodable_is_not_loaded(tmp_path, path_kind):
    data = b"\xef\xbb\xbf" + b"".join(lines([HDR] + H.members(3))) + b"".join(lines(H.members(20, 3), "gb18030"))
    (tmp_path / "m.csv").write_bytes(data)
    con, reps = load(tmp_path)
    r = reps[0]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_rejected) == ("rejected", 23, 0, 23)
    assert r.problems == ["超过一半的行无法识别（23行中有20行），最常见的问题是含有无法识别的字符（文件编码错误）：文件未载入"]
    assert con.execute("SELECT count(*) FROM members").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM schema_findings").fetchone() == (0,)
    assert len(rejected(con)) == 23


def _bad_gender(n: int, bad: int) -> list[list[str]]:
    rows = H.members(n)
    for r in rows[:bad]:
        r[4] = "未知性别"
    return rows


def test_more_than_half_unparseable_is_not_loaded(tmp_path, path_kind):
    (tmp_path / "m.csv").write_bytes(b"".join(lines([HDR] + _bad_gender(30, 20))))
    con, reps = load(tmp_path)
    assert (reps[0].status, reps[0].rows_rejected) == ("rejected", 30)
    assert reps[0].problems == ["超过一半的行无法识别（30行中有20行），最常见的问题在“性别”列：文件未载入"]
    assert con.execute("SELECT count(*) FROM members").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM schema_findings").fetchone() == (0,)
    assert {reason for _, reason, _ in rejected(con)} == {reps[0].problems[0]}


@pytest.mark.parametrize("n,bad,loaded", [(30, 15, True), (19, 18, True), (20, 11, False)])
def test_unparseable_part_needs_twenty_rows_and_more_than_half(tmp_path, n, bad, loaded):
    """A small hand-made file with bad values still loads and shows SCH-02 (inputs.md: a bad
    value never rejects a row); exactly half is not more than half."""
    path = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for i, r in enumerate([HDR] + _bad_gender(n, bad)):
        ws.write_row(i, 0, r)
    wb.close()
    con, reps = load(tmp_path)
    assert (reps[0].status == "loaded") is loaded
    findings = con.execute("SELECT count(*) FROM schema_findings WHERE rule_id = 'SCH-02'").fetchone()[0]
    assert findings == (bad if loaded else 0)


def test_more_than_half_unattributable_is_not_loaded(tmp_path, path_kind):
    rows = H.members(10)
    for r in rows[:6]:
        r[0] = r[2] = ""
    (tmp_path / "m.csv").write_bytes(b"".join(lines([HDR] + rows)))
    con, reps = load(tmp_path)
    assert reps[0].status == "rejected"
    assert reps[0].problems == ["超过一半的行无法识别（10行中有6行），最常见的问题是缺少户编号和证件号码：文件未载入"]


def test_large_junk_csv_is_refused_without_being_staged(tmp_path, monkeypatch):
    """K item 4: a large csv of junk under a members header is refused from streaming passes;
    no row of it is staged, and rejected_rows lists a bounded number of its rows."""
    H.junk_csv(tmp_path / "junk.csv", size=5 * 1024**2)
    staged = []
    monkeypatch.setattr(L.Stager, "add_select", lambda self, *a: staged.append(a))
    monkeypatch.setattr(L, "MAX_LISTED_REJECTED", 50)
    con, reps = load(tmp_path)
    r = reps[0]
    assert r.status == "rejected" and r.rows_rejected == r.rows_read > 60_000
    assert "超过一半的行无法识别" in r.problems[0] and r.problems[0].endswith("文件未载入")
    assert staged == []
    assert con.execute("SELECT count(*) FROM rejected_rows").fetchone() == (50,)


def test_large_junk_bytes_csv_is_refused_bounded(tmp_path, monkeypatch):
    H.junk_bytes_csv(tmp_path / "junk.csv", size=5 * 1024**2)
    monkeypatch.setattr(L, "MAX_LISTED_REJECTED", 50)
    con, reps = load(tmp_path)
    r = reps[0]
    assert r.status == "rejected" and r.rows_rejected == r.rows_read > 40_000
    assert "含有无法识别的字符" in r.problems[0]
    assert con.execute("SELECT count(*) FROM rejected_rows").fetchone() == (50,)


def test_large_text_fallback_streams_in_batches(tmp_path, monkeypatch):
    """A large csv whose records are not its lines (a quoted field over two lines) goes through
    the Python reader in batches of STREAM_BATCH records (memory bounded by a batch), with the
    same result as the reader of small files."""
    rows = [[TITLE], HDR] + H.members(3000)
    rows[100][1] = "第一行\n第二行"
    (tmp_path / "m.csv").write_bytes(b"".join(lines(rows)))
    monkeypatch.setattr(L, "NATIVE_CSV_MIN_BYTES", 10**12)
    small = load(tmp_path)
    monkeypatch.setattr(L, "NATIVE_CSV_MIN_BYTES", 0)
    monkeypatch.setattr(L, "STREAM_BATCH", 500)
    batches = []
    real = L._stream_batch
    monkeypatch.setattr(L, "_stream_batch", lambda out, rep, lay, rws, *a: batches.append(len(rws)) or real(out, rep, lay, rws, *a))
    large = load(tmp_path)
    assert max(batches) <= 500 and sum(batches) == 3000
    q = "SELECT name, id_number, relation, _row FROM members ORDER BY _row"
    assert large[0].execute(q).fetchall() == small[0].execute(q).fetchall()
    assert [(r.rows_read, r.rows_loaded, r.rows_skipped) for r in large[1]] == \
        [(r.rows_read, r.rows_loaded, r.rows_skipped) for r in small[1]]
