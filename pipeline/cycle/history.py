"""Issue lifecycle across periods (outputs.md `status`), kept in the database.

Tables in the store (the DuckDB file):
  runs(period, started_at, finished_at, status, tool_version)
  issue_history(<issue columns>, rule_evaluated)   every issue of every completed period
  feedback(issue_id, township, village, period, answer, note, who, answered_on, file, sheet_row,
           imported_at, evidence, workbook_id, how, answer_id, account, answered_at)
           every answer; how = 'workbook' (a returned workbook) or 'browser' (the portal);
           answer_id makes a write from the portal's outbox idempotent; account = the portal
           account that made it (empty from the CLI); answered_at = when it was made (UTC)
  workbook_issues(workbook_id, period, township, village, file, issue_id, created_at)
           which issue went into which village workbook (append-only; pipeline.outputs.workbooks)

  audit_workbooks(workbook_id, period, township, village, issue_id, created_at)
           the waiver audit sample of a period (抽查复核.xlsx), registered like a village workbook
  waiver_audits(issue_id, period, township, village, result, note, who, how, workbook_id, file,
           sheet_row, recorded_at, answer_id)   the county's spot check: result confirmed |
           overturned; an overturned waiver (recorded after the waiving answer) is cancelled
           until the village answers again (status reopened, flag 抽查复核未通过)

  rule_skips(period, rule_id, township, reason)   rules not evaluated in a period, for the
                                                   whole county (township '') or one township

Statuses: new (issue_id never seen before) | persisting (in the previous period) |
reopened (seen in an earlier period but not the previous one, or a waiver whose
evidence has since changed, or a waiver the county's spot check overturned after the answer:
flag 抽查复核未通过) | waived (a village answered 不属实-数据无误 and the evidence is unchanged). An issue's previous period is the latest earlier period with a
completed run in which its rule was evaluated for its township (outputs.md): an issue
whose rule was skipped (its table missing, or its township lacking members or
households) is neither current nor resolved, and its history keeps its last status.
Re-running a period replaces it.
"""
from __future__ import annotations

from checks.engine import ISSUE_COLUMNS
from pipeline.outputs.vocab import FLAG_AUDIT_OVERTURNED, FLAG_NOT_FIXED

HISTORY_DDL = f"""
CREATE TABLE IF NOT EXISTS {{s}}.runs (
    period VARCHAR, started_at VARCHAR, finished_at VARCHAR, status VARCHAR, tool_version VARCHAR,
    manifest VARCHAR
);
CREATE TABLE IF NOT EXISTS {{s}}.issue_history (
    {", ".join(f'"{c}" VARCHAR' for c in ISSUE_COLUMNS)}, flag VARCHAR
);
CREATE TABLE IF NOT EXISTS {{s}}.feedback (
    issue_id VARCHAR, township VARCHAR, village VARCHAR, period VARCHAR, answer VARCHAR,
    note VARCHAR, who VARCHAR, answered_on VARCHAR, file VARCHAR, sheet_row INTEGER,
    imported_at VARCHAR, evidence VARCHAR, workbook_id VARCHAR, how VARCHAR
);
CREATE TABLE IF NOT EXISTS {{s}}.workbook_issues (
    workbook_id VARCHAR, period VARCHAR, township VARCHAR, village VARCHAR, file VARCHAR,
    issue_id VARCHAR, created_at VARCHAR
);
CREATE TABLE IF NOT EXISTS {{s}}.audit_workbooks (
    workbook_id VARCHAR, period VARCHAR, township VARCHAR, village VARCHAR, issue_id VARCHAR,
    created_at VARCHAR
);
CREATE TABLE IF NOT EXISTS {{s}}.waiver_audits (
    issue_id VARCHAR, period VARCHAR, township VARCHAR, village VARCHAR, result VARCHAR, note VARCHAR,
    who VARCHAR, how VARCHAR, workbook_id VARCHAR, file VARCHAR, sheet_row INTEGER, recorded_at VARCHAR,
    answer_id VARCHAR
);
"""

# columns added after a table was first created: databases made by older versions get them
# (at the end, where the DDL above has them)
ADDED_COLUMNS = {"feedback": (("workbook_id", "VARCHAR"), ("how", "VARCHAR"), ("answer_id", "VARCHAR"),
                              ("account", "VARCHAR"), ("answered_at", "VARCHAR"))}


RULE_SKIPS_DDL = """
CREATE TABLE IF NOT EXISTS {s}.rule_skips (
    period VARCHAR, rule_id VARCHAR, township VARCHAR, reason VARCHAR
)"""


def _complete(con, schema: str) -> bool:
    """Every table and added column is there already (one catalog query; ensure() is then a no-op
    and writes nothing — the portal calls it on every write of answers)."""
    want = {"runs", "issue_history", "feedback", "workbook_issues", "audit_workbooks", "waiver_audits", "rule_skips"}
    rows = con.execute("SELECT table_name, list(column_name) FROM duckdb_columns() WHERE database_name = ? "
                       "AND schema_name = 'main' AND table_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
                       [_database(con, schema), sorted(want)]).fetchall()
    have = {t: set(cols) for t, cols in rows}
    if set(have) != want:
        return False
    return all(name in have[table] for table, cols in ADDED_COLUMNS.items() for name, _ in cols)


def _has_table(con, schema: str, name: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                       [_database(con, schema), name]).fetchone()[0] > 0


def _database(con, schema: str) -> str:
    return con.execute("SELECT current_database()").fetchone()[0] if schema == "main" else schema


def ensure(con, schema: str) -> None:
    if _complete(con, schema):
        return
    for stmt in HISTORY_DDL.format(s=schema).split(";"):
        if stmt.strip():
            con.execute(stmt)
    for table, cols in ADDED_COLUMNS.items():
        for name, typ in cols:
            con.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {name} {typ}")
    if not _has_table(con, schema, "rule_skips"):
        con.execute(RULE_SKIPS_DDL.format(s=schema))
        _backfill_skips(con, schema)


def _backfill_skips(con, schema: str) -> None:
    """Databases written before rule_skips existed: the skipped rules are in each run's manifest."""
    import json

    rows = []
    for period, manifest in con.execute(f"SELECT period, manifest FROM {schema}.runs "
                                        f"WHERE status = 'completed'").fetchall():
        try:
            rules = json.loads(manifest or "{}").get("rules", {})
        except ValueError:
            continue
        rows += [(period, rid, "", r.get("reason")) for rid, r in rules.items()
                 if isinstance(r, dict) and r.get("status") == "skipped"]
    if rows:
        con.executemany(f"INSERT INTO {schema}.rule_skips VALUES (?, ?, ?, ?)", rows)


def previous_period(con, schema: str, period: str) -> str | None:
    row = con.execute(f"SELECT max(period) FROM {schema}.runs WHERE status = 'completed' AND period < ?",
                      [period]).fetchone()
    return row[0] if row else None


def apply(con, schema: str, period: str, skips: list[tuple[str, str, str]]) -> str | None:
    """Set status/first_seen/flag on issues_current; build issues_resolved. Returns the previous
    completed period (of the whole run). `skips`: (rule_id, township or '' for all, reason) of the
    rules not evaluated this period."""
    prev = previous_period(con, schema, period)
    con.execute("CREATE OR REPLACE TEMP TABLE _skips_now (rule_id VARCHAR, township VARCHAR, reason VARCHAR)")
    if skips:
        con.executemany("INSERT INTO _skips_now VALUES (?, ?, ?)", [list(x) for x in skips])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hist AS
        SELECT * FROM {schema}.issue_history WHERE period < ?""", [period])
    # latest answer per issue recorded before this run (by when it was made: a browser answer that
    # waited in the portal's outbox during a run keeps its time)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _answers AS
        SELECT *, coalesce(answered_at, imported_at) AS answer_time FROM {schema}.feedback
        QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY coalesce(answered_at, imported_at) DESC,
                                   imported_at DESC, sheet_row DESC NULLS LAST) = 1""")
    # the county's latest spot-check result per issue (waiver audit sample)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _audits AS
        SELECT issue_id, result, recorded_at, note FROM {schema}.waiver_audits
        QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY recorded_at DESC, sheet_row DESC NULLS LAST) = 1""")
    # each (rule, township)'s previous period: the latest earlier completed run that evaluated it
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _prev AS
        WITH periods AS (SELECT DISTINCT period FROM {schema}.runs WHERE status = 'completed' AND period < ?),
        keys AS (SELECT DISTINCT rule_id, coalesce(township, '') AS township FROM issues_current
                 UNION SELECT DISTINCT rule_id, coalesce(township, '') FROM _hist)
        SELECT k.rule_id, k.township, max(p.period) AS prev
        FROM keys k CROSS JOIN periods p
        WHERE NOT EXISTS (SELECT 1 FROM {schema}.rule_skips s
                          WHERE s.period = p.period AND s.rule_id = k.rule_id
                            AND (s.township = '' OR s.township = k.township))
        GROUP BY ALL""", [period])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _issue_status AS
        WITH first AS (SELECT issue_id, min(period) AS first_seen FROM _hist GROUP BY issue_id),
        c AS (
            SELECT i.issue_id, i.evidence,
                   f.first_seen,
                   EXISTS (SELECT 1 FROM _hist h WHERE h.issue_id = i.issue_id AND h.period = p.prev) AS in_prev,
                   a.answer, a.evidence AS answer_evidence,
                   -- an overturned waiver is cancelled until the village answers again
                   coalesce(a.answer = '不属实-数据无误' AND u.result = 'overturned'
                            AND u.recorded_at > a.answer_time, false) AS overturned
            FROM issues_current i
            LEFT JOIN first f USING (issue_id)
            LEFT JOIN _prev p ON p.rule_id = i.rule_id AND p.township = coalesce(i.township, '')
            LEFT JOIN _answers a USING (issue_id)
            LEFT JOIN _audits u USING (issue_id)
        )
        SELECT issue_id,
               CASE WHEN overturned THEN 'reopened'
                    WHEN answer = '不属实-数据无误' AND answer_evidence = evidence THEN 'waived'
                    WHEN answer = '不属实-数据无误' AND answer_evidence IS DISTINCT FROM evidence THEN 'reopened'
                    WHEN first_seen IS NULL THEN 'new'
                    WHEN in_prev THEN 'persisting'
                    ELSE 'reopened' END AS status,
               coalesce(first_seen, ?) AS first_seen,
               CASE WHEN overturned THEN ?
                    WHEN answer = '属实-已整改' THEN ? END AS flag
        FROM c""", [period, FLAG_AUDIT_OVERTURNED, FLAG_NOT_FIXED])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE issues_current AS
        SELECT i.* REPLACE (s.status AS status, s.first_seen AS first_seen), s.flag
        FROM issues_current i JOIN _issue_status s USING (issue_id)""")
    # resolved: in its rule's previous period, gone now, and its rule evaluated for its township now
    con.execute("""
        CREATE OR REPLACE TEMP TABLE issues_resolved AS
        SELECT h.* REPLACE ('resolved' AS status, ? AS period)
        FROM _hist h
        JOIN _prev p ON p.rule_id = h.rule_id AND p.township = coalesce(h.township, '') AND h.period = p.prev
        WHERE h.issue_id NOT IN (SELECT issue_id FROM issues_current)
          AND NOT EXISTS (SELECT 1 FROM _skips_now s WHERE s.rule_id = h.rule_id
                          AND (s.township = '' OR s.township = coalesce(h.township, '')))""", [period])
    return prev


def persist(con, schema: str, period: str, started: str, finished: str, version: str,
            manifest_json: str) -> None:
    """Replace this period's history, rule skips and run record (inside the caller's transaction).
    The manifest carries the run's `run_id` (the output-swap journal looks for it)."""
    con.execute(f"DELETE FROM {schema}.issue_history WHERE period = ?", [period])
    con.execute(f"DELETE FROM {schema}.runs WHERE period = ?", [period])
    con.execute(f"DELETE FROM {schema}.rule_skips WHERE period = ?", [period])
    con.execute(f"INSERT INTO {schema}.rule_skips SELECT ?, rule_id, township, reason FROM _skips_now", [period])
    con.execute(f"""INSERT INTO {schema}.issue_history
                    SELECT {", ".join(f'CAST("{c}" AS VARCHAR)' for c in ISSUE_COLUMNS)}, flag
                    FROM issues_current""")
    con.execute(f"INSERT INTO {schema}.runs VALUES (?, ?, ?, 'completed', ?, ?)",
                [period, started, finished, version, manifest_json])
