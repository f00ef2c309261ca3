"""LAB — labour and work (rules.md, section LAB).

Age-based rules (LAB-01..03) consider only members with a valid ID: v_members.age
is NULL otherwise, and every age comparison is then false. Evidence carries the
birth date, never the age on R, so it stays equal across periods when data is unchanged.
"""
from checks.registry import rule

_PERSON = "m.household_id, m.id_number, m.name AS person_name, m.county, m.township, m.village"

rule(
    "LAB-01", "未成年人劳动能力异常", "error", key="person", needs=["members"],
    policy="建档立卡：家庭劳动力如实认定（未满16周岁为无劳动力）",
    sql=rf"""
SELECT {_PERSON},
       CASE WHEN m.labor <> '无劳动力' THEN 'labor' ELSE 'work_status' END AS field,
       CASE WHEN m.labor <> '无劳动力' THEN m.labor ELSE m.work_status END AS value,
       json_object('birth', m.birth, 'labor', m.labor, 'work_status', m.work_status) AS evidence,
       format('{{}}岁，劳动技能为“{{}}”，务工状况为“{{}}”', m.age,
              coalesce(m.labor, '空'), coalesce(m.work_status, '空')) AS detail
FROM v_members m
WHERE m.age < 16
  AND (m.labor <> '无劳动力' OR m.work_status <> '无')
""",
    message="{person_name}未满16周岁（{detail}），未成年人应登记为无劳动力且无务工，请核实劳动技能和务工状况",
)

rule(
    "LAB-02", "老年人劳动能力存疑", "suspect", key="person", needs=["members"],
    policy="建档立卡：家庭主要劳动力一般在60岁以下",
    sql=rf"""
SELECT {_PERSON}, 'labor' AS field, m.labor AS value,
       json_object('birth', m.birth, 'labor', m.labor) AS evidence,
       format('{{}}岁，劳动技能登记为“{{}}”', m.age, m.labor) AS detail
FROM v_members m
WHERE m.age >= 65 AND m.labor IN ('普通劳动力', '技能劳动力')
""",
    message="{person_name}已满65周岁（{detail}），请核实其劳动能力",
)

rule(
    "LAB-03", "劳动年龄健康人员无劳动能力", "suspect", key="person", needs=["members"],
    policy="建档立卡：家庭劳动力如实认定",
    sql=rf"""
SELECT {_PERSON}, 'labor' AS field, m.labor AS value,
       json_object('birth', m.birth, 'health', m.health,
                   'school_status', m.school_status, 'labor', m.labor) AS evidence,
       format('{{}}岁、健康、非在校生，劳动技能登记为“{{}}”', m.age, m.labor) AS detail
FROM v_members m
WHERE m.age BETWEEN $working_age_lo AND $working_age_hi
  AND m.health = '健康'
  AND m.school_status = '非在校生'
  AND m.labor IN ('丧失劳动力', '无劳动力')
""",
    message="{person_name}处于劳动年龄（{detail}），请核实其劳动能力",
)

rule(
    "LAB-04", "务工状况与务工时间矛盾", "error", key="person", needs=["members"],
    policy="扶贫数据清洗：务工信息准确",
    sql=rf"""
SELECT {_PERSON}, 'work_months' AS field, CAST(m.work_months AS VARCHAR) AS value,
       json_object('work_status', m.work_status, 'work_months', m.work_months) AS evidence,
       format('务工状况为“{{}}”，务工时间为{{}}', m.work_status,
              coalesce(CAST(m.work_months AS VARCHAR) || '个月', '空')) AS detail
FROM members m
WHERE (m.work_status <> '无' AND coalesce(m.work_months, 0) = 0)
   OR (m.work_status = '无' AND m.work_months > 0)
""",
    message="{person_name}的务工状况与务工时间矛盾（{detail}），请核实",
)

rule(
    "LAB-05", "无劳动能力人员务工", "suspect", key="person", needs=["members"],
    policy="扶贫数据清洗：劳动力信息准确",
    sql=rf"""
SELECT {_PERSON}, 'work_status' AS field, m.work_status AS value,
       json_object('labor', m.labor, 'work_status', m.work_status) AS evidence,
       format('劳动技能为“{{}}”，务工状况为“{{}}”', m.labor, m.work_status) AS detail
FROM members m
WHERE m.labor IN ('丧失劳动力', '无劳动力') AND m.work_status <> '无'
""",
    message="{person_name}登记为无劳动能力却在务工（{detail}），请核实劳动技能或务工状况",
)
