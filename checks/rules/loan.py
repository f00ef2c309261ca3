"""LOAN — 扶贫小额信贷 (rules.md, section LOAN; 001 规范扶贫小额信贷).

A loan's household (rules.md "Definitions"): its `household_id` when given, else
the household of the member whose valid ID matches the borrower's ID (matching
form: the 18-digit form of a valid ID). When the borrower's ID matches members of
several households (一人多户, ID-05) the loan belongs to each of them; when it
matches none and no household_id is given, the issue has no household (county
level) and names the borrower.

LOAN-01..04: one issue per (loan household, borrower ID, issue date) — the
discriminator is `borrower key|issued_on`. LOAN-05: one issue per borrower.
"""
from checks.catalogue import rule, view

_POLICY = "001 规范扶贫小额信贷"


def _num(expr: str) -> str:
    """SQL: a number as text without trailing zeros (2000.0 -> 2000, 1500.5 -> 1500.5)."""
    return rf"regexp_replace(format('{{:.2f}}', CAST({expr} AS DOUBLE)), '\.?0+$', '')"

# Valid member IDs and their households (only valid IDs link, rules.md "Valid ID").
view("v_loan_member", r"""
SELECT DISTINCT id18, household_id FROM v_members
WHERE id_valid AND id18 IS NOT NULL AND household_id IS NOT NULL
""")

# One row per (loan, household of the loan); a loan without a household keeps one row with NULL.
view("v_loan", r"""
WITH l AS (
    SELECT l.*, f.id18 AS borrower18,
           coalesce(f.id18, l.borrower_id_number) AS borrower_key
    FROM loans l LEFT JOIN v_id f ON f.id_number = l.borrower_id_number
)
SELECT l.*,
       coalesce(l.household_id, m.household_id) AS loan_household_id,
       coalesce(l.borrower_key, '') || '|' || coalesce(CAST(l.issued_on AS VARCHAR), '') AS loan_disc
FROM l LEFT JOIN v_loan_member m ON l.household_id IS NULL AND m.id18 = l.borrower18
""")

_OUT = r"""l.loan_household_id AS household_id, l.borrower_id_number AS id_number,
       l.borrower_name AS person_name, l.loan_disc AS disc"""

rule(
    "LOAN-01", "贷款额度异常", "suspect", key="household", needs=["loans"],
    policy="001 (户贷款额低于2000元); 政策上限5万元",
    sql=rf"""
SELECT {_OUT}, 'amount' AS field, CAST(l.amount AS VARCHAR) AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'amount', l.amount, 'loan_min', $loan_min, 'loan_max', $loan_max) AS evidence,
       format('{{}}放款{{}}元，不在{{}}至{{}}元范围内', l.issued_on, {_num('l.amount')}, {_num('$loan_min')}, {_num('$loan_max')}) AS detail
FROM v_loan l
WHERE l.amount < $loan_min OR l.amount > $loan_max
""",
    message="借款人{person_name}的扶贫小额信贷额度异常（{detail}），请核实贷款金额",
)

rule(
    "LOAN-02", "贷款期限超过3年", "suspect", key="household", needs=["loans"],
    policy=_POLICY,
    sql=rf"""
SELECT {_OUT}, 'due_on' AS field, CAST(l.due_on AS VARCHAR) AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'due_on', l.due_on, 'term_days', l.due_on - l.issued_on,
                   'max_term_days', $loan_max_term_days) AS evidence,
       format('放款{{}}，到期{{}}，期限{{}}天，超过{{}}天', l.issued_on, l.due_on,
              l.due_on - l.issued_on, $loan_max_term_days) AS detail
FROM v_loan l
WHERE l.due_on - l.issued_on > $loan_max_term_days
""",
    message="借款人{person_name}的扶贫小额信贷期限超过3年（{detail}），请核实贷款期限",
)

rule(
    "LOAN-03", "贷款逾期", "error", key="household", needs=["loans"],
    policy=_POLICY,
    sql=rf"""
SELECT {_OUT},
       CASE WHEN l.repay_status = '逾期' THEN 'repay_status' ELSE 'due_on' END AS field,
       CASE WHEN l.repay_status = '逾期' THEN l.repay_status ELSE CAST(l.due_on AS VARCHAR) END AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'due_on', l.due_on, 'balance', l.balance, 'repay_status', l.repay_status) AS evidence,
       CASE WHEN l.repay_status = '逾期' THEN format('{{}}放款的贷款还款状态为逾期', l.issued_on)
            ELSE format('{{}}放款的贷款已于{{}}到期，余额{{}}元，还款状态为“{{}}”',
                        l.issued_on, l.due_on, {_num('l.balance')}, coalesce(l.repay_status, '空')) END AS detail
FROM v_loan l
WHERE l.repay_status = '逾期'
   OR (l.due_on < $R AND l.balance > 0 AND coalesce(l.repay_status, '') <> '已结清')
""",
    message="借款人{person_name}的扶贫小额信贷逾期（{detail}），请督促还款或核实",
)

rule(
    "LOAN-04", "户贷企用", "suspect", key="household", needs=["loans"],
    policy="001 规范扶贫小额信贷 (户贷企用)",
    sql=rf"""
SELECT {_OUT}, 'use_mode' AS field, l.use_mode AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'amount', l.amount, 'use_mode', l.use_mode) AS evidence,
       format('{{}}放款{{}}元，资金使用方式为入股企业', l.issued_on, coalesce({_num('l.amount')}, '空')) AS detail
FROM v_loan l
WHERE l.use_mode = '入股企业'
""",
    message="借款人{person_name}的扶贫小额信贷存在户贷企用（{detail}），请核实资金使用",
)

rule(
    "LOAN-05", "借款人非建档立卡成员", "error", key="id_number", needs=["loans", "members"],
    policy=_POLICY,
    sql=r"""
WITH l AS (
    SELECT l.*, f.id18 AS borrower18, coalesce(f.id18, l.borrower_id_number) AS borrower_key,
           (SELECT list(m.household_id ORDER BY m.household_id) FROM v_loan_member m
             WHERE m.id18 = f.id18) AS member_households
    FROM loans l LEFT JOIN v_id f ON f.id_number = l.borrower_id_number
    WHERE l.borrower_id_number IS NOT NULL
), b AS (
    SELECT *,
           coalesce(len(member_households), 0) = 0 AS b_nomember,
           coalesce(len(member_households), 0) > 0 AND household_id IS NOT NULL
               AND NOT list_contains(member_households, household_id) AS b_otherhh
    FROM l
), f AS (
    SELECT * FROM b WHERE b_nomember OR b_otherhh
)
SELECT min(f.borrower_id_number) AS id_number, min(f.borrower_name) AS person_name,
       -- the loan's household (its given household_id) when that is a registered household
       min(f.household_id) FILTER (WHERE f.household_id IN (SELECT household_id FROM v_hh)) AS household_id,
       'borrower_id_number' AS field, min(f.borrower_id_number) AS value,
       json_object('borrower_id_number', min(f.borrower_id_number),
                   'borrower_name', min(f.borrower_name),
                   'loan_household_ids', list(DISTINCT f.household_id ORDER BY f.household_id)
                                          FILTER (WHERE f.household_id IS NOT NULL),
                   'member_household_ids', any_value(f.member_households)) AS evidence,
       CASE WHEN bool_or(f.b_nomember) THEN '借款人证件号码与建档立卡成员均不匹配'
            ELSE format('贷款登记的户编号{}不是借款人所在户{}',
                        string_agg(DISTINCT f.household_id, '、' ORDER BY f.household_id),
                        array_to_string(any_value(f.member_households), '、')) END AS detail
FROM f
GROUP BY f.borrower_key
""",
    message="借款人{person_name}（{detail}），请核实借款人是否为建档立卡户成员",
)
