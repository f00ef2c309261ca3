"""LOAN-01..05 on hand-built tables. R of 2026-10 is 2026-10-31."""
import datetime as dt

from ruleutil import add, fired, household, member, new_db, pid, run
from schemas.ids import to18

PERIOD = "2026-10"
R = dt.date(2026, 10, 31)
D = dt.date


def loan(borrower, name="王借", **kw):
    row = dict(borrower_name=name, borrower_id_number=borrower, household_id=None, amount=30000.0,
               issued_on=D(2025, 3, 1), due_on=D(2028, 3, 1), balance=30000.0, repay_status="正常",
               purpose="养殖业", use_mode="自主发展")
    row.update(kw)
    return row


def _db(loans=(), members=(), households=()):
    con = new_db()
    for table, rows in (("loans", loans), ("members", members), ("households", households)):
        if rows:
            add(con, table, list(rows))
    return con


def by_disc(issues, rule_id):
    """issues of a rule keyed by (household_id, borrower id_number, issued_on from evidence)."""
    import json
    return {(i["household_id"], i["id_number"], json.loads(i["evidence"]).get("issued_on")): i
            for i in fired(issues, rule_id)}


# --- LOAN-01 and the loan's household ----------------------------------------

def test_loan01_fires_outside_range_and_finds_the_loans_household():
    m1, m2 = pid(1980), pid(1985)
    legacy = "430624" + "850615" + "123"          # valid 15-digit form of a member's ID
    m3 = to18(legacy)
    outsider = pid(1990)
    con = _db(members=[member("H1", "张一", m1, "户主"), member("H2", "张二", m2, "户主"),
                       member("H3", "张三", m3, "户主")],
              loans=[loan(m1, "张一", amount=1999.99),                              # via member ID
                     loan(m2, "张二", household_id="H7", amount=50000.01),           # given household wins
                     loan(legacy, "张三", amount=500.0),                             # 15 -> 18 matching
                     loan(outsider, "外人", amount=60000.0),                         # no household
                     loan(m1, "张一", amount=1000.0, issued_on=D(2026, 1, 5))])      # second loan
    issues = run(con, PERIOD, only={"LOAN-01"})
    got = by_disc(issues, "LOAN-01")
    assert set(got) == {("H1", m1, "2025-03-01"), ("H7", m2, "2025-03-01"), ("H3", legacy, "2025-03-01"),
                        (None, outsider, "2025-03-01"), ("H1", m1, "2026-01-05")}
    i = got[("H1", m1, "2025-03-01")]
    assert (i["field"], i["value"], i["severity"]) == ("amount", "1999.99", "suspect")
    assert "1999.99元" in i["message"] and "2000至50000" in i["message"]
    assert len({x["issue_id"] for x in fired(issues, "LOAN-01")}) == 5


def test_loan01_silent_at_exactly_2000_and_50000_and_empty_amount():
    con = _db(loans=[loan(pid(1980), amount=2000.0), loan(pid(1981), amount=50000.0),
                     loan(pid(1982), amount=None)])
    assert fired(run(con, PERIOD, only={"LOAN-01"}), "LOAN-01") == []


def test_loan_borrower_in_two_households_gives_an_issue_to_each():
    m = pid(1980)
    con = _db(members=[member("H1", "张一", m, "户主"), member("H2", "张一", m, "之子")],
              loans=[loan(m, "张一", use_mode="入股企业")])
    issues = run(con, PERIOD, only={"LOAN-04"})
    assert {i["household_id"] for i in fired(issues, "LOAN-04")} == {"H1", "H2"}


def test_loan_rules_skipped_without_loans_and_loan05_without_members():
    con = _db(members=[member("H1", "张一", pid(1980), "户主")])
    run(con, PERIOD, only={"LOAN-01", "LOAN-05"})
    assert run.results["LOAN-01"].status == "skipped"
    assert run.results["LOAN-01"].reason == "missing table: loans"
    con = _db(loans=[loan(pid(1980))])
    run(con, PERIOD, only={"LOAN-05", "LOAN-01"})
    assert run.results["LOAN-05"].status == "skipped"
    assert run.results["LOAN-01"].status == "evaluated"


# --- LOAN-02 ------------------------------------------------------------------

def test_loan02_fires_when_term_exceeds_1096_days():
    b = pid(1980)
    con = _db(loans=[loan(b, household_id="H1", issued_on=D(2024, 1, 1), due_on=D(2027, 1, 2))])  # 1097 days
    issues = run(con, PERIOD, only={"LOAN-02"})
    got = fired(issues, "LOAN-02")
    assert [(i["household_id"], i["id_number"]) for i in got] == [("H1", b)]
    assert (got[0]["field"], got[0]["value"], got[0]["severity"]) == ("due_on", "2027-01-02", "suspect")
    assert '"term_days":1097' in got[0]["evidence"]


def test_loan02_silent_at_exactly_1096_days_and_without_due_date():
    con = _db(loans=[loan(pid(1980), issued_on=D(2024, 1, 1), due_on=D(2027, 1, 1)),    # 1096 days
                     loan(pid(1981), issued_on=D(2024, 1, 1), due_on=None)])
    assert fired(run(con, PERIOD, only={"LOAN-02"}), "LOAN-02") == []


# --- LOAN-03 ------------------------------------------------------------------

def test_loan03_fires_on_overdue_status_or_past_due_with_balance():
    a, b, c = pid(1980), pid(1981), pid(1982)
    con = _db(loans=[loan(a, household_id="H1", repay_status="逾期", due_on=D(2028, 1, 1)),
                     loan(b, household_id="H2", due_on=D(2026, 10, 30), balance=100.0, repay_status="正常"),
                     loan(c, household_id="H3", due_on=D(2026, 1, 1), balance=0.5, repay_status=None)])
    issues = run(con, PERIOD, only={"LOAN-03"})
    got = {i["household_id"]: i for i in fired(issues, "LOAN-03")}
    assert set(got) == {"H1", "H2", "H3"}
    assert (got["H1"]["field"], got["H1"]["value"]) == ("repay_status", "逾期")
    assert (got["H2"]["field"], got["H2"]["value"]) == ("due_on", "2026-10-30")
    assert got["H1"]["severity"] == "error"
    assert "还款状态为“空”" in got["H3"]["message"]


def test_loan03_silent_when_due_on_R_settled_zero_or_empty_balance():
    con = _db(loans=[loan(pid(1980), due_on=R, balance=100.0),
                     loan(pid(1981), due_on=D(2026, 1, 1), balance=100.0, repay_status="已结清"),
                     loan(pid(1982), due_on=D(2026, 1, 1), balance=0.0),
                     loan(pid(1983), due_on=D(2026, 1, 1), balance=None),
                     loan(pid(1984), due_on=None, balance=100.0)])
    assert fired(run(con, PERIOD, only={"LOAN-03"}), "LOAN-03") == []


# --- LOAN-04 ------------------------------------------------------------------

def test_loan04_fires_on_shares_in_an_enterprise():
    a = pid(1980)
    con = _db(loans=[loan(a, household_id="H1", use_mode="入股企业")])
    got = fired(run(con, PERIOD, only={"LOAN-04"}), "LOAN-04")
    assert [(i["household_id"], i["field"], i["value"], i["severity"]) for i in got] == \
        [("H1", "use_mode", "入股企业", "suspect")]


def test_loan04_silent_for_other_or_empty_use_modes():
    con = _db(loans=[loan(pid(1980), use_mode="合作发展"), loan(pid(1981), use_mode=None)])
    assert fired(run(con, PERIOD, only={"LOAN-04"}), "LOAN-04") == []


# --- LOAN-05 ------------------------------------------------------------------

def test_loan05_fires_for_non_member_borrower_and_wrong_household():
    m1, m2 = pid(1980), pid(1985)
    bad = m2[:17] + ("0" if m2[17] != "0" else "1")                  # invalid ID on both sides
    outsider = pid(1990)
    con = _db(members=[member("H1", "张一", m1, "户主"), member("H2", "张二", m2, "户主"),
                       member("H3", "张三", bad, "户主")],
              households=[household("H1", "张一"), household("H2", "张二")],
              loans=[loan(outsider, "外人"), loan(outsider, "外人", issued_on=D(2026, 2, 1)),
                     loan(m1, "张一", household_id="H2"),           # borrower lives in H1
                     loan(bad, "张三", household_id="H3")])
    issues = run(con, PERIOD, only={"LOAN-05"})
    got = {i["id_number"]: i for i in fired(issues, "LOAN-05")}
    assert set(got) == {outsider, m1, bad}
    assert len(fired(issues, "LOAN-05")) == 3                       # one issue per borrower
    assert got[outsider]["household_id"] is None
    assert got[m1]["household_id"] is None                          # key: the borrower's ID only
    assert "H2" in got[m1]["message"] and "H1" in got[m1]["message"]
    assert got[m1]["severity"] == "error" and got[m1]["field"] == "borrower_id_number"


def test_loan05_silent_for_member_borrowers_in_their_household():
    m1 = pid(1980)
    legacy = "430624" + "850615" + "123"
    con = _db(members=[member("H1", "张一", m1, "户主"), member("H2", "张二", to18(legacy), "户主")],
              loans=[loan(m1, "张一", household_id="H1"), loan(m1, "张一"),
                     loan(legacy, "张二", household_id="H2"),
                     loan(None, "无证", household_id="H1")])
    assert fired(run(con, PERIOD, only={"LOAN-05"}), "LOAN-05") == []


# --- messages -------------------------------------------------------------------

def test_loan_messages_survive_empty_issue_date_and_name():
    m = pid(1980)
    con = _db(members=[member("H1", "张一", m, "户主")],
              loans=[loan(m, None, amount=1000.0, issued_on=None, due_on=D(2026, 1, 1),
                          repay_status="逾期", use_mode="入股企业"),
                     loan(pid(1990), None, amount=None, use_mode="入股企业")])
    issues = run(con, PERIOD, only={"LOAN-01", "LOAN-03", "LOAN-04", "LOAN-05"})
    assert {i["rule_id"] for i in issues} == {"LOAN-01", "LOAN-03", "LOAN-04", "LOAN-05"}
    for i in issues:
        assert i["message"].startswith("借款人（证件号码"), i["message"]
        assert "None" not in i["message"]
    one = {i["rule_id"]: i["message"] for i in issues if i["id_number"] == m}
    assert "（放款日期不详）放款1000元" in one["LOAN-01"]
    assert "（放款日期不详）放款的贷款还款状态为逾期" in one["LOAN-03"]
    assert "金额不详" in [i["message"] for i in issues if i["rule_id"] == "LOAN-04" and i["id_number"] != m][0]


def test_loan05_message_names_the_borrower():
    con = _db(members=[member("H1", "张一", pid(1980), "户主")], loans=[loan(pid(1990), "外人")])
    msg = fired(run(con, PERIOD, only={"LOAN-05"}), "LOAN-05")[0]["message"]
    assert msg == "借款人外人的证件号码与建档立卡成员均不匹配，请核实借款人是否为建档立卡户成员"


def test_loan01_value_is_the_amount_as_written():
    m1 = pid(1980)
    con = _db(members=[member("H1", "张一", m1, "户主")], loans=[loan(m1, "张一", amount=1000.0)])
    (i,) = fired(run(con, PERIOD, only={"LOAN-01"}), "LOAN-01")
    assert i["value"] == "1000"                          # not 1000.0
