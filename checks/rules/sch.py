"""SCH — ingest and schema. The loader records findings in `schema_findings`; these rules
turn them into issues. SCH-01 (a missing required column) is file-level: the file is not
loaded, and the problem is reported in run.json `files` and by `validate`, not as a
household issue."""
from checks.catalogue import rule
from schemas.tables import TABLES

# Chinese names for the message: "家庭成员表「务工时间（月）」"
_LABEL = "CASE \"table\" || '.' || coalesce(field, '') " + " ".join(
    f"WHEN '{t.name}.{c.name}' THEN '{t.title}表「{c.header}」'" for t in TABLES.values() for c in t.columns
) + " " + " ".join(f"WHEN '{t.name}.' THEN '{t.title}表'" for t in TABLES.values()) + " END"

_KEYS = """household_id, id_number, helper_id_number, project_id, person_name,
           CASE WHEN household_id IS NULL THEN township END AS township,
           CASE WHEN household_id IS NULL THEN village END AS village"""

rule("SCH-02", "字段值无法识别", "error", key="household", needs=[],
     policy="inputs.md 读取规则",
     sql=f"""
SELECT {_KEYS}, field, value,
       json_object('table', "table", 'field', field, 'value', value) AS evidence,
       "table" || '.' || field AS disc,
       CASE WHEN "table" IN ('members', 'households', 'helpers', 'pairings', 'projects',
                             'beneficiaries', 'loans') THEN 'registry' ELSE "table" END AS source,
       {_LABEL} AS detail
FROM schema_findings WHERE rule_id = 'SCH-02'
""",
     message="{person_name}（户编号{household_id}）{detail}的值“{value}”无法识别，已按空值处理，请按规范重新填写")

rule("SCH-03", "重复记录", "notice", key="household", needs=[],
     policy="inputs.md 读取规则",
     sql=f"""
SELECT {_KEYS}, NULL AS field, NULL AS value,
       json_object('table', "table", 'row_hash', row_hash) AS evidence,
       "table" || ':' || row_hash AS disc,
       CASE WHEN "table" IN ('members', 'households', 'helpers', 'pairings', 'projects',
                             'beneficiaries', 'loans') THEN 'registry' ELSE "table" END AS source,
       {_LABEL} AS detail
FROM schema_findings WHERE rule_id = 'SCH-03'
""",
     message="{detail}中{person_name}（户编号{household_id}）的记录重复出现，已只保留一条，请在系统中核对是否重复录入")

rule("SCH-04", "必填字段为空", "error", key="household", needs=[],
     policy="inputs.md 必填字段",
     sql=f"""
SELECT {_KEYS}, field, NULL AS value,
       json_object('table', "table", 'field', field) AS evidence,
       "table" || '.' || field AS disc,
       CASE WHEN "table" IN ('members', 'households', 'helpers', 'pairings', 'projects',
                             'beneficiaries', 'loans') THEN 'registry' ELSE "table" END AS source,
       {_LABEL} AS detail
FROM schema_findings WHERE rule_id = 'SCH-04'
""",
     message="{person_name}（户编号{household_id}）{detail}为空，请补充填写")
