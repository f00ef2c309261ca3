"""PRJ-01..04 on hand-built tables. R of 2026-10 is 2026-10-31."""
import datetime as dt

from ruleutil import add, fired, household, member, new_db, pid, run

PERIOD = "2026-10"
R = dt.date(2026, 10, 31)
D = dt.date


def project(pid_, type_="产业发展", **kw):
    row = dict(project_id=pid_, name="项目" + pid_, type=type_, content="建设内容",
               funds_10k=10.0, start_on=D(2020, 3, 1), end_on=D(2020, 12, 1),
               notice_url="https://xxgk.example.gov.cn/gs/2020/1.html", township="城西镇", village="新泉村")
    row.update(kw)
    return row


def _db(projects=(), beneficiaries=(), households=(), members=()):
    con = new_db()
    for table, rows in (("projects", projects), ("beneficiaries", beneficiaries),
                        ("households", households), ("members", members)):
        if rows:
            add(con, table, list(rows))
    return con


def by_project(issues, rule_id):
    return {i["project_id"]: i for i in fired(issues, rule_id)}


# --- PRJ-01 ------------------------------------------------------------------

def test_prj01_fires_on_each_incomplete_field():
    con = _db(projects=[
        project("P1", content=None),
        project("P2", start_on=None),
        project("P3", end_on=None),
        project("P4", funds_10k=None),
        project("P5", funds_10k=0.0),
        project("P6", funds_10k=-3.5),
        project("P7", notice_url=None),
        project("P8", notice_url="www.example.gov.cn/gs.html"),     # no scheme
        project("P9", notice_url="ftp://example.gov.cn/gs.html"),
        project("P10", notice_url="http://"),
        project("P11", content=None, notice_url="见村务公开栏"),
    ])
    issues = run(con, PERIOD, only={"PRJ-01"})
    got = by_project(issues, "PRJ-01")
    assert set(got) == {f"P{i}" for i in range(1, 12)}
    assert got["P1"]["field"] == "content"
    assert got["P2"]["field"] == "start_on" and got["P3"]["field"] == "end_on"
    assert (got["P5"]["field"], got["P5"]["value"]) == ("funds_10k", "0")
    assert (got["P8"]["field"], got["P8"]["value"]) == ("notice_url", "www.example.gov.cn/gs.html")
    assert got["P11"]["field"] == "content" and "公示网址" in got["P11"]["message"]
    i = got["P1"]
    assert (i["household_id"], i["severity"], i["township"], i["village"]) == (None, "error", "城西镇", "新泉村")
    assert "建设内容为空" in i["message"]


def test_prj01_silent_for_complete_projects_with_http_or_https_urls():
    con = _db(projects=[project("P1"), project("P2", notice_url="http://www.xy.gov.cn/gs?id=12"),
                        project("P3", notice_url="HTTPS://XY.GOV.CN", funds_10k=0.01)])
    assert fired(run(con, PERIOD, only={"PRJ-01"}), "PRJ-01") == []


def test_prj_rules_skipped_without_their_tables():
    con = _db(households=[household("H1", "张三")])
    run(con, PERIOD, only={"PRJ-01", "PRJ-02", "PRJ-03", "PRJ-04"})
    assert run.results["PRJ-01"].status == "skipped"
    assert run.results["PRJ-01"].reason == "missing table: projects"
    assert run.results["PRJ-03"].status == "skipped"
    assert run.results["PRJ-04"].status == "skipped"


# --- PRJ-02 ------------------------------------------------------------------

def test_prj02_fires_on_end_before_start_or_start_after_R():
    con = _db(projects=[project("P1", start_on=D(2020, 5, 2), end_on=D(2020, 5, 1)),
                        project("P2", start_on=D(2026, 11, 1), end_on=D(2027, 3, 1)),
                        project("P3", start_on=D(2026, 11, 1), end_on=D(2026, 10, 1))])
    got = by_project(run(con, PERIOD, only={"PRJ-02"}), "PRJ-02")
    assert set(got) == {"P1", "P2", "P3"}
    assert (got["P1"]["field"], got["P1"]["value"]) == ("end_on", "2020-05-01")
    assert (got["P2"]["field"], got["P2"]["value"]) == ("start_on", "2026-11-01")
    assert got["P1"]["severity"] == "error"
    assert "晚于基准日" in got["P3"]["message"] and "早于开工时间" in got["P3"]["message"]


def test_prj02_silent_on_equal_dates_start_on_R_and_empty_dates():
    con = _db(projects=[project("P1", start_on=D(2020, 5, 1), end_on=D(2020, 5, 1)),
                        project("P2", start_on=R, end_on=D(2027, 1, 1)),
                        project("P3", start_on=None, end_on=D(2020, 1, 1)),
                        project("P4", start_on=D(2020, 1, 1), end_on=None)])
    assert fired(run(con, PERIOD, only={"PRJ-02"}), "PRJ-02") == []


# --- PRJ-03 ------------------------------------------------------------------

def test_prj03_fires_per_project_for_unknown_beneficiary_household():
    con = _db(projects=[project("P1"), project("P2", township="东塘镇", village="白马村")],
              households=[household("H1", "张三")],
              members=[member("H2", "李四", pid(1980), "户主")],
              beneficiaries=[dict(project_id="P1", household_id="H1"),
                             dict(project_id="P1", household_id="H9"),
                             dict(project_id="P2", household_id="H9"),
                             dict(project_id="P2", household_id="H2")])
    issues = run(con, PERIOD, only={"PRJ-03"})
    got = {(i["household_id"], i["project_id"]) for i in fired(issues, "PRJ-03")}
    assert got == {("H9", "P1"), ("H9", "P2"), ("H2", "P2")}
    h9p2 = [i for i in fired(issues, "PRJ-03") if i["household_id"] == "H9" and i["project_id"] == "P2"][0]
    assert (h9p2["field"], h9p2["value"], h9p2["severity"]) == ("household_id", "H9", "error")
    assert (h9p2["township"], h9p2["village"]) == ("东塘镇", "白马村")   # from the project row


def test_prj03_silent_for_registered_households_and_empty_ids():
    con = _db(projects=[project("P1")], households=[household("H1", "张三")],
              beneficiaries=[dict(project_id="P1", household_id="H1"),
                             dict(project_id="P1", household_id=None)])
    assert fired(run(con, PERIOD, only={"PRJ-03"}), "PRJ-03") == []


# --- PRJ-04 ------------------------------------------------------------------

def test_prj04_fires_for_jobless_employment_beneficiary_and_unsafe_housing_beneficiary():
    con = _db(projects=[project("P1", "就业扶贫"), project("P2", "公益岗位"), project("P3", "危房改造")],
              households=[household("H1", "张一"), household("H2", "张二"),
                          household("H3", "张三", housing_secure=False)],
              members=[member("H1", "张一", pid(1970), "户主", work_status="无", work_months=0),
                       member("H1", "张一妻", pid(1972, male=False), "配偶", work_status=None),
                       member("H2", "张二", pid(1970), "户主", work_status="公益岗位"),
                       member("H3", "张三", pid(1970), "户主")],
              beneficiaries=[dict(project_id="P1", household_id="H1"),
                             dict(project_id="P2", household_id="H1"),
                             dict(project_id="P2", household_id="H2"),
                             dict(project_id="P3", household_id="H3")])
    issues = run(con, PERIOD, only={"PRJ-04"})
    got = {(i["household_id"], i["project_id"]): i for i in fired(issues, "PRJ-04")}
    assert set(got) == {("H1", "P1"), ("H1", "P2"), ("H3", "P3")}
    assert got[("H1", "P1")]["field"] == "work_status"
    assert (got[("H3", "P3")]["field"], got[("H3", "P3")]["value"]) == ("housing_secure", "否")
    assert got[("H1", "P1")]["severity"] == "suspect"
    assert got[("H1", "P1")]["issue_id"] != got[("H1", "P2")]["issue_id"]


def test_prj04_silent_for_matching_status_other_types_and_empty_flags():
    con = _db(projects=[project("P1", "就业扶贫"), project("P2", "危房改造"), project("P3", "产业发展")],
              households=[household("H1", "张一"), household("H2", "张二", housing_secure=None),
                          household("H3", "张三", housing_secure=False)],
              members=[member("H1", "张一", pid(1970), "户主", work_status="乡镇内务工"),
                       member("H3", "张三", pid(1970), "户主", work_status="无", work_months=0)],
              beneficiaries=[dict(project_id="P1", household_id="H1"),
                             dict(project_id="P2", household_id="H1"),
                             dict(project_id="P2", household_id="H2"),    # housing_secure empty
                             dict(project_id="P3", household_id="H3"),    # not an employment project
                             dict(project_id="P1", household_id="H9"),    # no member rows: PRJ-03's
                             dict(project_id="PX", household_id="H3")])   # unknown project: no type
    assert fired(run(con, PERIOD, only={"PRJ-04"}), "PRJ-04") == []


def test_prj04_message_names_the_household():
    con = _db(projects=[project("P1", "就业扶贫")], households=[household("H1", "张一")],
              members=[member("H1", "张一", pid(1970), "户主", work_status="无", work_months=0)],
              beneficiaries=[dict(project_id="P1", household_id="H1")])
    msg = fired(run(con, PERIOD, only={"PRJ-04"}), "PRJ-04")[0]["message"]
    assert msg == "张一户（户编号H1）是就业扶贫项目P1（项目P1）的受益户，但家庭成员无人务工，受益情况与家庭状况不符，请核实"
