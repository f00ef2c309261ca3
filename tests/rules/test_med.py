"""MED-01..06 on hand-built tables. R of 2026-10 is 2026-10-31 (R's year 2026)."""
import json

from ruleutil import add, fired, household, keys, member, new_db, pid, run
from schemas.ids import to18

PERIOD = "2026-10"


def bad(idn: str) -> str:
    """The same ID with a wrong check digit (ID-01)."""
    return idn[:17] + ("0" if idn[-1] != "0" else "1")


def _db(rows):
    con = new_db()
    add(con, "members", rows)
    add(con, "households", [household("H1", rows[0]["name"], size=len(rows))])
    return con


def _mi(idn, year=2026, status="参保缴费", scheme="城乡居民基本医疗保险"):
    return dict(name="某", id_number=idn, year=year, status=status, scheme=scheme)


# --- MED-01 ------------------------------------------------------------------

def test_med01_fires_without_extract_including_invalid_id():
    a = pid(1980)
    b = bad(pid(1985))
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False),
               member("H1", "刘二", b, "配偶", basic_medical=False),
               member("H1", "刘三", pid(1990), "之子", basic_medical=True)])
    issues = run(con, PERIOD, only={"MED-01"})
    assert run.results["MED-01"].status == "evaluated"
    assert keys(issues, "MED-01") == {("H1", a), ("H1", b)}
    i = [x for x in fired(issues, "MED-01") if x["id_number"] == a][0]
    assert (i["field"], i["value"], i["severity"]) == ("basic_medical", "否", "error")


def test_med01_fires_when_extract_has_no_paid_row_for_R_year():
    a, b = pid(1980), pid(1982)
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False),
               member("H1", "刘二", b, "配偶", basic_medical=False)])
    add(con, "medical_insurance", [_mi(a, status="暂停"), _mi(b, year=2025)])
    assert keys(run(con, PERIOD, only={"MED-01"}), "MED-01") == {("H1", a), ("H1", b)}


def test_med01_silent_when_paid_this_year_or_flag_empty():
    a = pid(1980)
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False),
               member("H1", "刘二", pid(1982), "配偶", basic_medical=None)])
    add(con, "medical_insurance", [_mi(a, scheme="职工基本医疗保险")])
    assert keys(run(con, PERIOD, only={"MED-01"}), "MED-01") == set()


# --- MED-02 ------------------------------------------------------------------

def test_med02_fires_when_flag_yes_but_no_paid_row():
    a, b, c = pid(1980), pid(1982), pid(1990)
    con = _db([member("H1", "刘一", a, "户主"), member("H1", "刘二", b, "配偶"),
               member("H1", "刘三", c, "之子")])
    add(con, "medical_insurance", [_mi(a, status="终止"), _mi(b, year=2025), _mi(c)])
    issues = run(con, PERIOD, only={"MED-02"})
    assert keys(issues, "MED-02") == {("H1", a), ("H1", b)}
    i = [x for x in fired(issues, "MED-02") if x["id_number"] == a][0]
    assert (i["severity"], i["source"], i["value"]) == ("error", "medical_insurance", "是")
    assert json.loads(i["evidence"])["medical_statuses"] == ["终止"]


def test_med02_no_cascade_for_invalid_id_and_skipped_without_extract():
    good = pid(1982)
    invalid = bad(pid(1980))
    rows = [member("H1", "刘一", invalid, "户主"), member("H1", "刘二", good, "配偶")]
    run(_db(rows), PERIOD, only={"MED-02"})
    assert run.results["MED-02"].status == "skipped"
    con = _db(rows)
    add(con, "medical_insurance", [_mi(good)])
    issues = run(con, PERIOD, only={"MED-02"})
    assert run.results["MED-02"].status == "evaluated"
    assert keys(issues, "MED-02") == set()


def test_med02_matches_legacy_15_digit_agency_id():
    id15 = "430624800101123"
    con = _db([member("H1", "刘一", to18(id15), "户主")])
    add(con, "medical_insurance", [_mi(id15)])
    assert keys(run(con, PERIOD, only={"MED-02"}), "MED-02") == set()


# --- MED-03 ------------------------------------------------------------------

def test_med03_fires_when_flag_no_but_paid():
    a = pid(1980)
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False)])
    add(con, "medical_insurance", [_mi(a, status="暂停"), _mi(a, scheme=None)])
    issues = run(con, PERIOD, only={"MED-03"})
    assert keys(issues, "MED-03") == {("H1", a)}
    assert fired(issues, "MED-03")[0]["severity"] == "suspect"


def test_med03_silent_for_other_year_or_invalid_id():
    a = pid(1980)
    b = bad(pid(1982))
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False),
               member("H1", "刘二", b, "配偶", basic_medical=False)])
    add(con, "medical_insurance", [_mi(a, year=2025), _mi(b)])
    assert keys(run(con, PERIOD, only={"MED-03"}), "MED-03") == set()


# --- MED-04 ------------------------------------------------------------------

def _dis(idn, card=None, category="肢体", grade="三级"):
    codes = {"肢体": "4", "视力": "1", "智力": "5"}
    gcodes = {"一级": "1", "二级": "2", "三级": "3", "四级": "4"}
    if card is None:
        card = idn + codes[category] + gcodes[grade]
    return dict(name="某", id_number=idn, card_number=card, category=category, grade=grade)


def test_med04_fires_both_directions():
    a, b = pid(1980), pid(1982)
    con = _db([member("H1", "刘一", a, "户主", health="残疾"),
               member("H1", "刘二", b, "配偶", health="长期慢性病")])
    add(con, "disability", [_dis(b)])
    issues = run(con, PERIOD, only={"MED-04"})
    assert keys(issues, "MED-04") == {("H1", a), ("H1", b)}
    by = {i["id_number"]: i for i in fired(issues, "MED-04")}
    assert (by[b]["field"], by[b]["value"], by[b]["source"]) == ("health", "长期慢性病", "disability")


def test_med04_silent_when_consistent_or_health_empty_or_invalid_id():
    a, b = pid(1980), pid(1982)
    c = bad(pid(1985))
    con = _db([member("H1", "刘一", a, "户主", health="残疾"),
               member("H1", "刘二", b, "配偶", health=None),
               member("H1", "刘三", c, "之子", health="残疾")])
    add(con, "disability", [_dis(a), _dis(b), _dis(pid(1970))])
    assert keys(run(con, PERIOD, only={"MED-04"}), "MED-04") == set()


# --- MED-05 ------------------------------------------------------------------

def test_med05_fires_for_card_of_another_person_and_wrong_codes():
    a, other = pid(1980), pid(1975)
    b = pid(1982)
    con = _db([member("H1", "刘一", a, "户主", health="残疾"),
               member("H1", "刘二", b, "配偶", health="残疾")])
    card_other = other + "43"
    card_code = b + "13"                  # category 肢体 is 4, grade 三级 is 3
    add(con, "disability", [_dis(a, card=card_other), _dis(b, card=card_code)])
    issues = run(con, PERIOD, only={"MED-05"})
    assert keys(issues, "MED-05") == {("H1", a), ("H1", b)}
    by = {i["id_number"]: i for i in fired(issues, "MED-05")}
    assert (by[a]["field"], by[a]["value"], by[a]["severity"]) == ("card_number", card_other, "error")
    assert "第19位" in by[b]["message"] and "前18位" not in by[b]["message"]


def test_med05_one_issue_per_card():
    a = pid(1980)
    con = _db([member("H1", "刘一", a, "户主", health="残疾")])
    c1, c2 = pid(1970) + "43", a + "44"     # another ID; wrong category code
    add(con, "disability", [_dis(a, card=c1), _dis(a, card=c2)])
    issues = fired(run(con, PERIOD, only={"MED-05"}), "MED-05")
    assert sorted(i["value"] for i in issues) == sorted([c1, c2])
    assert len({i["issue_id"] for i in issues}) == 2


def test_med05_silent_for_correct_card_and_unmatched_row():
    a, b = pid(1980), pid(1982)
    con = _db([member("H1", "刘一", a, "户主", health="残疾"),
               member("H1", "刘二", b, "配偶", health="残疾")])
    add(con, "disability", [
        _dis(a),                                                         # exact ID + 4 + 3
        dict(id_number=b, card_number=b, category=None, grade=None),     # codes not given
        _dis(pid(1970), card=pid(1960) + "43"),                          # not a member
    ])
    assert keys(run(con, PERIOD, only={"MED-05"}), "MED-05") == set()


# --- MED-06 ------------------------------------------------------------------

def test_med06_fires_for_severe_disability_as_labour():
    a = pid(1980)
    con = _db([member("H1", "刘一", a, "户主", health="残疾", labor="技能劳动力")])
    add(con, "disability", [_dis(a, grade="二级")])
    issues = run(con, PERIOD, only={"MED-06"})
    assert keys(issues, "MED-06") == {("H1", a)}
    i = fired(issues, "MED-06")[0]
    assert (i["field"], i["value"], i["severity"]) == ("labor", "技能劳动力", "suspect")


def test_med06_silent_for_grade_three_or_weak_labor():
    a, b = pid(1980), pid(1982)
    con = _db([member("H1", "刘一", a, "户主", health="残疾", labor="普通劳动力"),
               member("H1", "刘二", b, "配偶", health="残疾", labor="弱劳动力或半劳动力")])
    add(con, "disability", [_dis(a, grade="三级"), _dis(b, grade="一级")])
    assert keys(run(con, PERIOD, only={"MED-06"}), "MED-06") == set()


def test_med04_detail_when_card_number_is_empty():
    a, b = pid(1980), pid(1982)
    con = _db([member("H1", "刘一", a, "户主", health="健康"),
               member("H1", "刘二", b, "配偶", health="残疾")])
    add(con, "disability", [dict(id_number=a, card_number=None, category="肢体", grade="三级"),
                            dict(id_number=b, card_number=None, category="肢体", grade="三级")])
    issues = fired(run(con, PERIOD, only={"MED-04"}), "MED-04")
    assert [i["id_number"] for i in issues] == [a]
    assert "证号未填" in issues[0]["message"] and "健康" in issues[0]["message"]


def test_med01_names_the_medical_data_only_when_it_was_loaded():
    """Issue F: MED-01 said “医保数据也无本年度参保缴费记录” even when no medical data came in."""
    a = pid(1980)
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False)])
    (alone,) = fired(run(con, PERIOD, only={"MED-01"}), "MED-01")
    assert alone["message"] == "刘一登记为未参加城乡居民基本医疗保险，请核实并动员参保"
    con = _db([member("H1", "刘一", a, "户主", basic_medical=False)])
    add(con, "medical_insurance", [_mi(pid(1990))])                 # loaded, nothing for 刘一
    (compared,) = fired(run(con, PERIOD, only={"MED-01"}), "MED-01")
    assert compared["message"] == "刘一登记为未参加城乡居民基本医疗保险，医保数据中也没有其2026年度参保缴费记录，请核实并动员参保"
    assert compared["evidence"] == alone["evidence"] and compared["issue_id"] == alone["issue_id"]
