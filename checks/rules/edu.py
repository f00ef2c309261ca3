"""EDU — 义务教育有保障 (rules.md, section EDU).

Age-based and matching rules consider only members with a valid ID. Evidence carries
the birth date, never the age on R (it must stay equal across periods). Education rows
are linked to members on the 18-digit matching form of valid IDs (v_agency.id18).
"""
from checks.registry import rule, view
from checks.views import agency_rows

_PERSON = "m.household_id, m.id_number, m.name AS person_name, m.county, m.township, m.village"

# education rows whose ID is valid, with the matching form of the ID
view("v_edu_rows", agency_rows("education"))

rule(
    "EDU-01", "适龄儿童失学辍学", "error", key="person", needs=["members"],
    policy="义务教育有保障：适龄儿童少年不失学辍学（不能到校的可送教上门）",
    sql=rf"""
SELECT {_PERSON}, 'school_status' AS field, m.school_status AS value,
       json_object('birth', m.birth, 'school_status', m.school_status) AS evidence,
       format('{{}}岁，在校生状况为“{{}}”', m.age, coalesce(m.school_status, '空')) AS detail
FROM v_members m
WHERE m.age BETWEEN $school_age_lo AND $school_age_hi
  AND (m.school_status IS NULL OR m.school_status = '非在校生')
""",
    message="{person_name}处于义务教育年龄（{detail}），请核实是否失学辍学并落实劝返复学或送教上门",
)

rule(
    "EDU-02", "在校生状况与年龄不符", "suspect", key="person", needs=["members"],
    policy="义务教育有保障：在校学生信息准确",
    sql=rf"""
WITH ranges(school_status, lo, hi) AS (VALUES
    ('学前教育', 2, 7), ('小学', 5, 15), ('初中', 10, 18), ('高中', 13, 22), ('中职', 13, 22),
    ('高职', 15, 35), ('大专', 15, 35), ('本科及以上', 15, 35), ('送教上门', 6, 22))
SELECT {_PERSON}, 'school_status' AS field, m.school_status AS value,
       json_object('birth', m.birth, 'school_status', m.school_status,
                   'age_lo', r.lo, 'age_hi', r.hi) AS evidence,
       format('{{}}岁，在校生状况为“{{}}”（应为{{}}至{{}}岁）', m.age, m.school_status, r.lo, r.hi) AS detail
FROM v_members m
JOIN ranges r USING (school_status)
WHERE m.age IS NOT NULL AND (m.age < r.lo OR m.age > r.hi)
""",
    message="{person_name}的在校生状况与年龄不符（{detail}），请核实",
)

rule(
    "EDU-03", "学籍显示辍学或休学", "error", key="person", needs=["members", "education"],
    source="education",
    policy="义务教育有保障：失学辍学动态监测、劝返复学",
    sql=rf"""
SELECT {_PERSON}, 'enrol_status' AS field,
       CASE WHEN count(DISTINCT e.enrol_status) = 1 THEN min(e.enrol_status) END AS value,
       json_object('birth', any_value(m.birth), 'school_status', any_value(m.school_status),
                   'enrol_status', list_sort(list(DISTINCT e.enrol_status)),
                   'school', list_sort(list(DISTINCT e.school))) AS evidence,
       format('{{}}岁，学籍状态为“{{}}”', any_value(m.age),
              string_agg(DISTINCT e.enrol_status, '、' ORDER BY e.enrol_status)) AS detail
FROM v_members m
JOIN v_edu_rows e ON e.id18 = m.id18
WHERE m.age BETWEEN $school_age_lo AND $school_age_hi
GROUP BY m._rid, m.household_id, m.id_number, m.name, m.county, m.township, m.village
HAVING bool_and(coalesce(e.enrol_status IN ('辍学', '休学'), false))
""",
    message="{person_name}处于义务教育年龄，教育部门学籍显示辍学或休学（{detail}），请核实并落实劝返复学",
)

rule(
    "EDU-04", "学籍在读但登记为非在校生", "suspect", key="person", needs=["members", "education"],
    source="education",
    policy="义务教育有保障：在校生信息与教育部门学籍一致",
    sql=rf"""
SELECT {_PERSON}, 'school_status' AS field, m.school_status AS value,
       json_object('school_status', m.school_status, 'enrol_status', '在读',
                   'school', list_sort(list(DISTINCT e.school))) AS evidence,
       coalesce(string_agg(DISTINCT e.school, '、' ORDER BY e.school), '学校名称未填') AS detail
FROM v_members m
JOIN v_edu_rows e ON e.id18 = m.id18 AND e.enrol_status = '在读'
WHERE m.school_status = '非在校生'
GROUP BY m._rid, m.household_id, m.id_number, m.name, m.county, m.township, m.village,
         m.school_status
""",
    message="{person_name}登记为非在校生，但教育部门学籍显示在读（{detail}），请核实在校生状况",
)

rule(
    "EDU-05", "在校但无学籍记录", "notice", key="person", needs=["members", "education"],
    source="education",
    policy="义务教育有保障：在校生信息与教育部门学籍一致",
    sql=rf"""
SELECT {_PERSON}, 'school_status' AS field, m.school_status AS value,
       json_object('school_status', m.school_status, 'education_rows', 0) AS evidence
FROM v_members m
WHERE m.id_valid AND m.school_status IN ('小学', '初中')
  AND NOT EXISTS (SELECT 1 FROM v_edu_rows e WHERE e.id18 = m.id18)
""",
    message="{person_name}登记为{value}在校生，但教育部门无其学籍记录，请核实就读学校（区外就读请注明）",
)
