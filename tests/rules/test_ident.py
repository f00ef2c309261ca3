"""ID-01..ID-09 on hand-built tables. R of 2026-10 is 2026-10-31."""
import json

from ruleutil import fired, household, keys, member, pid, run
from schemas.ids import check_digit, to18

PERIOD = "2026-10"


def id18(birth_digits: str, region: str = "430624", seq: str = "123") -> str:
    """An 18-char ID with the given digits 7-14 and a correct check digit."""
    body = region + birth_digits + seq
    return body + check_digit(body)


from ruleutil import db_with as _db, wrong_check  # noqa: E402  (shared helpers)


# --- ID-01 -------------------------------------------------------------------

def test_id01_fires_on_bad_check_digit_rounded_short_and_bad_15():
    good = pid(1985, 3, 12)
    bad = wrong_check(good)
    rounded = "4.30521198503123E+17"
    short = good[:17]
    bad15 = "430624851345123"          # 15 digits, month 13: not structurally valid
    con = _db([
        member("H1", "张三", bad, "户主"),
        member("H1", "李四", rounded, "配偶"),
        member("H1", "张五", short, "之子"),
        member("H1", "张六", bad15, "之女"),
    ])
    issues = run(con, PERIOD, only={"ID-01"})
    assert keys(issues, "ID-01") == {("H1", bad), ("H1", rounded), ("H1", short), ("H1", bad15)}
    by = {i["id_number"]: i for i in fired(issues, "ID-01")}
    assert (by[bad]["field"], by[bad]["value"], by[bad]["severity"]) == ("id_number", bad, "error")
    ev = json.loads(by[bad]["evidence"])
    assert ev["expected_check_digit"] == good[17] and ev["check_digit"] == bad[17]
    assert "张三" in by[bad]["message"] and "科学计数法" in by[rounded]["message"]


def test_id01_silent_on_valid_18_valid_15_empty_and_bad_date_with_good_check():
    v15 = "430624850312123"
    bad_date = id18("19850230")        # correct check digit, impossible date: ID-02 only
    con = _db([
        member("H1", "张三", pid(1985), "户主"),
        member("H1", "李四", v15, "配偶"),
        member("H1", "张五", None, "之子"),
        member("H1", "张六", bad_date, "之女"),
    ])
    issues = run(con, PERIOD, only={"ID-01"})
    assert keys(issues, "ID-01") == set()


# --- ID-02 -------------------------------------------------------------------

def test_id02_fires_on_unreal_future_pre1900_and_regardless_of_check_digit():
    feb30 = id18("19850230")
    future = id18("20261101")          # the day after R
    old = id18("18991231")
    badcheck = wrong_check(id18("19851332"))
    bad15 = "430624851345123"
    con = _db([
        member("H1", "甲一", feb30, "户主"),
        member("H1", "甲二", future, "之子"),
        member("H1", "甲三", old, "之父"),
        member("H1", "甲四", badcheck, "之女"),
        member("H1", "甲五", bad15, "之女"),
    ])
    issues = run(con, PERIOD, only={"ID-02"})
    assert keys(issues, "ID-02") == {("H1", feb30), ("H1", future), ("H1", old),
                                     ("H1", badcheck), ("H1", bad15)}
    assert all(i["severity"] == "error" and i["field"] == "id_number" for i in fired(issues, "ID-02"))


def test_id02_silent_on_boundaries_R_and_1900_and_unshaped():
    on_r = id18("20261031")
    first = id18("19000101")
    con = _db([
        member("H1", "乙一", on_r, "之子"),
        member("H1", "乙二", first, "户主"),
        member("H1", "乙三", "4.30521198503123E+17", "配偶"),   # not ID-shaped: ID-01 only
    ])
    issues = run(con, PERIOD, only={"ID-02"})
    assert keys(issues, "ID-02") == set()


# --- ID-03 -------------------------------------------------------------------

def test_id03_fires_on_unknown_region_code_for_18_and_15():
    bad = id18("19850312", region="999999")
    bad15 = "999999850312123"
    con = _db([member("H1", "丙一", bad, "户主"), member("H1", "丙二", bad15, "配偶")])
    issues = run(con, PERIOD, only={"ID-03"})
    assert keys(issues, "ID-03") == {("H1", bad), ("H1", bad15)}
    i = [i for i in fired(issues, "ID-03") if i["id_number"] == bad][0]
    assert i["severity"] == "suspect" and "999999" in i["message"]


def test_id03_silent_on_known_region_and_unshaped_value():
    con = _db([
        member("H1", "丁一", pid(1985, region="430624"), "户主"),
        member("H1", "丁二", id18("19850312", region="110101"), "配偶"),
        member("H1", "丁三", "99999912345", "之子"),
    ])
    issues = run(con, PERIOD, only={"ID-03"})
    assert keys(issues, "ID-03") == set()


# --- ID-04 -------------------------------------------------------------------

def test_id04_fires_when_gender_disagrees_with_digit_17_or_15():
    male = pid(1985, male=True)
    female_badcheck = wrong_check(pid(1986, male=False))
    male15 = "430624850312123"        # digit 15 = 3: 男
    con = _db([
        member("H1", "戊一", male, "户主", gender="女"),
        member("H1", "戊二", female_badcheck, "配偶", gender="男"),
        member("H1", "戊三", male15, "之子", gender="女"),
    ])
    issues = run(con, PERIOD, only={"ID-04"})
    assert keys(issues, "ID-04") == {("H1", male), ("H1", female_badcheck), ("H1", male15)}
    i = [i for i in fired(issues, "ID-04") if i["id_number"] == male][0]
    assert (i["field"], i["value"], i["severity"]) == ("gender", "女", "error")


def test_id04_silent_when_gender_matches_or_is_empty():
    con = _db([
        member("H1", "己一", pid(1985, male=True), "户主", gender="男"),
        member("H1", "己二", pid(1986, male=False), "配偶", gender="女"),
        member("H1", "己三", pid(2010, male=True), "之子", gender=None),
    ])
    issues = run(con, PERIOD, only={"ID-04"})
    assert keys(issues, "ID-04") == set()


# --- ID-05 -------------------------------------------------------------------

def test_id05_one_issue_per_household_within_and_across():
    dup = pid(1985)
    v15 = "430624700101123"
    con = _db([
        member("H1", "张三", dup, "户主", phone="13800000001"),
        member("H1", "张三", dup, "之子", phone="13800000002"),   # not an exact duplicate row
        member("H2", "张三", dup, "户主"),
        member("H3", "王五", v15, "户主"),
        member("H4", "王五", to18(v15), "之父"),                # same person, 18-digit form
    ])
    issues = run(con, PERIOD, only={"ID-05"})
    # id_number is the ID as recorded in each household (H3 holds the legacy form)
    assert keys(issues, "ID-05") == {("H1", dup), ("H2", dup), ("H3", v15), ("H4", to18(v15))}
    h1 = [i for i in fired(issues, "ID-05") if i["household_id"] == "H1"][0]
    assert h1["severity"] == "error"
    ev = json.loads(h1["evidence"])
    assert ev["households"] == ["H1", "H2"] and ev["rows"] == 3 and ev["rows_in_household"] == 2
    # the rule compares several rows: value is empty (the ID is the issue's id_number)
    assert all(i["value"] is None for i in fired(issues, "ID-05"))


def test_id05_silent_for_invalid_duplicates_and_distinct_ids():
    bad = wrong_check(pid(1985))
    con = _db([
        member("H1", "张三", bad, "户主"),
        member("H2", "张三", bad, "户主"),                     # invalid ID: ID-01, not ID-05
        member("H3", "李四", pid(1980), "户主"),
        member("H3", "李五", pid(1980), "配偶"),
    ])
    issues = run(con, PERIOD, only={"ID-05"})
    assert keys(issues, "ID-05") == set()


# --- ID-06 -------------------------------------------------------------------

def test_id06_fires_on_structurally_valid_15_digit_id():
    v15 = "430624850312123"
    con = _db([member("H1", "庚一", v15, "户主")])
    issues = run(con, PERIOD, only={"ID-06"})
    assert keys(issues, "ID-06") == {("H1", v15)}
    i = fired(issues, "ID-06")[0]
    assert i["severity"] == "notice" and to18(v15) in i["message"]


def test_id06_only_structurally_valid_15_digit_ids():
    con = _db([
        member("H1", "辛一", "430624851345123", "户主"),   # month 13: ID-01
        member("H1", "辛二", pid(1985), "配偶"),
        member("H1", "辛三", "430624991231123", "之子"),   # 1999-12-31, fine -> fires
    ])
    issues = run(con, PERIOD, only={"ID-06"})
    assert keys(issues, "ID-06") == {("H1", "430624991231123")}


# --- ID-07 -------------------------------------------------------------------

def test_id07_fires_on_digits_latin_spaces_punctuation_and_length():
    rows = [
        ("H1", "张3", "户主"),
        ("H1", "Li Ming", "配偶"),
        ("H1", "张\u3000三", "之子"),
        ("H1", "张.三", "之女"),
        ("H1", "王", "之父"),
        ("H1", "阿" * 16, "之母"),
        ("H1", "阿依古丽•买买提", "之儿媳"),      # U+2022 is not the middle dot
    ]
    con = _db([member(h, n, pid(1980), r) for h, n, r in rows])
    issues = run(con, PERIOD, only={"ID-07"})
    got = {i["value"]: i for i in fired(issues, "ID-07")}
    assert set(got) == {n for _, n, _ in rows}
    assert got["张3"]["field"] == "name" and got["张3"]["severity"] == "suspect"
    assert "含英文字母" in got["Li Ming"]["message"] and "含空格" in got["Li Ming"]["message"]


def test_id07_silent_on_middle_dot_trimmed_zero_width_and_15_chars():
    names = ["阿依古丽·买买提", "\u3000张三 ", "张\u200b三", "阿" * 15, "欧阳娜娜"]
    con = _db([member("H1", n, pid(1980), "户主" if k == 0 else "之女") for k, n in enumerate(names)]
              + [member("H1", None, pid(1981), "配偶")])
    issues = run(con, PERIOD, only={"ID-07"})
    assert fired(issues, "ID-07") == []


# --- ID-08 -------------------------------------------------------------------

def test_id08_fires_on_head_id_or_name_mismatch():
    a, b, c = pid(1980), pid(1981), pid(1982)
    con = _db(
        [member("H1", "张三", a, "户主"), member("H2", "李四", b, "户主"), member("H3", "王五", c, "户主")],
        [household("H1", "张三", head_id_number=pid(1979)),
         household("H2", "李肆", head_id_number=b),
         household("H3", "王五", head_id_number=c)],
    )
    issues = run(con, PERIOD, only={"ID-08"})
    assert keys(issues, "ID-08") == {("H1", None), ("H2", None)}
    by = {i["household_id"]: i for i in fired(issues, "ID-08")}
    assert by["H1"]["field"] == "head_id_number" and by["H1"]["severity"] == "error"
    assert (by["H2"]["field"], by["H2"]["value"]) == ("head_name", "李肆")


def test_id08_silent_on_empty_values_15_vs_18_and_two_heads():
    v15 = "430624700101123"
    con = _db(
        [member("H1", "张三", pid(1980), "户主"),
         member("H2", "李四", to18(v15), "户主"),
         member("H3", "王五", pid(1982), "户主"), member("H3", "王六", pid(1983), "户主")],
        [household("H1", "张三", head_id_number=None),
         household("H2", "李四", head_id_number=v15),
         household("H3", "王七", head_id_number=pid(1970))],      # two 户主: HH-01, not ID-08
    )
    issues = run(con, PERIOD, only={"ID-08"})
    assert keys(issues, "ID-08") == set()


def test_id08_skipped_without_households():
    con = _db([member("H1", "张三", pid(1980), "户主")])
    run(con, PERIOD, only={"ID-08", "ID-01"})
    assert run.results["ID-08"].status == "skipped"
    assert "households" in run.results["ID-08"].reason
    assert run.results["ID-01"].status == "evaluated"


# --- ID-09 -------------------------------------------------------------------

def test_id09_fires_per_household_with_phone_as_discriminator():
    con = _db([
        member("H1", "张三", pid(1980), "户主", phone="138 1234 5678"),
        member("H1", "张四", pid(1981), "配偶", phone="13812345678"),
        member("H2", "李四", pid(1982), "户主", phone="+86 13812345678"),
        member("H2", "李五", pid(1983), "配偶", phone="13900000000"),
        member("H3", "王五", pid(1984), "户主", phone="13900000000"),
    ])
    issues = run(con, PERIOD, only={"ID-09"})
    got = fired(issues, "ID-09")
    assert sorted((i["household_id"], i["field"]) for i in got) == [
        ("H1", "phone"), ("H2", "phone"), ("H2", "phone"), ("H3", "phone")]
    assert all(i["id_number"] is None and i["severity"] == "suspect" for i in got)
    assert len({i["issue_id"] for i in got}) == 4           # H2 has two phones: two issues
    h1 = [i for i in got if i["household_id"] == "H1"][0]
    assert json.loads(h1["evidence"]) == {"households": ["H1", "H2"], "phone": "13812345678"}
    # value: the phone as written when the household writes it one way; none when two ways
    assert h1["value"] is None
    h3 = [i for i in got if i["household_id"] == "H3"][0]
    assert h3["value"] == "13900000000"


def test_id09_silent_within_one_household_and_for_empty_phones():
    con = _db([
        member("H1", "张三", pid(1980), "户主", phone="13812345678"),
        member("H1", "张四", pid(1981), "配偶", phone="13812345678"),
        member("H2", "李四", pid(1982), "户主", phone=None),
        member("H3", "王五", pid(1984), "户主", phone=None),
    ])
    issues = run(con, PERIOD, only={"ID-09"})
    assert fired(issues, "ID-09") == []


def test_id05_row_without_household_id_counts_as_a_duplicate():
    dup = pid(1985)
    con = _db([member("H1", "张三", dup, "户主"), member(None, "张三", dup, "户主")])
    issues = run(con, PERIOD, only={"ID-05"})
    assert keys(issues, "ID-05") == {("H1", dup), (None, dup)}
    h1 = [i for i in fired(issues, "ID-05") if i["household_id"] == "H1"][0]
    assert "1条未填户编号" in h1["message"]
    other = [i for i in fired(issues, "ID-05") if i["household_id"] is None][0]
    assert (other["township"], other["village"]) == ("城西镇", "新泉村")


def test_id02_evidence_holds_no_reference_date():
    future = id18("20261101")
    ev = []
    for period in ("2026-10", "2026-09"):
        con = _db([member("H1", "甲二", future, "户主")])
        ev.append(fired(run(con, period, only={"ID-02"}), "ID-02")[0]["evidence"])
    assert ev[0] == ev[1]
    assert json.loads(ev[0]) == {"birth_digits": "20261101", "id_number": future}


def test_id05_keys_each_household_by_its_recorded_id():
    v15 = "430624700101123"
    con = _db([member("H1", "王五", v15, "户主"), member("H1", "王五", to18(v15), "之父"),
               member("H2", "王五", v15, "户主")])
    issues = run(con, PERIOD, only={"ID-05"})
    # H1 holds both forms: the 18-digit one names the person; H2 only the legacy form
    assert keys(issues, "ID-05") == {("H1", to18(v15)), ("H2", v15)}


def test_id07_any_digit_latin_letter_or_unicode_space():
    rows = [("张３", "户主"),                 # full-width digit
            ("Zhāng三", "配偶"),               # accented Latin letter
            ("Ｌｉ明", "之子"),                  # full-width Latin letters
            ("张\u2002三", "之女")]            # en space (Unicode space separator)
    con = _db([member("H1", n, pid(1980), r) for n, r in rows])
    got = {i["value"] for i in fired(run(con, PERIOD, only={"ID-07"}), "ID-07")}
    assert got == {n for n, _ in rows}


def test_id07_silent_on_chinese_numerals_and_ethnic_names():
    names = ["张三", "王二小", "李〇", "买买提·艾力", "欧阳万一"]
    con = _db([member("H1", n, pid(1980), "户主" if k == 0 else "之女") for k, n in enumerate(names)])
    assert fired(run(con, PERIOD, only={"ID-07"}), "ID-07") == []


def test_id09_message_names_the_household():
    con = _db([member("H1", "张三", pid(1980), "户主", phone="13812345678"),
               member("H2", "李四", pid(1982), "户主", phone="13812345678")],
              [household("H1", "张三"), household("H2", "李四")])
    by = {i["household_id"]: i for i in fired(run(con, PERIOD, only={"ID-09"}), "ID-09")}
    assert "H1" in by["H1"]["message"] and "张三户" in by["H1"]["message"]
    assert "H2" in by["H2"]["message"] and "李四户" in by["H2"]["message"]


def test_region_codes_read_from_stdnums_file_equal_its_parsed_table():
    from schemas import ids

    fast = ids.region_codes()
    assert fast == ids._region_codes_numdb()
    assert len(fast) > 6000 and "430624" in fast and "110101" in fast


def test_check_digit_macro_agrees_with_stdnum_and_is_null_unless_17_ascii_digits():
    """id_check_digit is SQL (schemas.ids.CHECK_DIGIT_MACRO): it must give stdnum's check character
    for every body, and NULL where the Python function it replaced gave NULL."""
    import random

    import duckdb

    from schemas import ids

    con = duckdb.connect()
    ids.register(con)
    rng = random.Random(7)
    bodies = ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(3000)]
    bodies += ["0" * 17, "9" * 17]
    got = con.execute("SELECT b, id_check_digit(b), id_check_digit(b || 'X') FROM unnest(?::VARCHAR[]) t(b)",
                      [bodies]).fetchall()
    assert all(c == check_digit(b) and c18 == c for b, c, c18 in got)
    assert {c for _, c, _ in got} == set("0123456789X")          # every check character reached
    for v in [None, "", "1234567890123456", "12345678901234567"[:16] + "X", "１２３４５６７８９０１２３４５６７",
              "1234567890123456٣", " 12345678901234567", "abc"]:
        assert con.execute("SELECT id_check_digit(?)", [v]).fetchone()[0] is None, v
