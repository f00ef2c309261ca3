"""Village answers as evidence about the rules, the waiver audit sample, and the returns of the
previous period's workbooks (portal.md "Answers as evidence about the rules"; issue I).

All three are set-based SQL over the store's history, run inside the monthly run after
history.apply (issues_current has its statuses) and before the outputs are written:

    rule_feedback(con, schema, period)            -> run.json `rule_feedback`
    draw_sample(con, schema, period)              -> the waiver audit sample (list of dicts)
    returns(con, schema, period, prev, now, days) -> run.json `returns` (回收与核实)
    persist_audit(con, schema)                    the sample's workbook registry (inside the commit)

Rule feedback. The window is the 12 latest periods among the completed runs up to this period
and this period itself. In each period, each issue counts once, by its latest answer (feedback
rows are attributed to the period of the workbook they answer); 无法核实 is left out. Per rule
and per township (and county-wide): answers, 属实 (已整改 + 整改中), 不属实-数据无误, the shares of
both, and the estimated precision 属实 / (属实 + 不属实) with its count. With 无法核实 left out the
precision equals the share 属实; both are given, as the spec lists them. A rule with at least
MIN_ANSWERS such answers county-wide and a precision below MAX_PRECISION is flagged for review.

Audit sample. Per township with w waived issues this period, n = min(w, max(5, ceil(0.1 w))) of
them: those with the smallest sha256(period || issue_id) (the period text 'YYYY-MM' followed by
the issue id, nothing between) — the same period always draws the same sample.
"""
from __future__ import annotations

import datetime as dt

from pipeline.outputs.vocab import ANSWER_FALSE, ANSWER_TRUE, ANSWER_UNKNOWN
from pipeline.store.duck import dicts

WINDOW = 12
MIN_ANSWERS = 20
MAX_PRECISION = 0.5
SAMPLE_MIN, SAMPLE_SHARE = 5, 0.1


def _lit_list(values) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def window(con, schema: str, period: str) -> list[str]:
    rows = con.execute(f"""
        SELECT period FROM (SELECT period FROM {schema}.runs WHERE status = 'completed' AND period <= ?
                            UNION SELECT ?)
        ORDER BY period DESC LIMIT {WINDOW}""", [period, period]).fetchall()
    return sorted(r[0] for r in rows)


def rule_feedback(con, schema: str, period: str) -> dict:
    periods = window(con, schema, period)
    cur = "issues_current" if _exists(con, "issues_current") else None
    rule_of = f"""SELECT issue_id, any_value(rule_id) AS rule_id, any_value(rule_name) AS rule_name
                  FROM (SELECT issue_id, rule_id, rule_name FROM {schema}.issue_history
                        {"UNION ALL SELECT issue_id, rule_id, rule_name FROM " + cur if cur else ""})
                  GROUP BY issue_id"""
    rows = con.execute(f"""
        WITH latest AS (
            SELECT f.period, f.issue_id, coalesce(f.township, '') AS township, f.answer
            FROM {schema}.feedback f
            WHERE f.period IN (SELECT unnest(?::VARCHAR[]))
            QUALIFY row_number() OVER (PARTITION BY f.issue_id, f.period
                                       ORDER BY coalesce(f.answered_at, f.imported_at) DESC, f.imported_at DESC,
                                                f.sheet_row DESC NULLS LAST) = 1
        ), a AS (
            SELECT l.*, r.rule_id, r.rule_name FROM latest l JOIN ({rule_of}) r USING (issue_id)
        )
        SELECT rule_id, any_value(rule_name), township, GROUPING(township) AS county_row,
               count(*) FILTER (WHERE answer <> '{ANSWER_UNKNOWN}') AS answers,
               count(*) FILTER (WHERE answer IN {_lit_list(ANSWER_TRUE)}) AS n_true,
               count(*) FILTER (WHERE answer = '{ANSWER_FALSE}') AS n_false,
               count(*) FILTER (WHERE answer = '{ANSWER_UNKNOWN}') AS n_unknown
        FROM a
        GROUP BY GROUPING SETS ((rule_id), (rule_id, township))
        ORDER BY rule_id, county_row DESC, township""", [periods]).fetchall()

    def figures(answers, n_true, n_false, n_unknown) -> dict:
        judged = n_true + n_false
        return {"answers": answers, "true": n_true, "false": n_false, "unverifiable": n_unknown,
                "share_true": round(n_true / answers, 4) if answers else None,
                "share_false": round(n_false / answers, 4) if answers else None,
                "precision": round(n_true / judged, 4) if judged else None, "precision_count": judged}

    rules: dict[str, dict] = {}
    for rule_id, name, township, county_row, answers, n_true, n_false, n_unknown in rows:
        f = figures(answers, n_true, n_false, n_unknown)
        if county_row:
            rules[rule_id] = {"rule_id": rule_id, "rule_name": name, **f,
                              "flagged": answers >= MIN_ANSWERS and f["precision"] is not None
                              and f["precision"] < MAX_PRECISION,
                              "townships": []}
        else:
            rules[rule_id]["townships"].append({"township": township, **f})
    return {"periods": periods, "min_answers": MIN_ANSWERS, "precision_below": MAX_PRECISION,
            "left_out": ANSWER_UNKNOWN, "rules": list(rules.values()),
            "flagged": [r["rule_id"] for r in rules.values() if r["flagged"]]}


def draw_sample(con, schema: str, period: str) -> list[dict]:
    """The waiver audit sample of this period (issues_current with status waived), with the
    answer that waived each issue."""
    answers = "_answers" if _exists(con, "_answers") else None
    join = (f"LEFT JOIN (SELECT issue_id, answer, note, who, answered_on, period AS answer_period, imported_at "
            f"FROM {answers}) a USING (issue_id)") if answers else ""
    cols = ("a.note AS answer_note, a.who AS answer_who, a.answered_on, a.answer_period, a.imported_at AS answered_at"
            if answers else "NULL AS answer_note, NULL AS answer_who, NULL AS answered_on, NULL AS answer_period, "
                            "NULL AS answered_at")
    cur = con.execute(f"""
        WITH w AS (
            SELECT i.*, sha256(? || i.issue_id) AS h,
                   count(*) OVER (PARTITION BY coalesce(i.township, '')) AS w
            FROM issues_current i WHERE i.status = 'waived'
        ), s AS (
            SELECT * FROM w
            QUALIFY row_number() OVER (PARTITION BY coalesce(township, '') ORDER BY h, issue_id)
                    <= least(w, greatest({SAMPLE_MIN}, CAST(ceil({SAMPLE_SHARE} * w) AS BIGINT)))
        )
        SELECT s.issue_id, s.township, s.village, s.household_id, s.head_name, s.person_name, s.id_number,
               s.rule_id, s.rule_name, s.severity, s.message, s.evidence, s.w AS township_waived, s.h, {cols}
        FROM s {join}
        ORDER BY s.township, s.village, s.household_id, s.rule_id, s.issue_id""", [period])
    return dicts(cur)


def sample_manifest(sample: list[dict], workbook_id: str | None) -> dict:
    towns: dict[str, dict] = {}
    for r in sample:
        t = towns.setdefault(r["township"] or "", {"township": r["township"] or "", "waived": r["township_waived"],
                                                   "sampled": 0})
        t["sampled"] += 1
    return {"workbook_id": workbook_id, "file": "抽查复核.xlsx", "townships": list(towns.values()),
            "issues": [{k: r[k] for k in ("issue_id", "township", "village", "household_id", "rule_id", "rule_name")}
                       for r in sample]}


def returns(con, schema: str, period: str, prev: str | None, now: dt.datetime, deadline_days: int) -> dict:
    """回收与核实: the previous period's village workbooks — per village issued, answered (issues of
    the workbook with an answer for that period), returned (first returned workbook), overdue
    (nothing answered `deadline_days` after that run finished)."""
    out = {"period": prev, "deadline_days": deadline_days, "villages": [], "townships": [], "overdue": []}
    if not prev:
        return out
    row = con.execute(f"SELECT max(finished_at) FROM {schema}.runs WHERE period = ? AND status = 'completed'",
                      [prev]).fetchone()
    finished = _parse(row[0] if row else None)
    due = (finished + dt.timedelta(days=deadline_days)) if finished else None
    out["due"] = due.isoformat(timespec="seconds") if due else None
    rows = con.execute(f"""
        WITH wb AS (   -- each village's latest workbook of the period (a re-run writes new ones)
            SELECT workbook_id, township, village FROM {schema}.workbook_issues WHERE period = ?
            QUALIFY row_number() OVER (PARTITION BY township, village ORDER BY created_at DESC, workbook_id) = 1
        ), issued AS (
            SELECT DISTINCT w.township, w.village, i.issue_id
            FROM wb w JOIN {schema}.workbook_issues i USING (workbook_id)
        ), ans AS (
            SELECT issue_id, township, village, min(imported_at) FILTER (WHERE how = 'workbook') AS returned_at,
                   max(coalesce(answered_at, imported_at)) AS last_at
            FROM {schema}.feedback WHERE period = ? GROUP BY ALL
        )
        SELECT i.township, i.village, count(*) AS issued, count(a.issue_id) AS answered,
               min(a.returned_at) AS returned_at, max(a.last_at) AS last_answer_at
        FROM issued i LEFT JOIN ans a ON a.issue_id = i.issue_id AND a.township IS NOT DISTINCT FROM i.township
                                      AND a.village IS NOT DISTINCT FROM i.village
        GROUP BY ALL ORDER BY i.township, i.village""", [prev, prev]).fetchall()
    towns: dict[str, dict] = {}
    for township, village, issued, answered, returned_at, last_at in rows:
        overdue = bool(answered == 0 and due is not None and now >= due)
        v = {"township": township, "village": village, "issued": issued, "answered": answered,
             "unanswered": issued - answered, "returned_at": returned_at, "last_answer_at": last_at,
             "overdue": overdue}
        out["villages"].append(v)
        if overdue:
            out["overdue"].append({"township": township, "village": village})
        t = towns.setdefault(township, {"township": township, "villages": 0, "returned": 0, "answered_villages": 0,
                                        "issued": 0, "answered": 0, "overdue": 0})
        t["villages"] += 1
        t["returned"] += 1 if returned_at else 0
        t["answered_villages"] += 1 if answered else 0
        t["issued"] += issued
        t["answered"] += answered
        t["overdue"] += 1 if overdue else 0
    out["townships"] = list(towns.values())
    return out


def persist_audit(con, schema: str) -> None:
    """Append the temp table audit_workbooks (pipeline.outputs.audit_book) to the store."""
    if not _exists(con, "audit_workbooks"):
        return
    con.execute(f"""INSERT INTO {schema}.audit_workbooks
                    SELECT workbook_id, period, township, village, issue_id, created_at FROM audit_workbooks
                    WHERE workbook_id NOT IN (SELECT workbook_id FROM {schema}.audit_workbooks)""")


def _exists(con, name: str) -> bool:
    """A table of the run's own database or a temp table (not of an attached store)."""
    return con.execute("""SELECT count(*) FROM duckdb_tables() WHERE table_name = ?
                          AND database_name IN (current_database(), 'temp')""", [name]).fetchone()[0] > 0


def _parse(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        d = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if d.tzinfo is None:
        from pipeline.store.clock import local_now

        d = d.replace(tzinfo=local_now().tzinfo)
    return d


def for_run(con, schema: str, period: str, prev: str | None, params: dict) -> dict:
    """run.json `rule_feedback` and `returns` (the run calls this after history.apply)."""
    from pipeline.store.clock import local_now

    return {"rule_feedback": rule_feedback(con, schema, period),
            "returns": returns(con, schema, period, prev, local_now(), int(params.get("answer_deadline_days", 15)))}
