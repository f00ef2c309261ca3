"""HOU — 住房安全有保障, and WAT — 饮水安全 (rules.md, sections HOU and WAT).

Housing rows are linked to members on the 18-digit matching form of valid IDs:
the housing row's head ID (v_agency.id18) against v_members.id18 (valid IDs only).
"""
from checks.registry import rule, view
from checks.views import agency_rows

# housing rows whose head ID is valid, with the matching form of the ID
view("v_hou_rows", agency_rows("housing"))

# every (household, housing row) pair where the row's head ID matches a member of the household
view("v_hou_matched", r"""
SELECT DISTINCT m.household_id, hr._rid AS housing_rid, hr.head_id_number, hr.grade,
       hr.renovation, hr.method, hr.area_after, hr.target_type
FROM v_members m
JOIN v_hou_rows hr ON hr.id18 = m.id18
WHERE m.id_valid AND m.household_id IS NOT NULL
""")

rule(
    "HOU-01", "危房户标识为住房安全", "error", key="household", needs=["households"],
    policy="住房安全有保障：C级、D级危房不能认定为住房安全",
    sql=r"""
SELECT h.household_id, 'housing_secure' AS field, '是' AS value,
       json_object('house_grade', h.house_grade, 'housing_secure', h.housing_secure) AS evidence,
       h.house_grade AS detail
FROM households h
WHERE h.house_grade IN ('C', 'D') AND h.housing_secure = true
""",
    message="户主{head_name}家住房为{detail}级危房，却登记为住房安全有保障，请核实住房情况",
)

rule(
    "HOU-02", "已脱贫户住房不安全", "error", key="household", needs=["households"],
    policy="住房安全有保障：脱贫户住房安全，危房不住人",
    sql=r"""
SELECT h.household_id,
       CASE WHEN h.house_grade IN ('C', 'D') THEN 'house_grade' ELSE 'housing_secure' END AS field,
       CASE WHEN h.house_grade IN ('C', 'D') THEN h.house_grade ELSE '否' END AS value,
       json_object('status', h.status, 'house_grade', h.house_grade,
                   'housing_secure', h.housing_secure) AS evidence,
       concat_ws('，',
           CASE WHEN h.house_grade IN ('C', 'D') THEN format('住房为{}级危房', h.house_grade) END,
           CASE WHEN h.housing_secure = false THEN '住房安全未保障' END) AS detail
FROM households h
WHERE h.status = '已脱贫'
  AND (h.house_grade IN ('C', 'D') OR h.housing_secure = false)
""",
    message="户主{head_name}家已脱贫但{detail}，请核实住房安全保障情况",
)

rule(
    "HOU-03", "住建鉴定危房未改造", "error", key="household", needs=["households", "members", "housing"],
    source="housing",
    policy="农村危房改造：C级、D级危房改造全覆盖",
    sql=r"""
SELECT h.household_id, 'housing_secure' AS field, '是' AS value,
       json_object('housing_secure', h.housing_secure,
                   'housing', list_sort(list(DISTINCT concat_ws('/', x.head_id_number, x.grade,
                                                                 x.renovation)))) AS evidence,
       string_agg(DISTINCT format('{}级、{}', x.grade, x.renovation), '；'
                  ORDER BY format('{}级、{}', x.grade, x.renovation)) AS detail
FROM households h
JOIN v_hou_matched x USING (household_id)
WHERE h.housing_secure = true
  AND x.grade IN ('C', 'D') AND x.renovation <> '已竣工'
GROUP BY h.household_id, h.housing_secure
""",
    message="住建部门鉴定户主{head_name}家住房为危房且未完成改造（{detail}），但登记为住房安全有保障，请核实",
)

rule(
    "HOU-04", "拆除重建面积超标", "suspect", key="household", needs=["members", "housing"],
    source="housing",
    policy="农村危房改造：拆除重建的住房面积不超过{rebuild_max_area}平方米",
    sql=r"""
SELECT x.household_id, 'area_after' AS field,
       CASE WHEN count(DISTINCT x.area_after) = 1 THEN regexp_replace(CAST(max(x.area_after) AS VARCHAR), '\.0$', '') END AS value,
       json_object('method', '拆除重建', 'area_after', list_sort(list(DISTINCT x.area_after)),
                   'rebuild_max_area', $rebuild_max_area) AS evidence,
       format('改造后面积{}㎡，上限{}㎡', regexp_replace(format('{:.4f}', max(x.area_after)), '\.?0+$', ''), regexp_replace(format('{:.4f}', $rebuild_max_area), '\.?0+$', '')) AS detail
FROM v_hou_matched x
WHERE x.method = '拆除重建' AND x.area_after > $rebuild_max_area
GROUP BY x.household_id
""",
    message="户主{head_name}家拆除重建面积超过标准（{detail}），请核实",
)

rule(
    "HOU-05", "易地搬迁户纳入危房改造", "error", key="household",
    needs=["households", "members", "housing"], source="housing",
    policy="农村危房改造：已纳入易地扶贫搬迁的农户不再纳入危房改造",
    sql=r"""
SELECT h.household_id, 'relocated' AS field, '是' AS value,
       json_object('relocated', h.relocated,
                   'renovation', list_sort(list(DISTINCT x.renovation))) AS evidence,
       string_agg(DISTINCT x.renovation, '、' ORDER BY x.renovation) AS detail
FROM households h
JOIN v_hou_matched x USING (household_id)
WHERE h.relocated = true AND x.renovation IN ('在建', '已竣工')
GROUP BY h.household_id, h.relocated
""",
    message="户主{head_name}家为易地扶贫搬迁户，却纳入危房改造（改造状态：{detail}），请核实",
)

rule(
    "HOU-06", "危改对象身份不符", "error", key="id_number", needs=["housing", "members"],
    source="housing",
    policy="农村危房改造：改造对象身份须经识别认定",
    sql=r"""
SELECT NULL AS household_id, hr.head_id_number AS id_number, hr.head_name AS person_name,
       'target_type' AS field, hr.target_type AS value,
       json_object('head_id_number', hr.head_id_number, 'head_name', hr.head_name,
                   'target_type', hr.target_type) AS evidence
FROM housing hr
LEFT JOIN v_agency a ON a.agency = 'housing' AND a._rid = hr._rid
WHERE hr.target_type = '建档立卡贫困户'
  AND NOT EXISTS (SELECT 1 FROM v_members m WHERE m.id_valid AND m.id18 = a.id18)
""",
    message="住建危改对象{person_name}（{id_number}）登记为建档立卡贫困户，但建档立卡成员中无此人，请核实对象身份",
)

rule(
    "WAT-01", "已脱贫户饮水不安全", "error", key="household", needs=["households"],
    policy="饮水安全有保障：脱贫户饮水安全",
    sql=r"""
SELECT h.household_id, 'water_secure' AS field, '否' AS value,
       json_object('status', h.status, 'water_secure', h.water_secure) AS evidence
FROM households h
WHERE h.status = '已脱贫' AND h.water_secure = false
""",
    message="户主{head_name}家已脱贫但饮水安全未保障，请核实饮水情况",
)
