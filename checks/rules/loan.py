"""LOAN — 扶贫小额信贷 (rules.md, section LOAN; 001 规范扶贫小额信贷).

A loan's household (rules.md "Definitions"): its `household_id` when given, else
the household of the member whose valid ID matches the borrower's ID (matching
form: the 18-digit form of a valid ID). When the borrower's ID matches members of
several households (一人多户, ID-05) the loan belongs to each of them; when it
matches none and no household_id is given, the issue has no household (county
level) and names the borrower.

LOAN-01..04: one issue per (loan household, borrower ID, issue date) — the
discriminator is `borrower key|issued_on`. LOAN-05: one issue per borrower, keyed by the
borrower's ID only (its key in rules.md is id_number; the households are evidence).
"""
from checks.registry import rule, view

_POLICY = "规范扶贫小额信贷"


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

# The borrower as a message names them (never NULL): 借款人张三, else by ID or household.
_WHO = r"""('借款人' || coalesce(l.borrower_name, '（证件号码' || l.borrower_id_number || '）',
                             '（户编号' || l.loan_household_id || '）', '姓名不详'))"""
# The loan as a message names it: by its issue date.
_ISSUED = "coalesce(CAST(l.issued_on AS VARCHAR), '（放款日期不详）')"

_OUT = r"""l.loan_household_id AS household_id, l.borrower_id_number AS id_number,
       l.borrower_name AS person_name, l.loan_disc AS disc"""

rule(
    "LOAN-01", "贷款额度异常", "suspect", key="household", needs=["loans"],
    policy="扶贫小额信贷额度{loan_amount_lo}元至{loan_amount_hi}元",
    sql=rf"""
SELECT {_OUT}, 'amount' AS field, regexp_replace(CAST(l.amount AS VARCHAR), '\.0$', '') AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'amount', l.amount, 'loan_min', $loan_min, 'loan_max', $loan_max) AS evidence,
       format('{{}}的扶贫小额信贷额度异常（{{}}放款{{}}元，不在{{}}至{{}}元范围内）', {_WHO}, {_ISSUED},
              {_num('l.amount')}, {_num('$loan_min')}, {_num('$loan_max')}) AS detail
FROM v_loan l
WHERE l.amount < $loan_min OR l.amount > $loan_max
""",
    message="{detail}，请核实贷款金额",
)

rule(
    "LOAN-02", "贷款期限超过3年", "suspect", key="household", needs=["loans"],
    policy="扶贫小额信贷期限不超过3年（{loan_max_term_days}天）",
    sql=rf"""
SELECT {_OUT}, 'due_on' AS field, CAST(l.due_on AS VARCHAR) AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'due_on', l.due_on, 'term_days', date_diff('day', l.issued_on, l.due_on),
                   'max_term_days', $loan_max_term_days) AS evidence,
       format('{{}}的扶贫小额信贷期限过长（放款{{}}，到期{{}}，期限{{}}天，超过{{}}天）', {_WHO},
              l.issued_on, l.due_on, date_diff('day', l.issued_on, l.due_on), $loan_max_term_days) AS detail
FROM v_loan l
WHERE date_diff('day', l.issued_on, l.due_on) > $loan_max_term_days
""",
    message="{detail}，请核实贷款期限",
)

rule(
    "LOAN-03", "贷款逾期", "error", key="household", needs=["loans"],
    policy="规范扶贫小额信贷：按期还款，防范逾期",
    sql=rf"""
SELECT {_OUT},
       CASE WHEN l.repay_status = '逾期' THEN 'repay_status' ELSE 'due_on' END AS field,
       CASE WHEN l.repay_status = '逾期' THEN l.repay_status ELSE CAST(l.due_on AS VARCHAR) END AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'due_on', l.due_on, 'balance', l.balance, 'repay_status', l.repay_status) AS evidence,
       {_WHO} || '的扶贫小额信贷逾期（' ||
       CASE WHEN l.repay_status = '逾期' THEN format('{{}}放款的贷款还款状态为逾期', {_ISSUED})
            ELSE format('{{}}放款的贷款已于{{}}到期，余额{{}}元，还款状态为“{{}}”',
                        {_ISSUED}, l.due_on, {_num('l.balance')}, coalesce(l.repay_status, '空')) END
       || '）' AS detail
FROM v_loan l
WHERE l.repay_status = '逾期'
   OR (l.due_on < $R AND l.balance > 0 AND coalesce(l.repay_status, '') <> '已结清')
""",
    message="{detail}，请督促还款或核实",
)

rule(
    "LOAN-04", "户贷企用", "suspect", key="household", needs=["loans"],
    policy="扶贫小额信贷户借、户用、户还，不得户贷企用",
    sql=rf"""
SELECT {_OUT}, 'use_mode' AS field, l.use_mode AS value,
       json_object('borrower_id_number', l.borrower_id_number, 'issued_on', l.issued_on,
                   'amount', l.amount, 'use_mode', l.use_mode) AS evidence,
       format('{{}}的扶贫小额信贷存在户贷企用（{{}}放款{{}}，资金使用方式为入股企业）', {_WHO}, {_ISSUED},
              coalesce({_num('l.amount')} || '元', '金额不详')) AS detail
FROM v_loan l
WHERE l.use_mode = '入股企业'
""",
    message="{detail}，请核实资金使用",
)

rule(
    "LOAN-05", "借款人非建档立卡成员", "error", key="id_number", needs=["loans", "members"],
    policy="扶贫小额信贷对象为建档立卡户",
    sql=r"""
WITH l AS (
    SELECT l.*, f.id18 AS borrower18, coalesce(f.id18, l.borrower_id_number) AS borrower_key,
           (SELECT list(m.household_id ORDER BY m.household_id) FROM v_loan_member m
             WHERE m.id18 = f.id18) AS member_households
    FROM loans l LEFT JOIN v_id f ON f.id_number = l.borrower_id_number
    WHERE l.borrower_id_number IS NOT NULL
), b AS (
    SELECT *,
           coalesce(array_length(member_households), 0) = 0 AS b_nomember,
           coalesce(array_length(member_households), 0) > 0 AND household_id IS NOT NULL
               AND NOT list_contains(member_households, household_id) AS b_otherhh
    FROM l
), f AS (
    SELECT * FROM b WHERE b_nomember OR b_otherhh
)
SELECT min(f.borrower_id_number) AS id_number, min(f.borrower_name) AS person_name,
       -- keyed by the borrower (rules.md LOAN-05 key: id_number): no household_id; the
       -- households involved are in the evidence and the message
       'borrower_id_number' AS field, min(f.borrower_id_number) AS value,
       json_object('borrower_id_number', min(f.borrower_id_number),
                   'borrower_name', min(f.borrower_name),
                   'loan_household_ids', list(DISTINCT f.household_id ORDER BY f.household_id)
                                          FILTER (WHERE f.household_id IS NOT NULL),
                   'member_household_ids', any_value(f.member_households)) AS evidence,
       '借款人' || coalesce(min(f.borrower_name), '（证件号码' || min(f.borrower_id_number) || '）') ||
       CASE WHEN bool_or(f.b_nomember) THEN '的证件号码与建档立卡成员均不匹配'
            ELSE format('的贷款登记的户编号{}不是其所在户{}',
                        string_agg(DISTINCT f.household_id, '、' ORDER BY f.household_id),
                        array_to_string(any_value(f.member_households), '、')) END AS detail
FROM f
GROUP BY f.borrower_key
""",
    message="{detail}，请核实借款人是否为建档立卡户成员",
)
