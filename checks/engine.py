"""Run the rule catalogue against the canonical tables in a DuckDB connection.

    prepare(con, ref_date, params)      derived relations (checks.views + rule modules)
    evaluate(con, ref_date, params)     every rule -> table `issues_raw`, plus a RuleResult per rule
    finish(con, period, params)         issues_raw -> `issues_current` with issue ids, context, messages

Everything here is set-based SQL; Python only orders the queries.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from checks import params as P
from checks.catalogue import VIEWS, all_rules
from schemas import ids
from schemas.sql import lit as _lit
from schemas.tables import TABLES, ddl

ISSUE_COLUMNS = [
    "issue_id", "period", "rule_id", "rule_name", "severity", "status", "first_seen", "county",
    "township", "village", "household_id", "head_name", "person_name", "id_number",
    "helper_id_number", "project_id", "field", "value", "evidence", "source", "responsible_unit",
    "message",
]

RAW_DDL = """
CREATE OR REPLACE TEMP TABLE issues_raw (
    rule_id VARCHAR, severity VARCHAR, household_id VARCHAR, id_number VARCHAR,
    helper_id_number VARCHAR, project_id VARCHAR, person_name VARCHAR, field VARCHAR,
    value VARCHAR, evidence VARCHAR, disc VARCHAR, source VARCHAR, township VARCHAR,
    village VARCHAR, county VARCHAR, detail VARCHAR
)"""

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
_MESSAGE_FIELDS = {"household_id", "id_number", "helper_id_number", "project_id", "person_name",
                   "head_name", "field", "value", "detail", "township", "village", "county"}


@dataclass
class RuleResult:
    rule_id: str
    status: str            # evaluated | skipped
    reason: str = ""
    count: int = 0
    seconds: float = 0.0    # wall time of its query (evaluated rules)


def bind(sql: str, values: dict) -> dict:
    """The parameters a query references, from the full parameter dict."""
    names = set(_PARAM_RE.findall(sql))
    missing = names - set(values)
    if missing:
        raise KeyError(f"unknown query parameter(s): {', '.join(sorted(missing))}")
    return {n: values[n] for n in names}


def ensure_tables(con) -> None:
    """Create every canonical table that does not exist yet (empty)."""
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema()").fetchall()}
    for t in TABLES.values():
        if t.name not in existing:
            con.execute(ddl(t))
    if "schema_findings" not in existing:
        con.execute(SCHEMA_FINDINGS_DDL)


SCHEMA_FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS schema_findings (
    rule_id VARCHAR,        -- SCH-02, SCH-03, SCH-04 (SCH-01 is file-level: see run.json files)
    "table" VARCHAR, field VARCHAR, value VARCHAR,
    household_id VARCHAR, id_number VARCHAR, helper_id_number VARCHAR, project_id VARCHAR,
    person_name VARCHAR, township VARCHAR, village VARCHAR, row_hash VARCHAR,
    _rid BIGINT, _file VARCHAR, _sheet VARCHAR, _row INTEGER
)"""


def present_tables(con) -> set[str]:
    """Canonical tables with at least one loaded row (rules.md: an empty table is missing)."""
    parts = " UNION ALL ".join(
        f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in TABLES)
    return {r[0] for r in con.execute(parts).fetchall()}


def _canon_json(v: str | None) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8 kept): 'unchanged evidence' is string equality."""
    import json

    if v is None:
        return "{}"
    return json.dumps(json.loads(v), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def register_functions(con) -> None:
    ids.register(con)
    try:
        con.create_function("canon_json", _canon_json, ["VARCHAR"], "VARCHAR", type="native",
                            null_handling="special", side_effects=False)
    except Exception as exc:
        if "already" not in str(exc):
            raise


def prepare(con, ref_date: dt.date, params: dict, only: tuple[str, ...] | None = None) -> dict[str, float]:
    """Materialise the shared derived relations (or `only` those, which must not need others);
    returns each one's wall time in seconds."""
    ensure_tables(con)
    register_functions(con)
    all_rules()  # make sure every module (and its views) is registered
    values = P.sql_params(params, ref_date)
    seconds = {}
    for v in VIEWS.values():
        if only is not None and v.name not in only:
            continue
        t = time.perf_counter()
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{v.name}" AS {v.sql}', bind(v.sql, values))
        seconds[v.name] = round(time.perf_counter() - t, 4)
    return seconds


_VIEW_NAME_RE = re.compile(r"\bv_[a-z0-9_]+\b")


def views_for(rule_ids: set[str]) -> tuple[str, ...]:
    """The derived relations the given rules read, with those they are built from (in the order
    prepare() makes them): a few rules need not pay for every view."""
    all_rules()
    wanted = set()
    for r in all_rules():
        if r.id in rule_ids:
            wanted |= {n for n in _VIEW_NAME_RE.findall(r.sql) if n in VIEWS}
    for v in reversed(list(VIEWS.values())):        # a view only reads views made before it
        if v.name in wanted:
            wanted |= {n for n in _VIEW_NAME_RE.findall(v.sql) if n in VIEWS}
    return tuple(n for n in VIEWS if n in wanted)


def release_views(con, keep: tuple[str, ...] = ()) -> None:
    """Drop the derived relations prepare() materialised (all but `keep`) to free memory."""
    for v in VIEWS.values():
        if v.name not in keep:
            con.execute(f'DROP TABLE IF EXISTS "{v.name}"')


def evaluate(con, ref_date: dt.date, params: dict, *, only: set[str] | None = None,
             exclude: set[str] | None = None) -> list[RuleResult]:
    """Run every rule (or `only` those) into issues_raw. Call prepare() first."""
    values = P.sql_params(params, ref_date)
    present = present_tables(con)
    con.execute(RAW_DDL)
    results: list[RuleResult] = []
    for r in all_rules():
        if (only is not None and r.id not in only) or (exclude and r.id in exclude):
            continue
        missing = [t for t in r.needs if t not in present]
        if missing:
            results.append(RuleResult(r.id, "skipped", "missing table: " + ", ".join(missing)))
            continue
        if r.needs_any and not any(t in present for t in r.needs_any):
            results.append(RuleResult(r.id, "skipped", "missing tables: none of " + ", ".join(r.needs_any)))
            continue
        reason = r.precheck(values) if r.precheck else None
        if reason:
            results.append(RuleResult(r.id, "skipped", reason))
            continue
        t = time.perf_counter()
        n = con.execute(
            f"INSERT INTO issues_raw BY NAME SELECT '{r.id}' AS rule_id, * FROM ({r.sql}) AS q",
            bind(r.sql, values)).fetchone()[0]
        results.append(RuleResult(r.id, "evaluated", "", n, round(time.perf_counter() - t, 4)))
    return results


def rule_timings(results: list[RuleResult], slowest: int = 10) -> dict:
    """Seconds per rule family (the id's prefix) and the `slowest` rules, for run.json."""
    families: dict[str, float] = {}
    for r in results:
        fam = r.rule_id.split("-")[0]
        families[fam] = round(families.get(fam, 0.0) + r.seconds, 3)
    top = sorted((r for r in results if r.status == "evaluated"), key=lambda r: (-r.seconds, r.rule_id))
    return {"families": dict(sorted(families.items(), key=lambda kv: (-kv[1], kv[0]))),
            "slowest": [[r.rule_id, r.seconds] for r in top[:slowest]]}


def _message_sql(template: str) -> str:
    parts, pos = [], 0
    for m in _PLACEHOLDER_RE.finditer(template):
        if m.group(1) not in _MESSAGE_FIELDS:
            raise ValueError(f"message placeholder {{{m.group(1)}}} is not an issue column")
        if m.start() > pos:
            parts.append(_lit(template[pos:m.start()]))
        parts.append(f"coalesce(CAST(i.{m.group(1)} AS VARCHAR), '')")
        pos = m.end()
    if pos < len(template):
        parts.append(_lit(template[pos:]))
    return "concat(" + ", ".join(parts or ["''"]) + ")"


def rule_meta_sql(params: dict) -> str:
    """A VALUES relation of rule metadata: id, name, severity, source, unit, message expression."""
    rows = []
    for r in all_rules():
        rows.append(f"({_lit(r.id)}, {_lit(r.name)}, {_lit(r.severity)}, {_lit(r.source)}, "
                    f"{_lit(P.responsible_unit(params, r.id))})")
    return ("SELECT * FROM (VALUES " + ", ".join(rows) +
            ") AS t(rule_id, rule_name, rule_severity, rule_source, responsible_unit)")


def finish(con, period: str, params: dict) -> None:
    """issues_raw -> issues_current: keys, context, deterministic ids, messages, one row per issue."""
    cases = " ".join(f"WHEN {_lit(r.id)} THEN {_message_sql(r.message)}" for r in all_rules())
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE issues_current AS
WITH meta AS ({rule_meta_sql(params)}),
j AS (
    SELECT r.*, meta.rule_name, meta.rule_severity, meta.rule_source, meta.responsible_unit,
           h.household_id IS NOT NULL AS registered,
           h.county AS h_county, h.township AS h_township, h.village AS h_village, h.head_name AS h_head
    FROM issues_raw r
    JOIN meta USING (rule_id)
    LEFT JOIN v_hh h USING (household_id)
), i AS (
    SELECT
        rule_id, rule_name,
        coalesce(severity, rule_severity) AS severity,
        CASE WHEN registered THEN h_county ELSE county END AS county,
        CASE WHEN registered THEN h_township ELSE township END AS township,
        CASE WHEN registered THEN h_village ELSE village END AS village,
        household_id, h_head AS head_name, person_name, id_number, helper_id_number, project_id,
        field, value, canon_json(evidence) AS evidence, coalesce(source, rule_source) AS source,
        responsible_unit, detail,
        -- the person key of the issue identity: the ID, else the name (two members with
        -- empty IDs in one household must not share an issue id)
        coalesce(nullif(id_number, ''), nullif(helper_id_number, ''), nullif(project_id, ''),
                 nullif(person_name, ''), '') AS person_key,
        coalesce(disc, '') AS disc
    FROM j
)
SELECT
    substr(sha256(concat_ws('|', i.rule_id, coalesce(i.household_id, ''), i.person_key, i.disc)), 1, 16) AS issue_id,
    {_lit(period)} AS period,
    i.rule_id, i.rule_name, i.severity,
    CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS first_seen,
    i.county, i.township, i.village, i.household_id, i.head_name, i.person_name, i.id_number,
    i.helper_id_number, i.project_id, i.field, i.value, i.evidence, i.source, i.responsible_unit,
    CASE i.rule_id {cases} END AS message
FROM i
QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY i.evidence, i.value) = 1
""")
