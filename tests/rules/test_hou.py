"""HOU-01..06 and WAT-01 on hand-built tables. R of 2026-10 is 2026-10-31."""
from ruleutil import add, fired, household, keys, member, new_db, pid, run
from schemas.ids import to18

PERIOD = "2026-10"
HH_KEY = lambda issues, rid: {i["household_id"] for i in issues if i["rule_id"] == rid}  # noqa: E731


def bad(idn: str) -> str:
    return idn[:17] + ("0" if idn[-1] != "0" else "1")


def _db(hhs, mems=None):
    con = new_db()
    add(con, "households", hhs)
    add(con, "members", mems if mems is not None else
        [member(h["household_id"], h["head_name"], pid(1970), "户主") for h in hhs])
    return con


def _hr(idn, grade="D", renovation="未改造", method=None, area_after=None, target_type="建档立卡贫困户",
        name="某"):
    return dict(head_name=name, head_id_number=idn, grade=grade, renovation=renovation,
                method=method, area_after=area_after, target_type=target_type)


# --- HOU-01 ------------------------------------------------------------------

def test_hou01_fires_for_c_or_d_marked_secure():
    con = _db([household("H1", "甲", house_grade="C"), household("H2", "乙", house_grade="D")])
    issues = run(con, PERIOD, only={"HOU-01"})
    assert keys(issues, "HOU-01") == {("H1", None), ("H2", None)}
    i = fired(issues, "HOU-01")[0]
    assert (i["field"], i["value"], i["severity"]) == ("housing_secure", "是", "error")
    assert "甲" in i["message"]


def test_hou01_silent_for_b_or_not_secure_or_empty():
    con = _db([household("H1", "甲", house_grade="B"),
               household("H2", "乙", house_grade="D", housing_secure=False),
               household("H3", "丙", house_grade="D", housing_secure=None),
               household("H4", "丁", house_grade="无")])
    assert keys(run(con, PERIOD, only={"HOU-01"}), "HOU-01") == set()


# --- HOU-02 ------------------------------------------------------------------

def test_hou02_fires_for_exited_household_with_unsafe_house():
    con = _db([household("H1", "甲", house_grade="D", housing_secure=False),
               household("H2", "乙", housing_secure=False)])
    issues = run(con, PERIOD, only={"HOU-02"})
    assert keys(issues, "HOU-02") == {("H1", None), ("H2", None)}
    by = {i["household_id"]: i for i in fired(issues, "HOU-02")}
    assert (by["H1"]["field"], by["H1"]["value"]) == ("house_grade", "D")
    assert (by["H2"]["field"], by["H2"]["value"]) == ("housing_secure", "否")


def test_hou02_silent_when_not_exited_or_safe():
    con = _db([household("H1", "甲", status="未脱贫", house_grade="D", housing_secure=False),
               household("H2", "乙", house_grade="B"),
               household("H3", "丙", status=None, housing_secure=False),
               household("H4", "丁", housing_secure=None)])
    assert keys(run(con, PERIOD, only={"HOU-02"}), "HOU-02") == set()


# --- HOU-03 ------------------------------------------------------------------

def test_hou03_fires_for_unrenovated_danger_house_marked_secure():
    spouse = pid(1972, male=False)
    con = _db([household("H1", "甲", size=2)],
              [member("H1", "甲", pid(1970), "户主"), member("H1", "甲妻", spouse, "配偶")])
    add(con, "housing", [_hr(spouse, grade="C", renovation="在建")])
    issues = run(con, PERIOD, only={"HOU-03"})
    assert keys(issues, "HOU-03") == {("H1", None)}
    i = fired(issues, "HOU-03")[0]
    assert (i["severity"], i["source"], i["field"]) == ("error", "housing", "housing_secure")


def test_hou03_silent_when_done_or_not_secure_or_unmatched_or_renovation_empty():
    a, b, c, d = pid(1970), pid(1971), pid(1972), pid(1973)
    con = _db([household("H1", "甲"), household("H2", "乙", housing_secure=False),
               household("H3", "丙"), household("H4", "丁")],
              [member("H1", "甲", a, "户主"), member("H2", "乙", b, "户主"),
               member("H3", "丙", bad(c), "户主"), member("H4", "丁", d, "户主")])
    add(con, "housing", [_hr(a, renovation="已竣工"), _hr(b), _hr(bad(c)),
                         _hr(d, renovation=None), _hr(d, grade="B")])
    assert keys(run(con, PERIOD, only={"HOU-03"}), "HOU-03") == set()


def test_housing_rules_skipped_without_extract():
    con = _db([household("H1", "甲")])
    run(con, PERIOD, only={"HOU-03", "HOU-04", "HOU-05", "HOU-06"})
    assert {run.results[r].status for r in ("HOU-03", "HOU-04", "HOU-05", "HOU-06")} == {"skipped"}


# --- HOU-04 ------------------------------------------------------------------

def test_hou04_fires_above_limit():
    a = pid(1970)
    con = _db([household("H1", "甲")], [member("H1", "甲", a, "户主")])
    add(con, "housing", [_hr(a, method="拆除重建", area_after=80.5, renovation="已竣工")])
    issues = run(con, PERIOD, only={"HOU-04"})
    assert keys(issues, "HOU-04") == {("H1", None)}
    i = fired(issues, "HOU-04")[0]
    assert (i["field"], i["value"], i["severity"]) == ("area_after", "80.5", "suspect")


def test_hou04_silent_at_exactly_limit_or_other_method():
    a, b = pid(1970), pid(1971)
    con = _db([household("H1", "甲"), household("H2", "乙")],
              [member("H1", "甲", a, "户主"), member("H2", "乙", b, "户主")])
    add(con, "housing", [_hr(a, method="拆除重建", area_after=80.0),
                         _hr(b, method="修缮加固", area_after=120.0)])
    assert keys(run(con, PERIOD, only={"HOU-04"}), "HOU-04") == set()


def test_hou04_respects_parameter():
    a = pid(1970)
    con = _db([household("H1", "甲")], [member("H1", "甲", a, "户主")])
    add(con, "housing", [_hr(a, method="拆除重建", area_after=70.0)])
    assert HH_KEY(run(con, PERIOD, params={"rebuild_max_area": 60}, only={"HOU-04"}), "HOU-04") == {"H1"}


# --- HOU-05 ------------------------------------------------------------------

def test_hou05_fires_for_relocated_household_in_renovation():
    id15 = "430624700101123"
    con = _db([household("H1", "甲", relocated=True)], [member("H1", "甲", to18(id15), "户主")])
    add(con, "housing", [_hr(id15, renovation="已竣工")])     # legacy ID in the extract
    issues = run(con, PERIOD, only={"HOU-05"})
    assert keys(issues, "HOU-05") == {("H1", None)}
    assert fired(issues, "HOU-05")[0]["severity"] == "error"


def test_hou05_silent_for_not_relocated_or_unrenovated():
    a, b = pid(1970), pid(1971)
    con = _db([household("H1", "甲", relocated=False), household("H2", "乙", relocated=True)],
              [member("H1", "甲", a, "户主"), member("H2", "乙", b, "户主")])
    add(con, "housing", [_hr(a, renovation="在建"), _hr(b, renovation="未改造")])
    assert keys(run(con, PERIOD, only={"HOU-05"}), "HOU-05") == set()


# --- HOU-06 ------------------------------------------------------------------

def test_hou06_fires_for_card_target_not_a_member():
    stranger = pid(1960)
    invalid = bad(pid(1961))
    con = _db([household("H1", "甲")])
    add(con, "housing", [_hr(stranger, name="外人"), _hr(invalid, name="错号")])
    issues = run(con, PERIOD, only={"HOU-06"})
    assert {(i["household_id"], i["id_number"]) for i in fired(issues, "HOU-06")} == \
        {(None, stranger), (None, invalid)}
    i = [x for x in fired(issues, "HOU-06") if x["id_number"] == stranger][0]
    assert (i["person_name"], i["severity"], i["source"]) == ("外人", "error", "housing")


def test_hou06_silent_for_member_or_other_target_type():
    a = pid(1970)
    con = _db([household("H1", "甲")], [member("H1", "甲", a, "户主")])
    add(con, "housing", [_hr(a), _hr(pid(1960), target_type="低保户"),
                         _hr(pid(1961), target_type=None)])
    assert keys(run(con, PERIOD, only={"HOU-06"}), "HOU-06") == set()


# --- WAT-01 ------------------------------------------------------------------

def test_wat01_fires_for_exited_household_without_safe_water():
    con = _db([household("H1", "甲", water_secure=False)])
    issues = run(con, PERIOD, only={"WAT-01"})
    assert keys(issues, "WAT-01") == {("H1", None)}
    i = fired(issues, "WAT-01")[0]
    assert (i["field"], i["value"], i["severity"]) == ("water_secure", "否", "error")


def test_wat01_silent_when_not_exited_or_water_empty():
    con = _db([household("H1", "甲", status="未脱贫", water_secure=False),
               household("H2", "乙", water_secure=None),
               household("H3", "丙", status="返贫", water_secure=False)])
    assert keys(run(con, PERIOD, only={"WAT-01"}), "WAT-01") == set()


def test_hou04_value_is_one_area_or_none():
    a, b = pid(1970), pid(1971)
    con = _db([household("H1", "甲"), household("H2", "乙")],
              [member("H1", "甲", a, "户主"), member("H2", "乙", b, "户主")])
    add(con, "housing", [_hr(a, method="拆除重建", area_after=96.0, renovation="已竣工"),
                         _hr(b, method="拆除重建", area_after=96.0, renovation="已竣工"),
                         _hr(b, method="拆除重建", area_after=120.0, renovation="已竣工")])
    got = {i["household_id"]: i["value"] for i in fired(run(con, PERIOD, only={"HOU-04"}), "HOU-04")}
    assert got == {"H1": "96", "H2": None}              # the cell as shown, not 96.0
