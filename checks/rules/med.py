"""MED — 基本医疗有保障 and disability (rules.md, section MED).

Agency rows are linked to members on the 18-digit matching form of valid IDs
(v_agency.id18); a member whose ID is invalid is never matched (no cascade into
MED-02..06), but MED-01 fires for such a member when the registry flag is 否.
"""
from checks.registry import rule, view
from checks.views import agency_rows

_PERSON = "m.household_id, m.id_number, m.name AS person_name, m.county, m.township, m.village"
_GROUP = "m._rid, m.household_id, m.id_number, m.name, m.county, m.township, m.village"

# medical-insurance rows whose ID is valid, with the matching form of the ID
view("v_med_rows", agency_rows("medical_insurance"))

# disability rows whose ID is valid, with the matching form of the ID and the codes
# that the card number must carry (char 19 = category, char 20 = grade)
view("v_med_dis_rows", agency_rows("disability", """
       CASE x.category WHEN '视力' THEN '1' WHEN '听力' THEN '2' WHEN '言语' THEN '3'
                       WHEN '肢体' THEN '4' WHEN '智力' THEN '5' WHEN '精神' THEN '6'
                       WHEN '多重' THEN '7' END AS category_code,
       CASE x.grade WHEN '一级' THEN '1' WHEN '二级' THEN '2' WHEN '三级' THEN '3'
                    WHEN '四级' THEN '4' END AS grade_code"""))

# the statuses of each person's medical rows for R's year
_MED_YEAR = r"""
med AS (
    SELECT id18,
           bool_or(status = '参保缴费') AS paid,
           list_sort(list(DISTINCT status) FILTER (WHERE status IS NOT NULL)) AS statuses
    FROM v_med_rows WHERE year = $R_year GROUP BY id18
)"""

rule(
    "MED-01", "未参加基本医疗保险", "error", key="person", needs=["members"],
    policy="基本医疗有保障：建档立卡人口基本医疗保险应保尽保",
    sql=rf"""
WITH {_MED_YEAR}
SELECT {_PERSON}, 'basic_medical' AS field, '否' AS value,
       json_object('basic_medical', m.basic_medical, 'year', $R_year,
                   'medical_statuses', coalesce(med.statuses, [])) AS evidence,
       -- the medical-insurance data is named only when it was loaded (else the registry flag alone)
       CASE WHEN EXISTS (SELECT 1 FROM medical_insurance)
            THEN format('，医保数据中也没有其{{}}年度参保缴费记录', $R_year) ELSE '' END AS detail
FROM v_members m
LEFT JOIN med ON med.id18 = m.id18
WHERE m.basic_medical = false AND NOT coalesce(med.paid, false)
""",
    message="{person_name}登记为未参加城乡居民基本医疗保险{detail}，请核实并动员参保",
)

rule(
    "MED-02", "医保比对未参保", "error", key="person", needs=["members", "medical_insurance"],
    source="medical_insurance",
    policy="基本医疗有保障：参保信息与医保部门数据一致",
    sql=rf"""
WITH {_MED_YEAR}
SELECT {_PERSON}, 'basic_medical' AS field, '是' AS value,
       json_object('basic_medical', m.basic_medical, 'year', $R_year,
                   'medical_statuses', coalesce(med.statuses, [])) AS evidence,
       CAST($R_year AS VARCHAR) AS detail
FROM v_members m
LEFT JOIN med ON med.id18 = m.id18
WHERE m.id_valid AND m.basic_medical = true AND NOT coalesce(med.paid, false)
""",
    message="{person_name}登记为已参加基本医疗保险，但医保数据无其{detail}年度参保缴费记录，请核实参保情况",
)

rule(
    "MED-03", "参保标识与医保数据不一致", "suspect", key="person",
    needs=["members", "medical_insurance"], source="medical_insurance",
    policy="基本医疗有保障：参保信息与医保部门数据一致",
    sql=rf"""
WITH {_MED_YEAR}
SELECT {_PERSON}, 'basic_medical' AS field, '否' AS value,
       json_object('basic_medical', m.basic_medical, 'year', $R_year,
                   'medical_statuses', med.statuses) AS evidence,
       CAST($R_year AS VARCHAR) AS detail
FROM v_members m
JOIN med ON med.id18 = m.id18
WHERE m.id_valid AND m.basic_medical = false AND med.paid
""",
    message="{person_name}登记为未参加基本医疗保险，但医保数据显示其{detail}年度已参保缴费，请更正参保标识",
)

rule(
    "MED-04", "残疾标识与残联不一致", "suspect", key="person", needs=["members", "disability"],
    source="disability",
    policy="残疾人信息与残联数据一致",
    sql=rf"""
WITH d AS (
    SELECT id18, coalesce(list_sort(list(DISTINCT card_number) FILTER (WHERE card_number IS NOT NULL)), [])
               AS cards
    FROM v_med_dis_rows GROUP BY id18
)
SELECT {_PERSON}, 'health' AS field, m.health AS value,
       json_object('health', m.health, 'disability_cards', coalesce(d.cards, [])) AS evidence,
       CASE WHEN d.id18 IS NULL THEN '登记为残疾，但残联无其残疾人记录'
            ELSE format('残联有其残疾证（{{}}），但健康状况登记为“{{}}”',
                        coalesce(nullif(array_to_string(d.cards, '、'), ''), '证号未填'), m.health) END AS detail
FROM v_members m
LEFT JOIN d ON d.id18 = m.id18
WHERE m.id_valid
  AND ((m.health = '残疾' AND d.id18 IS NULL)
    OR (m.health <> '残疾' AND d.id18 IS NOT NULL))
""",
    message="{person_name}的残疾标识与残联数据不一致：{detail}，请核实",
)

rule(
    "MED-05", "残疾证号与身份证号不符", "error", key="person", needs=["members", "disability"],
    source="disability",
    policy="残疾人证号由身份证号码、残疾类别代码和残疾等级代码组成",
    sql=rf"""
WITH chk AS (
    SELECT d.*,
           upper(substr(d.card_number, 1, 18)) <> d.id18 AS bad_id,
           coalesce(substr(d.card_number, 19, 1) <> d.category_code, false) AS bad_category,
           coalesce(substr(d.card_number, 20, 1) <> d.grade_code, false) AS bad_grade
    FROM v_med_dis_rows d
)
SELECT {_PERSON}, 'card_number' AS field, c.card_number AS value, c.card_number AS disc,
       json_object('card_number', c.card_number, 'id_number', c.id_number,
                   'category', c.category, 'grade', c.grade) AS evidence,
       concat_ws('；',
           CASE WHEN c.bad_id THEN format('证号前18位{{}}与身份证号{{}}不符',
                                          substr(c.card_number, 1, 18), c.id_number) END,
           CASE WHEN c.bad_category THEN format('第19位应为残疾类别“{{}}”的代码{{}}',
                                                c.category, c.category_code) END,
           CASE WHEN c.bad_grade THEN format('第20位应为残疾等级“{{}}”的代码{{}}',
                                             c.grade, c.grade_code) END) AS detail
FROM chk c
JOIN v_members m ON m.id18 = c.id18
WHERE c.bad_id OR c.bad_category OR c.bad_grade
""",
    message="{person_name}的残疾证号{value}有误（{detail}），请与残联核对",
)

rule(
    "MED-06", "重度残疾人员标为劳动力", "suspect", key="person", needs=["members", "disability"],
    source="disability",
    policy="重度残疾人员的劳动能力如实认定",
    sql=rf"""
SELECT {_PERSON}, 'labor' AS field, m.labor AS value,
       json_object('labor', m.labor,
                   'disability_grade', list_sort(list(DISTINCT d.grade)),
                   'disability_cards', list_sort(list(DISTINCT d.card_number))) AS evidence,
       format('残疾等级{{}}，劳动技能登记为“{{}}”',
              string_agg(DISTINCT d.grade, '、' ORDER BY d.grade), m.labor) AS detail
FROM v_members m
JOIN v_med_dis_rows d ON d.id18 = m.id18 AND d.grade IN ('一级', '二级')
WHERE m.labor IN ('普通劳动力', '技能劳动力')
GROUP BY {_GROUP}, m.labor
""",
    message="{person_name}为重度残疾（{detail}），请核实其劳动能力",
)
