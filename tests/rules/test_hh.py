"""HH-01..HH-09 on hand-built tables. R of 2026-10 is 2026-10-31."""
import json

from ruleutil import fired, household, keys, member, pid, run

PERIOD = "2026-10"


from ruleutil import db_with as _db, wrong_check  # noqa: E402  (shared helpers)


def hkeys(issues, rule_id):
    return {i["household_id"] for i in fired(issues, rule_id)}


# --- HH-01 -------------------------------------------------------------------

def test_hh01_fires_on_two_heads_no_head_and_household_without_members():
    con = _db(
        [member("H1", "张三", pid(1980), "户主"), member("H1", "张四", pid(1981), "户主"),
         member("H2", "李四", pid(1980), "配偶"),
         member("H4", "赵一", pid(1980), "户主")],
        [household("H1", "张三", size=2), household("H3", "王五"), household("H4", "赵一")],
    )
    issues = run(con, PERIOD, only={"HH-01"})
    assert keys(issues, "HH-01") == {("H1", None), ("H2", None), ("H3", None)}
    by = {i["household_id"]: i for i in fired(issues, "HH-01")}
    # value is the cell as given: a count of 户主 rows is no cell of 与户主关系 (issue F)
    assert (by["H1"]["field"], by["H1"]["value"], by["H1"]["severity"]) == ("relation", None, "error")
    assert json.loads(by["H1"]["evidence"]) == {"heads": ["张三", "张四"], "n_heads": 2}
    assert by["H3"]["value"] is None


def test_hh01_silent_with_exactly_one_head_and_only_members_file():
    con = _db([member("H1", "张三", pid(1980), "户主"), member("H1", "张四", pid(1981), None)])
    issues = run(con, PERIOD, only={"HH-01"})
    assert run.results["HH-01"].status == "evaluated"
    assert fired(issues, "HH-01") == []


# --- HH-02 -------------------------------------------------------------------

def test_hh02_fires_when_size_differs_from_member_rows():
    con = _db(
        [member("H1", "张三", pid(1980), "户主"), member("H1", "张四", pid(1981), "配偶")],
        [household("H1", "张三", size=3), household("H2", "王五", size=1)],
    )
    issues = run(con, PERIOD, only={"HH-02"})
    assert hkeys(issues, "HH-02") == {"H1", "H2"}
    i = [i for i in fired(issues, "HH-02") if i["household_id"] == "H1"][0]
    assert (i["field"], i["value"], i["severity"]) == ("size", "3", "error")
    assert json.loads(i["evidence"]) == {"member_rows": 2, "size": 3}


def test_hh02_silent_when_equal_or_size_empty():
    con = _db(
        [member("H1", "张三", pid(1980), "户主"), member("H1", "张四", pid(1981), "配偶"),
         member("H2", "李四", pid(1980), "户主")],
        [household("H1", "张三", size=2), household("H2", "李四", size=None)],
    )
    issues = run(con, PERIOD, only={"HH-02"})
    assert fired(issues, "HH-02") == []


def test_hh02_skipped_without_households_table():
    con = _db([member("H1", "张三", pid(1980), "户主")])
    issues = run(con, PERIOD, only={"HH-02", "HH-03", "HH-09"})
    assert issues == []
    for r in ("HH-02", "HH-03", "HH-09"):
        assert run.results[r].status == "skipped"
        assert run.results[r].reason == "missing table: households"


# --- HH-03 -------------------------------------------------------------------

def test_hh03_fires_both_ways():
    con = _db(
        [member("H1", "张三", pid(1980), "户主"), member("H2", "李四", pid(1980), "户主")],
        [household("H1", "张三"), household("H3", "王五")],
    )
    issues = run(con, PERIOD, only={"HH-03"})
    assert hkeys(issues, "HH-03") == {"H2", "H3"}
    by = {i["household_id"]: i for i in fired(issues, "HH-03")}
    assert json.loads(by["H2"]["evidence"]) == {"in_households": False, "in_members": True}
    assert json.loads(by["H3"]["evidence"]) == {"in_households": True, "in_members": False}
    assert by["H2"]["head_name"] == "李四" and by["H3"]["head_name"] == "王五"


def test_hh03_silent_when_both_present():
    con = _db([member("H1", "张三", pid(1980), "户主")], [household("H1", "张三")])
    assert fired(run(con, PERIOD, only={"HH-03"}), "HH-03") == []


# --- HH-04 -------------------------------------------------------------------

def test_hh04_boundaries_with_29_february():
    head = pid(1980, 2, 29)
    son_ok = pid(1995, 2, 28)          # head + 15 years = 1995-02-28: exactly 15 years younger
    son_bad = pid(1995, 2, 27, male=True)
    dad_bad = pid(1965, 3, 1)          # + 15 years = 1980-03-01 > head's birth
    mum_ok = pid(1965, 2, 28, male=False)
    gs_ok = pid(2010, 2, 28)           # head + 30 years = 2010-02-28
    gd_bad = pid(2010, 2, 27, male=False)
    con = _db([
        member("H1", "户主甲", head, "户主"),
        member("H1", "子甲", son_ok, "之子"),
        member("H1", "子乙", son_bad, "之子"),
        member("H1", "父甲", dad_bad, "之父"),
        member("H1", "母甲", mum_ok, "之母"),
        member("H1", "孙甲", gs_ok, "之孙子"),
        member("H1", "孙女甲", gd_bad, "之孙女"),
    ])
    issues = run(con, PERIOD, only={"HH-04"})
    assert keys(issues, "HH-04") == {("H1", son_bad), ("H1", dad_bad), ("H1", gd_bad)}
    i = [i for i in fired(issues, "HH-04") if i["id_number"] == son_bad][0]
    assert (i["field"], i["value"], i["severity"]) == ("relation", "之子", "suspect")
    assert json.loads(i["evidence"])["head_birth"] == "1980-02-29"


def test_hh04_silent_for_invalid_ids_and_households_without_single_head():
    head = pid(1980)
    con = _db([
        member("H1", "户主甲", head, "户主"),
        member("H1", "子甲", wrong_check(pid(1990)), "之子"),       # invalid ID: skipped
        member("H2", "户主乙", wrong_check(pid(1980)), "户主"),      # head ID invalid
        member("H2", "子乙", pid(1990), "之女", gender="女"),
        member("H3", "户主丙", pid(1980), "户主"),                   # two heads
        member("H3", "户主丁", pid(1981), "户主"),
        member("H3", "子丙", pid(1990), "之子"),
        member("H4", "户主戊", pid(1980), "户主"),
        member("H4", "兄戊", pid(1990), "之兄弟姐妹"),
    ])
    issues = run(con, PERIOD, only={"HH-04"})
    assert fired(issues, "HH-04") == []


# --- HH-05 -------------------------------------------------------------------

def test_hh05_fires_on_two_spouses_and_same_gender_spouse():
    con = _db([
        member("H1", "张三", pid(1980, male=True), "户主"),
        member("H1", "李一", pid(1981, male=False), "配偶"),
        member("H1", "李二", pid(1982, male=False), "配偶"),
        member("H2", "王五", pid(1980, male=True), "户主", gender="男"),
        member("H2", "赵六", pid(1981, male=True), "配偶", gender="男"),
        # two spouses count even without a single head
        member("H3", "钱一", pid(1981, male=False), "配偶"),
        member("H3", "钱二", pid(1982, male=False), "配偶"),
    ])
    issues = run(con, PERIOD, only={"HH-05"})
    assert keys(issues, "HH-05") == {("H1", None), ("H2", None), ("H3", None)}
    by = {i["household_id"]: i for i in fired(issues, "HH-05")}
    assert by["H2"]["severity"] == "suspect" and "同为男" in by["H2"]["message"]
    assert all(i["value"] is None for i in by.values())      # several rows compared: no one cell
    assert "2名配偶" in by["H1"]["message"]


def test_hh05_silent_on_one_opposite_or_unknown_gender_spouse():
    con = _db([
        member("H1", "张三", pid(1980, male=True), "户主"),
        member("H1", "李一", pid(1981, male=False), "配偶"),
        member("H2", "王五", pid(1980, male=True), "户主"),
        member("H2", "赵六", pid(1981, male=True), "配偶", gender=None),
        member("H3", "孙一", pid(1980, male=True), "户主", gender=None),
        member("H3", "孙二", pid(1981, male=True), "配偶"),
    ])
    issues = run(con, PERIOD, only={"HH-05"})
    assert fired(issues, "HH-05") == []


# --- HH-06 -------------------------------------------------------------------

def test_hh06_fires_for_head_aged_15_on_R():
    young = pid(2010, 11, 1)           # 16 on 2026-11-01: 15 on R
    con = _db([member("H1", "小张", young, "户主")])
    issues = run(con, PERIOD, only={"HH-06"})
    assert keys(issues, "HH-06") == {("H1", None)}
    i = fired(issues, "HH-06")[0]
    assert (i["field"], i["value"], i["severity"]) == ("id_number", young, "suspect")
    assert json.loads(i["evidence"]) == {"head_birth": "2010-11-01", "head_id_number": young}
    assert "15周岁" in i["message"]


def test_hh06_silent_at_16_and_for_invalid_id_and_two_heads():
    con = _db([
        member("H1", "小张", pid(2010, 10, 31), "户主"),            # 16 on R
        member("H2", "小李", wrong_check(pid(2015)), "户主"),
        member("H3", "小王", pid(2015), "户主"),
        member("H3", "老王", pid(1960), "户主"),
    ])
    issues = run(con, PERIOD, only={"HH-06"})
    assert fired(issues, "HH-06") == []


# --- HH-07 -------------------------------------------------------------------

def test_hh07_fires_on_different_village_or_township():
    con = _db([
        member("H1", "张三", pid(1980), "户主", village="新泉村"),
        member("H1", "张四", pid(1981), "配偶", village="老泉村"),
        member("H2", "李四", pid(1980), "户主", township="城西镇"),
        member("H2", "李五", pid(1981), "配偶", township="城东镇"),
    ])
    issues = run(con, PERIOD, only={"HH-07"})
    assert keys(issues, "HH-07") == {("H1", None), ("H2", None)}
    by = {i["household_id"]: i for i in fired(issues, "HH-07")}
    # several member rows compared: no one cell is the value
    assert (by["H1"]["field"], by["H1"]["value"], by["H1"]["severity"]) == ("village", None, "error")
    assert by["H2"]["field"] == "township"


def test_hh07_silent_when_same_or_empty():
    con = _db([
        member("H1", "张三", pid(1980), "户主"),
        member("H1", "张四", pid(1981), "配偶", village=None, township=None),
        member("H1", "张五", pid(2005), "之子"),
    ])
    issues = run(con, PERIOD, only={"HH-07"})
    assert fired(issues, "HH-07") == []


# --- HH-08 -------------------------------------------------------------------

def test_hh08_fires_on_relation_gender_conflict():
    son = pid(2005, male=True)
    mother = pid(1950, male=False)
    con = _db([
        member("H1", "张三", pid(1975), "户主"),
        member("H1", "张丽", son, "之子", gender="女"),
        member("H1", "王大", mother, "之母", gender="男"),
    ])
    issues = run(con, PERIOD, only={"HH-08"})
    assert keys(issues, "HH-08") == {("H1", son), ("H1", mother)}
    i = [i for i in fired(issues, "HH-08") if i["id_number"] == son][0]
    assert (i["field"], i["value"], i["severity"]) == ("gender", "女", "error")


def test_hh08_silent_on_matching_empty_or_unconstrained():
    con = _db([
        member("H1", "张三", pid(1975), "户主", gender="女"),
        member("H1", "张四", pid(2005, male=True), "之子", gender="男"),
        member("H1", "张五", pid(2006, male=True), "之女婿", gender=None),
        member("H1", "张六", pid(1976, male=False), "之兄弟姐妹", gender="女"),
        member("H1", "张七", pid(1977, male=True), "其他", gender="男"),
    ])
    issues = run(con, PERIOD, only={"HH-08"})
    assert fired(issues, "HH-08") == []


# --- HH-09 -------------------------------------------------------------------

def test_hh09_fires_when_cause_has_no_matching_member():
    con = _db(
        [member("H1", "张三", pid(1975), "户主", health="健康"),
         member("H2", "李四", pid(1975), "户主", health="长期慢性病"),
         member("H3", "王五", pid(1975), "户主", school_status=None),
         member("H3", "王六", pid(2010), "之子", school_status=None)],
        [household("H1", "张三", cause="因病"), household("H2", "李四", cause="因残"),
         household("H3", "王五", cause="因学"), household("H4", "赵六", cause="因病")],
    )
    issues = run(con, PERIOD, only={"HH-09"})
    assert hkeys(issues, "HH-09") == {"H1", "H2", "H3", "H4"}
    by = {i["household_id"]: i for i in fired(issues, "HH-09")}
    assert (by["H1"]["field"], by["H1"]["value"], by["H1"]["severity"]) == ("cause", "因病", "suspect")


def test_hh09_silent_when_a_member_matches_or_cause_is_other():
    con = _db(
        [member("H1", "张三", pid(1975), "户主", health="患有大病"),
         member("H2", "李四", pid(1975), "户主", health="残疾"),
         member("H3", "王五", pid(1975), "户主"),
         member("H3", "王六", pid(2012), "之子", school_status="送教上门"),
         member("H4", "赵六", pid(1975), "户主"),
         member("H5", "钱七", pid(1975), "户主")],
        [household("H1", "张三", cause="因病"), household("H2", "李四", cause="因残"),
         household("H3", "王五", cause="因学"), household("H4", "赵六", cause="缺资金"),
         household("H5", "钱七", cause=None)],
    )
    issues = run(con, PERIOD, only={"HH-09"})
    assert fired(issues, "HH-09") == []


# --- evidence and detail never depend on R or become NULL -----------------------

def test_hh06_evidence_is_equal_across_periods_when_data_is_unchanged():
    young = pid(2012, 3, 1)
    ev = []
    for period in ("2026-10", "2027-02"):
        con = _db([member("H1", "小张", young, "户主")])
        ev.append(fired(run(con, period, only={"HH-06"}), "HH-06")[0]["evidence"])
    assert ev[0] == ev[1] and "2026" not in ev[0]


def test_hh01_and_hh05_detail_survives_unnamed_members():
    con = _db([
        member("H1", None, pid(1980), "户主"), member("H1", None, pid(1981), "户主"),
        member("H2", "张三", pid(1980, male=True), "户主"),
        member("H2", None, pid(1981, male=False), "配偶"), member("H2", None, pid(1982, male=False), "配偶"),
    ])
    issues = run(con, PERIOD, only={"HH-01", "HH-05"})
    h1 = fired(issues, "HH-01")[0]
    assert "有2名户主" in h1["message"]
    h5 = fired(issues, "HH-05")[0]
    assert "2名配偶" in h5["message"]


def test_hh01_hh03_messages_without_a_head_name():
    con = _db([member("H1", "张三", pid(1980), "户主"), member("H2", "李四", pid(1980), "配偶")],
              [household("H1", "张三")])
    by = {(i["rule_id"], i["household_id"]): i["message"]
          for i in run(con, PERIOD, only={"HH-01", "HH-03"})}
    assert by[("HH-01", "H2")].startswith("户编号H2没有户主")
    assert by[("HH-03", "H2")].startswith("户编号H2在家庭成员表中有成员")
    assert "（户）" not in "".join(by.values())
    con = _db([member("H1", "张三", pid(1980), "户主")], [household("H1", "张三"), household("H3", "王五")])
    by = {(i["rule_id"], i["household_id"]): i["message"]
          for i in run(con, PERIOD, only={"HH-01", "HH-03"})}
    assert by[("HH-01", "H3")].startswith("户编号H3（王五户）没有户主")
