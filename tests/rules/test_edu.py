"""EDU-01..05 on hand-built tables. R of 2026-10 is 2026-10-31."""
from ruleutil import add, fired, household, keys, member, new_db, pid, run
from schemas.ids import to18

PERIOD = "2026-10"


def bad(idn: str) -> str:
    """The same ID with a wrong check digit (ID-01)."""
    return idn[:17] + ("0" if idn[-1] != "0" else "1")


def _db(rows):
    con = new_db()
    add(con, "members", [member("H1", "陈父", pid(1980), "户主")] + rows)
    add(con, "households", [household("H1", "陈父", size=len(rows) + 1)])
    return con


def _kid(name, idn, status, **kw):
    return member("H1", name, idn, "之子", labor="无劳动力", work_status="无", work_months=0,
                  school_status=status, **kw)


# --- EDU-01 ------------------------------------------------------------------

def test_edu01_fires_at_6_and_15_for_not_in_school_or_empty():
    six = pid(2020, 10, 31)       # 6th birthday on R
    fifteen = pid(2010, 11, 1)    # 15 (turns 16 the day after R)
    con = _db([_kid("陈一", six, "非在校生"), _kid("陈二", fifteen, None)])
    issues = run(con, PERIOD, only={"EDU-01"})
    assert keys(issues, "EDU-01") == {("H1", six), ("H1", fifteen)}
    by = {i["id_number"]: i for i in fired(issues, "EDU-01")}
    assert (by[six]["field"], by[six]["value"], by[six]["severity"]) == ("school_status", "非在校生", "error")
    assert by[fifteen]["value"] is None


def test_edu01_silent_at_5_and_16_and_for_songjiao_and_invalid_id():
    five = pid(2020, 11, 1)       # 5 on R
    sixteen = pid(2010, 10, 31)   # 16 on R
    con = _db([
        _kid("陈一", five, "非在校生"),
        _kid("陈二", sixteen, "非在校生"),
        _kid("陈三", pid(2016), "送教上门"),       # 送教上门 counts as in school
        _kid("陈四", pid(2015), "小学"),
        _kid("陈五", bad(pid(2015)), "非在校生"),  # invalid ID: no age-based rule
    ])
    assert keys(run(con, PERIOD, only={"EDU-01"}), "EDU-01") == set()


# --- EDU-02 ------------------------------------------------------------------

def test_edu02_fires_outside_stage_range():
    a = pid(2022, 1, 1)     # 4, 小学 5..15
    b = pid(1990, 1, 1)     # 36, 本科及以上 15..35
    c = pid(2021, 1, 1)     # 5, 送教上门 6..22
    con = _db([_kid("陈一", a, "小学"), _kid("陈二", b, "本科及以上"), _kid("陈三", c, "送教上门")])
    issues = run(con, PERIOD, only={"EDU-02"})
    assert keys(issues, "EDU-02") == {("H1", a), ("H1", b), ("H1", c)}
    i = [x for x in fired(issues, "EDU-02") if x["id_number"] == a][0]
    assert (i["field"], i["value"], i["severity"]) == ("school_status", "小学", "suspect")


def test_edu02_silent_on_range_ends_and_non_students():
    con = _db([
        _kid("陈一", pid(2021, 10, 31), "小学"),      # exactly 5
        _kid("陈二", pid(2011, 10, 31), "小学"),      # exactly 15
        _kid("陈三", pid(1991, 10, 31), "本科及以上"),  # exactly 35
        _kid("陈四", pid(2024, 10, 31), "学前教育"),   # exactly 2
        _kid("陈五", pid(2004, 10, 31), "送教上门"),   # exactly 22
        _kid("陈六", pid(1950), "非在校生"),
        _kid("陈七", bad(pid(2024)), "初中"),          # invalid ID
    ])
    assert keys(run(con, PERIOD, only={"EDU-02"}), "EDU-02") == set()


# --- EDU-03 ------------------------------------------------------------------

def test_edu03_fires_when_every_row_dropout_or_suspended():
    a = pid(2013)
    con = _db([_kid("陈一", a, "初中")])
    add(con, "education", [
        dict(name="陈一", id_number=a, school="一中", stage="初中", enrol_status="辍学"),
        dict(name="陈一", id_number=a, school="二中", stage="初中", enrol_status="休学"),
    ])
    issues = run(con, PERIOD, only={"EDU-03"})
    assert keys(issues, "EDU-03") == {("H1", a)}
    i = fired(issues, "EDU-03")[0]
    assert (i["severity"], i["source"], i["field"]) == ("error", "education", "enrol_status")


def test_edu04_matches_legacy_15_digit_agency_id():
    id15 = "430624990101123"          # born 1999-01-01, legacy form in the extract
    con = _db([_kid("陈一", to18(id15), "非在校生")])
    add(con, "education", [dict(id_number=id15, school="县职校", enrol_status="在读")])
    assert keys(run(con, PERIOD, only={"EDU-04"}), "EDU-04") == {("H1", to18(id15))}


def test_edu03_silent_with_one_row_in_school_or_out_of_age_or_status_empty():
    a, b, c = pid(2013), pid(2005), pid(2014)
    con = _db([_kid("陈一", a, "初中"), _kid("陈二", b, "高中"), _kid("陈三", c, "小学")])
    add(con, "education", [
        dict(id_number=a, school="一中", enrol_status="辍学"),
        dict(id_number=a, school="二中", enrol_status="在读"),
        dict(id_number=b, school="三中", enrol_status="辍学"),     # 21: not compulsory age
        dict(id_number=c, school="四小", enrol_status="休学"),
        dict(id_number=c, school="五小", enrol_status=None),       # empty status is not 辍学/休学
    ])
    assert keys(run(con, PERIOD, only={"EDU-03"}), "EDU-03") == set()


def test_edu_rules_skipped_without_education_extract():
    con = _db([_kid("陈一", pid(2013), "初中")])
    run(con, PERIOD, only={"EDU-03", "EDU-04", "EDU-05"})
    for r in ("EDU-03", "EDU-04", "EDU-05"):
        assert run.results[r].status == "skipped"
        assert "education" in run.results[r].reason


# --- EDU-04 ------------------------------------------------------------------

def test_edu04_fires_for_non_student_enrolled():
    a = pid(2005)
    con = _db([_kid("陈一", a, "非在校生")])
    add(con, "education", [dict(id_number=a, school="县职校", stage="中职", enrol_status="在读")])
    issues = run(con, PERIOD, only={"EDU-04"})
    assert keys(issues, "EDU-04") == {("H1", a)}
    i = fired(issues, "EDU-04")[0]
    assert (i["value"], i["severity"], i["source"]) == ("非在校生", "suspect", "education")


def test_edu04_silent_when_graduated_or_status_empty_or_invalid_id():
    a, b = pid(2005), pid(2006)
    c = bad(pid(2007))
    con = _db([_kid("陈一", a, "非在校生"), _kid("陈二", b, None), _kid("陈三", c, "非在校生")])
    add(con, "education", [
        dict(id_number=a, school="县职校", enrol_status="毕业"),
        dict(id_number=b, school="县职校", enrol_status="在读"),
        dict(id_number=c, school="县职校", enrol_status="在读"),   # same raw text, invalid ID
    ])
    assert keys(run(con, PERIOD, only={"EDU-04"}), "EDU-04") == set()


# --- EDU-05 ------------------------------------------------------------------

def test_edu05_fires_for_pupil_without_any_row():
    a, b = pid(2015), pid(2012)
    other = pid(2014)
    con = _db([_kid("陈一", a, "小学"), _kid("陈二", b, "初中")])
    add(con, "education", [dict(id_number=other, school="一小", enrol_status="在读")])
    issues = run(con, PERIOD, only={"EDU-05"})
    assert keys(issues, "EDU-05") == {("H1", a), ("H1", b)}
    assert {i["severity"] for i in fired(issues, "EDU-05")} == {"notice"}


def test_edu05_silent_with_any_row_or_other_stage_or_invalid_id():
    a = pid(2015)
    con = _db([_kid("陈一", a, "小学"), _kid("陈二", pid(2008), "高中"),
               _kid("陈三", bad(pid(2015)), "小学")])
    add(con, "education", [dict(id_number=a, school="一小", enrol_status="转出")])
    assert keys(run(con, PERIOD, only={"EDU-05"}), "EDU-05") == set()


# --- evidence and detail ---------------------------------------------------------

def test_edu_evidence_equal_across_periods_when_data_is_unchanged():
    import json
    a = pid(2013, 3, 1)      # 13 in 2026-10, 14 in 2027-06: EDU-01, EDU-02 (初中 10..18 ok), EDU-03
    b = pid(2023, 3, 1)      # 小学 at 3 and 4: EDU-02
    ev = {}
    for period in ("2026-10", "2027-06"):
        con = _db([_kid("陈一", a, "非在校生"), _kid("陈二", b, "小学")])
        add(con, "education", [dict(id_number=a, school="一中", enrol_status="辍学")])
        for i in run(con, period, only={"EDU-01", "EDU-02", "EDU-03"}):
            ev.setdefault(i["rule_id"], []).append(i["evidence"])
    assert set(ev) == {"EDU-01", "EDU-02", "EDU-03"}
    for rid, (x, y) in ev.items():
        assert x == y, rid
        assert "age" not in json.loads(x)


def test_edu04_detail_when_school_name_is_empty():
    a, b = pid(2005), pid(2006)
    con = _db([_kid("陈一", a, "非在校生"), _kid("陈二", b, "小学")])
    add(con, "education", [dict(id_number=a, school=None, enrol_status="在读"),
                           dict(id_number=b, school=None, enrol_status="在读")])
    issues = fired(run(con, PERIOD, only={"EDU-04"}), "EDU-04")
    assert [i["id_number"] for i in issues] == [a]
    assert "学校名称未填" in issues[0]["message"]


def test_edu03_value_is_one_status_or_none():
    a, b = pid(2013), pid(2014)
    con = _db([_kid("陈一", a, "初中"), _kid("陈二", b, "小学")])
    add(con, "education", [
        dict(id_number=a, school="一中", enrol_status="辍学"),
        dict(id_number=b, school="二小", enrol_status="辍学"),
        dict(id_number=b, school="三小", enrol_status="休学"),
    ])
    got = {i["id_number"]: i["value"] for i in fired(run(con, PERIOD, only={"EDU-03"}), "EDU-03")}
    assert got == {a: "辍学", b: None}                   # not “休学、辍学” joined
