"""XA — cross-agency reconciliation (rules.md section XA; 004 篇4 十一不评, 002 部门数据比对,
000 两线融合).

Matching is exact on the normalised ID: a member row with a valid ID (v_members.id_valid)
matches an agency row whose ID is valid and has the same 18-digit form (v_id.id18; a valid
15-digit ID is converted on both sides). XA-10's fuzzy candidates (v_xa_fuzzy) are evidence
for XA-10 and the reconciliation counts only; they never link rows for another rule.

Helper relations declared here:
  v_xa_ca       civil_affairs rows with a valid ID, their id18 and `active` (active on R)
  v_xa_fuzzy    XA-10 blocking relation: one row per (member ID, member name, agency row)
                where the agency ID is one substitution / one adjacent transposition away
                from a member ID that matches no agency ID, on a row with the same
                normalised name; n_candidates = distinct candidate IDs of that member ID+name.
"""
import re

from checks.registry import rule, view
from schemas.tables import AGENCY


def nname(col: str) -> str:
    """Normalised person name: no whitespace (U+3000, NBSP included) or zero-width
    characters, the interpunct variants unified to U+00B7, Latin letters upper-cased."""
    return (
        "upper(regexp_replace(regexp_replace(coalesce(" + col + r", ''), "
        r"'[\s\x{3000}\x{00A0}\x{200B}-\x{200D}\x{2060}\x{FEFF}]', '', 'g'), "
        r"'[\x{2022}\x{2027}\x{2219}\x{22C5}\x{30FB}\x{FF0E}\x{FF65}]', '·', 'g'))"
    )


def _all_agency_ids() -> str:
    """Every ID value of every agency table (person columns and civil_affairs' head ID)."""
    parts = [f"SELECT {t.person_col} AS v FROM {t.name}" for t in AGENCY]
    parts.append("SELECT head_id_number FROM civil_affairs")
    return "\n        UNION ".join(parts)


def _hh(hid: str) -> str:
    """SQL: the household as a message names it — 户主张三家（户编号H1）, else 户编号H1."""
    return (f"coalesce((SELECT '户主' || v.head_name || '家（户编号' || v.household_id || '）' FROM v_hh v "
            f"WHERE v.household_id = {hid}), '户编号' || {hid})")


def _sql(query: str) -> str:
    """Expand __HH_alias__ into the household label of alias.household_id."""
    return re.sub(r"__HH_(\w+)__", lambda m: _hh(f"{m.group(1)}.household_id"), query)


_POSITIONS = ", ".join(f"({i})" for i in range(1, 19))

# --- helper relations -------------------------------------------------------------------

view("v_xa_ca", r"""
SELECT c.*, f.id18,
       coalesce(c.start_on IS NOT NULL AND c.start_on <= $R
                AND (c.end_on IS NULL OR c.end_on >= $R), false) AS active
FROM civil_affairs c
JOIN v_id f ON f.id_number = c.id_number AND f.id_valid
""")

view("v_xa_fuzzy", rf"""
WITH akeys AS (          -- the matching form of every ID found in any agency table
    SELECT DISTINCT coalesce(f.id18, a.v) AS k
    FROM (
        {_all_agency_ids()}
    ) a
    LEFT JOIN v_id f ON f.id_number = a.v
    WHERE a.v IS NOT NULL
), mem AS (              -- member IDs (15 or 18 chars, valid or not) matching no agency ID
    SELECT DISTINCT m.id_number AS m_id, {nname('m.name')} AS nname
    FROM v_members m
    WHERE length(m.id_number) IN (15, 18)
      AND NOT EXISTS (SELECT 1 FROM akeys WHERE akeys.k = coalesce(m.id18, m.id_number))
), mem_n AS (
    SELECT * FROM mem WHERE nname <> ''
), arows AS (            -- agency rows carrying one of those names (blocking on the name)
    SELECT a.agency, a._rid, a.id_number AS a_id,
           coalesce(a.id18, a.id_number) AS a_key, {nname('a.name')} AS nname
    FROM v_agency a
    WHERE length(a.id_number) IN (15, 18)
      AND {nname('a.name')} IN (SELECT nname FROM mem_n)
), aids AS (            -- distinct (name, ID) pairs: an ID found in several tables is expanded once
    SELECT DISTINCT nname, a_id FROM arows
), pos AS (
    SELECT k FROM (VALUES {_POSITIONS}) AS t(k)     -- 1..18 (VALUES: both engines read it alike)
), m_mask AS (           -- member ID with character k removed (substitution blocking key)
    SELECT m_id, nname, k, substr(m_id, 1, k - 1) || substr(m_id, k + 1) AS masked
    FROM mem_n, pos WHERE k <= length(m_id)
), a_mask AS (
    SELECT nname, a_id, k, substr(a_id, 1, k - 1) || substr(a_id, k + 1) AS masked
    FROM aids, pos WHERE k <= length(a_id)
), m_swap AS (           -- member ID with characters k, k+1 swapped (transposition key)
    SELECT m_id, nname, k,
           substr(m_id, 1, k - 1) || substr(m_id, k + 1, 1) || substr(m_id, k, 1)
           || substr(m_id, k + 2) AS swapped
    FROM mem_n, pos
    WHERE k < length(m_id) AND substr(m_id, k, 1) <> substr(m_id, k + 1, 1)
), id_pairs AS (
    SELECT m.m_id, m.nname, a.a_id, 'substitution' AS edit, m.k AS pos
    FROM m_mask m JOIN a_mask a ON a.nname = m.nname AND a.k = m.k AND a.masked = m.masked
    WHERE a.a_id <> m.m_id
    UNION ALL
    SELECT m.m_id, m.nname, a.a_id, 'transposition' AS edit, m.k AS pos
    FROM m_swap m JOIN aids a ON a.nname = m.nname AND a.a_id = m.swapped
), pairs AS (
    SELECT p.m_id, p.nname, r.agency, r._rid, r.a_id, r.a_key, p.edit, p.pos
    FROM id_pairs p JOIN arows r ON r.nname = p.nname AND r.a_id = p.a_id
), cand AS (           -- distinct candidate IDs per member ID and name (no DISTINCT window: Spark has none)
    SELECT m_id, nname, count(DISTINCT a_key) AS n_candidates FROM pairs GROUP BY m_id, nname
)
SELECT pairs.*, cand.n_candidates
FROM pairs JOIN cand ON cand.m_id = pairs.m_id AND cand.nname = pairs.nname
""")


# --- XA-01..06: one member, one agency record ----------------------------------------------

def _member_join(table: str, alias: str = "a") -> str:
    """The rows of an agency table matched to member rows with a valid ID (exact, id18)."""
    return (f"FROM {table} {alias}\n"
            f"JOIN v_id f ON f.id_number = {alias}.id_number AND f.id_valid\n"
            f"JOIN v_members m ON m.id_valid AND m.id18 = f.id18")


rule(
    "XA-01", "家庭成员为财政供养人员", "suspect", key="person",
    needs=["members", "payroll"], source="payroll", policy="“十一不评”：家庭成员有财政供养人员的不评为贫困户",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'payroll_status' AS field, a.payroll_status AS value,
       coalesce(a.employer, '') AS disc,
       format('{{}}（{{}}）', coalesce(a.employer, '单位名称为空'), a.payroll_status) AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'agency_name', a.name, 'employer', a.employer, 'staff_type', a.staff_type,
                   'payroll_status', a.payroll_status, 'joined_on', a.joined_on) AS evidence
{_member_join('payroll')}
WHERE a.payroll_status IN ('在职', '退休')
""",
    message="{person_name}在财政供养人员名单中（{detail}），请核实其家庭是否符合建档立卡条件",
)

rule(
    "XA-02", "家庭成员登记经营企业", "suspect", key="person",
    needs=["members", "businesses"], source="businesses", policy="“十一不评”：家庭成员开办企业（农民专业合作社除外）的不评为贫困户",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'company_type' AS field, a.company_type AS value,
       coalesce(a.credit_code, a.company, '') AS disc,
       format('{{}}（{{}}）', coalesce(a.company, a.credit_code, '名称为空'), a.reg_status) AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'legal_rep', a.legal_rep, 'company', a.company, 'credit_code', a.credit_code,
                   'reg_status', a.reg_status, 'company_type', a.company_type,
                   'capital_10k', a.capital_10k, 'founded_on', a.founded_on) AS evidence
{_member_join('businesses')}
WHERE a.reg_status IN ('存续', '在业')
  AND a.company_type IS DISTINCT FROM '农民专业合作社'
""",
    message="{person_name}是企业{detail}的法定代表人，请核实其家庭经营情况和收入",
)

rule(
    "XA-03", "家庭成员名下有小汽车", "suspect", key="person",
    needs=["members", "vehicles"], source="vehicles", policy="“十一不评”：家庭成员有小汽车的不评为贫困户",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'vehicle_type' AS field, a.vehicle_type AS value,
       coalesce(a.plate, '') AS disc,
       format('{{}}（号牌{{}}）', a.vehicle_type, coalesce(a.plate, '为空')) AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'owner', a.owner, 'plate', a.plate, 'vehicle_type', a.vehicle_type,
                   'vehicle_status', a.vehicle_status, 'registered_on', a.registered_on) AS evidence
{_member_join('vehicles')}
WHERE a.vehicle_type IN ('小型轿车', '小型普通客车', '中型客车')
  AND a.vehicle_status = '正常'
""",
    message="{person_name}名下登记有{detail}，请核实车辆情况",
)

rule(
    "XA-04", "家庭成员在城镇有住宅", "suspect", key="person",
    needs=["members", "real_estate"], source="real_estate", policy="“十一不评”：在城镇购买商品住房的不评为贫困户",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'location' AS field, a.location AS value,
       coalesce(a.location, '') AS disc,
       coalesce(a.location, '坐落为空') AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'owner', a.owner, 'location', a.location, 'use', a.use, 'zone', a.zone,
                   'area', a.area, 'registered_on', a.registered_on) AS evidence
{_member_join('real_estate')}
WHERE a.zone = '城镇' AND a.use = '住宅'
""",
    message="{person_name}在城镇有登记住宅（{detail}），请核实家庭住房情况",
)

rule(
    "XA-05", "已死亡人员未减员", "error", key="person",
    needs=["members", "hukou"], source="hukou", policy="建档立卡动态管理：死亡人员及时减员",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'hukou_status' AS field, a.hukou_status AS value,
       CAST(a.changed_on AS VARCHAR) AS disc,
       CAST(a.changed_on AS VARCHAR) AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'agency_name', a.name, 'hukou_status', a.hukou_status,
                   'changed_on', a.changed_on) AS evidence
{_member_join('hukou')}
WHERE a.hukou_status = '死亡注销' AND a.changed_on <= $R
""",
    message="{person_name}已于{detail}在公安户籍中死亡注销，请核实并及时办理减员",
)

rule(
    "XA-06", "户籍迁出或非农户口", "suspect", key="person",
    needs=["members", "hukou"], source="hukou", policy="建档立卡对象为农村户籍人口",
    sql=f"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       CASE WHEN a.hukou_status = '迁出' THEN 'hukou_status' ELSE 'hukou_type' END AS field,
       CASE WHEN a.hukou_status = '迁出' THEN a.hukou_status ELSE a.hukou_type END AS value,
       coalesce(CAST(a.changed_on AS VARCHAR), '') AS disc,
       concat_ws('、', CASE WHEN a.hukou_status = '迁出' THEN '户籍已迁出' END,
                       CASE WHEN a.hukou_type = '非农业' THEN '户口性质为非农业' END) AS detail,
       json_object('member_id_number', m.id_number, 'agency_id_number', a.id_number,
                   'agency_name', a.name, 'hukou_status', a.hukou_status,
                   'hukou_type', a.hukou_type, 'changed_on', a.changed_on) AS evidence
{_member_join('hukou')}
WHERE a.hukou_status = '迁出' OR a.hukou_type = '非农业'
""",
    message="公安户籍显示{person_name}{detail}，请核实其是否仍符合农村建档立卡条件",
)


# --- XA-07, XA-08: household category vs active civil-affairs aid ------------------------

def _category_rule_sql(aid: str, category: str) -> str:
    """Households whose category is `category` with no member holding an active `aid` row
    (error), or another (non-empty) category while a member holds one (suspect)."""
    other = ("h.category = '一般贫困户'" if category == "低保贫困户"
             else f"h.category IS NOT NULL AND h.category <> '{category}'")
    return f"""
WITH rows_ AS (          -- every {aid} row of a member (valid ID), active on R or not
    SELECT m.household_id, m.id_number, m.name, c.active, c.start_on, c.end_on
    FROM v_members m JOIN v_xa_ca c ON m.id_valid AND c.id18 = m.id18
    WHERE c.aid_type = '{aid}' AND m.household_id IS NOT NULL
), agg AS (
    SELECT household_id,
           bool_or(active) AS any_active,
           list(DISTINCT coalesce(name, id_number) ORDER BY coalesce(name, id_number))
               FILTER (WHERE active) AS active_names,
           list(json_object('id_number', id_number, 'start_on', start_on, 'end_on', end_on,
                            'active', active)
                ORDER BY id_number, start_on, end_on) AS aid_rows
    FROM rows_ GROUP BY household_id
), hh AS (
    SELECT * FROM households WHERE household_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY _rid) = 1
)
SELECT h.household_id, 'category' AS field, h.category AS value,
       CASE WHEN h.category = '{category}' THEN 'error' ELSE 'suspect' END AS severity,
       __HH_h__ ||
       CASE WHEN h.category = '{category}'
            THEN '属性为{category}，但家庭成员无有效的{aid}记录'
            ELSE format('属性为{{}}，但家庭成员{{}}正在享受{aid}', h.category,
                        array_to_string(a.active_names, '、')) END AS detail,
       json_object('category', h.category, 'aid_type', '{aid}',
                   'civil_affairs_rows', coalesce(a.aid_rows, [])) AS evidence
FROM hh h LEFT JOIN agg a USING (household_id)
WHERE (h.category = '{category}' AND NOT coalesce(a.any_active, false))
   OR (({other}) AND coalesce(a.any_active, false))
"""


rule(
    "XA-07", "低保身份不一致", "error", key="household",
    needs=["households", "members", "civil_affairs"], source="civil_affairs",
    policy="两线融合：低保身份与民政部门数据一致",
    sql=_sql(_category_rule_sql("农村低保", "低保贫困户")),
    message="{detail}，请与民政部门核实低保身份并更正贫困户属性",
)

rule(
    "XA-08", "特困身份不一致", "error", key="household",
    needs=["households", "members", "civil_affairs"], source="civil_affairs",
    policy="兜底保障：特困供养身份与民政部门数据一致",
    sql=_sql(_category_rule_sql("农村特困", "特困供养贫困户")),
    message="{detail}，请与民政部门核实特困供养身份并更正贫困户属性",
)

rule(
    "XA-09", "低保特困对象未建档", "suspect", key="id_number",
    needs=["members", "civil_affairs"], source="civil_affairs",
    policy="符合条件的农村低保、特困对象全部纳入建档立卡",
    sql=r"""
WITH c AS (
    SELECT c.*, coalesce(f.id18, c.id_number) AS person_key,
           coalesce(f.id_valid, false) AS id_valid, f.id18
    FROM civil_affairs c LEFT JOIN v_id f ON f.id_number = c.id_number
    WHERE c.aid_type IN ('农村低保', '农村特困')
      AND c.start_on <= $R AND (c.end_on IS NULL OR c.end_on >= $R)
      AND c.id_number IS NOT NULL
), nm AS (
    SELECT * FROM c
    WHERE NOT (id_valid AND EXISTS (SELECT 1 FROM v_members m
                                    WHERE m.id_valid AND m.id18 = c.id18))
)
SELECT person_key AS id_number,
       arg_min(name, _rid) AS person_name,
       arg_min(township, _rid) AS township,
       arg_min(village, _rid) AS village,
       coalesce(arg_min(name, _rid) || '（证件号码' || person_key || '）', '证件号码为' || person_key || '的人员')
           || '正在享受' || array_to_string(list(DISTINCT aid_type ORDER BY aid_type), '、') AS detail,
       'aid_type' AS field,
       CASE WHEN count(DISTINCT aid_type) = 1 THEN min(aid_type) END AS value,
       json_object('id_number', person_key,
                   'aid', list(json_object('aid_type', aid_type, 'name', name,
                                           'start_on', start_on, 'end_on', end_on)
                               ORDER BY aid_type, start_on, name)) AS evidence
FROM nm GROUP BY person_key
""",
    message="{detail}，但不是建档立卡成员，请核实是否漏评",
)


# --- XA-10: fuzzy identity -----------------------------------------------------------------

rule(
    "XA-10", "疑似证件号码录入错误", "suspect", key="person",
    # needs the members and at least one agency table
    needs=["members"], needs_any=[t.name for t in AGENCY], source="registry", policy="扶贫数据清洗：身份信息准确",
    sql=f"""
WITH c AS (
    SELECT m_id, nname, min(a_id) AS candidate, min(agency) AS agency,
           list(DISTINCT agency ORDER BY agency) AS agencies,
           min(edit) AS edit, min(pos) AS pos
    FROM v_xa_fuzzy WHERE n_candidates = 1
    GROUP BY m_id, nname
)
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       c.candidate AS detail, c.agency AS source,
       json_object('id_number', m.id_number, 'name', m.name,
                   'candidate_id_number', c.candidate, 'agencies', c.agencies,
                   'edit', c.edit, 'position', c.pos) AS evidence
FROM v_members m
JOIN c ON c.m_id = m.id_number AND c.nname = {nname('m.name')}
""",
    message="{person_name}的证件号码{value}与部门数据中同名人员的证件号码{detail}仅差一位，疑似录入错误，请核对身份证原件",
)


# --- XA-11, XA-12 ---------------------------------------------------------------------------

rule(
    "XA-11", "公安户籍查无此人", "suspect", key="person",
    needs=["members", "hukou"], source="hukou", policy="身份信息与公安户籍一致",
    sql=r"""
WITH hk AS (
    SELECT DISTINCT f.id18 FROM hukou h JOIN v_id f ON f.id_number = h.id_number AND f.id_valid
)
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       json_object('id_number', m.id_number, 'id18', m.id18, 'name', m.name,
                   'hukou_match', false) AS evidence
FROM v_members m
WHERE m.id_valid AND NOT EXISTS (SELECT 1 FROM hk WHERE hk.id18 = m.id18)
""",
    message="{person_name}的证件号码在公安户籍数据中查无此人，请核对身份证原件和户口簿",
)

rule(
    "XA-12", "整户无劳动能力未兜底", "suspect", key="household",
    needs=["households", "members", "civil_affairs"], source="civil_affairs",
    policy="兜底保障：无劳动能力的贫困人口应保尽保",
    sql=_sql(r"""
WITH mem AS (     -- rules.md "Valid ID": XA-12 considers only members with a valid ID
    SELECT household_id, count(*) AS n,
           bool_and(coalesce(labor IN ('丧失劳动力', '无劳动力'), false)) AS all_unable,
           list(json_object('id_number', id_number, 'name', name, 'labor', labor)
                ORDER BY id_number, name) AS labor_rows
    FROM v_members WHERE household_id IS NOT NULL AND id_valid GROUP BY household_id
), aided AS (
    SELECT DISTINCT m.household_id
    FROM v_members m JOIN v_xa_ca c ON m.id_valid AND c.id18 = m.id18
    WHERE c.active AND c.aid_type IN ('农村低保', '农村特困')
), hh AS (
    SELECT * FROM households WHERE household_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY _rid) = 1
)
SELECT h.household_id, 'category' AS field, h.category AS value,
       format('{}的{}名家庭成员均无劳动能力', __HH_h__, mem.n) AS detail,
       json_object('category', h.category, 'members', mem.labor_rows,
                   'active_rural_aid', false) AS evidence
FROM hh h JOIN mem USING (household_id)
WHERE mem.n >= 1 AND mem.all_unable AND h.category = '一般贫困户'
  AND NOT EXISTS (SELECT 1 FROM aided WHERE aided.household_id = h.household_id)
"""),
    message="{detail}，属一般贫困户且未享受农村低保或特困供养，请与民政部门核实是否应兜底保障",
)
