"""HH — household composition (rules.md, section HH; 004 篇7 解决基础信息错误问题).

HH-01 and HH-03 visit every household_id of households ∪ members (v_hh); the
other member-based rules visit the household_ids of members; HH-02 and HH-09 the
rows of households. Rules about "the head" (HH-04, HH-05's second branch, HH-06)
use v_head (households with exactly one 户主).
"""
from checks.registry import rule

POLICY = "扶贫数据清洗：家庭基础信息准确、完整"

rule(
    "HH-01", "户主人数异常", "error", key="household", needs=["members"], policy=POLICY,
    sql=r"""
WITH heads AS (
    SELECT household_id, list_sort(list(name) FILTER (WHERE name IS NOT NULL)) AS names
    FROM members WHERE relation = '户主' AND household_id IS NOT NULL
    GROUP BY household_id
)
SELECT h.household_id, 'relation' AS field, CAST(NULL AS VARCHAR) AS value,   -- a count of rows, no cell
       json_object('n_heads', h.n_heads, 'heads', coalesce(heads.names, [])) AS evidence,
       concat(CASE WHEN nullif(h.head_name, '') IS NOT NULL THEN '（' || h.head_name || '户）' END,
              CASE WHEN h.n_heads = 0 THEN '没有户主'
                   ELSE format('有{}名户主：{}', h.n_heads,
                               coalesce(nullif(array_to_string(heads.names, '、'), ''), '姓名未填')) END) AS detail
FROM v_hh h
LEFT JOIN heads USING (household_id)
WHERE h.n_heads <> 1
""",
    message="户编号{household_id}{detail}，每户应有且只有1名户主，请核对“与户主关系”",
)

rule(
    "HH-02", "家庭人口数不符", "error", key="household", needs=["households", "members"],
    policy=POLICY,
    sql=r"""
SELECT h.household_id, 'size' AS field, CAST(h.size AS VARCHAR) AS value,
       json_object('size', h.size, 'member_rows', v.n_members) AS evidence,
       format('登记{}人，成员名单实有{}人', h.size, v.n_members) AS detail
FROM households h
JOIN v_hh v USING (household_id)
WHERE h.size IS NOT NULL AND h.size <> v.n_members
""",
    message="{head_name}户的家庭人口数与成员名单不符（{detail}），请核对",
)

rule(
    "HH-03", "户信息缺失", "error", key="household", needs=["households", "members"],
    policy=POLICY,
    sql=r"""
SELECT household_id, 'household_id' AS field, household_id AS value,
       json_object('in_households', in_households, 'in_members', in_members) AS evidence,
       concat(CASE WHEN nullif(head_name, '') IS NOT NULL THEN '（' || head_name || '户）' END,
              CASE WHEN NOT in_members THEN '在家庭情况表中有记录，但家庭成员表中没有该户成员'
                   ELSE '在家庭成员表中有成员，但家庭情况表中没有该户' END) AS detail
FROM v_hh
WHERE NOT in_households OR NOT in_members
""",
    message="户编号{household_id}{detail}，请补录",
)

rule(
    "HH-04", "家庭关系与年龄矛盾", "suspect", key="person", needs=["members"], policy=POLICY,
    # "At least N years younger/older" compares birth dates: b + N years (29 Feb + N
    # years = 28 Feb; DuckDB's INTERVAL arithmetic does this).
    sql=r"""
WITH p AS (
    SELECT m.household_id, m.id_number, m.name, m.relation, m.birth,
           h.name AS head_name, h.birth AS head_birth,
           CASE WHEN m.relation IN ('之子', '之女', '之父', '之母') THEN 15
                WHEN m.relation IN ('之孙子', '之孙女') THEN 30 END AS years,
           m.township, m.village, m.county
    FROM v_members m
    JOIN v_head h USING (household_id)
    WHERE m.id_valid AND h.id_valid
      AND m.relation IN ('之子', '之女', '之父', '之母', '之孙子', '之孙女')
)
SELECT household_id, id_number, name AS person_name,
       'relation' AS field, relation AS value,
       json_object('relation', relation, 'birth', birth, 'head_birth', head_birth,
                   'min_years', years) AS evidence,
       format('{}，出生于{}；户主{}出生于{}，应{}户主至少{}岁',
              relation, strftime(birth, '%Y-%m-%d'), head_name, strftime(head_birth, '%Y-%m-%d'),
              CASE WHEN relation IN ('之父', '之母') THEN '大于' ELSE '小于' END, years) AS detail,
       township, village, county
FROM p
WHERE CASE WHEN relation IN ('之父', '之母')
           THEN head_birth < CAST(birth + to_years(years) AS DATE)
           ELSE birth < CAST(head_birth + to_years(years) AS DATE) END
""",
    message="{person_name}的年龄与其“与户主关系”矛盾（{detail}），请核对与户主关系或证件号码",
)

rule(
    "HH-05", "配偶信息异常", "suspect", key="household", needs=["members"], policy=POLICY,
    sql=r"""
WITH s AS (
    SELECT household_id,
           count(*) FILTER (WHERE relation = '配偶') AS n_sp,
           list_sort(list(gender) FILTER (WHERE relation = '配偶' AND gender IS NOT NULL)) AS sp_genders,
           list_sort(list(name) FILTER (WHERE relation = '配偶' AND name IS NOT NULL)) AS sp_names
    FROM members WHERE household_id IS NOT NULL
    GROUP BY household_id
), c AS (
    SELECT s.*, h.gender AS head_gender,
           s.n_sp > 1 AS many,
           coalesce(h.gender IS NOT NULL AND list_contains(s.sp_genders, h.gender), false) AS same_gender
    FROM s LEFT JOIN v_head h USING (household_id)
)
SELECT household_id, 'relation' AS field, CAST(NULL AS VARCHAR) AS value,     -- several rows compared
       json_object('spouses', n_sp, 'spouse_genders', sp_genders, 'head_gender', head_gender) AS evidence,
       concat_ws('；',
           CASE WHEN many THEN format('登记了{}名配偶：{}', n_sp,
                                      coalesce(nullif(array_to_string(sp_names, '、'), ''), '姓名未填')) END,
           CASE WHEN same_gender THEN format('配偶与户主性别同为{}', head_gender) END) AS detail
FROM c
WHERE many OR same_gender
""",
    message="{head_name}户配偶信息异常（{detail}），请核对与户主关系和性别",
)

rule(
    "HH-06", "户主年龄过小", "suspect", key="household", needs=["members"], policy=POLICY,
    sql=r"""
SELECT household_id, 'id_number' AS field, id_number AS value,
       json_object('head_id_number', id_number, 'head_birth', birth) AS evidence,
       CAST(age AS VARCHAR) AS detail
FROM v_head
WHERE household_id IS NOT NULL AND age < 16
""",
    message="{head_name}户的户主年龄为{detail}周岁，不满16周岁，请核实户主是否登记正确",
)

rule(
    "HH-07", "同户成员所在村不一致", "error", key="household", needs=["members"], policy=POLICY,
    sql=r"""
WITH g AS (
    SELECT household_id,
           count(DISTINCT nullif(trim(township), '')) AS n_t,
           count(DISTINCT nullif(trim(village), '')) AS n_v,
           list_sort(list(DISTINCT nullif(trim(township), '')) FILTER (WHERE nullif(trim(township), '') IS NOT NULL)) AS ts,
           list_sort(list(DISTINCT nullif(trim(village), '')) FILTER (WHERE nullif(trim(village), '') IS NOT NULL)) AS vs
    FROM members WHERE household_id IS NOT NULL
    GROUP BY household_id
)
SELECT household_id,
       CASE WHEN n_t > 1 THEN 'township' ELSE 'village' END AS field,
       CAST(NULL AS VARCHAR) AS value,                                -- several rows compared
       json_object('townships', ts, 'villages', vs) AS evidence,
       concat_ws('；',
           CASE WHEN n_t > 1 THEN '乡镇：' || array_to_string(ts, '、') END,
           CASE WHEN n_v > 1 THEN '村：' || array_to_string(vs, '、') END) AS detail
FROM g
WHERE n_t > 1 OR n_v > 1
""",
    message="{head_name}户的成员登记在不同的乡镇或村（{detail}），请核对",
)

rule(
    "HH-08", "性别与家庭关系矛盾", "error", key="person", needs=["members"], policy=POLICY,
    sql=r"""
SELECT household_id, id_number, name AS person_name, 'gender' AS field, gender AS value,
       json_object('relation', relation, 'gender', gender) AS evidence,
       relation AS detail,
       township, village, county
FROM members
WHERE (relation IN ('之子', '之女婿', '之孙子', '之父') AND gender = '女')
   OR (relation IN ('之女', '之儿媳', '之孙女', '之母') AND gender = '男')
""",
    message="{person_name}与户主关系为{detail}，性别却登记为{value}，请核对",
)

rule(
    "HH-09", "致贫原因与成员状况矛盾", "suspect", key="household", needs=["households", "members"],
    policy=POLICY,
    sql=r"""
WITH f AS (
    SELECT household_id,
           bool_or(health IN ('长期慢性病', '患有大病')) AS ill,
           bool_or(health = '残疾') AS disabled,
           bool_or(school_status <> '非在校生') AS student
    FROM members WHERE household_id IS NOT NULL
    GROUP BY household_id
)
SELECT h.household_id, 'cause' AS field, h.cause AS value,
       json_object('cause', h.cause, 'member_ill', coalesce(f.ill, false),
                   'member_disabled', coalesce(f.disabled, false),
                   'member_in_school', coalesce(f.student, false)) AS evidence,
       CASE h.cause WHEN '因病' THEN '家中没有健康状况为长期慢性病或患有大病的成员'
                    WHEN '因残' THEN '家中没有健康状况为残疾的成员'
                    ELSE '家中没有在校生' END AS detail
FROM households h
LEFT JOIN f USING (household_id)
WHERE (h.cause = '因病' AND NOT coalesce(f.ill, false))
   OR (h.cause = '因残' AND NOT coalesce(f.disabled, false))
   OR (h.cause = '因学' AND NOT coalesce(f.student, false))
""",
    message="{head_name}户的主要致贫原因为{value}，但{detail}，请核实致贫原因或成员状况",
)
