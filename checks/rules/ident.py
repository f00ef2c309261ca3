"""ID — identity rules (rules.md, section ID; 004 篇7 解决身份信息错误问题).

ID-01..ID-07 are person rules on `members` rows (key household + person; the
township/village of the member row are returned for rows without a household).
ID-08 compares the `households` row with its single 户主 member, ID-09 looks for
one phone number shared by several households.
"""
from checks.registry import rule, view

POLICY = "扶贫数据清洗：身份信息与身份证、户口簿一致"

# Where a member row has no household_id the engine cannot find the household's
# geography: give the member row's own.
_GEO = "m.township, m.village, m.county"

# Zero-width characters removed before judging a name (inputs.md: stripped everywhere).
_ZW = r"[\x{200B}-\x{200F}\x{2060}\x{FEFF}]"
# Whitespace: ASCII and every Unicode space separator (U+3000, U+00A0 included).
_WS = r"[\s\p{Z}]"


rule(
    "ID-01", "证件号码校验失败", "error", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       json_object('id_number', m.id_number,
                   'length', length(m.id_number),
                   'check_digit', CASE WHEN f.id_shape = 18 THEN substr(m.id_number, 18, 1) END,
                   'expected_check_digit', CASE WHEN f.id_shape = 18 THEN id_check_digit(m.id_number) END) AS evidence,
       CASE
           WHEN f.id_shape = 18
               THEN format('第18位校验码应为{{}}，登记为{{}}', id_check_digit(m.id_number), substr(m.id_number, 18, 1))
           WHEN f.id_shape = 15
               THEN '15位号码中的出生日期无效'
           WHEN regexp_matches(m.id_number, '^[0-9.]+[Ee][+]?[0-9]+$')
               THEN '号码已被电子表格按数值截断为科学计数法，无法还原'
           ELSE format('号码共{{}}位，不是18位身份证号码格式', length(m.id_number))
       END AS detail,
       {_GEO}
FROM members m
LEFT JOIN v_id f USING (id_number)
WHERE m.id_number IS NOT NULL AND m.id_number <> ''
  AND NOT coalesce(f.id_shape = 18 AND f.check_ok, false)
  AND NOT coalesce(f.id_shape = 15 AND f.birth_ok, false)
""",
    message="{person_name}的证件号码{value}校验失败（{detail}），请核对身份证原件后更正",
)

rule(
    "ID-02", "出生日期无效", "error", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       json_object('id_number', m.id_number, 'birth_digits', m.birth_digits) AS evidence,
       CASE WHEN m.birth_real IS NULL THEN format('{{}}不是真实日期', m.birth_digits)
            WHEN m.birth_real > $R THEN format('{{}}晚于基准日{{}}', m.birth_digits, strftime($R, '%Y%m%d'))
            ELSE format('{{}}早于19000101', m.birth_digits) END AS detail,
       {_GEO}
FROM v_members m
WHERE m.id_shape IS NOT NULL AND NOT m.birth_ok
""",
    message="{person_name}的证件号码中出生日期无效（{detail}），请核对身份证原件",
)

rule(
    "ID-03", "地区码无效", "suspect", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       json_object('id_number', m.id_number, 'region_code', substr(m.id_number, 1, 6)) AS evidence,
       substr(m.id_number, 1, 6) AS detail,
       {_GEO}
FROM v_members m
WHERE m.id_shape IS NOT NULL AND m.region_ok = false
""",
    message="{person_name}的证件号码前6位地区码{detail}不是已知的行政区划代码，请核对身份证原件",
)

rule(
    "ID-04", "性别与证件号码不符", "error", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'gender' AS field, m.gender AS value,
       json_object('gender', m.gender, 'id_number', m.id_number,
                   'gender_digit', m.gender_digit, 'id_gender', m.id_gender) AS evidence,
       format('证件号码第{{}}位为{{}}，应为{{}}', CASE m.id_shape WHEN 18 THEN 17 ELSE 15 END,
              m.gender_digit, m.id_gender) AS detail,
       {_GEO}
FROM v_members m
WHERE m.id_shape IS NOT NULL AND m.gender IS NOT NULL AND m.id_gender IS NOT NULL
  AND m.gender <> m.id_gender
""",
    message="{person_name}登记性别为{value}，与证件号码不符（{detail}），请核对身份证原件",
)

rule(
    "ID-05", "证件号码重复", "error", key="person", needs=["members"], policy=POLICY,
    # Rows match on id18 (a valid 15-digit ID and its 18-digit form are one person).
    # One issue per (household, person); id_number is the ID as recorded in that
    # household (its 18-digit form when the household holds both forms).
    sql=r"""
WITH v AS (
    SELECT * FROM v_members WHERE id_valid
), dup AS (
    SELECT id18, count(*) AS n_rows, count(household_id) AS n_rows_hh,
           count(DISTINCT household_id) AS n_hh,
           list_sort(list(DISTINCT household_id) FILTER (WHERE household_id IS NOT NULL)) AS hhs
    FROM v GROUP BY id18 HAVING count(*) > 1
)
SELECT m.household_id, arg_max(m.id_number, length(m.id_number)) AS id_number, min(m.name) AS person_name,
       'id_number' AS field, CAST(NULL AS VARCHAR) AS value,          -- several rows compared
       json_object('id_number', m.id18, 'rows', d.n_rows, 'households', d.hhs,
                   'rows_in_household', count(*),
                   'names', list_sort(list(DISTINCT m.name) FILTER (WHERE m.name IS NOT NULL))) AS evidence,
       concat_ws('；',
           CASE WHEN count(*) > 1 THEN format('本户重复录入{}次', count(*)) END,
           CASE WHEN d.n_hh > 1 THEN format('同时登记在{}户：{}', d.n_hh, array_to_string(d.hhs, '、')) END,
           CASE WHEN d.n_rows > d.n_rows_hh THEN format('另有{}条未填户编号的记录', d.n_rows - d.n_rows_hh) END
       ) AS detail,
       min(m.township) AS township, min(m.village) AS village, min(m.county) AS county
FROM v m JOIN dup d USING (id18)
GROUP BY m.household_id, m.id18, d.n_rows, d.n_rows_hh, d.n_hh, d.hhs
""",
    message="{person_name}的证件号码{id_number}重复登记（{detail}），请核实是重复录入还是一人多户",
)

rule(
    "ID-06", "旧版15位证件号码", "notice", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
SELECT m.household_id, m.id_number, m.name AS person_name,
       'id_number' AS field, m.id_number AS value,
       json_object('id_number', m.id_number, 'id18', m.id18) AS evidence,
       m.id18 AS detail,
       {_GEO}
FROM v_members m
WHERE m.id_shape = 15 AND m.birth_ok
""",
    message="{person_name}的证件号码{value}为旧版15位号码（对应18位号码{detail}），请按身份证原件更新",
)

rule(
    "ID-07", "姓名异常", "suspect", key="person", needs=["members"], policy=POLICY,
    sql=rf"""
WITH n AS (
    SELECT m.*,
           regexp_replace(regexp_replace(m.name, '{_ZW}', '', 'g'),
                          '^{_WS}+|{_WS}+$', '', 'g') AS clean
    FROM members m
    WHERE m.name IS NOT NULL
), f AS (
    SELECT n.*,
           regexp_matches(clean, '\p{{Nd}}') AS has_digit,          -- ASCII and full-width digits
           regexp_matches(clean, '\p{{Latin}}') AS has_latin,       -- A-Z, full-width, accented
           regexp_matches(clean, '{_WS}') AS has_space,
           -- punctuation (and symbols) other than the middle dot U+00B7
           regexp_matches(replace(clean, '·', ''), '[\p{{P}}\p{{S}}]') AS has_punct,
           length(clean) = 1 AS too_short,
           length(clean) > 15 AS too_long
    FROM n
    WHERE clean <> ''
)
SELECT m.household_id, m.id_number, m.name AS person_name,
       'name' AS field, m.name AS value,
       json_object('name', m.name, 'length', length(m.clean)) AS evidence,
       concat_ws('、',
           CASE WHEN has_digit THEN '含数字' END,
           CASE WHEN has_latin THEN '含英文字母' END,
           CASE WHEN has_space THEN '含空格' END,
           CASE WHEN has_punct THEN '含标点或符号（少数民族姓名间隔号应为“·”）' END,
           CASE WHEN too_short THEN '只有1个字' END,
           CASE WHEN too_long THEN format('长达{{}}个字', length(m.clean)) END) AS detail,
       {_GEO}
FROM f m
WHERE has_digit OR has_latin OR has_space OR has_punct OR too_short OR too_long
""",
    message="成员姓名“{value}”异常（{detail}），请核对户口簿或身份证上的姓名",
)

rule(
    "ID-08", "户主信息不一致", "error", key="household", needs=["households", "members"],
    policy=POLICY,
    # Households with exactly one 户主 (v_head). IDs compare on their matching form
    # (valid 15-digit IDs as 18 digits); an empty value on either side is no difference.
    sql=r"""
WITH c AS (
    SELECT h.household_id, h.head_name, h.head_id_number,
           m.name AS member_name, m.id_number AS member_id,
           (nullif(h.head_id_number, '') IS NOT NULL AND nullif(m.id_number, '') IS NOT NULL
            AND coalesce(hf.id18, h.head_id_number) <> coalesce(m.id18, m.id_number)) AS id_diff,
           (nullif(trim(h.head_name), '') IS NOT NULL AND nullif(trim(m.name), '') IS NOT NULL
            AND trim(h.head_name) <> trim(m.name)) AS name_diff
    FROM households h
    JOIN v_head m USING (household_id)
    LEFT JOIN v_id hf ON hf.id_number = h.head_id_number
)
SELECT household_id,
       CASE WHEN id_diff THEN 'head_id_number' ELSE 'head_name' END AS field,
       CASE WHEN id_diff THEN head_id_number ELSE head_name END AS value,
       json_object('head_name', head_name, 'head_id_number', head_id_number,
                   'member_name', member_name, 'member_id_number', member_id) AS evidence,
       concat_ws('；',
           CASE WHEN id_diff THEN format('户主证件号码登记为{}，户主成员为{}', head_id_number, member_id) END,
           CASE WHEN name_diff THEN format('户主姓名登记为{}，户主成员为{}', head_name, member_name) END) AS detail
FROM c
WHERE id_diff OR name_diff
""",
    message="户编号{household_id}的户主信息与“与户主关系”为户主的成员不一致（{detail}），请核对",
)

view("v_id_phone", r"""
WITH p AS (
    SELECT household_id, phone, regexp_replace(phone, '[^0-9]', '', 'g') AS d
    FROM members
    WHERE household_id IS NOT NULL AND phone IS NOT NULL
)
SELECT household_id, phone,
       CASE WHEN length(d) = 13 AND starts_with(d, '86') THEN substr(d, 3) ELSE d END AS norm
FROM p
WHERE d <> ''
""")

rule(
    "ID-09", "不同户使用同一联系电话", "suspect", key="household", needs=["members"],
    policy=POLICY,
    # Phones compare on their digits (a leading 86 of a 13-digit value removed);
    # the discriminator is that normalised phone.
    sql=r"""
WITH s AS (
    SELECT norm, count(DISTINCT household_id) AS n_hh,
           list_sort(list(DISTINCT household_id)) AS hhs
    FROM v_id_phone GROUP BY norm HAVING count(DISTINCT household_id) > 1
)
SELECT p.household_id, 'phone' AS field,
       CASE WHEN count(DISTINCT p.phone) = 1 THEN min(p.phone) END AS value, p.norm AS disc,
       json_object('phone', p.norm, 'households', s.hhs) AS evidence,
       format('共{}户：{}', s.n_hh, array_to_string(s.hhs, '、')) AS detail
FROM v_id_phone p JOIN s USING (norm)
GROUP BY p.household_id, p.norm, s.n_hh, s.hhs
""",
    message="户编号{household_id}（{head_name}户）成员的联系电话{value}同时登记在其他户（{detail}），请核实本户的联系电话",
)
