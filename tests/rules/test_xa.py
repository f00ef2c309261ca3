"""XA — cross-agency reconciliation (rules.md section XA). Period 2026-10: R = 2026-10-31."""
import datetime as dt

from ruleutil import add, fired, household, keys, member, new_db, pid, run

R = dt.date(2026, 10, 31)
XA = {f"XA-{n:02d}" for n in range(1, 13)}


def sub(id_number: str, k: int) -> str:
    """The ID with the digit at 1-based position k replaced by another digit."""
    c = id_number[k - 1]
    new = "0" if c != "0" else "1"
    return id_number[:k - 1] + new + id_number[k:]


def swap(id_number: str, k: int) -> str:
    """The ID with the characters at 1-based positions k and k+1 swapped."""
    assert id_number[k - 1] != id_number[k]
    return id_number[:k - 1] + id_number[k] + id_number[k - 1] + id_number[k + 1:]


def bad_check(id_number: str) -> str:
    """The same ID with a wrong check digit (invalid: ID-01)."""
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


def to15(id18: str) -> str:
    return id18[:6] + id18[8:17]


def one_member(con, hh="H1", name="张三", idn=None, **kw):
    idn = idn or pid(1980, 3, 3)
    add(con, "households", [household(hh, name)])
    add(con, "members", [member(hh, name, idn, "户主", **kw)])
    return idn


def issues_of(con, rule_id):
    return fired(run(con, only={rule_id}), rule_id)


# --- XA-01 ------------------------------------------------------------------------------

def test_xa01_fires_for_active_and_retired_payroll_one_issue_per_employer():
    con = new_db()
    a = one_member(con)
    add(con, "payroll", [
        dict(name="张三", id_number=a, employer="县水利局", payroll_status="在职"),
        dict(name="张三", id_number=a, employer="县教育局", payroll_status="退休"),
    ])
    got = issues_of(con, "XA-01")
    assert {(i["household_id"], i["id_number"]) for i in got} == {("H1", a)}
    assert len(got) == 2 and len({i["issue_id"] for i in got}) == 2     # disc = employer
    assert {i["value"] for i in got} == {"在职", "退休"}
    assert {i["field"] for i in got} == {"payroll_status"}
    assert {i["source"] for i in got} == {"payroll"}
    assert all(i["severity"] == "suspect" for i in got)
    assert "县水利局" in " ".join(i["message"] for i in got)


def test_xa01_left_payroll_and_empty_status_do_not_fire():
    con = new_db()
    a = one_member(con)
    add(con, "payroll", [
        dict(name="张三", id_number=a, employer="县水利局", payroll_status="离职"),
        dict(name="张三", id_number=a, employer="县教育局", payroll_status=None),
    ])
    assert issues_of(con, "XA-01") == []


def test_xa01_matches_15_digit_member_id_to_18_digit_agency_id():
    con = new_db()
    a18 = pid(1970, 1, 2)
    one_member(con, idn=to15(a18))
    add(con, "payroll", [dict(name="张三", id_number=a18, employer="县水利局", payroll_status="在职")])
    assert keys(run(con, only={"XA-01"}), "XA-01") == {("H1", to15(a18))}


def test_xa01_invalid_member_id_does_not_cascade():
    con = new_db()
    bad = bad_check(pid(1980, 3, 4))
    one_member(con, idn=bad)
    add(con, "payroll", [dict(name="张三", id_number=bad, employer="县水利局", payroll_status="在职")])
    assert issues_of(con, "XA-01") == []


# --- XA-02 ------------------------------------------------------------------------------

def test_xa02_fires_for_company_and_empty_type_with_disc_credit_code_or_name():
    con = new_db()
    a = one_member(con)
    add(con, "businesses", [
        dict(company="湘阴某某有限公司", credit_code="91430624MA4L000001", id_number=a,
             legal_rep="张三", reg_status="存续", company_type="有限责任公司"),
        dict(company="张三小卖部", credit_code=None, id_number=a, legal_rep="张三",
             reg_status="在业", company_type=None),
    ])
    got = issues_of(con, "XA-02")
    assert {(i["household_id"], i["id_number"]) for i in got} == {("H1", a)}
    assert len({i["issue_id"] for i in got}) == 2
    assert {i["source"] for i in got} == {"businesses"}


def test_xa02_cooperative_and_closed_business_do_not_fire():
    con = new_db()
    a = one_member(con)
    add(con, "businesses", [
        dict(company="新泉村种植农民专业合作社", id_number=a, legal_rep="张三",
             reg_status="存续", company_type="农民专业合作社"),
        dict(company="某某有限公司", id_number=a, legal_rep="张三",
             reg_status="吊销", company_type="有限责任公司"),
        dict(company="某某二公司", id_number=a, legal_rep="张三",
             reg_status=None, company_type="有限责任公司"),
    ])
    assert issues_of(con, "XA-02") == []


# --- XA-03 ------------------------------------------------------------------------------

def test_xa03_fires_for_a_car_in_normal_status():
    con = new_db()
    a = one_member(con)
    add(con, "vehicles", [
        dict(owner="张三", id_number=a, plate="湘F12345", vehicle_type="小型轿车", vehicle_status="正常"),
        dict(owner="张三", id_number=a, plate="湘F54321", vehicle_type="中型客车", vehicle_status="正常"),
    ])
    got = issues_of(con, "XA-03")
    assert {(i["household_id"], i["id_number"]) for i in got} == {("H1", a)}
    assert len(got) == 2                                   # disc = plate
    assert {i["value"] for i in got} == {"小型轿车", "中型客车"}
    assert any("湘F12345" in i["message"] for i in got)


def test_xa03_truck_tractor_tricycle_motorcycle_or_scrapped_car_do_not_fire():
    con = new_db()
    a = one_member(con)
    add(con, "vehicles", [
        dict(owner="张三", id_number=a, plate="湘F1", vehicle_type="轻型货车", vehicle_status="正常"),
        dict(owner="张三", id_number=a, plate="湘F2", vehicle_type="拖拉机", vehicle_status="正常"),
        dict(owner="张三", id_number=a, plate="湘F3", vehicle_type="三轮汽车", vehicle_status="正常"),
        dict(owner="张三", id_number=a, plate="湘F4", vehicle_type="普通二轮摩托车", vehicle_status="正常"),
        dict(owner="张三", id_number=a, plate="湘F5", vehicle_type="小型轿车", vehicle_status="报废"),
        dict(owner="张三", id_number=a, plate="湘F6", vehicle_type="小型轿车", vehicle_status=None),
    ])
    assert issues_of(con, "XA-03") == []


# --- XA-04 ------------------------------------------------------------------------------

def test_xa04_fires_for_urban_dwelling_only():
    con = new_db()
    a = one_member(con)
    add(con, "real_estate", [
        dict(owner="张三", id_number=a, location="湘阴县文星镇某小区1栋", use="住宅", zone="城镇"),
        dict(owner="张三", id_number=a, location="新泉村3组", use="住宅", zone="农村"),
        dict(owner="张三", id_number=a, location="文星镇某街门面", use="商业", zone="城镇"),
        dict(owner="张三", id_number=a, location="文星镇某处", use="住宅", zone=None),
    ])
    got = issues_of(con, "XA-04")
    assert [(i["household_id"], i["id_number"], i["value"]) for i in got] == [
        ("H1", a, "湘阴县文星镇某小区1栋")]
    assert got[0]["source"] == "real_estate"


# --- XA-05 ------------------------------------------------------------------------------

def test_xa05_death_on_reference_date_fires_as_error():
    con = new_db()
    a = one_member(con)
    add(con, "hukou", [dict(name="张三", id_number=a, hukou_status="死亡注销", changed_on=R)])
    got = issues_of(con, "XA-05")
    assert [(i["household_id"], i["id_number"], i["severity"]) for i in got] == [("H1", a, "error")]
    assert got[0]["field"] == "hukou_status" and got[0]["value"] == "死亡注销"
    assert "2026-10-31" in got[0]["message"]


def test_xa05_death_after_reference_date_or_undated_does_not_fire():
    con = new_db()
    a = one_member(con)
    b = pid(1960, 4, 4)
    add(con, "members", [member("H1", "李四", b, "之父")])
    add(con, "hukou", [
        dict(name="张三", id_number=a, hukou_status="死亡注销", changed_on=R + dt.timedelta(days=1)),
        dict(name="李四", id_number=b, hukou_status="死亡注销", changed_on=None),
    ])
    assert issues_of(con, "XA-05") == []


# --- XA-06 ------------------------------------------------------------------------------

def test_xa06_moved_out_or_non_agricultural_fires():
    con = new_db()
    a = one_member(con)
    b = pid(1982, 5, 5, male=False)
    add(con, "members", [member("H1", "李四", b, "配偶")])
    add(con, "hukou", [
        dict(name="张三", id_number=a, hukou_status="迁出", changed_on=dt.date(2025, 1, 1), hukou_type="农业"),
        dict(name="李四", id_number=b, hukou_status="正常", hukou_type="非农业"),
    ])
    got = {i["id_number"]: i for i in issues_of(con, "XA-06")}
    assert set(got) == {a, b}
    assert (got[a]["field"], got[a]["value"]) == ("hukou_status", "迁出")
    assert (got[b]["field"], got[b]["value"]) == ("hukou_type", "非农业")


def test_xa06_normal_agricultural_or_resident_does_not_fire():
    con = new_db()
    a = one_member(con)
    b = pid(1982, 5, 6, male=False)
    add(con, "members", [member("H1", "李四", b, "配偶")])
    add(con, "hukou", [
        dict(name="张三", id_number=a, hukou_status="正常", hukou_type="农业"),
        dict(name="李四", id_number=b, hukou_status="服兵役", hukou_type="居民"),
    ])
    assert issues_of(con, "XA-06") == []


# --- XA-07 ------------------------------------------------------------------------------

def _hh(con, hh, category, idn, name="张三"):
    add(con, "households", [household(hh, name, category=category)])
    add(con, "members", [member(hh, name, idn, "户主")])


def test_xa07_dibao_household_without_active_dibao_is_error():
    con = new_db()
    a, b, c = pid(1950, 1, 1), pid(1951, 1, 1), pid(1952, 1, 1)
    _hh(con, "H1", "低保贫困户", a, "甲某")      # 低保 ended the day before R
    _hh(con, "H2", "低保贫困户", b, "乙某")      # no start date: never active
    _hh(con, "H3", "低保贫困户", c, "丙某")      # only 城市低保
    add(con, "civil_affairs", [
        dict(name="甲某", id_number=a, aid_type="农村低保", start_on=dt.date(2020, 1, 1),
             end_on=R - dt.timedelta(days=1)),
        dict(name="乙某", id_number=b, aid_type="农村低保", start_on=None, end_on=None),
        dict(name="丙某", id_number=c, aid_type="城市低保", start_on=dt.date(2020, 1, 1)),
    ])
    got = issues_of(con, "XA-07")
    assert {(i["household_id"], i["id_number"], i["severity"]) for i in got} == {
        ("H1", None, "error"), ("H2", None, "error"), ("H3", None, "error")}
    assert {i["field"] for i in got} == {"category"} and {i["value"] for i in got} == {"低保贫困户"}
    assert {i["source"] for i in got} == {"civil_affairs"}


def test_xa07_active_boundaries_keep_dibao_household_silent():
    con = new_db()
    a, b = pid(1950, 2, 1), pid(1951, 2, 1)
    _hh(con, "H1", "低保贫困户", a, "甲某")      # ends exactly on R: active
    _hh(con, "H2", "低保贫困户", b, "乙某")      # starts exactly on R, open end: active
    add(con, "civil_affairs", [
        dict(name="甲某", id_number=a, aid_type="农村低保", start_on=dt.date(2020, 1, 1), end_on=R),
        dict(name="乙某", id_number=b, aid_type="农村低保", start_on=R, end_on=None),
    ])
    assert issues_of(con, "XA-07") == []


def test_xa07_general_household_with_active_dibao_is_suspect():
    con = new_db()
    a, b, c = pid(1950, 3, 1), pid(1951, 3, 1), pid(1952, 3, 1)
    _hh(con, "H1", "一般贫困户", a, "甲某")
    _hh(con, "H2", "一般贫困户", b, "乙某")      # 低保 ended before R: not active
    _hh(con, "H3", "特困供养贫困户", c, "丙某")   # other category: not XA-07's suspect branch
    add(con, "civil_affairs", [
        dict(name="甲某", id_number=a, aid_type="农村低保", start_on=dt.date(2020, 1, 1)),
        dict(name="乙某", id_number=b, aid_type="农村低保", start_on=dt.date(2020, 1, 1),
             end_on=dt.date(2026, 9, 30)),
        dict(name="丙某", id_number=c, aid_type="农村低保", start_on=dt.date(2020, 1, 1)),
    ])
    got = issues_of(con, "XA-07")
    assert [(i["household_id"], i["severity"], i["value"]) for i in got] == [("H1", "suspect", "一般贫困户")]
    assert "甲某" in got[0]["message"]


def test_xa07_invalid_member_id_is_not_linked():
    con = new_db()
    a = pid(1950, 4, 1)
    _hh(con, "H1", "一般贫困户", bad_check(a), "甲某")
    add(con, "civil_affairs", [dict(name="甲某", id_number=bad_check(a), aid_type="农村低保",
                                    start_on=dt.date(2020, 1, 1))])
    assert issues_of(con, "XA-07") == []


# --- XA-08 ------------------------------------------------------------------------------

def test_xa08_both_branches_with_their_severities():
    con = new_db()
    a, b, c, d = pid(1940, 1, 1), pid(1941, 1, 1), pid(1942, 1, 1), pid(1943, 1, 1)
    _hh(con, "H1", "特困供养贫困户", a, "甲某")   # no 农村特困 row: error
    _hh(con, "H2", "低保贫困户", b, "乙某")       # active 农村特困: suspect
    _hh(con, "H3", "一般贫困户", c, "丙某")       # active 农村特困: suspect
    _hh(con, "H4", "特困供养贫困户", d, "丁某")   # active 农村特困: fine
    add(con, "civil_affairs", [
        dict(name="乙某", id_number=b, aid_type="农村特困", start_on=dt.date(2019, 1, 1)),
        dict(name="丙某", id_number=c, aid_type="农村特困", start_on=dt.date(2019, 1, 1), end_on=R),
        dict(name="丁某", id_number=d, aid_type="农村特困", start_on=dt.date(2019, 1, 1)),
    ])
    got = issues_of(con, "XA-08")
    assert {(i["household_id"], i["severity"]) for i in got} == {
        ("H1", "error"), ("H2", "suspect"), ("H3", "suspect")}


def test_xa08_empty_category_and_city_or_ended_tekun_do_not_fire():
    con = new_db()
    a, b, c = pid(1940, 2, 1), pid(1941, 2, 1), pid(1942, 2, 1)
    _hh(con, "H1", None, a, "甲某")               # empty category: neither branch
    _hh(con, "H2", "一般贫困户", b, "乙某")       # 城市特困 does not count
    _hh(con, "H3", "一般贫困户", c, "丙某")       # ended before R
    add(con, "civil_affairs", [
        dict(name="甲某", id_number=a, aid_type="农村特困", start_on=dt.date(2019, 1, 1)),
        dict(name="乙某", id_number=b, aid_type="城市特困", start_on=dt.date(2019, 1, 1)),
        dict(name="丙某", id_number=c, aid_type="农村特困", start_on=dt.date(2019, 1, 1),
             end_on=dt.date(2026, 10, 30)),
    ])
    assert issues_of(con, "XA-08") == []


# --- XA-09 ------------------------------------------------------------------------------

def test_xa09_active_rural_aid_for_non_member_fires_once_per_person():
    con = new_db()
    one_member(con)
    x = pid(1945, 7, 7)
    add(con, "civil_affairs", [
        dict(name="王五", id_number=x, aid_type="农村低保", start_on=dt.date(2021, 1, 1),
             township="城西镇", village="新泉村"),
        dict(name="王五", id_number=x, aid_type="农村特困", start_on=dt.date(2022, 1, 1),
             township="城西镇", village="新泉村"),
    ])
    got = issues_of(con, "XA-09")
    assert [(i["household_id"], i["id_number"], i["person_name"]) for i in got] == [(None, x, "王五")]
    assert (got[0]["township"], got[0]["village"]) == ("城西镇", "新泉村")
    assert got[0]["value"] is None              # two civil-affairs rows with different values
    assert got[0]["source"] == "civil_affairs"


def test_xa09_member_city_aid_or_ended_aid_do_not_fire():
    con = new_db()
    a18 = pid(1946, 8, 8)
    one_member(con, idn=to15(a18))                 # member with a 15-digit ID
    y, z = pid(1947, 9, 9), pid(1948, 10, 10)
    add(con, "civil_affairs", [
        dict(name="张三", id_number=a18, aid_type="农村低保", start_on=dt.date(2021, 1, 1)),
        dict(name="赵六", id_number=y, aid_type="城市低保", start_on=dt.date(2021, 1, 1)),
        dict(name="钱七", id_number=z, aid_type="农村低保", start_on=dt.date(2021, 1, 1),
             end_on=R - dt.timedelta(days=1)),
    ])
    assert issues_of(con, "XA-09") == []


def test_xa09_fuzzy_candidate_does_not_link():
    """A civil_affairs ID one digit away from a member's is still not a member (XA-10 only)."""
    con = new_db()
    a = one_member(con)
    typo = sub(a, 10)
    add(con, "civil_affairs", [dict(name="张三", id_number=typo, aid_type="农村低保",
                                    start_on=dt.date(2021, 1, 1))])
    issues = run(con, only={"XA-09", "XA-10"})
    assert keys(issues, "XA-09") == {(None, typo)}
    assert keys(issues, "XA-10") == {("H1", a)}


# --- XA-10 ------------------------------------------------------------------------------

def test_xa10_substitution_and_transposition_fire_with_candidate_in_evidence():
    con = new_db()
    right_a, right_b = pid(1975, 1, 21), pid(1976, 2, 12)
    typo_a = sub(right_a, 12)                        # member typed one digit wrong
    typo_b = swap(right_b, 9)                        # member swapped two digits
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", typo_a, "户主"),
                         member("H1", "李 四", typo_b, "配偶", gender="女")])
    add(con, "medical_insurance", [dict(name="张三", id_number=right_a, year=2026, status="参保缴费")])
    add(con, "education", [dict(name="李四", id_number=right_b, school="一中", enrol_status="在读")])
    got = {i["id_number"]: i for i in issues_of(con, "XA-10")}
    assert set(got) == {typo_a, typo_b}
    assert all(i["household_id"] == "H1" and i["severity"] == "suspect" for i in got.values())
    assert '"candidate_id_number":"%s"' % right_a in got[typo_a]["evidence"]
    assert '"candidate_id_number":"%s"' % right_b in got[typo_b]["evidence"]
    assert '"edit":"transposition"' in got[typo_b]["evidence"]
    assert got[typo_a]["source"] == "medical_insurance"
    assert right_a in got[typo_a]["message"]


def test_xa10_same_candidate_in_several_tables_counts_once():
    con = new_db()
    right = pid(1977, 3, 3)
    typo = sub(right, 18)                            # wrong check digit: invalid member ID
    one_member(con, idn=typo)
    add(con, "hukou", [dict(name="张三", id_number=right, hukou_status="正常")])
    add(con, "payroll", [dict(name="张三", id_number=right, employer="县局", payroll_status="离职")])
    got = issues_of(con, "XA-10")
    assert [(i["household_id"], i["id_number"]) for i in got] == [("H1", typo)]
    assert '"agencies":["hukou","payroll"]' in got[0]["evidence"]


def test_xa10_two_equally_close_candidates_do_not_fire():
    con = new_db()
    right = pid(1978, 4, 4)
    typo = sub(right, 10)
    one_member(con, idn=typo)
    other = sub(typo, 3)                             # also one substitution from the typo
    add(con, "hukou", [dict(name="张三", id_number=right, hukou_status="正常"),
                       dict(name="张三", id_number=other, hukou_status="正常")])
    assert issues_of(con, "XA-10") == []


def test_xa10_needs_same_name_one_edit_and_no_exact_match():
    con = new_db()
    a, b, c = pid(1979, 5, 5), pid(1979, 6, 6), pid(1979, 7, 7)
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [
        member("H1", "张三", sub(a, 7), "户主"),              # candidate carries another name
        member("H1", "李四", sub(sub(b, 7), 9), "配偶"),       # two substitutions away
        member("H1", "王五", c, "之子"),                       # matches exactly in payroll
    ])
    add(con, "hukou", [dict(name="张山", id_number=a, hukou_status="正常"),
                       dict(name="李四", id_number=b, hukou_status="正常"),
                       dict(name="王五", id_number=sub(c, 11), hukou_status="正常")])
    add(con, "payroll", [dict(name="王五", id_number=c, employer="县局", payroll_status="离职")])
    assert issues_of(con, "XA-10") == []


# --- XA-11 ------------------------------------------------------------------------------

def test_xa11_valid_member_without_hukou_row_fires():
    con = new_db()
    a = one_member(con)
    b, c = pid(1990, 1, 9), pid(1960, 1, 10)
    add(con, "members", [member("H1", "李四", b, "配偶"), member("H1", "王五", to15(c), "之父")])
    add(con, "hukou", [dict(name="李四", id_number=b, hukou_status="正常"),
                       dict(name="王五", id_number=c, hukou_status="正常")])   # 15 vs 18 matches
    got = issues_of(con, "XA-11")
    assert [(i["household_id"], i["id_number"], i["field"]) for i in got] == [("H1", a, "id_number")]
    assert got[0]["source"] == "hukou"


def test_xa11_invalid_member_id_does_not_cascade():
    con = new_db()
    b = pid(1990, 1, 11)
    one_member(con, idn=bad_check(pid(1980, 1, 12)))
    add(con, "members", [member("H1", "李四", "4.30521198503123E+17", "配偶"),
                         member("H1", "王五", b, "之子")])
    add(con, "hukou", [dict(name="王五", id_number=b, hukou_status="正常")])
    assert issues_of(con, "XA-11") == []


def test_xa11_skipped_without_hukou_extract():
    con = new_db()
    one_member(con)
    issues = run(con, only={"XA-11", "XA-05", "XA-07"})
    assert fired(issues, "XA-11") == []
    for r in ("XA-11", "XA-05", "XA-07"):
        assert run.results[r].status == "skipped"
    assert "hukou" in run.results["XA-11"].reason
    assert "civil_affairs" in run.results["XA-07"].reason


# --- XA-12 ------------------------------------------------------------------------------

def test_xa12_household_without_labour_and_without_aid_fires():
    con = new_db()
    a, b, c = pid(1940, 5, 1), pid(1942, 5, 1, male=False), pid(1941, 6, 1)
    add(con, "households", [household("H1", "甲某", size=2), household("H2", "丙某")])
    add(con, "members", [member("H1", "甲某", a, "户主", labor="丧失劳动力"),
                         member("H1", "乙某", b, "配偶", labor="无劳动力"),
                         member("H2", "丙某", c, "户主", labor="无劳动力")])
    add(con, "civil_affairs", [   # H2's 低保 ended before R: not active
        dict(name="丙某", id_number=c, aid_type="农村低保", start_on=dt.date(2018, 1, 1),
             end_on=dt.date(2026, 1, 31))])
    got = issues_of(con, "XA-12")
    assert {(i["household_id"], i["id_number"]) for i in got} == {("H1", None), ("H2", None)}
    assert all(i["source"] == "civil_affairs" for i in got)


def test_xa12_near_misses():
    con = new_db()
    ids = [pid(1930 + k, 7, 1) for k in range(5)]
    add(con, "households", [household("H1", "甲某"), household("H2", "乙某", category="低保贫困户"),
                            household("H3", "丙某"), household("H4", "丁某", size=2),
                            household("H5", "无人户")])
    add(con, "members", [
        member("H1", "甲某", ids[0], "户主", labor="无劳动力"),          # active 农村特困
        member("H2", "乙某", ids[1], "户主", labor="无劳动力"),          # category not 一般
        member("H3", "丙某", ids[2], "户主", labor=None),                # empty labor
        member("H4", "丁某", ids[3], "户主", labor="无劳动力"),
        member("H4", "戊某", ids[4], "之子", labor="弱劳动力或半劳动力"),
    ])
    add(con, "civil_affairs", [dict(name="甲某", id_number=ids[0], aid_type="农村特困",
                                    start_on=dt.date(2018, 1, 1))])
    assert issues_of(con, "XA-12") == []


# --- the module as a whole ----------------------------------------------------------------

def test_issue_ids_are_stable_across_periods_and_row_order():
    def build(order):
        con = new_db()
        a = pid(1980, 3, 3, seq=1)
        add(con, "households", [household("H1", "张三")])
        add(con, "members", [member("H1", "张三", a, "户主")])
        rows = [dict(owner="张三", id_number=a, plate="湘F1", vehicle_type="小型轿车", vehicle_status="正常"),
                dict(owner="张三", id_number=a, plate="湘F2", vehicle_type="小型轿车", vehicle_status="正常")]
        add(con, "vehicles", rows[::order])
        return con
    one = {i["issue_id"] for i in run(build(1), "2026-10", only={"XA-03"})}
    two = {i["issue_id"] for i in run(build(-1), "2026-11", only={"XA-03"})}
    assert len(one) == 2 and one == two


def test_household_evidence_does_not_depend_on_the_period():
    """Waivers compare evidence: the same data must give the same evidence next month."""
    def build():
        con = new_db()
        a, b = pid(1940, 5, 1, seq=3), pid(1941, 5, 1, seq=4)
        add(con, "households", [household("H1", "甲某", category="低保贫困户"), household("H2", "乙某")])
        add(con, "members", [member("H1", "甲某", a, "户主", labor="无劳动力"),
                             member("H2", "乙某", b, "户主", labor="无劳动力")])
        add(con, "civil_affairs", [dict(name="甲某", id_number=a, aid_type="农村低保",
                                        start_on=dt.date(2018, 1, 1), end_on=dt.date(2026, 1, 31))])
        return con
    only = {"XA-07", "XA-12"}
    one = {(i["rule_id"], i["issue_id"], i["evidence"]) for i in run(build(), "2026-10", only=only)}
    two = {(i["rule_id"], i["issue_id"], i["evidence"]) for i in run(build(), "2026-11", only=only)}
    assert {r for r, _, _ in one} == only and one == two


def test_xa10_skipped_without_any_agency_extract():
    from ruleutil import add, member, new_db, pid, run
    con = new_db()
    add(con, "members", [member("H1", "张三", pid(1980), "户主")])
    run(con, only={"XA-10"})
    assert run.results["XA-10"].status == "skipped"
    assert "none of" in run.results["XA-10"].reason


# --- XA-12 and the Valid ID paragraph ---------------------------------------------------

def test_xa12_considers_only_members_with_a_valid_id():
    """rules.md "Valid ID" lists XA-12: a member with an invalid ID is left out of the rule."""
    con = new_db()
    a, b, c = pid(1940, 5, 1), pid(1942, 5, 1, male=False), pid(1950, 1, 1)
    add(con, "households", [household("H1", "甲某", size=2), household("H2", "丙某")])
    add(con, "members", [
        member("H1", "甲某", a, "户主", labor="无劳动力"),
        member("H1", "乙某", bad_check(b), "配偶", labor="普通劳动力"),   # invalid ID: not considered
        member("H2", "丙某", bad_check(c), "户主", labor="无劳动力"),     # no valid member at all
    ])
    add(con, "civil_affairs", [dict(name="某", id_number=pid(1930), aid_type="农村低保",
                                    start_on=dt.date(2018, 1, 1))])
    got = issues_of(con, "XA-12")
    assert {i["household_id"] for i in got} == {"H1"}
    assert got[0]["message"].startswith("户主甲某家（户编号H1）的1名家庭成员均无劳动能力")


def test_xa12_valid_member_with_labour_still_keeps_it_silent():
    con = new_db()
    a, b = pid(1940, 5, 1), pid(1942, 5, 1, male=False)
    add(con, "households", [household("H1", "甲某", size=2)])
    add(con, "members", [member("H1", "甲某", a, "户主", labor="无劳动力"),
                         member("H1", "乙某", b, "配偶", labor="普通劳动力")])
    add(con, "civil_affairs", [dict(name="某", id_number=pid(1930), aid_type="农村低保",
                                    start_on=dt.date(2018, 1, 1))])
    assert issues_of(con, "XA-12") == []


# --- messages never lose their detail ----------------------------------------------------

def test_xa_messages_with_empty_agency_fields():
    con = new_db()
    a = one_member(con)
    add(con, "payroll", [dict(name="张三", id_number=a, employer=None, payroll_status="在职")])
    add(con, "businesses", [dict(company=None, credit_code="91430624MA4L000001", id_number=a,
                                 reg_status="存续")])
    add(con, "vehicles", [dict(owner="张三", id_number=a, plate=None, vehicle_type="小型轿车",
                               vehicle_status="正常")])
    add(con, "real_estate", [dict(owner="张三", id_number=a, location=None, use="住宅", zone="城镇")])
    add(con, "civil_affairs", [dict(name=None, id_number=pid(1931), aid_type="农村特困",
                                    start_on=dt.date(2018, 1, 1))])
    issues = run(con, only={"XA-01", "XA-02", "XA-03", "XA-04", "XA-09"})
    msgs = {i["rule_id"]: i["message"] for i in issues}
    assert set(msgs) == {"XA-01", "XA-02", "XA-03", "XA-04", "XA-09"}
    assert "单位名称为空（在职）" in msgs["XA-01"]
    assert "91430624MA4L000001（存续）" in msgs["XA-02"]
    assert "小型轿车（号牌为空）" in msgs["XA-03"]
    assert "坐落为空" in msgs["XA-04"]
    assert msgs["XA-09"].startswith("证件号码为") and "正在享受农村特困" in msgs["XA-09"]
    for m in msgs.values():
        assert "None" not in m


def test_xa07_xa08_messages_name_the_household():
    con = new_db()
    a = pid(1940, 5, 1)
    add(con, "households", [household("H1", "甲某", category="低保贫困户")])
    add(con, "members", [member("H1", "甲某", a, "户主")])
    add(con, "civil_affairs", [dict(name=None, id_number=a, aid_type="农村特困",
                                    start_on=dt.date(2018, 1, 1))])
    msgs = {i["rule_id"]: (i["severity"], i["message"]) for i in run(con, only={"XA-07", "XA-08"})}
    assert msgs["XA-07"][0] == "error" and msgs["XA-07"][1].startswith("户主甲某家（户编号H1）属性为低保贫困户")
    assert msgs["XA-08"][0] == "suspect" and "家庭成员甲某正在享受农村特困" in msgs["XA-08"][1]
