"""INC-01..05 on hand-built tables. R of 2026-10 is 2026-10-31: poverty line 4000,
monitoring line 7500 (the last listed value, 2025)."""
import json

from ruleutil import add, fired, household, member, new_db, pid, run

PERIOD = "2026-10"


def hh_keys(issues, rule_id):
    return {i["household_id"] for i in issues if i["rule_id"] == rule_id}


def bad(idn: str) -> str:
    return idn[:17] + ("0" if idn[-1] != "0" else "1")


def _db(hhs, mems=None):
    con = new_db()
    add(con, "households", hhs)
    add(con, "members", mems if mems is not None else
        [member(h["household_id"], h["head_name"], pid(1980), "户主") for h in hhs])
    return con


def _inc(hid, name, recorded, wage, size=1, **kw):
    row = dict(size=size, income_per_capita=recorded, wage_income=wage, business_income=0.0,
               property_income=0.0, transfer_income=0.0, business_cost=0.0)
    row.update(kw)
    return household(hid, name, **row)


# --- INC-01 ------------------------------------------------------------------

def test_inc01_fires_just_beyond_tolerance():
    con = _db([
        _inc("H1", "甲", 510.01, 500.0),               # tol = max(10, 5) = 10
        _inc("H2", "乙", 489.99, 500.0),
        _inc("H3", "丙", 10100.01, 20000.0, size=2),   # computed 10000, tol = 100
        household("H4", "丁", size=3, income_per_capita=9000.0, wage_income=12000.0,
                  business_income=6000.0, property_income=0.0, transfer_income=3000.0,
                  business_cost=3000.0),               # computed 6000
    ])
    issues = run(con, PERIOD, only={"INC-01"})
    assert hh_keys(issues, "INC-01") == {"H1", "H2", "H3", "H4"}
    i = [x for x in fired(issues, "INC-01") if x["household_id"] == "H4"][0]
    assert (i["field"], i["value"], i["severity"]) == ("income_per_capita", "9000", "error")
    assert json.loads(i["evidence"])["computed"] == 6000


def test_inc01_silent_exactly_on_tolerance_and_when_incomplete():
    con = _db([
        _inc("H1", "甲", 510.0, 500.0),                # diff exactly 10
        _inc("H2", "乙", 490.0, 500.0),
        _inc("H3", "丙", 10100.0, 20000.0, size=2),    # diff exactly 1% of 10000
        _inc("H4", "丁", 9900.0, 20000.0, size=2),
        _inc("H5", "戊", 99999.0, 500.0, property_income=None),    # component empty
        _inc("H6", "己", 99999.0, 500.0, size=0),
        _inc("H7", "庚", None, 500.0),
    ])
    assert hh_keys(run(con, PERIOD, only={"INC-01"}), "INC-01") == set()


def test_inc01_tolerance_parameters():
    con = _db([_inc("H1", "甲", 505.0, 500.0)])
    issues = run(con, PERIOD, params={"income_tolerance": {"abs": 1, "rel": 0.001}}, only={"INC-01"})
    assert hh_keys(issues, "INC-01") == {"H1"}


# --- INC-02 ------------------------------------------------------------------

def test_inc02_fires_below_line():
    con = _db([household("H1", "甲", income_per_capita=3999.99)])
    issues = run(con, PERIOD, only={"INC-02"})
    assert hh_keys(issues, "INC-02") == {"H1"}
    i = fired(issues, "INC-02")[0]
    assert (i["field"], i["value"], i["severity"]) == ("income_per_capita", "3999.99", "error")
    assert json.loads(i["evidence"])["poverty_line"] == 4000


def test_inc02_silent_at_line_or_not_exited_or_empty():
    con = _db([household("H1", "甲", income_per_capita=4000.0),
               household("H2", "乙", income_per_capita=1000.0, status="未脱贫"),
               household("H3", "丙", income_per_capita=None)])
    assert hh_keys(run(con, PERIOD, only={"INC-02"}), "INC-02") == set()


def test_inc02_uses_year_line_and_skips_year_without_line():
    con = _db([household("H1", "甲", income_per_capita=2900.0)])
    assert hh_keys(run(con, "2015-12", only={"INC-02"}), "INC-02") == set()   # 2855
    con = _db([household("H1", "甲", income_per_capita=2900.0)])
    assert hh_keys(run(con, "2016-12", only={"INC-02"}), "INC-02") == {"H1"}  # 2952
    con = _db([household("H1", "甲", income_per_capita=100.0)])
    assert run(con, "2013-12", only={"INC-02"}) == []
    assert run.results["INC-02"].status == "skipped"
    assert "poverty_line" in run.results["INC-02"].reason


# --- INC-03 ------------------------------------------------------------------

def test_inc03_fires_for_negative_or_out_of_range():
    con = _db([household("H1", "甲", property_income=-5.0),
               household("H2", "乙", income_per_capita=0.0),
               household("H3", "丙", income_per_capita=60000.01),
               household("H4", "丁", business_cost=-1.0, income_per_capita=-3.0)])
    issues = run(con, PERIOD, only={"INC-03"})
    assert hh_keys(issues, "INC-03") == {"H1", "H2", "H3", "H4"}
    by = {i["household_id"]: i for i in fired(issues, "INC-03")}
    assert (by["H1"]["field"], by["H1"]["value"], by["H1"]["severity"]) == \
        ("property_income", "-5", "suspect")
    assert by["H3"]["field"] == "income_per_capita"
    assert len([i for i in issues if i["household_id"] == "H4"]) == 1


def test_inc03_silent_on_bounds_and_empty():
    con = _db([household("H1", "甲", income_per_capita=60000.0, wage_income=60000.0),
               household("H2", "乙", income_per_capita=0.01),
               household("H3", "丙", income_per_capita=None, wage_income=None, business_income=None,
                         property_income=None, transfer_income=None, business_cost=None),
               household("H4", "丁", business_cost=0.0, property_income=0.0)])
    assert hh_keys(run(con, PERIOD, only={"INC-03"}), "INC-03") == set()


# --- INC-04 ------------------------------------------------------------------

def test_inc04_fires_between_lines():
    con = _db([household("H1", "甲", income_per_capita=7499.99),
               household("H2", "乙", income_per_capita=4000.0)])     # not below the poverty line
    issues = run(con, PERIOD, only={"INC-04"})
    assert hh_keys(issues, "INC-04") == {"H1", "H2"}
    i = fired(issues, "INC-04")[0]
    assert (i["field"], i["value"], i["severity"]) == ("monitor_type", "无", "suspect")


def test_inc04_silent_at_line_or_monitored_or_inc02():
    con = _db([household("H1", "甲", income_per_capita=7500.0),
               household("H2", "乙", income_per_capita=5000.0, monitor_type="脱贫不稳定户"),
               household("H3", "丙", income_per_capita=3999.0),        # INC-02 instead
               household("H4", "丁", income_per_capita=5000.0, status="返贫"),
               household("H5", "戊", income_per_capita=None)])
    assert hh_keys(run(con, PERIOD, only={"INC-02", "INC-04"}), "INC-04") == set()


def test_inc04_skipped_before_first_monitoring_line():
    con = _db([household("H1", "甲", income_per_capita=5000.0)])
    run(con, "2020-12", only={"INC-04"})
    assert run.results["INC-04"].status == "skipped"
    assert "monitoring_line" in run.results["INC-04"].reason


# --- INC-05 ------------------------------------------------------------------

def test_inc05_fires_for_household_with_idle_labourers():
    con = _db(
        [household("H1", "甲", wage_income=0.0, size=2), household("H2", "乙", wage_income=None),
         household("H3", "丙", wage_income=0.0)],
        [member("H1", "甲", pid(1966, 10, 31), "户主", work_status="无", work_months=0),  # exactly 60
         member("H1", "甲妻", pid(1950), "配偶", labor="无劳动力", work_status=None,
                work_months=None),          # empty work_status is not "other than 无"
         member("H2", "乙", pid(2010, 10, 31), "户主", labor="技能劳动力", work_status="无",
                work_months=0),             # exactly 16
         member("H3", "丙", pid(1980), "户主", work_status=None, work_months=None)])
    issues = run(con, PERIOD, only={"INC-05"})
    assert hh_keys(issues, "INC-05") == {"H1", "H2", "H3"}
    i = [x for x in fired(issues, "INC-05") if x["household_id"] == "H1"][0]
    assert (i["field"], i["value"], i["severity"]) == ("wage_income", "0", "suspect")


def test_inc05_silent_when_someone_works_or_wage_or_no_working_age_labour():
    con = _db(
        [household("H1", "甲", wage_income=0.0, size=2), household("H2", "乙", wage_income=100.0),
         household("H3", "丙", wage_income=0.0), household("H4", "丁", wage_income=0.0),
         household("H5", "戊", wage_income=0.0), household("H6", "己", wage_income=0.0)],
        [member("H1", "甲", pid(1980), "户主", work_status="无", work_months=0),
         member("H1", "甲子", pid(2000), "之子", labor="弱劳动力或半劳动力", work_status="公益岗位"),
         member("H2", "乙", pid(1980), "户主", work_status="无", work_months=0),
         member("H3", "丙", pid(1965, 10, 30), "户主", work_status="无", work_months=0),   # 61
         member("H4", "丁", pid(2010, 11, 1), "户主", work_status="无", work_months=0),    # 15
         member("H5", "戊", bad(pid(1980)), "户主", work_status="无", work_months=0),      # invalid ID
         member("H6", "己", pid(1980), "户主", labor="弱劳动力或半劳动力", work_status="无",
                work_months=0)])
    assert hh_keys(run(con, PERIOD, only={"INC-05"}), "INC-05") == set()


def test_inc01_tolerance_is_1pct_of_the_computed_value_not_of_its_magnitude():
    # computed = (0 - 5000) / 1 = -5000: 1% of it is -50, so the tolerance is 10 元
    con = _db([_inc("H1", "甲", -5011.0, 0.0, business_cost=5000.0),     # differs by 11: fires
               _inc("H2", "乙", -5010.0, 0.0, business_cost=5000.0),     # differs by 10: silent
               _inc("H3", "丙", 5049.0, 5000.0)])                         # +5000: tol 50, silent
    assert hh_keys(run(con, PERIOD, only={"INC-01"}), "INC-01") == {"H1"}


def test_inc02_inc04_evidence_equal_across_years_with_the_same_line():
    # monitoring line 7500 in 2025 and (last value) 2026; poverty line 4000 in both
    ev = {}
    for period in ("2025-12", "2026-01"):
        con = _db([household("H1", "甲", income_per_capita=3000.0),
                   household("H2", "乙", income_per_capita=5000.0)])
        for i in run(con, period, only={"INC-02", "INC-04"}):
            ev.setdefault(i["rule_id"], []).append(i["evidence"])
    assert set(ev) == {"INC-02", "INC-04"}
    assert all(a == b for a, b in ev.values())
