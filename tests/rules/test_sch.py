"""SCH-02/03/04: issues built from schema findings — by hand and through the loader on tiny files.

Keys per table kind (rules.md "Keys"): members household + person; households household;
helpers helper_id_number; pairings household + helper; projects project_id (with the
project's township/village); beneficiaries household + project; loans the loan's household
+ borrower ID; agency rows id_number. Discriminator: SCH-02/04 table and field, SCH-03 the
row content.
"""
import json
from pathlib import Path

from ruleutil import add, fired, household, member, new_db, pid, run

from pipeline.ingest.load import ingest

SCH = {"SCH-02", "SCH-03", "SCH-04"}


def finding(rule_id, table, field=None, value=None, **keys):
    row = dict(rule_id=rule_id, table=table, field=field, value=value, household_id=None,
               id_number=None, helper_id_number=None, project_id=None, person_name=None,
               township=None, village=None, row_hash=None)
    row.update(keys)
    return row


def put(con, findings):
    cols = list(findings[0])
    names = ", ".join(f'"{c}"' for c in cols)
    con.executemany(f"INSERT INTO schema_findings ({names}) VALUES ({', '.join('?' for _ in cols)})",
                    [[f[c] for c in cols] for f in findings])


def by_rule(issues, rule_id):
    return fired(issues, rule_id)


# --- hand-filled findings ---------------------------------------------------------------

def test_sch_issue_keys_for_every_table_kind():
    con = new_db()
    a, b, h = pid(1980), pid(1990), pid(1970)
    add(con, "households", [household("H1", "张三")])
    add(con, "members", [member("H1", "张三", a, "户主")])
    put(con, [
        finding("SCH-02", "members", "work_months", "13", household_id="H1", id_number=a, person_name="张三"),
        finding("SCH-02", "households", "income_per_capita", "abc", household_id="H1", person_name="张三"),
        finding("SCH-04", "helpers", "phone", helper_id_number=h, person_name="李帮扶"),
        finding("SCH-02", "pairings", "start_on", "2019.13.45", household_id="H1", helper_id_number=h),
        finding("SCH-02", "projects", "funds_10k", "十万", project_id="P1", township="东塘镇", village="白马村"),
        finding("SCH-03", "beneficiaries", household_id="H1", project_id="P1", row_hash="ffff"),
        finding("SCH-02", "loans", "amount", "abc", id_number=a, person_name="张三"),      # no household_id
        finding("SCH-02", "loans", "amount", "xyz", id_number=b, person_name="外人"),      # not a member
        finding("SCH-03", "hukou", id_number=b, person_name="王五", row_hash="abcd"),
        finding("SCH-04", "civil_affairs", "aid_type", id_number=b, person_name="王五",
                township="东塘镇", village="白马村"),
    ])
    issues = run(con, only=SCH)
    got = {(i["rule_id"], json.loads(i["evidence"])["table"]): i for i in issues}
    assert len(issues) == 10 and len(got) == 9          # two loan findings

    def k(rule_id, table):
        i = got[(rule_id, table)]
        return (i["household_id"], i["id_number"], i["helper_id_number"], i["project_id"])

    assert k("SCH-02", "members") == ("H1", a, None, None)
    assert k("SCH-02", "households") == ("H1", None, None, None)
    assert got[("SCH-02", "households")]["person_name"] is None        # the head is context, not key
    assert got[("SCH-02", "households")]["head_name"] == "张三"
    assert k("SCH-04", "helpers") == (None, None, h, None)
    assert k("SCH-02", "pairings") == ("H1", None, h, None)
    assert k("SCH-02", "projects") == (None, None, None, "P1")
    assert (got[("SCH-02", "projects")]["township"], got[("SCH-02", "projects")]["village"]) == ("东塘镇", "白马村")
    assert k("SCH-03", "beneficiaries") == ("H1", None, None, "P1")
    assert k("SCH-03", "hukou") == (None, b, None, None)
    assert got[("SCH-03", "hukou")]["source"] == "hukou"
    assert got[("SCH-04", "civil_affairs")]["village"] == "白马村"
    # a loan row without household_id belongs to the household of the borrower (valid ID)
    loans = {i["id_number"]: i for i in issues if json.loads(i["evidence"])["table"] == "loans"}
    assert loans[a]["household_id"] == "H1" and loans[b]["household_id"] is None
    # severities, sources, fields
    assert {i["rule_id"]: i["severity"] for i in issues} == {"SCH-02": "error", "SCH-03": "notice",
                                                            "SCH-04": "error"}
    assert got[("SCH-02", "members")]["source"] == "registry"
    assert (got[("SCH-02", "members")]["field"], got[("SCH-02", "members")]["value"]) == ("work_months", "13")
    assert got[("SCH-04", "helpers")]["value"] is None


def test_sch_messages_name_the_row_and_never_lose_their_detail():
    con = new_db()
    h = pid(1970)
    put(con, [
        finding("SCH-02", "members", "work_months", "13", household_id="H1", id_number=pid(1980), person_name="张三"),
        finding("SCH-04", "members", "name", household_id="H1", id_number=pid(1981)),
        finding("SCH-04", "helpers", "phone", helper_id_number=h, person_name="李帮扶"),
        finding("SCH-02", "projects", "funds_10k", "十万", project_id="P1"),
        finding("SCH-03", "hukou", id_number=pid(1990), row_hash="abcd"),
    ])
    msgs = {(i["rule_id"], i["field"]): i["message"] for i in run(con, only=SCH)}
    assert msgs[("SCH-02", "work_months")] == \
        "张三（户编号H1）在家庭成员表中的「务工时间（月）」值“13”无法识别，已按空值处理，请按规范重新填写"
    assert msgs[("SCH-04", "name")].startswith("姓名为空的成员（户编号H1）在家庭成员表中的「姓名」为空")
    assert "帮扶责任人李帮扶（证件号码" in msgs[("SCH-04", "phone")] and "「联系电话」为空" in msgs[("SCH-04", "phone")]
    assert msgs[("SCH-02", "funds_10k")].startswith("项目P1在扶贫项目表中的「资金规模（万元）」值“十万”")
    assert msgs[("SCH-03", None)].startswith("公安户籍表中姓名为空的人员（证件号码")


def test_sch_discriminators_table_and_field_or_row_content():
    con = new_db()
    a = pid(1980)
    put(con, [
        # two fields of one member: two issues; the same field twice (two rows): one issue
        finding("SCH-02", "members", "work_months", "13", household_id="H1", id_number=a),
        finding("SCH-02", "members", "work_months", "14", household_id="H1", id_number=a),
        finding("SCH-02", "members", "basic_medical", "可能", household_id="H1", id_number=a),
        # the same field name in two tables: two issues
        finding("SCH-04", "households", "size", household_id="H1"),
        finding("SCH-04", "members", "size", household_id="H1"),
        # two different duplicated rows of one household: two SCH-03 issues
        finding("SCH-03", "members", household_id="H1", id_number=a, row_hash="r1"),
        finding("SCH-03", "members", household_id="H1", id_number=a, row_hash="r2"),
        finding("SCH-03", "members", household_id="H1", id_number=a, row_hash="r2"),
    ])
    issues = run(con, only=SCH)
    assert len(by_rule(issues, "SCH-02")) == 2
    assert len(by_rule(issues, "SCH-04")) == 2
    assert len(by_rule(issues, "SCH-03")) == 2
    assert len({i["issue_id"] for i in issues}) == 6


def test_sch_issue_ids_do_not_depend_on_the_head_name_or_file_position():
    def build(head, rid):
        con = new_db()
        con.execute("""INSERT INTO schema_findings (rule_id, "table", field, value, household_id,
                       person_name, _rid, _file, _row) VALUES ('SCH-02', 'households', 'size', 'abc',
                       'H1', ?, ?, ?, ?)""", [head, rid, f"f{rid}.xlsx", rid])
        return {i["issue_id"] for i in run(con, only=SCH)}
    assert build("张三", 1) == build("张三丰", 7)


def test_no_findings_no_issues():
    con = new_db()
    add(con, "members", [member("H1", "张三", pid(1980), "户主")])
    assert run(con, only=SCH) == []


# --- through the loader -------------------------------------------------------------------

def _csv(path: Path, rows):
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")


def test_sch_from_loaded_files_carry_keys_of_their_kind(tmp_path):
    a, b, c = pid(1980), pid(1982, male=False), pid(1990)
    h = pid(1970)
    _csv(tmp_path / "members.csv", [
        ["户编号", "姓名", "证件号码", "与户主关系", "务工时间（月）"],
        ["001", "张三", a, "户主", "13"],           # SCH-02 work_months
        ["001", "", b, "配偶", "0"],                # SCH-04 name
        ["001", "", b, "配偶", "0"],                # SCH-03 (exact duplicate)
    ])
    _csv(tmp_path / "households.csv", [
        ["户编号", "户主姓名", "家庭人口数", "贫困户属性", "脱贫属性", "年人均纯收入（元）"],
        ["001", "张三", "2", "一般贫困户", "", "abc"],   # SCH-04 status, SCH-02 income
    ])
    _csv(tmp_path / "helpers.csv", [
        ["帮扶责任人姓名", "帮扶责任人证件号码", "联系电话", "帮扶单位", "职务级别"],
        ["李帮扶", h, "", "县扶贫办", "处级"],       # SCH-04 phone, SCH-02 rank
    ])
    _csv(tmp_path / "pairings.csv", [
        ["户编号", "帮扶责任人证件号码", "帮扶开始时间"],
        ["001", h, "2019.13.45"],                    # SCH-02 start_on
    ])
    _csv(tmp_path / "projects.csv", [
        ["项目编号", "项目名称", "项目类型", "资金规模（万元）", "乡镇", "行政村"],
        ["P1", "道路", "基础设施", "十万", "东塘镇", "白马村"],   # SCH-02 funds_10k
    ])
    _csv(tmp_path / "loans.csv", [
        ["借款人姓名", "借款人证件号码", "贷款金额（元）", "放款日期"],
        ["张三", a, "abc", "2025-03-01"],            # SCH-02 amount; household via the member ID
    ])
    _csv(tmp_path / "hukou.csv", [
        ["姓名", "公民身份号码", "户籍状态"],
        ["王五", c, "正常"], ["王五", c, "正常"],    # SCH-03
        ["赵六", pid(1991), "失踪"],                 # SCH-02 hukou_status
    ])
    con = new_db()
    ingest(con, sorted(tmp_path.iterdir()), tmp_path)
    issues = run(con, only=SCH)
    got = {(i["rule_id"], json.loads(i["evidence"])["table"], i["field"]):
           (i["household_id"], i["id_number"], i["helper_id_number"], i["project_id"]) for i in issues}
    assert got == {
        ("SCH-02", "members", "work_months"): ("001", a, None, None),
        ("SCH-04", "members", "name"): ("001", b, None, None),
        ("SCH-03", "members", None): ("001", b, None, None),
        ("SCH-04", "households", "status"): ("001", None, None, None),
        ("SCH-02", "households", "income_per_capita"): ("001", None, None, None),
        ("SCH-04", "helpers", "phone"): (None, None, h, None),
        ("SCH-02", "helpers", "rank"): (None, None, h, None),
        ("SCH-02", "pairings", "start_on"): ("001", None, h, None),
        ("SCH-02", "projects", "funds_10k"): (None, None, None, "P1"),
        ("SCH-02", "loans", "amount"): ("001", a, None, None),
        ("SCH-03", "hukou", None): (None, c, None, None),
        ("SCH-02", "hukou", "hukou_status"): (None, got[("SCH-02", "hukou", "hukou_status")][1], None, None),
    }
    assert len(issues) == 12
    vals = {(i["rule_id"], i["field"]): i["value"] for i in issues}
    assert vals[("SCH-02", "work_months")] == "13" and vals[("SCH-02", "rank")] == "处级"
    # a value SCH-02 nulled is SCH-02 only, never SCH-04 as well
    assert ("SCH-04", "members", "work_months") not in got
    assert all(i["message"] and "None" not in i["message"] for i in issues)
    proj = [i for i in issues if i["project_id"] == "P1"][0]
    assert (proj["township"], proj["village"]) == ("东塘镇", "白马村")
