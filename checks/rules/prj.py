"""PRJ — projects and beneficiaries (rules.md, section PRJ; 004 篇7 项目信息不完整,
受益情况与基本状况不对称).

PRJ-01/02 are keyed by project and carry the project row's township/village (so
the issue can reach that village's workbook). PRJ-03/04 are keyed by household,
with the project ID as discriminator.
"""
from checks.registry import rule

_POLICY = "扶贫项目信息完整，公告公示"

# projects.project_id is unique after loading (repeated keys are rejected), but be safe.
_PROJECTS = r"""
    SELECT * FROM projects WHERE project_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY project_id ORDER BY _rid) = 1
"""


def _hh(hid: str) -> str:
    """SQL: the household as a message names it — 张三户（户编号H1）, else 户编号H1."""
    return (f"coalesce((SELECT v.head_name || '户（户编号' || v.household_id || '）' FROM v_hh v "
            f"WHERE v.household_id = {hid}), '户编号' || {hid})")


rule(
    "PRJ-01", "项目信息不完整", "error", key="project", needs=["projects"],
    policy=_POLICY,
    sql=rf"""
WITH p AS ({_PROJECTS}), c AS (
    SELECT *,
           content IS NULL OR trim(content) = '' AS b_content,
           start_on IS NULL AS b_start,
           end_on IS NULL AS b_end,
           funds_10k IS NULL OR funds_10k <= 0 AS b_funds,
           notice_url IS NULL
               OR NOT regexp_full_match(trim(notice_url), '(?i)https?://[^\s/?#]+([/?#]\S*)?') AS b_url
    FROM p
)
SELECT project_id, township, village,
       CASE WHEN b_content THEN 'content' WHEN b_start THEN 'start_on' WHEN b_end THEN 'end_on'
            WHEN b_funds THEN 'funds_10k' ELSE 'notice_url' END AS field,
       CASE WHEN b_content THEN content WHEN b_start THEN NULL WHEN b_end THEN NULL
            WHEN b_funds THEN regexp_replace(CAST(funds_10k AS VARCHAR), '\.0$', '') ELSE notice_url END AS value,
       json_object('content', content, 'start_on', start_on, 'end_on', end_on,
                   'funds_10k', funds_10k, 'notice_url', notice_url) AS evidence,
       format('{{}}：{{}}', coalesce(name, '名称不详'),
              concat_ws('；',
                        CASE WHEN b_content THEN '建设内容为空' END,
                        CASE WHEN b_start THEN '开工时间为空' END,
                        CASE WHEN b_end THEN '完工时间为空' END,
                        CASE WHEN b_funds THEN
                             CASE WHEN funds_10k IS NULL THEN '资金规模为空'
                                  ELSE format('资金规模{{}}万元不大于0', regexp_replace(format('{{:.4f}}', funds_10k), '\.?0+$', '')) END END,
                        CASE WHEN b_url THEN
                             CASE WHEN notice_url IS NULL THEN '公示网址为空'
                                  ELSE '公示网址不是有效的网址' END END)) AS detail
FROM c
WHERE b_content OR b_start OR b_end OR b_funds OR b_url
""",
    message="项目{project_id}信息不完整（{detail}），请补充完善项目信息",
)

rule(
    "PRJ-02", "项目时间逻辑错误", "error", key="project", needs=["projects"],
    policy="扶贫项目起止时间准确",
    sql=rf"""
WITH p AS ({_PROJECTS}), c AS (
    SELECT *,
           coalesce(end_on < start_on, false) AS b_order,
           coalesce(start_on > $R, false) AS b_future
    FROM p
)
SELECT project_id, township, village,
       CASE WHEN b_order THEN 'end_on' ELSE 'start_on' END AS field,
       CAST(CASE WHEN b_order THEN end_on ELSE start_on END AS VARCHAR) AS value,
       json_object('start_on', start_on, 'end_on', end_on) AS evidence,
       format('{{}}：{{}}', coalesce(name, '名称不详'),
              concat_ws('；',
                        CASE WHEN b_order THEN format('完工时间{{}}早于开工时间{{}}', end_on, start_on) END,
                        CASE WHEN b_future THEN format('开工时间{{}}晚于基准日', start_on) END)) AS detail
FROM c
WHERE b_order OR b_future
""",
    message="项目{project_id}时间逻辑错误（{detail}），请核实项目起止时间",
)

rule(
    "PRJ-03", "受益户不存在", "error", key="household", needs=["beneficiaries", "households"],
    policy="项目受益情况与家庭基本状况相符",
    sql=rf"""
WITH b AS (
    SELECT DISTINCT project_id, household_id FROM beneficiaries
    WHERE household_id IS NOT NULL
      AND household_id NOT IN (SELECT household_id FROM households WHERE household_id IS NOT NULL)
)
SELECT b.household_id, b.project_id, coalesce(b.project_id, '') AS disc,
       p.township, p.village,
       'household_id' AS field, b.household_id AS value,
       json_object('project_id', b.project_id, 'household_id', b.household_id) AS evidence,
       format('项目{{}}（{{}}）', coalesce(b.project_id, '编号为空'), coalesce(p.name, '名称不详')) AS detail
FROM b LEFT JOIN ({_PROJECTS}) p USING (project_id)
""",
    message="受益户编号{household_id}在家庭情况表中不存在（{detail}），请核实受益户编号",
)

rule(
    "PRJ-04", "受益户状况与项目不符", "suspect", key="household",
    needs=["beneficiaries", "projects", "members", "households"],
    policy="项目受益情况与家庭基本状况相符",
    sql=rf"""
WITH b AS (
    SELECT DISTINCT b.project_id, b.household_id, p.type, p.name
    FROM beneficiaries b JOIN ({_PROJECTS}) p USING (project_id)
    WHERE b.household_id IS NOT NULL
), work AS (   -- member-based branch: households of members
    SELECT household_id,
           count(*) FILTER (WHERE work_status <> '无') AS n_working,
           count(*) AS n_members
    FROM members WHERE household_id IS NOT NULL GROUP BY household_id
), hh AS (     -- household-based branch: rows of households
    SELECT household_id, housing_secure FROM households WHERE household_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY _rid) = 1
), emp AS (
    SELECT b.household_id, b.project_id, b.type, b.name,
           'work_status' AS field, NULL AS value,
           json_object('project_id', b.project_id, 'project_type', b.type,
                       'members', w.n_members, 'members_working', w.n_working) AS evidence,
           format('{{}}是{{}}项目{{}}（{{}}）的受益户，但家庭成员无人务工', {_hh('b.household_id')}, b.type, b.project_id,
                  coalesce(b.name, '名称不详')) AS detail
    FROM b JOIN work w USING (household_id)
    WHERE b.type IN ('就业扶贫', '公益岗位') AND w.n_working = 0
), house AS (
    SELECT b.household_id, b.project_id, b.type, b.name,
           'housing_secure' AS field, '否' AS value,
           json_object('project_id', b.project_id, 'project_type', b.type,
                       'housing_secure', h.housing_secure) AS evidence,
           format('{{}}是{{}}项目{{}}（{{}}）的受益户，但住房安全有保障登记为“否”', {_hh('b.household_id')}, b.type, b.project_id,
                  coalesce(b.name, '名称不详')) AS detail
    FROM b JOIN hh h USING (household_id)
    WHERE b.type = '危房改造' AND h.housing_secure = false
)
SELECT household_id, project_id, project_id AS disc, field, value, evidence, detail
FROM (SELECT * FROM emp UNION ALL SELECT * FROM house)
""",
    message="{detail}，受益情况与家庭状况不符，请核实",
)
