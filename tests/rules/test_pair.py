"""PAIR-01..11 on hand-built tables. R of 2026-10 is 2026-10-31."""
import datetime as dt

from ruleutil import add, fired, household, member, new_db, pid, run
from schemas.ids import to18

PERIOD = "2026-10"
R = dt.date(2026, 10, 31)
D = dt.date


def pairing(hh, helper, start, end=None, name=None):
    return dict(household_id=hh, helper_id_number=helper, helper_name=name, start_on=start, end_on=end)


def helper(id_number, name="李帮扶", **kw):
    row = dict(name=name, id_number=id_number, phone="13812345678", unit="县扶贫办",
               unit_level="县级", rank="科员")
    row.update(kw)
    return row


def hh_keys(issues, rule_id):
    return {i["household_id"] for i in fired(issues, rule_id)}


def _db(households=(), pairings=(), helpers=(), members=()):
    con = new_db()
    if members:
        add(con, "members", list(members))
    if households:
        add(con, "households", [household(h, "户主" + h) if isinstance(h, str) else h for h in households])
    if pairings:
        add(con, "pairings", list(pairings))
    if helpers:
        add(con, "helpers", list(helpers))
    return con


def id15(yymmdd="750615", seq="123"):
    """A structurally valid 15-digit legacy ID."""
    return "430624" + yymmdd + seq


# --- PAIR-01 -----------------------------------------------------------------

def test_pair01_fires_for_every_household_active_on_an_over_limit_day():
    a, b = pid(1970), pid(1971)
    rows = [pairing(f"A{i}", a, D(2020, 1, 1)) for i in range(1, 6)]       # five, open-ended
    rows.append(pairing("A6", a, D(2021, 3, 1), D(2021, 3, 1)))           # a sixth for one day
    rows.append(pairing("A7", a, D(2021, 3, 2), D(2021, 5, 1)))           # starts the day after: 6 again
    rows.append(pairing("A8", a, D(2019, 1, 1), D(2019, 12, 31)))         # over before the five started
    rows.append(pairing("B1", b, D(2020, 1, 1)))
    con = _db(pairings=rows)
    issues = run(con, PERIOD, only={"PAIR-01"})
    got = fired(issues, "PAIR-01")
    assert hh_keys(issues, "PAIR-01") == {"A1", "A2", "A3", "A4", "A5", "A6", "A7"}
    assert {(i["helper_id_number"], i["severity"]) for i in got} == {(a, "error")}
    ev = got[0]["evidence"]
    assert '"max_active_households":6' in ev and '"first_day_over_limit":"2021-03-01"' in ev
    assert "6户" in got[0]["message"]


def test_pair01_six_households_never_more_than_five_at_once_is_silent():
    a = pid(1970)
    rows = [pairing(f"A{i}", a, D(2020, 1, 1)) for i in range(1, 5)]        # four open-ended
    rows.append(pairing("A5", a, D(2020, 1, 1), D(2021, 6, 30)))           # fifth ends 06-30 ...
    rows.append(pairing("A6", a, D(2021, 7, 1)))                           # ... sixth starts 07-01
    # the same household twice (overlapping spells) is one household, not two
    rows.append(pairing("A1", a, D(2020, 6, 1), D(2020, 12, 31)))
    # a pairing that only starts after R does not count (d <= R); one with end < start neither
    rows.append(pairing("A7", a, D(2026, 11, 1)))
    rows.append(pairing("A8", a, D(2022, 5, 1), D(2022, 4, 1)))
    con = _db(pairings=rows)
    assert fired(run(con, PERIOD, only={"PAIR-01"}), "PAIR-01") == []


def test_pair01_end_day_equal_to_start_day_overlaps_and_limit_is_a_parameter():
    a = pid(1970)
    rows = [pairing(f"A{i}", a, D(2020, 1, 1)) for i in range(1, 5)]
    rows.append(pairing("A5", a, D(2020, 1, 1), D(2021, 7, 1)))            # ends 07-01 ...
    rows.append(pairing("A6", a, D(2021, 7, 1)))                           # ... sixth starts 07-01
    con = _db(pairings=rows)
    issues = run(con, PERIOD, only={"PAIR-01"})
    assert hh_keys(issues, "PAIR-01") == {f"A{i}" for i in range(1, 7)}
    # with the local limit of 3 (004 篇7), three households at once is still fine, two is over 2
    three = [pairing("X1", a, D(2020, 1, 1)), pairing("X2", a, D(2020, 1, 1)), pairing("X3", a, D(2020, 1, 1))]
    assert fired(run(_db(pairings=three), PERIOD, {"max_households_per_helper": 3},
                     only={"PAIR-01"}), "PAIR-01") == []
    assert len(fired(run(_db(pairings=three), PERIOD, {"max_households_per_helper": 2},
                         only={"PAIR-01"}), "PAIR-01")) == 3


def test_pair01_counts_a_helper_once_whether_written_as_15_or_18_digits():
    legacy = id15()
    rows = [pairing(f"A{i}", legacy, D(2020, 1, 1)) for i in range(1, 4)]
    rows += [pairing(f"A{i}", to18(legacy), D(2020, 1, 1)) for i in range(4, 7)]
    con = _db(pairings=rows)
    issues = run(con, PERIOD, only={"PAIR-01"})
    assert hh_keys(issues, "PAIR-01") == {f"A{i}" for i in range(1, 7)}
    assert {i["helper_id_number"] for i in fired(issues, "PAIR-01")} == {to18(legacy)}


# --- PAIR-02 -----------------------------------------------------------------

def test_pair02_fires_per_helper_when_pairing_starts_before_recognition():
    a, b, c = pid(1970), pid(1971), pid(1972)
    con = _db(households=[household("H1", "张一", recognized_on=D(2016, 3, 1))],
              pairings=[pairing("H1", a, D(2016, 2, 29)), pairing("H1", a, D(2015, 1, 1), D(2015, 6, 1)),
                        pairing("H1", b, D(2016, 1, 1)), pairing("H1", c, D(2016, 3, 1))])
    issues = run(con, PERIOD, only={"PAIR-02"})
    got = {i["helper_id_number"]: i for i in fired(issues, "PAIR-02")}
    assert set(got) == {a, b}
    assert (got[a]["household_id"], got[a]["field"], got[a]["value"]) == ("H1", "start_on", "2015-01-01")
    assert got[a]["severity"] == "error"
    assert got[a]["issue_id"] != got[b]["issue_id"]


def test_pair02_silent_on_same_day_and_without_recognition_date():
    a = pid(1970)
    con = _db(households=[household("H1", "张一", recognized_on=D(2016, 3, 1)),
                          household("H2", "张二", recognized_on=None)],
              pairings=[pairing("H1", a, D(2016, 3, 1)), pairing("H2", a, D(2010, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-02"}), "PAIR-02") == []


# --- PAIR-03 -----------------------------------------------------------------

def test_pair03_fires_for_households_without_a_pairing_active_on_R():
    a = pid(1970)
    con = _db(households=["H1", "H2", "H3", household("H4", "赵四", status="已脱贫")],
              pairings=[pairing("H1", a, D(2016, 1, 1), D(2026, 10, 30)),   # ended the day before R
                        pairing("H2", a, D(2026, 11, 1)),                   # starts after R
                        pairing("H4", a, D(2016, 1, 1), D(2019, 12, 31))])
    issues = run(con, PERIOD, only={"PAIR-03"})
    assert hh_keys(issues, "PAIR-03") == {"H1", "H2", "H3", "H4"}
    assert all(i["severity"] == "error" for i in fired(issues, "PAIR-03"))


def test_pair03_silent_when_pairing_ends_or_starts_on_R():
    a = pid(1970)
    con = _db(households=["H1", "H2", "H3"],
              pairings=[pairing("H1", a, D(2016, 1, 1), R), pairing("H2", a, R),
                        pairing("H3", a, D(2016, 1, 1), D(2017, 1, 1)), pairing("H3", a, D(2018, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-03"}), "PAIR-03") == []


def test_pair03_skipped_without_pairings():
    con = _db(households=["H1"])
    issues = run(con, PERIOD, only={"PAIR-03", "PAIR-01", "PAIR-08"})
    assert fired(issues, "PAIR-03") == []
    for rid in ("PAIR-03", "PAIR-01", "PAIR-08"):
        assert run.results[rid].status == "skipped"
        assert "pairings" in run.results[rid].reason


# --- PAIR-04 -----------------------------------------------------------------

def test_pair04_fires_on_end_before_start_future_start_or_future_end():
    a, b, c = pid(1970), pid(1971), pid(1972)
    con = _db(pairings=[pairing("H1", a, D(2020, 5, 1), D(2020, 4, 30)),
                        pairing("H2", b, D(2026, 11, 1)),
                        pairing("H3", c, D(2020, 1, 1), D(2026, 11, 1)),
                        pairing("H3", a, D(2020, 1, 1), D(2026, 12, 31))])
    issues = run(con, PERIOD, only={"PAIR-04"})
    got = {(i["household_id"], i["helper_id_number"]): i for i in fired(issues, "PAIR-04")}
    assert set(got) == {("H1", a), ("H2", b), ("H3", c), ("H3", a)}
    assert (got[("H1", a)]["field"], got[("H1", a)]["value"]) == ("end_on", "2020-04-30")
    assert (got[("H2", b)]["field"], got[("H2", b)]["value"]) == ("start_on", "2026-11-01")
    assert (got[("H3", c)]["field"], got[("H3", c)]["value"]) == ("end_on", "2026-11-01")
    assert "结束时间早于开始时间" in got[("H1", a)]["message"]


def test_pair04_silent_on_equal_dates_and_end_on_R():
    a = pid(1970)
    con = _db(pairings=[pairing("H1", a, D(2020, 5, 1), D(2020, 5, 1)),
                        pairing("H2", a, R, R), pairing("H3", a, D(2020, 1, 1), None),
                        pairing("H4", a, None, D(2020, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-04"}), "PAIR-04") == []


# --- PAIR-05 -----------------------------------------------------------------

def test_pair05_fires_on_gap_longer_than_max_between_merged_spells():
    a, b = pid(1970), pid(1971)
    con = _db(pairings=[
        # H1: 2020-01-31 end, next start 2020-03-03: 31 days strictly between (Feb has 29 in 2020... 02-01..03-02)
        pairing("H1", a, D(2019, 1, 1), D(2020, 1, 31)), pairing("H1", b, D(2020, 3, 3)),
        # H2: a long spell covers a short one; the gap is measured from the running end
        pairing("H2", a, D(2016, 1, 1), D(2020, 12, 31)), pairing("H2", b, D(2017, 1, 1), D(2017, 2, 1)),
        pairing("H2", b, D(2021, 3, 1), D(2021, 3, 31)), pairing("H2", a, D(2022, 1, 1)),
    ])
    issues = run(con, PERIOD, only={"PAIR-05"})
    got = {i["household_id"]: i for i in fired(issues, "PAIR-05")}
    assert set(got) == {"H1", "H2"}
    assert '"days":31' in got["H1"]["evidence"] and '"from":"2020-02-01"' in got["H1"]["evidence"]
    assert (got["H1"]["field"], got["H1"]["value"]) == ("start_on", None)     # several rows compared
    # H2 has two gaps: 2021-01-01..2021-02-28 (59 days) and 2021-04-01..2021-12-31 (275 days)
    assert '"days":59' in got["H2"]["evidence"] and '"days":275' in got["H2"]["evidence"]
    assert got["H2"]["severity"] == "error"
    assert "275天" in got["H2"]["message"]


def test_pair05_silent_on_gap_of_exactly_max_trailing_gap_and_covered_gap():
    a, b = pid(1970), pid(1971)
    rows = [
        # exactly 30 days strictly between: 2020-02-01 .. 2020-03-01
        pairing("H1", a, D(2019, 1, 1), D(2020, 1, 31)), pairing("H1", b, D(2020, 3, 2)),
        # trailing gap to R is PAIR-03's business
        pairing("H2", a, D(2016, 1, 1), D(2018, 1, 1)),
        # a gap in one helper's spells covered by another helper
        pairing("H3", a, D(2016, 1, 1), D(2017, 1, 1)), pairing("H3", a, D(2019, 1, 1)),
        pairing("H3", b, D(2016, 6, 1), D(2019, 1, 1)),
        # an end after R counts as R; a spell starting after R is not valid
        pairing("H4", a, D(2016, 1, 1), D(2030, 1, 1)), pairing("H4", b, D(2027, 6, 1)),
        # an invalid spell (end before start) does not open a gap
        pairing("H5", a, D(2016, 1, 1), D(2017, 1, 1)), pairing("H5", b, D(2018, 1, 1), D(2017, 6, 1)),
        pairing("H5", b, D(2017, 1, 15)),
    ]
    assert fired(run(_db(pairings=rows), PERIOD, only={"PAIR-05"}), "PAIR-05") == []
    # the maximum is a parameter: 30 days strictly between exceeds a limit of 29
    assert hh_keys(run(_db(pairings=rows), PERIOD, {"max_pairing_gap_days": 29},
                       only={"PAIR-05"}), "PAIR-05") == {"H1"}


# --- PAIR-06 -----------------------------------------------------------------

def test_pair06_helper_who_is_a_member_goes_to_the_members_household():
    legacy = id15("800101", "231")
    m1, m2 = pid(1985), to18(legacy)
    con = _db(members=[member("H1", "张三", m1, "户主"), member("H2", "李四", m2, "户主")],
              helpers=[helper(m1, "张三"), helper(legacy, "李四"), helper(pid(1960), "王五")])
    issues = run(con, PERIOD, only={"PAIR-06"})
    got = {i["household_id"]: i for i in fired(issues, "PAIR-06")}
    assert set(got) == {"H1", "H2"}
    assert (got["H1"]["id_number"], got["H1"]["person_name"]) == (m1, "张三")
    assert got["H2"]["helper_id_number"] == m2 and got["H2"]["value"] == legacy
    assert got["H1"]["severity"] == "error"


def test_pair06_silent_for_invalid_member_id_and_non_members():
    m = pid(1985)
    bad = m[:17] + ("0" if m[17] != "0" else "1")
    con = _db(members=[member("H1", "张三", bad, "户主")],
              helpers=[helper(bad, "张三"), helper(pid(1960), "王五")])
    assert fired(run(con, PERIOD, only={"PAIR-06"}), "PAIR-06") == []


# --- PAIR-07 -----------------------------------------------------------------

def test_pair07_fires_on_bad_id_phone_unit_and_out_of_domain_values():
    good = pid(1970)
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    h_phone, h_unit, h_level, h_many = pid(1971), pid(1972), pid(1973), pid(1974)
    con = _db(helpers=[
        helper(bad_check, "甲"),
        helper("4.30521198503123E+17", "乙"),                 # rounded by Excel: ID-01
        helper(h_phone, "丙", phone="1381234567"),            # 10 digits
        helper(h_unit, "丁", unit=None),
        helper(h_level, "戊", unit_level=None),               # nulled by the loader, raw value below
        helper(h_many, "己", phone="12812345678", rank=None),
        helper(pid(1975), "庚", phone="+86 138-1234-5678"),   # fine
    ])
    rid = {r[0]: r[1] for r in con.execute("SELECT id_number, _rid FROM helpers").fetchall()}
    con.execute("""INSERT INTO schema_findings (rule_id, "table", field, value, _rid)
                   VALUES ('SCH-02', 'helpers', 'unit_level', '省直', ?),
                          ('SCH-02', 'helpers', 'rank', '处级', ?),
                          ('SCH-02', 'members', 'rank', '处级', ?)""",
                [rid[h_level], rid[h_many], rid[h_phone]])
    issues = run(con, PERIOD, only={"PAIR-07"})
    got = {i["helper_id_number"]: i for i in fired(issues, "PAIR-07")}
    assert set(got) == {bad_check, "4.30521198503123E+17", h_phone, h_unit, h_level, h_many}
    assert (got[bad_check]["field"], got[bad_check]["value"]) == ("id_number", bad_check)
    assert (got[h_phone]["field"], got[h_phone]["value"]) == ("phone", "1381234567")
    assert got[h_unit]["field"] == "unit"
    assert (got[h_level]["field"], got[h_level]["value"]) == ("unit_level", "省直")
    assert got[h_many]["field"] == "phone" and "处级" in got[h_many]["message"]
    assert got[h_phone]["household_id"] is None and got[h_phone]["person_name"] == "丙"
    assert "处级" not in got[h_phone]["message"]   # a finding of another table does not count
    assert all(i["severity"] == "error" for i in got.values())
    assert len(fired(issues, "PAIR-07")) == 6       # one issue per helper


def test_pair07_silent_for_clean_helpers_legacy_id_leading_86_and_empty_optionals():
    con = _db(helpers=[
        helper(pid(1970), phone="8613812345678"),
        helper(id15(), phone="138 1234 5678", unit_level=None, rank=None),
        helper(pid(1971), phone="19912345678"),
        helper(pid(1972), phone=None),     # empty: SCH-04's business, not a format error
    ])
    assert fired(run(con, PERIOD, only={"PAIR-07"}), "PAIR-07") == []


# --- PAIR-08 -----------------------------------------------------------------

def test_pair08_fires_for_pairing_helper_not_in_roster():
    known, unknown = pid(1970), pid(1971)
    con = _db(pairings=[pairing("H1", known, D(2020, 1, 1)),
                        pairing("H1", unknown, D(2020, 1, 1), D(2020, 6, 1), name="周某"),
                        pairing("H1", unknown, D(2021, 1, 1), name="周某"),
                        pairing("H2", unknown, D(2021, 1, 1), name="周某")],
              helpers=[helper(known)])
    issues = run(con, PERIOD, only={"PAIR-08"})
    assert {(i["household_id"], i["helper_id_number"]) for i in fired(issues, "PAIR-08")} == \
        {("H1", unknown), ("H2", unknown)}
    assert "周某" in fired(issues, "PAIR-08")[0]["message"]


def test_pair08_silent_when_roster_has_the_helper_in_another_id_form():
    legacy = id15()
    con = _db(pairings=[pairing("H1", to18(legacy), D(2020, 1, 1))], helpers=[helper(legacy)])
    assert fired(run(con, PERIOD, only={"PAIR-08"}), "PAIR-08") == []


def test_pair08_skipped_without_helpers():
    con = _db(pairings=[pairing("H1", pid(1970), D(2020, 1, 1))])
    run(con, PERIOD, only={"PAIR-08", "PAIR-07", "PAIR-06"})
    assert run.results["PAIR-08"].status == "skipped"
    assert run.results["PAIR-07"].status == "skipped"


# --- PAIR-09 -----------------------------------------------------------------

def test_pair09_fires_once_per_unknown_household():
    a, b = pid(1970), pid(1971)
    con = _db(households=["H1"], members=[member("H2", "王二", pid(1980), "户主")],
              pairings=[pairing("H1", a, D(2020, 1, 1)), pairing("H2", a, D(2020, 1, 1)),
                        pairing("H9", a, D(2020, 1, 1)), pairing("H9", b, D(2020, 1, 1))])
    issues = run(con, PERIOD, only={"PAIR-09"})
    assert sorted(i["household_id"] for i in fired(issues, "PAIR-09")) == ["H2", "H9"]
    h9 = [i for i in fired(issues, "PAIR-09") if i["household_id"] == "H9"][0]
    assert (h9["field"], h9["value"], h9["severity"]) == ("household_id", "H9", "error")


def test_pair09_silent_for_registered_households():
    con = _db(households=["H1", "H2"], pairings=[pairing("H1", pid(1970), D(2020, 1, 1)),
                                                 pairing("H2", pid(1971), D(2020, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-09"}), "PAIR-09") == []


# --- PAIR-10 -----------------------------------------------------------------

def test_pair10_fires_when_pairing_active_after_helper_death():
    dead, dead15 = pid(1950), id15("520101", "111")
    con = _db(pairings=[pairing("H1", dead, D(2016, 1, 1)),
                        pairing("H2", dead, D(2016, 1, 1), D(2025, 1, 2)),       # active 01-02 > 01-01
                        pairing("H3", to18(dead15), D(2016, 1, 1))])
    add(con, "hukou", [dict(name="死者", id_number=dead, hukou_status="死亡注销", changed_on=D(2025, 1, 1)),
                       dict(name="死者", id_number=dead, hukou_status="死亡注销", changed_on=D(2026, 1, 1)),
                       dict(name="老者", id_number=dead15, hukou_status="死亡注销", changed_on=D(2020, 1, 1))])
    issues = run(con, PERIOD, only={"PAIR-10"})
    got = {i["household_id"]: i for i in fired(issues, "PAIR-10")}
    assert set(got) == {"H1", "H2", "H3"}
    assert got["H1"]["helper_id_number"] == dead and got["H1"]["source"] == "hukou"
    assert '"died_on":"2025-01-01"' in got["H1"]["evidence"]
    assert got["H3"]["helper_id_number"] == to18(dead15)


def test_pair10_silent_when_pairing_ends_on_death_day_or_no_date_or_alive():
    dead, undated, alive = pid(1950), pid(1951), pid(1952)
    con = _db(pairings=[pairing("H1", dead, D(2016, 1, 1), D(2025, 1, 1)),
                        pairing("H2", dead, D(2026, 11, 1)),          # starts after R
                        pairing("H3", undated, D(2016, 1, 1)),
                        pairing("H4", alive, D(2016, 1, 1))])
    add(con, "hukou", [dict(id_number=dead, hukou_status="死亡注销", changed_on=D(2025, 1, 1)),
                       dict(id_number=undated, hukou_status="死亡注销", changed_on=None),
                       dict(id_number=alive, hukou_status="迁出", changed_on=D(2020, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-10"}), "PAIR-10") == []


def test_pair10_skipped_without_hukou():
    con = _db(pairings=[pairing("H1", pid(1950), D(2016, 1, 1))])
    run(con, PERIOD, only={"PAIR-10"})
    assert run.results["PAIR-10"].status == "skipped"
    assert run.results["PAIR-10"].reason == "missing table: hukou"


# --- PAIR-11 -----------------------------------------------------------------

def test_pair11_fires_for_two_distinct_helpers_active_on_R():
    a, b = pid(1970), pid(1971)
    con = _db(pairings=[pairing("H1", a, D(2016, 1, 1)), pairing("H1", b, D(2020, 1, 1), R)])
    issues = run(con, PERIOD, only={"PAIR-11"})
    got = fired(issues, "PAIR-11")
    assert [i["household_id"] for i in got] == ["H1"]
    assert got[0]["severity"] == "suspect"
    assert got[0]["value"] is None              # two helpers' rows compared: not two IDs joined


def test_pair11_silent_for_successive_helpers_and_same_helper_twice():
    a, b = pid(1970), pid(1971)
    legacy = id15()
    con = _db(pairings=[pairing("H1", a, D(2016, 1, 1), D(2026, 10, 30)), pairing("H1", b, D(2026, 10, 31)),
                        pairing("H2", a, D(2016, 1, 1)), pairing("H2", a, D(2018, 1, 1)),
                        pairing("H3", legacy, D(2016, 1, 1)), pairing("H3", to18(legacy), D(2018, 1, 1))])
    assert fired(run(con, PERIOD, only={"PAIR-11"}), "PAIR-11") == []


def test_pair10_pairing_without_start_date_is_never_active():
    """greatest() skips NULLs: a pairing with no start_on must not count as active after the death."""
    dead = pid(1950)
    con = _db(pairings=[pairing("H1", dead, None), pairing("H2", dead, None, D(2026, 1, 1)),
                        pairing("H3", dead, D(2025, 1, 1))])
    add(con, "hukou", [dict(id_number=dead, hukou_status="死亡注销", changed_on=D(2025, 6, 1))])
    assert hh_keys(run(con, PERIOD, only={"PAIR-10"}), "PAIR-10") == {"H3"}


# --- messages -------------------------------------------------------------------

def test_pair_messages_name_the_household_registered_or_not():
    a, b, dead = pid(1970), pid(1971), pid(1950)
    rows = [pairing(f"A{i}", a, D(2020, 1, 1)) for i in range(1, 7)]           # PAIR-01 (A* unregistered)
    rows += [pairing("H1", b, D(2010, 1, 1), D(2012, 1, 1), name="周某"),      # PAIR-02, 05, 08
             pairing("H1", a, D(2014, 1, 1), D(2030, 1, 1)),                   # PAIR-04
             pairing("H1", dead, D(2015, 1, 1)),                               # PAIR-10, 11
             pairing("X9", a, D(2020, 1, 1), D(2030, 1, 1))]                   # unregistered PAIR-04
    con = _db(households=[household("H1", "张一", recognized_on=D(2016, 3, 1)), "H2"],
              members=[member("H1", "张一", pid(1960), "户主")],
              pairings=rows, helpers=[helper(a, "李帮扶"), helper(dead, "")])
    add(con, "hukou", [dict(id_number=dead, hukou_status="死亡注销", changed_on=D(2020, 1, 1))])
    issues = [i for i in run(con, PERIOD) if i["rule_id"].startswith("PAIR")]
    assert {i["rule_id"] for i in issues} >= {f"PAIR-{n:02d}" for n in (1, 2, 3, 4, 5, 8, 9, 10, 11)}
    for i in issues:
        assert i["message"] and "None" not in i["message"], i
        if i["rule_id"] in ("PAIR-06", "PAIR-07"):
            continue
        if i["household_id"] == "H1":
            assert "张一户（户编号H1）" in i["message"], i["message"]
        else:
            assert f"户编号{i['household_id']}" in i["message"], i["message"]
    p04 = {i["household_id"]: i["message"] for i in fired(issues, "PAIR-04")}
    assert p04["X9"].startswith("户编号X9的结对时间错误")
    p09 = {i["household_id"]: i["message"] for i in fired(issues, "PAIR-09")}
    assert "李帮扶" in p09["A1"]                       # the roster name, not 姓名不详


def test_pair_values_are_the_cells_as_given():
    """value is the cell of the pairing as written (a 15-digit helper ID stays 15 digits), one value
    or none (issue F)."""
    legacy = id15("700101", "123")
    con = _db(households=["H0"],
              pairings=[pairing("H0", legacy, D(2020, 1, 1))] + [pairing(f"H{k + 1}", to18(legacy), D(2020, 1, 1))
                                                                for k in range(5)],
              helpers=[helper(to18(legacy))])
    add(con, "hukou", [dict(name="故", id_number=legacy, hukou_status="死亡注销", changed_on=D(2021, 1, 1))])
    issues = run(con, PERIOD, only={"PAIR-01", "PAIR-10"})
    p01 = {i["household_id"]: i for i in fired(issues, "PAIR-01")}
    assert p01["H0"]["helper_id_number"] == to18(legacy) and p01["H0"]["value"] == legacy
    assert p01["H1"]["value"] == to18(legacy)
    p10 = {i["household_id"]: i for i in fired(issues, "PAIR-10")}
    assert p10["H0"]["value"] == legacy


def test_pair08_value_empty_when_the_pairing_rows_spell_the_helper_differently():
    legacy = id15("700101", "123")
    con = _db(households=["H1"], pairings=[pairing("H1", legacy, D(2020, 1, 1)),
                                          pairing("H1", to18(legacy), D(2021, 1, 1))],
              helpers=[helper(pid(1960))])
    (i,) = fired(run(con, PERIOD, only={"PAIR-08"}), "PAIR-08")
    assert i["value"] is None
