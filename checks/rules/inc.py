"""INC — income (一超过) and monitoring (rules.md, section INC).

Money comparisons are made on values rounded to 6 decimals, so that an amount
exactly on a limit (e.g. a difference of exactly 10 元) compares as equal despite
binary floating point. INC-01's tolerance is max(10 元, 1% of the computed value) as
written: a negative computed value leaves the 10 元 floor. Evidence holds the lines
compared, not R's year, so it stays equal across periods when nothing changed.
"""
from checks.registry import rule

def _no_line(name: str):
    def check(p: dict) -> str | None:
        if p[name] is None:
            return f"no {name} for year {p['R_year']} (years without a line are skipped)"
        return None
    return check


rule(
    "INC-01", "人均纯收入计算错误", "error", key="household", needs=["households"],
    policy="收入信息准确：年人均纯收入＝（工资性收入＋生产经营性收入＋财产性收入＋转移性收入－生产经营性支出）÷家庭人口数",
    sql=r"""
WITH c AS (
    SELECT h.*,
           (wage_income + business_income + property_income + transfer_income - business_cost)
               / size AS computed
    FROM households h
    WHERE wage_income IS NOT NULL AND business_income IS NOT NULL
      AND property_income IS NOT NULL AND transfer_income IS NOT NULL
      AND business_cost IS NOT NULL AND income_per_capita IS NOT NULL AND size > 0
)
SELECT c.household_id, 'income_per_capita' AS field, regexp_replace(CAST(c.income_per_capita AS VARCHAR), '\.0$', '') AS value,
       json_object('income_per_capita', c.income_per_capita, 'computed', round(c.computed, 2),
                   'size', c.size, 'wage_income', c.wage_income,
                   'business_income', c.business_income, 'property_income', c.property_income,
                   'transfer_income', c.transfer_income, 'business_cost', c.business_cost) AS evidence,
       format('登记{:.2f}元，按收入构成计算为{:.2f}元', c.income_per_capita, c.computed) AS detail
FROM c
WHERE round(abs(c.income_per_capita - c.computed), 6)
      > round(greatest($income_tol_abs, $income_tol_rel * c.computed), 6)
""",
    message="户主{head_name}家年人均纯收入计算有误（{detail}），请核实各项收入和家庭人口数",
)

rule(
    "INC-02", "已脱贫户收入低于标准", "error", key="household", needs=["households"],
    policy="脱贫标准：已脱贫户年人均纯收入不低于当年扶贫标准",
    precheck=_no_line("poverty_line"),
    sql=r"""
SELECT h.household_id, 'income_per_capita' AS field, regexp_replace(CAST(h.income_per_capita AS VARCHAR), '\.0$', '') AS value,
       json_object('status', h.status, 'income_per_capita', h.income_per_capita,
                   'poverty_line', $poverty_line) AS evidence,
       format('年人均纯收入{:.2f}元，低于{}年贫困标准{:.0f}元', h.income_per_capita, $R_year, $poverty_line) AS detail
FROM households h
WHERE h.status = '已脱贫' AND h.income_per_capita < $poverty_line
""",
    message="户主{head_name}家已脱贫但{detail}，请核实收入",
)

rule(
    "INC-03", "收入数据异常", "suspect", key="household", needs=["households"],
    policy="扶贫数据清洗：收入信息准确",
    sql=r"""
WITH c AS (
    SELECT h.*,
           CASE WHEN wage_income < 0 THEN 'wage_income'
                WHEN business_income < 0 THEN 'business_income'
                WHEN property_income < 0 THEN 'property_income'
                WHEN transfer_income < 0 THEN 'transfer_income'
                WHEN business_cost < 0 THEN 'business_cost'
                WHEN income_per_capita <= 0 OR income_per_capita > $max_income_per_capita
                     THEN 'income_per_capita' END AS bad_field
    FROM households h
)
SELECT c.household_id, c.bad_field AS field,
       regexp_replace(CAST(CASE c.bad_field WHEN 'wage_income' THEN c.wage_income
                             WHEN 'business_income' THEN c.business_income
                             WHEN 'property_income' THEN c.property_income
                             WHEN 'transfer_income' THEN c.transfer_income
                             WHEN 'business_cost' THEN c.business_cost
                             ELSE c.income_per_capita END AS VARCHAR), '\.0$', '') AS value,
       json_object('income_per_capita', c.income_per_capita, 'wage_income', c.wage_income,
                   'business_income', c.business_income, 'property_income', c.property_income,
                   'transfer_income', c.transfer_income, 'business_cost', c.business_cost,
                   'max_income_per_capita', $max_income_per_capita) AS evidence,
       concat_ws('；',
           CASE WHEN c.wage_income < 0 OR c.business_income < 0 OR c.property_income < 0
                     OR c.transfer_income < 0 OR c.business_cost < 0
                THEN '收入或支出项为负数' END,
           CASE WHEN c.income_per_capita <= 0
                THEN format('年人均纯收入为{:.2f}元', c.income_per_capita) END,
           CASE WHEN c.income_per_capita > $max_income_per_capita
                THEN format('年人均纯收入{:.2f}元超过{:.0f}元', c.income_per_capita, $max_income_per_capita) END
       ) AS detail
FROM c
WHERE c.bad_field IS NOT NULL
""",
    message="户主{head_name}家收入数据异常（{detail}），请核实",
)

rule(
    "INC-04", "应纳入监测未纳入", "suspect", key="household", needs=["households"],
    policy="防返贫监测：收入低于监测标准的脱贫户纳入监测",
    precheck=_no_line("monitoring_line"),
    sql=r"""
SELECT h.household_id, 'monitor_type' AS field, h.monitor_type AS value,
       json_object('status', h.status, 'monitor_type', h.monitor_type,
                   'income_per_capita', h.income_per_capita,
                   'monitoring_line', $monitoring_line, 'poverty_line', $poverty_line) AS evidence,
       format('年人均纯收入{:.2f}元，低于{}年监测标准{:.0f}元', h.income_per_capita, $R_year, $monitoring_line) AS detail
FROM households h
WHERE h.status = '已脱贫' AND h.monitor_type = '无'
  AND h.income_per_capita < $monitoring_line
  AND NOT coalesce(h.income_per_capita < $poverty_line, false)
""",
    message="户主{head_name}家已脱贫、未纳入监测，但{detail}，请核实是否应纳入防返贫监测",
)

rule(
    "INC-05", "零就业家庭", "suspect", key="household", needs=["households", "members"],
    policy="动态消除“零就业”贫困家庭",
    sql=r"""
WITH m AS (
    SELECT household_id,
           count(*) FILTER (WHERE age BETWEEN $working_age_lo AND $working_age_hi
                            AND labor IN ('普通劳动力', '技能劳动力')) AS n_labour,
           count(*) FILTER (WHERE work_status <> '无') AS n_working
    FROM v_members
    WHERE household_id IS NOT NULL
    GROUP BY household_id
)
SELECT h.household_id, 'wage_income' AS field, regexp_replace(CAST(h.wage_income AS VARCHAR), '\.0$', '') AS value,
       json_object('working_age_labourers', m.n_labour, 'members_working', m.n_working,
                   'wage_income', h.wage_income) AS evidence,
       format('有{}名劳动年龄劳动力，但无人务工且工资性收入为{}', m.n_labour,
              coalesce(format('{:.2f}元', h.wage_income), '空')) AS detail
FROM households h
JOIN m USING (household_id)
WHERE m.n_labour > 0 AND m.n_working = 0
  AND (h.wage_income IS NULL OR h.wage_income = 0)
""",
    message="户主{head_name}家为零就业家庭（{detail}），请核实并落实就业帮扶",
)
