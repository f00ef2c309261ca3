"""Normalisation of every ID, date, yes/no, number and text spelling of inputs.md."""
import datetime as dt

import duckdb
import pytest

from pipeline.ingest import normalise as N
from pipeline.ingest.read import cell_text, excel_display


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    N.install(c)
    return c


def one(con, expr, value):
    return con.execute(f"SELECT {expr}", [value]).fetchone()[0]


@pytest.mark.parametrize("raw,expected", [
    ("430624198006150131", "430624198006150131"),
    ("'430624198006150131", "430624198006150131"),          # leading apostrophe
    ("43062419800615013x", "43062419800615013X"),           # lower-case x
    (" 430624 1980 0615 0131 ", "430624198006150131"),      # surrounding and inner spaces
    ("\u3000430624198006150131\u200b", "430624198006150131"),  # U+3000, zero-width
    ("４３０６２４１９８００６１５０１３Ｘ", "43062419800615013X"),  # full-width digits
    ("4.30521198503123e+17", "4.30521198503123E+17"),       # rounded: kept as Excel shows it
    ("430624800615013", "430624800615013"),                 # 15-digit legacy: unchanged
    ("", None), ("   ", None),
])
def test_id(con, raw, expected):
    assert one(con, "cc_id(?)", raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("2019-07-08", dt.date(2019, 7, 8)), ("2019/7/8", dt.date(2019, 7, 8)),
    ("2019.7.8", dt.date(2019, 7, 8)), ("20190708", dt.date(2019, 7, 8)),
    ("2019年7月8日", dt.date(2019, 7, 8)), ("2019-07", dt.date(2019, 7, 1)),
    ("2019年7月", dt.date(2019, 7, 1)), ("43654", dt.date(2019, 7, 8)),      # Excel serial
    ("43654.0", dt.date(2019, 7, 8)), ("2019-07-08 00:00:00", dt.date(2019, 7, 8)),
    (" 2019-07-08\u3000", dt.date(2019, 7, 8)), ("２０１９-０７-０８", dt.date(2019, 7, 8)),
    ("2019.13.45", None), ("20191345", None), ("2019-02-29", None), ("abc", None),
    ("2019-07-08 10:30:00", None), ("", None),
])
def test_date(con, raw, expected):
    assert one(con, "cc_date(?, false)", raw) == expected


def test_date_1904_workbook(con):
    assert one(con, "cc_date(?, true)", "42192") == dt.date(2019, 7, 8)


@pytest.mark.parametrize("raw,expected", [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("y", True), ("√", True), ("×", False),
    ("1", True), ("0", False), ("有", True), ("无", False), ("TRUE", True), ("false", False),
    ("", None), ("也许", None),
])
def test_bool(con, raw, expected):
    assert one(con, "cc_bool(?)", raw) == expected


@pytest.mark.parametrize("raw,num,integer", [
    ("1,234.50", 1234.5, None), ("¥1,000", 1000.0, 1000), ("￥200元", 200.0, 200),
    ("３，０００元", 3000.0, 3000), ("5人", None, 5), ("3户", None, 3), ("12个月", None, 12),
    ("10月", None, 10), ("-5", -5.0, -5), ("abc", None, None), ("", None, None), ("3.5", 3.5, None),
])
def test_numbers(con, raw, num, integer):
    assert one(con, "cc_num(?)", raw) == num
    assert one(con, "cc_int(?)", raw) == integer


def test_text_and_codes(con):
    assert one(con, "cc_text(?)", "\u3000张\u200b三 ") == "张三"
    assert one(con, "cc_text(?)", " \u200b ") is None
    assert one(con, "cc_code(?)", "18549886754.0") == "18549886754"
    assert one(con, "cc_code(?)", "'000123") == "000123"


def test_cell_types_decided_at_read_time():
    assert cell_text(18549886754.0) == "18549886754"         # exact up to 15 digits
    assert cell_text(430624800615013.0) == "430624800615013"
    assert cell_text(4.30521198503123e17) == "4.30521198503123E+17"   # rounded: never padded
    assert excel_display(4.3e17) == "4.30000000000000E+17"
    assert cell_text(dt.datetime(2019, 7, 8)) == "2019-07-08"
    assert cell_text(dt.date(2019, 7, 8)) == "2019-07-08"
    assert cell_text(True) == "TRUE"
    assert cell_text(3.5) == "3.5"


def test_enum_and_range_are_sch02():
    from schemas.tables import MEMBERS, HOUSEHOLDS
    c = duckdb.connect()
    N.install(c)
    wm = MEMBERS.col("work_months")

    def q(expr, value):
        return c.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchone()[0]

    assert q(N.parse_fails(wm, "v"), "13") is True          # outside 0..12
    assert q(N.parse_fails(wm, "v"), "12") is False
    grade = HOUSEHOLDS.col("house_grade")
    assert q(N.typed_expr(grade, "v"), "") == "无"            # empty house_grade loads as 无
    assert q(N.typed_expr(grade, "v"), "Ｃ") == "C"
    assert q(N.parse_fails(grade, "v"), "E") is True
