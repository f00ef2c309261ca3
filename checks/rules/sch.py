"""SCH — ingest and schema. The loader records findings in `schema_findings`; these rules
turn them into issues. SCH-01 (a missing required column) is file-level: the file is not
loaded, and the problem is reported in run.json `files` and by `validate`, not as a
household issue.

Keys per table kind (rules.md "Keys"; the loader's `_keys_of` fills them):
  members         household_id + id_number (the member; the name when the ID is empty)
  households      household_id
  helpers         helper_id_number
  pairings        household_id + helper_id_number
  projects        project_id (with the project row's township/village)
  beneficiaries   household_id + project_id
  loans           the loan's household (its household_id, else the household of the member
                  whose valid ID matches the borrower's, rules.md "A loan's household")
                  + the borrower's id_number
  agency tables   id_number (civil_affairs rows also carry their township/village)
Discriminator (rules.md "Issue identity"): SCH-02/04 the table and field, SCH-03 the row
content (a hash of the row's canonical values).
"""
from checks.registry import rule
from schemas.tables import REGISTRY, TABLES

_REGISTRY = ", ".join(f"'{t.name}'" for t in REGISTRY)

# Chinese names for messages: the table's title and the field's header as in inputs.md.
_TITLE = "CASE s.\"table\" " + " ".join(
    f"WHEN '{t.name}' THEN '{t.title}表'" for t in TABLES.values()) + " ELSE s.\"table\" END"
# (a VALUES relation joined on table.field: a CASE of ~250 branches cost ~10 ms of planning per rule)
_HEADERS = "SELECT * FROM (VALUES " + ", ".join(
    f"('{t.name}.{c.name}', '「{c.header}」')" for t in TABLES.values() for c in t.columns
) + ") AS t(k, header)"
_HEADER = "coalesce(hdr.header, '「' || coalesce(s.field, '') || '」')"

# Who the row is about, as a message names it (never NULL).
_WHO = r"""CASE s."table"
    WHEN 'members' THEN concat(coalesce(s.person_name, '姓名为空的成员'),
                               '（' || coalesce('户编号' || s.household_id, '证件号码' || s.id_number) || '）')
    WHEN 'households' THEN concat('户编号', coalesce(s.household_id, '为空'), '（户主' || s.person_name || '）')
    WHEN 'helpers' THEN concat('帮扶责任人', coalesce(s.person_name, ''),
                               '（证件号码' || s.helper_id_number || '）')
    WHEN 'pairings' THEN concat('户编号', coalesce(s.household_id, '为空'), '的结对记录',
                                '（帮扶责任人证件号码' || s.helper_id_number || '）')
    WHEN 'projects' THEN concat('项目', coalesce(s.project_id, '编号为空'))
    WHEN 'beneficiaries' THEN concat('项目', coalesce(s.project_id, '编号为空'), '的受益户',
                                     coalesce(s.household_id, '（户编号为空）'))
    WHEN 'loans' THEN concat('借款人', coalesce(s.person_name, ''),
                             '（' || coalesce('证件号码' || s.id_number, '户编号' || s.household_id) || '）')
    ELSE concat(coalesce(s.person_name, '姓名为空的人员'), '（证件号码' || s.id_number || '）')
END"""

# The findings with their issue keys. A loan row without household_id belongs to the
# household of the member whose valid ID matches the borrower's (one issue per household).
_FINDINGS = rf"""
WITH f AS (
    SELECT * FROM schema_findings WHERE rule_id = $$RULE$$
), loan_hh AS (      -- borrower ID -> household(s) of the member(s) with that valid ID
    SELECT DISTINCT i.id_number, m.household_id
    FROM v_id i JOIN v_loan_member m ON m.id18 = i.id18
    WHERE i.id_valid
), s AS (
    SELECT f.* EXCLUDE (household_id), coalesce(f.household_id, l.household_id) AS household_id
    FROM f LEFT JOIN loan_hh l
      ON f."table" = 'loans' AND f.household_id IS NULL AND l.id_number = f.id_number
)
SELECT s.household_id, s.id_number, s.helper_id_number, s.project_id,
       -- households: the head's name is context (v_hh), not part of the issue's identity
       CASE WHEN s."table" = 'households' THEN NULL ELSE s.person_name END AS person_name,
       CASE WHEN s.household_id IS NULL THEN s.township END AS township,
       CASE WHEN s.household_id IS NULL THEN s.village END AS village,
       CASE WHEN s."table" IN ({_REGISTRY}) THEN 'registry' ELSE s."table" END AS source,
       s."table" AS tbl, s.field AS fld, s.value AS val, s.row_hash,
       {_WHO} AS who, {_TITLE} AS title, {_HEADER} AS header
FROM s LEFT JOIN ({_HEADERS}) hdr ON hdr.k = s."table" || '.' || coalesce(s.field, '')
"""


def _findings(rule_id: str) -> str:
    return _FINDINGS.replace("$$RULE$$", f"'{rule_id}'")


rule("SCH-02", "字段值无法识别", "error", key="household", needs=[],
     policy="建档立卡信息采集：按规定的格式和选项填写",
     sql=f"""
SELECT household_id, id_number, helper_id_number, project_id, person_name, township, village,
       source, fld AS field, val AS value,
       json_object('table', tbl, 'field', fld, 'value', val) AS evidence,
       tbl || '.' || fld AS disc,
       concat(who, '在', title, '中的', header, '值“', coalesce(val, ''), '”') AS detail
FROM ({_findings('SCH-02')}) q
""",
     message="{detail}无法识别，已按空值处理，请按规范重新填写")

rule("SCH-03", "重复记录", "notice", key="household", needs=[],
     policy="建档立卡信息采集：一条信息只录入一次",
     sql=f"""
SELECT household_id, id_number, helper_id_number, project_id, person_name, township, village,
       source, NULL AS field, NULL AS value,
       json_object('table', tbl, 'row_hash', row_hash) AS evidence,
       tbl || ':' || coalesce(row_hash, '') AS disc,
       concat(title, '中', who, '的记录') AS detail
FROM ({_findings('SCH-03')}) q
""",
     message="{detail}重复出现，已只保留一条，请在系统中核对是否重复录入")

rule("SCH-04", "必填字段为空", "error", key="household", needs=[],
     policy="建档立卡信息采集：必填项不得为空",
     sql=f"""
SELECT household_id, id_number, helper_id_number, project_id, person_name, township, village,
       source, fld AS field, NULL AS value,
       json_object('table', tbl, 'field', fld) AS evidence,
       tbl || '.' || fld AS disc,
       concat(who, '在', title, '中的', header) AS detail
FROM ({_findings('SCH-04')}) q
""",
     message="{detail}为空，请补充填写")
