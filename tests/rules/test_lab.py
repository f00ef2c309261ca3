"""LAB-01..05 on hand-built tables. R of 2026-10 is 2026-10-31."""
from ruleutil import add, fired, household, keys, member, new_db, pid, run

PERIOD = "2026-10"


def _db(rows, hh=True):
    con = new_db()
    add(con, "members", rows)
    if hh:
        add(con, "households", [household(r["household_id"], r["name"]) for r in rows
                                if r["relation"] == "户主"])
    return con


# --- LAB-01 ------------------------------------------------------------------

def test_lab01_fires_for_child_under_16_with_labor_or_work():
    a = pid(2010, 11, 1)        # 15 on R (16 on 2026-11-01)
    b = pid(2012, 1, 1)         # 14
    head = pid(1980)
    con = _db([
        member("H1", "张大山", head, "户主"),
        member("H1", "张小明", a, "之子", labor="普通劳动力", work_status="无", work_months=0),
        member("H1", "张小红", b, "之女", labor="无劳动力", work_status="省外务工"),
    ])
    issues = run(con, PERIOD, only={"LAB-01"})
    assert keys(issues, "LAB-01") == {("H1", a), ("H1", b)}
    by = {i["id_number"]: i for i in fired(issues, "LAB-01")}
    assert (by[a]["field"], by[a]["value"]) == ("labor", "普通劳动力")
    assert (by[b]["field"], by[b]["value"]) == ("work_status", "省外务工")
    assert by[a]["severity"] == "error"
    assert "张小明" in by[a]["message"]


def test_lab01_silent_at_exactly_16_and_for_clean_child_and_invalid_id():
    sixteen = pid(2010, 10, 31)  # 16th birthday on R
    clean = pid(2015)
    good = pid(2015)
    bad = good[:17] + ("0" if good[-1] != "0" else "1")     # wrong check digit: ID-01
    con = _db([
        member("H1", "李大", pid(1980), "户主"),
        member("H1", "李二", sixteen, "之子", labor="普通劳动力", work_status="省外务工"),
        member("H1", "李三", clean, "之子", labor="无劳动力", work_status="无", work_months=0),
        member("H1", "李四", bad, "之子", labor="普通劳动力", work_status="省外务工"),
        # empty labor / work_status: conditions on values are false when empty
        member("H1", "李五", pid(2014), "之女", labor=None, work_status=None, work_months=None),
    ])
    issues = run(con, PERIOD, only={"LAB-01"})
    assert keys(issues, "LAB-01") == set()


# --- LAB-02 ------------------------------------------------------------------

def test_lab02_fires_at_exactly_65():
    old = pid(1961, 10, 31)     # 65 on R
    con = _db([member("H1", "王老汉", old, "户主", labor="技能劳动力")])
    issues = run(con, PERIOD, only={"LAB-02"})
    assert keys(issues, "LAB-02") == {("H1", old)}
    i = fired(issues, "LAB-02")[0]
    assert (i["field"], i["value"], i["severity"]) == ("labor", "技能劳动力", "suspect")


def test_lab02_silent_at_64_and_for_weak_labor():
    young = pid(1961, 11, 1)    # 64 on R
    old = pid(1950)
    con = _db([
        member("H1", "王一", young, "户主", labor="普通劳动力"),
        member("H1", "王二", old, "之父", labor="弱劳动力或半劳动力"),
    ])
    assert keys(run(con, PERIOD, only={"LAB-02"}), "LAB-02") == set()


# --- LAB-03 ------------------------------------------------------------------

def test_lab03_fires_at_working_age_bounds():
    lo = pid(2010, 10, 31)      # exactly 16
    hi = pid(1966, 1, 1)        # 60
    con = _db([
        member("H1", "赵一", hi, "户主", labor="丧失劳动力"),
        member("H1", "赵二", lo, "之子", labor="无劳动力"),
    ])
    issues = run(con, PERIOD, only={"LAB-03"})
    assert keys(issues, "LAB-03") == {("H1", lo), ("H1", hi)}
    assert {i["severity"] for i in fired(issues, "LAB-03")} == {"suspect"}


def test_lab03_silent_outside_age_or_sick_or_student():
    con = _db([
        member("H1", "赵一", pid(1965, 10, 31), "户主", labor="无劳动力"),   # 61
        member("H1", "赵二", pid(2010, 11, 1), "之子", labor="无劳动力"),    # 15
        member("H1", "赵三", pid(1990), "之女", labor="无劳动力", health="残疾"),
        member("H1", "赵四", pid(2005), "之子", labor="无劳动力", school_status="本科及以上"),
        member("H1", "赵五", pid(1990), "配偶", labor="无劳动力", school_status=None),
    ])
    assert keys(run(con, PERIOD, only={"LAB-03"}), "LAB-03") == set()


# --- LAB-04 ------------------------------------------------------------------

def test_lab04_fires_both_branches():
    a, b, c = pid(1980), pid(1982), pid(1985)
    con = _db([
        member("H1", "孙一", a, "户主", work_status="省外务工", work_months=0),
        member("H1", "孙二", b, "配偶", work_status="公益岗位", work_months=None),
        member("H1", "孙三", c, "之子", work_status="无", work_months=3),
    ])
    issues = run(con, PERIOD, only={"LAB-04"})
    assert keys(issues, "LAB-04") == {("H1", a), ("H1", b), ("H1", c)}
    by = {i["id_number"]: i for i in fired(issues, "LAB-04")}
    assert (by[c]["field"], by[c]["value"]) == ("work_months", "3")
    assert by[b]["value"] is None


def test_lab04_silent_when_consistent_or_status_empty():
    con = _db([
        member("H1", "孙一", pid(1980), "户主", work_status="省外务工", work_months=1),
        member("H1", "孙二", pid(1982), "配偶", work_status="无", work_months=0),
        member("H1", "孙三", pid(1985), "之子", work_status="无", work_months=None),
        member("H1", "孙四", pid(1986), "之女", work_status=None, work_months=5),
    ])
    assert keys(run(con, PERIOD, only={"LAB-04"}), "LAB-04") == set()


# --- LAB-05 ------------------------------------------------------------------

def test_lab05_fires_for_disabled_worker():
    a = pid(1980)
    con = _db([member("H1", "周一", a, "户主", labor="丧失劳动力", work_status="乡镇内务工")])
    issues = run(con, PERIOD, only={"LAB-05"})
    assert keys(issues, "LAB-05") == {("H1", a)}
    i = fired(issues, "LAB-05")[0]
    assert (i["field"], i["value"], i["severity"]) == ("work_status", "乡镇内务工", "suspect")


def test_lab05_silent_for_weak_labor_or_no_work():
    con = _db([
        member("H1", "周一", pid(1980), "户主", labor="弱劳动力或半劳动力", work_status="省外务工"),
        member("H1", "周二", pid(1981), "配偶", labor="无劳动力", work_status="无", work_months=0),
        member("H1", "周三", pid(1950), "之父", labor="无劳动力", work_status=None),
    ])
    assert keys(run(con, PERIOD, only={"LAB-05"}), "LAB-05") == set()


# --- evidence holds the birth date, never the age on R ---------------------------

def test_lab_evidence_equal_across_periods_when_data_is_unchanged():
    import json
    kid, old, idle = pid(2012, 3, 1), pid(1950, 3, 1), pid(1985, 3, 1)
    ev = {}
    for period in ("2026-10", "2027-06"):          # every one of them has a birthday in between
        con = _db([member("H1", "老汉", old, "户主", labor="普通劳动力"),
                   member("H1", "小孩", kid, "之子", labor="普通劳动力", work_status="无", work_months=0),
                   member("H1", "闲人", idle, "之女", labor="无劳动力", work_status="无", work_months=0)])
        for i in run(con, period, only={"LAB-01", "LAB-02", "LAB-03"}):
            ev.setdefault(i["rule_id"], []).append(i["evidence"])
    assert set(ev) == {"LAB-01", "LAB-02", "LAB-03"}
    for rid, (a, b) in ev.items():
        assert a == b, rid
        assert "age" not in json.loads(a) and "birth" in json.loads(a)
