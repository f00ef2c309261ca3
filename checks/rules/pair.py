"""PAIR — helper pairing (rules.md, section PAIR; 002 结对帮扶, 004 篇7 结对关系错误).

Helpers are identified by their *matching form* (rules.md "Matched"): the 18-digit
form of a valid ID (a valid 15-digit ID is converted), else the value as loaded.
That key is the helper_id_number of the issues and the discriminator of
PAIR-01/02/04/08/10.

Interval rules are set-based:
* PAIR-01 merges each (helper, household)'s spells (so several spells of one
  household count once), then sweeps +1/-1 events per helper with a running sum;
  households whose merged spell touches an over-limit stretch get the issue.
* PAIR-05 is gaps-and-islands: spells of a household ordered by start, each
  compared with the running maximum end of the spells before it.
"""
import re

from checks.registry import rule, view

# One row per pairing row, with the helper's matching key and the clipped spell.
view("v_pair", r"""
SELECT p._rid, p.household_id, p.helper_id_number, p.helper_name, p.start_on, p.end_on,
       coalesce(f.id18, p.helper_id_number) AS helper_key,
       -- a valid spell (PAIR-01, PAIR-05): start present and <= R, end empty or >= start
       coalesce(p.start_on <= $R AND (p.end_on IS NULL OR p.end_on >= p.start_on), false) AS valid_spell,
       -- an end after R (or no end) counts as R
       least(coalesce(p.end_on, $R), $R) AS end_eff,
       coalesce(p.start_on <= $R AND (p.end_on IS NULL OR p.end_on >= $R), false) AS active_r
FROM pairings p
LEFT JOIN v_id f ON f.id_number = p.helper_id_number
""")

# Display name of each helper key: the roster name, else the name given on the pairings.
view("v_pair_helper", r"""
WITH roster AS (
    SELECT coalesce(f.id18, h.id_number) AS helper_key, min(h.name) AS roster_name
    FROM helpers h LEFT JOIN v_id f ON f.id_number = h.id_number
    WHERE h.id_number IS NOT NULL
    GROUP BY 1
), given AS (
    SELECT helper_key, min(helper_name) AS given_name
    FROM v_pair WHERE helper_key IS NOT NULL GROUP BY 1
)
SELECT coalesce(r.helper_key, g.helper_key) AS helper_key,
       r.helper_key IS NOT NULL AS in_roster,
       coalesce(r.roster_name, g.given_name) AS helper_name
FROM roster r FULL JOIN given g ON g.helper_key = r.helper_key
""")

def _hh(hid: str) -> str:
    """SQL: the household as a message names it — 张三户（户编号H1）, or 户编号H1 when the
    household has no head name (e.g. an unregistered household_id of a pairing)."""
    return (f"coalesce((SELECT v.head_name || '户（户编号' || v.household_id || '）' FROM v_hh v "
            f"WHERE v.household_id = {hid}), '户编号' || {hid}, '户编号为空的户')")


def _sql(query: str) -> str:
    """Expand __HH_alias__ into the household label of alias.household_id."""
    return re.sub(r"__HH_(\w+)__", lambda m: _hh(f"{m.group(1)}.household_id"), query)


rule(
    "PAIR-01", "帮扶责任人结对超过上限", "error", key="household", needs=["pairings"],
    policy="结对帮扶每人不超过{max_households_per_helper}户",
    sql=_sql(r"""
WITH s AS (
    SELECT helper_key, household_id, start_on AS s, end_eff AS e
    FROM v_pair
    WHERE valid_spell AND helper_key IS NOT NULL AND household_id IS NOT NULL
), o AS (      -- merge the spells of one (helper, household): islands of overlapping/adjacent spells
    SELECT *, max(e) OVER (PARTITION BY helper_key, household_id ORDER BY s, e
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
    FROM s
), g AS (
    SELECT *, sum(CASE WHEN prev_e IS NULL OR s > prev_e + 1 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY helper_key, household_id ORDER BY s, e
                        ROWS UNBOUNDED PRECEDING) AS island
    FROM o
), m AS (
    SELECT helper_key, household_id, min(s) AS s, max(e) AS e
    FROM g GROUP BY helper_key, household_id, island
), ev AS (     -- sweep line: +1 on the first day, -1 on the day after the last day
    SELECT helper_key, d, sum(delta) AS delta
    FROM (SELECT helper_key, s AS d, 1 AS delta FROM m
          UNION ALL
          SELECT helper_key, e + 1 AS d, -1 AS delta FROM m) x
    GROUP BY helper_key, d
), run AS (
    SELECT helper_key, d AS d_from,
           lead(d) OVER (PARTITION BY helper_key ORDER BY d) - 1 AS d_to,
           sum(delta) OVER (PARTITION BY helper_key ORDER BY d ROWS UNBOUNDED PRECEDING) AS n
    FROM ev
), over AS (   -- stretches of days (all <= R) on which the helper is over the limit
    SELECT * FROM run WHERE n > $max_households_per_helper
), agg AS (
    SELECT helper_key, max(n) AS max_n, min(d_from) AS first_day FROM over GROUP BY helper_key
), hit AS (
    SELECT DISTINCT m.helper_key, m.household_id
    FROM m JOIN over o ON o.helper_key = m.helper_key AND m.s <= o.d_to AND m.e >= o.d_from
)
SELECT hit.household_id, hit.helper_key AS helper_id_number, hit.helper_key AS disc,
       'helper_id_number' AS field,
       (SELECT CASE WHEN count(DISTINCT q.helper_id_number) = 1 THEN min(q.helper_id_number) END
        FROM v_pair q WHERE q.helper_key = hit.helper_key AND q.household_id = hit.household_id) AS value,
       json_object('helper_id_number', hit.helper_key,
                   'max_active_households', agg.max_n,
                   'first_day_over_limit', agg.first_day,
                   'limit', $max_households_per_helper) AS evidence,
       format('{}的帮扶责任人{}（{}）自{}起同时结对{}户，超过每人{}户的上限',
              __HH_hit__, coalesce(n.helper_name, '姓名不详'), hit.helper_key, agg.first_day,
              agg.max_n, $max_households_per_helper) AS detail
FROM hit
JOIN agg USING (helper_key)
LEFT JOIN v_pair_helper n USING (helper_key)
"""),
    message="{detail}，请调整结对关系",
)

rule(
    "PAIR-02", "帮扶早于识别", "error", key="household", needs=["pairings", "households"],
    policy="结对帮扶：先识别、后结对",
    sql=_sql(r"""
WITH h AS (
    SELECT household_id, recognized_on FROM households
    WHERE household_id IS NOT NULL AND recognized_on IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY _rid) = 1
), x AS (
    SELECT p.household_id, p.helper_key, min(p.start_on) AS start_on, h.recognized_on
    FROM v_pair p JOIN h USING (household_id)
    WHERE p.start_on < h.recognized_on
    GROUP BY p.household_id, p.helper_key, h.recognized_on
)
SELECT x.household_id, x.helper_key AS helper_id_number, coalesce(x.helper_key, '') AS disc,
       'start_on' AS field, CAST(x.start_on AS VARCHAR) AS value,
       json_object('helper_id_number', x.helper_key, 'start_on', x.start_on,
                   'recognized_on', x.recognized_on) AS evidence,
       format('{}的帮扶责任人{}的帮扶开始时间{}早于识别时间{}', __HH_x__,
              coalesce(n.helper_name, x.helper_key, '（证件号码为空）'), x.start_on, x.recognized_on) AS detail
FROM x LEFT JOIN v_pair_helper n USING (helper_key)
"""),
    message="{detail}，请核实结对时间或识别时间",
)

rule(
    "PAIR-03", "无帮扶责任人", "error", key="household", needs=["households", "pairings"],
    policy="摘帽不摘帮扶：每户都有帮扶责任人",
    sql=_sql(r"""
WITH h AS (
    SELECT DISTINCT household_id FROM households WHERE household_id IS NOT NULL
), p AS (
    SELECT household_id, bool_or(active_r) AS any_active, count(*) AS n_pairings,
           max(end_on) AS last_end_on
    FROM v_pair GROUP BY household_id
)
SELECT h.household_id, 'household_id' AS field, h.household_id AS value,
       json_object('pairings', coalesce(p.n_pairings, 0), 'last_end_on', p.last_end_on) AS evidence,
       __HH_h__ || '在基准日没有有效的帮扶责任人（' ||
       CASE WHEN p.n_pairings IS NULL THEN '无任何结对记录'
            ELSE format('共{}条结对记录，均不在基准日有效', p.n_pairings) END || '）' AS detail
FROM h LEFT JOIN p USING (household_id)
WHERE NOT coalesce(p.any_active, false)
"""),
    message="{detail}，请落实结对帮扶",
)

rule(
    "PAIR-04", "结对时间错误", "error", key="household", needs=["pairings"],
    policy="结对帮扶：帮扶起止时间准确",
    sql=_sql(r"""
WITH b AS (
    SELECT household_id, helper_key, start_on, end_on, _rid,
           coalesce(end_on < start_on, false) AS b_order,
           coalesce(start_on > $R, false) AS b_start,
           coalesce(end_on > $R, false) AS b_end
    FROM v_pair WHERE household_id IS NOT NULL
), f AS (
    SELECT *,
           CASE WHEN b_order OR NOT b_start THEN 'end_on' ELSE 'start_on' END AS field,
           CAST(CASE WHEN b_order OR NOT b_start THEN end_on ELSE start_on END AS VARCHAR) AS value
    FROM b WHERE b_order OR b_start OR b_end
), a AS (
    SELECT household_id, helper_key,
           bool_or(b_order) AS b_order, bool_or(b_start) AS b_start, bool_or(b_end) AS b_end,
           list({'start_on': start_on, 'end_on': end_on} ORDER BY start_on, end_on, _rid) AS spells,
           arg_min(field, (start_on, end_on, _rid)) AS field,
           arg_min(value, (start_on, end_on, _rid)) AS value
    FROM f GROUP BY household_id, helper_key
)
SELECT a.household_id, a.helper_key AS helper_id_number, coalesce(a.helper_key, '') AS disc,
       a.field, a.value,
       json_object('helper_id_number', a.helper_key, 'spells', a.spells) AS evidence,
       format('{}的结对时间错误（帮扶责任人{}：{}）', __HH_a__,
              coalesce(n.helper_name, a.helper_key, '证件号码为空'),
              concat_ws('；',
                        CASE WHEN a.b_order THEN '结束时间早于开始时间' END,
                        CASE WHEN a.b_start THEN '开始时间晚于基准日' END,
                        CASE WHEN a.b_end THEN '结束时间晚于基准日' END)) AS detail
FROM a LEFT JOIN v_pair_helper n USING (helper_key)
"""),
    message="{detail}，请核实更正帮扶起止时间",
)

rule(
    "PAIR-05", "结对断档", "error", key="household", needs=["pairings"],
    policy="结对帮扶不断档：断档不超过{max_pairing_gap_days}天",
    sql=_sql(r"""
WITH s AS (
    SELECT household_id, start_on AS s, end_eff AS e
    FROM v_pair WHERE valid_spell AND household_id IS NOT NULL
), o AS (     -- the running maximum end of the spells that start earlier
    SELECT *, max(e) OVER (PARTITION BY household_id ORDER BY s, e
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
    FROM s
), gaps AS (  -- each row starting after the running end opens a new island; the days between are a gap
    SELECT household_id, prev_e + 1 AS gap_from, s - 1 AS gap_to, date_diff('day', prev_e, s) - 1 AS days
    FROM o
    WHERE prev_e IS NOT NULL AND date_diff('day', prev_e, s) - 1 > $max_pairing_gap_days
)
SELECT household_id, 'start_on' AS field,
       CAST(NULL AS VARCHAR) AS value,                                -- several rows compared
       json_object('gaps', list({'from': gap_from, 'to': gap_to, 'days': days} ORDER BY gap_from),
                   'max_gap_days', $max_pairing_gap_days) AS evidence,
       format('{}结对帮扶出现断档（{}至{}共{}天无帮扶责任人，超过{}天）', __HH_gaps__,
              arg_max(gap_from, (days, -epoch(gap_from))), arg_max(gap_to, (days, -epoch(gap_from))),
              max(days), $max_pairing_gap_days) AS detail
FROM gaps GROUP BY household_id
"""),
    message="{detail}，请核实结对记录",
)

rule(
    "PAIR-06", "帮扶责任人为建档立卡成员", "error", key="household", needs=["helpers", "members"],
    policy="帮扶责任人不能是建档立卡户成员",
    sql=_sql(r"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       coalesce(f.id18, h.id_number) AS helper_id_number,
       'id_number' AS field, h.id_number AS value,
       json_object('helper_id_number', h.id_number, 'helper_name', h.name, 'unit', h.unit,
                   'member_id_number', m.id_number, 'member_name', m.name) AS evidence,
       format('帮扶单位：{}', coalesce(h.unit, '空')) AS detail
FROM helpers h
JOIN v_id f ON f.id_number = h.id_number
JOIN v_members m ON m.id_valid AND m.id18 = f.id18
WHERE f.id18 IS NOT NULL AND m.household_id IS NOT NULL
"""),
    message="{person_name}是建档立卡户成员，同时登记为帮扶责任人（{detail}），请调整帮扶责任人",
)

rule(
    "PAIR-07", "帮扶责任人信息错误", "error", key="helper", needs=["helpers"],
    policy="帮扶责任人信息完整准确",
    sql=_sql(r"""
WITH sf AS (   -- raw values SCH-02 nulled (out of domain): judged on the values as given
    SELECT _rid,
           min(value) FILTER (WHERE field = 'unit_level') AS raw_unit_level,
           min(value) FILTER (WHERE field = 'rank') AS raw_rank
    FROM schema_findings
    WHERE rule_id = 'SCH-02' AND "table" = 'helpers' AND field IN ('unit_level', 'rank')
    GROUP BY _rid
), h AS (
    SELECT h.*, f.id18,
           coalesce(h.unit_level, sf.raw_unit_level) AS unit_level_given,
           coalesce(h.rank, sf.raw_rank) AS rank_given,
           regexp_replace(regexp_replace(h.phone, '[^0-9]', '', 'g'), '^86', '') AS phone_digits,
           -- ID-01: not an 18-char ID with a correct check digit, and not a structurally valid 15-digit ID
           NOT coalesce((f.id_shape = 18 AND f.check_ok) OR (f.id_shape = 15 AND f.birth_ok), false) AS b_id
    FROM helpers h
    LEFT JOIN v_id f ON f.id_number = h.id_number
    LEFT JOIN sf ON sf._rid = h._rid
    WHERE h.id_number IS NOT NULL
), c AS (
    SELECT *,
           h.phone IS NOT NULL AND NOT regexp_full_match(phone_digits, '1[3-9][0-9]{9}') AS b_phone,
           h.unit IS NULL OR trim(h.unit) = '' AS b_unit,
           unit_level_given IS NOT NULL
               AND unit_level_given NOT IN ('中央', '省级', '市级', '县级', '乡镇') AS b_level,
           rank_given IS NOT NULL
               AND rank_given NOT IN ('厅局级', '县处级', '乡科级', '科员', '其他') AS b_rank
    FROM h
)
SELECT coalesce(id18, id_number) AS helper_id_number, name AS person_name,
       CASE WHEN b_id THEN 'id_number' WHEN b_phone THEN 'phone' WHEN b_unit THEN 'unit'
            WHEN b_level THEN 'unit_level' ELSE 'rank' END AS field,
       CASE WHEN b_id THEN id_number WHEN b_phone THEN phone WHEN b_unit THEN unit
            WHEN b_level THEN unit_level_given ELSE rank_given END AS value,
       json_object('id_number', id_number, 'phone', phone, 'unit', unit,
                   'unit_level', unit_level_given, 'rank', rank_given) AS evidence,
       concat_ws('；',
                 CASE WHEN b_id THEN format('证件号码{}校验失败', id_number) END,
                 CASE WHEN b_phone THEN format('联系电话{}不是有效手机号码', phone) END,
                 CASE WHEN b_unit THEN '帮扶单位为空' END,
                 CASE WHEN b_level THEN format('单位隶属关系“{}”无法识别', unit_level_given) END,
                 CASE WHEN b_rank THEN format('职务级别“{}”无法识别', rank_given) END) AS detail
FROM c
WHERE b_id OR b_phone OR b_unit OR b_level OR b_rank
"""),
    message="帮扶责任人{person_name}（证件号码{helper_id_number}）的信息有误（{detail}），请核实更正帮扶责任人名册",
)

rule(
    "PAIR-08", "帮扶责任人不在名册", "error", key="household", needs=["pairings", "helpers"],
    policy="结对帮扶：帮扶责任人须在帮扶责任人名册中",
    sql=_sql(r"""
WITH roster AS (
    SELECT DISTINCT coalesce(f.id18, h.id_number) AS helper_key
    FROM helpers h LEFT JOIN v_id f ON f.id_number = h.id_number
    WHERE h.id_number IS NOT NULL
)
SELECT p.household_id, p.helper_key AS helper_id_number, p.helper_key AS disc,
       'helper_id_number' AS field,
       CASE WHEN count(DISTINCT p.helper_id_number) = 1 THEN min(p.helper_id_number) END AS value,
       json_object('helper_id_number', p.helper_key, 'helper_name', min(p.helper_name)) AS evidence,
       format('{}的帮扶责任人{}（{}）', __HH_p__, coalesce(min(p.helper_name), '姓名不详'), p.helper_key) AS detail
FROM v_pair p
WHERE p.helper_key IS NOT NULL AND p.household_id IS NOT NULL
  AND p.helper_key NOT IN (SELECT helper_key FROM roster)
GROUP BY p.household_id, p.helper_key
"""),
    message="{detail}不在帮扶责任人名册中，请核实",
)

rule(
    "PAIR-09", "结对户不存在", "error", key="household", needs=["pairings", "households"],
    policy="结对帮扶：结对户须为建档立卡户",
    sql=_sql(r"""
SELECT p.household_id, 'household_id' AS field, p.household_id AS value,
       json_object('household_id', p.household_id,
                   'helper_id_numbers', list(DISTINCT p.helper_key ORDER BY p.helper_key)
                                        FILTER (WHERE p.helper_key IS NOT NULL)) AS evidence,
       format('帮扶责任人：{}', coalesce(string_agg(DISTINCT coalesce(n.helper_name, p.helper_key), '、'
                                                ORDER BY coalesce(n.helper_name, p.helper_key)), '姓名不详')) AS detail
FROM v_pair p LEFT JOIN v_pair_helper n USING (helper_key)
WHERE p.household_id IS NOT NULL
  AND p.household_id NOT IN (SELECT household_id FROM households WHERE household_id IS NOT NULL)
GROUP BY p.household_id
"""),
    message="结对关系中的户编号{household_id}在家庭情况表中不存在（{detail}），请核实户编号",
)

rule(
    "PAIR-10", "帮扶责任人已死亡", "error", key="household", needs=["pairings", "hukou"],
    policy="结对帮扶：帮扶责任人去世的及时调整", source="hukou",
    sql=_sql(r"""
WITH d AS (
    SELECT coalesce(f.id18, k.id_number) AS helper_key, min(k.changed_on) AS died_on
    FROM hukou k LEFT JOIN v_id f ON f.id_number = k.id_number
    WHERE k.hukou_status = '死亡注销' AND k.changed_on IS NOT NULL AND k.id_number IS NOT NULL
    GROUP BY 1
), x AS (   -- active on some day d with died_on < d <= R
    SELECT p.household_id, p.helper_key, d.died_on, _rid, p.start_on, p.end_on
    FROM v_pair p JOIN d USING (helper_key)
    WHERE p.household_id IS NOT NULL AND p.start_on IS NOT NULL   -- (greatest() skips NULLs)
      AND greatest(p.start_on, d.died_on + 1) <= least(coalesce(p.end_on, $R), $R)
)
SELECT x.household_id, x.helper_key AS helper_id_number, x.helper_key AS disc,
       'helper_id_number' AS field,
       (SELECT CASE WHEN count(DISTINCT q.helper_id_number) = 1 THEN min(q.helper_id_number) END
        FROM v_pair q WHERE q.helper_key = x.helper_key AND q.household_id = x.household_id) AS value,
       json_object('helper_id_number', x.helper_key, 'died_on', x.died_on,
                   'spells', list({'start_on': x.start_on, 'end_on': x.end_on}
                                  ORDER BY x.start_on, x.end_on, x._rid)) AS evidence,
       format('{}的帮扶责任人{}（{}）已于{}死亡注销', __HH_x__, coalesce(min(n.helper_name), '姓名不详'),
              x.helper_key, x.died_on) AS detail
FROM x LEFT JOIN v_pair_helper n USING (helper_key)
GROUP BY x.household_id, x.helper_key, x.died_on
"""),
    message="{detail}，结对关系仍然有效，请更换帮扶责任人",
)

rule(
    "PAIR-11", "一户多名帮扶责任人", "suspect", key="household", needs=["pairings"],
    policy="结对帮扶关系清晰：一户一名帮扶责任人",
    sql=_sql(r"""
WITH a AS (
    SELECT DISTINCT p.household_id, p.helper_key, n.helper_name
    FROM v_pair p LEFT JOIN v_pair_helper n USING (helper_key)
    WHERE p.active_r AND p.helper_key IS NOT NULL AND p.household_id IS NOT NULL
)
SELECT household_id, 'helper_id_number' AS field,
       CAST(NULL AS VARCHAR) AS value,                                -- several rows compared
       json_object('helper_id_numbers', list(helper_key ORDER BY helper_key)) AS evidence,
       format('{}在基准日同时有{}名帮扶责任人（{}）', __HH_a__, count(*),
              string_agg(coalesce(helper_name, helper_key), '、' ORDER BY helper_key)) AS detail
FROM a GROUP BY household_id
HAVING count(*) > 1
"""),
    message="{detail}，请核实结对关系",
)
