"""Issue lifecycle across periods (outputs.md `status`), kept in the database.

Tables in the store (the DuckDB file):
  runs(period, started_at, finished_at, status, tool_version)
  issue_history(<issue columns>, rule_evaluated)   every issue of every completed period
  feedback(issue_id, township, village, period, answer, note, who, answered_on, file, sheet_row,
           imported_at, evidence, workbook_id, how)     every answer; how = 'workbook' (later 'browser')
  workbook_issues(workbook_id, period, township, village, file, issue_id, created_at)
           which issue went into which village workbook (append-only; pipeline.workbooks)

Statuses: new (issue_id never seen before) | persisting (in the previous period) |
reopened (seen in an earlier period but not the previous one, or a waiver whose
evidence has since changed) | waived (a village answered 不属实-数据无误 and the
evidence is unchanged). The previous period is the latest earlier period with a
completed run. Re-running a period replaces it.
"""
from __future__ import annotations

from checks.engine import ISSUE_COLUMNS

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
"""

# columns added after a table was first created: databases made by older versions get them
# (at the end, where the DDL above has them)
ADDED_COLUMNS = {"feedback": (("workbook_id", "VARCHAR"), ("how", "VARCHAR"))}


def ensure(con, schema: str) -> None:
    for stmt in HISTORY_DDL.format(s=schema).split(";"):
        if stmt.strip():
            con.execute(stmt)
    for table, cols in ADDED_COLUMNS.items():
        for name, typ in cols:
            con.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {name} {typ}")


def previous_period(con, schema: str, period: str) -> str | None:
    row = con.execute(f"SELECT max(period) FROM {schema}.runs WHERE status = 'completed' AND period < ?",
                      [period]).fetchone()
    return row[0] if row else None


def apply(con, schema: str, period: str, skipped_rules: list[str]) -> str | None:
    """Set status/first_seen/flag on issues_current; build issues_resolved. Returns the previous period."""
    prev = previous_period(con, schema, period)
    con.execute("CREATE OR REPLACE TEMP TABLE _skipped AS SELECT unnest(?::VARCHAR[]) AS rule_id",
                [skipped_rules])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hist AS
        SELECT * FROM {schema}.issue_history WHERE period < ?""", [period])
    # latest answer per issue, imported before this run
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _answers AS
        SELECT * FROM {schema}.feedback
        QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY imported_at DESC, sheet_row DESC) = 1""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _issue_status AS
        WITH first AS (SELECT issue_id, min(period) AS first_seen FROM _hist GROUP BY issue_id),
        prev AS (SELECT issue_id, status, evidence FROM _hist WHERE period = ?),
        c AS (
            SELECT i.issue_id, i.evidence,
                   f.first_seen, p.issue_id IS NOT NULL AS in_prev, p.status AS prev_status,
                   a.answer, a.evidence AS answer_evidence
            FROM issues_current i
            LEFT JOIN first f USING (issue_id)
            LEFT JOIN prev p USING (issue_id)
            LEFT JOIN _answers a USING (issue_id)
        )
        SELECT issue_id,
               CASE WHEN answer = '不属实-数据无误' AND answer_evidence = evidence THEN 'waived'
                    WHEN answer = '不属实-数据无误' AND answer_evidence IS DISTINCT FROM evidence THEN 'reopened'
                    WHEN first_seen IS NULL THEN 'new'
                    WHEN in_prev THEN 'persisting'
                    ELSE 'reopened' END AS status,
               coalesce(first_seen, ?) AS first_seen,
               CASE WHEN answer = '属实-已整改' THEN '整改未见效' END AS flag
        FROM c""", [prev, period])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE issues_current AS
        SELECT i.* REPLACE (s.status AS status, s.first_seen AS first_seen), s.flag
        FROM issues_current i JOIN _issue_status s USING (issue_id)""")
    # resolved: in the previous period, gone now, and its rule was evaluated this period
    con.execute("""
        CREATE OR REPLACE TEMP TABLE issues_resolved AS
        SELECT h.* REPLACE ('resolved' AS status, ? AS period)
        FROM _hist h
        WHERE h.period = ? AND h.issue_id NOT IN (SELECT issue_id FROM issues_current)
          AND h.rule_id NOT IN (SELECT rule_id FROM _skipped)""", [period, prev])
    return prev


def persist(con, schema: str, period: str, started: str, finished: str, version: str,
            manifest_json: str) -> None:
    """Replace this period's history and run record (inside the caller's transaction)."""
    con.execute(f"DELETE FROM {schema}.issue_history WHERE period = ?", [period])
    con.execute(f"DELETE FROM {schema}.runs WHERE period = ?", [period])
    con.execute(f"""INSERT INTO {schema}.issue_history
                    SELECT {", ".join(f'CAST("{c}" AS VARCHAR)' for c in ISSUE_COLUMNS)}, flag
                    FROM issues_current""")
    con.execute(f"INSERT INTO {schema}.runs VALUES (?, ?, ?, 'completed', ?, ?)",
                [period, started, finished, version, manifest_json])
