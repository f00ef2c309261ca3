"""Reconciliation statistics per agency table (rules.md "Reconciliation rates"; run.json
`reconciliation`).

Every loaded agency row falls in exactly one class, tested in this order:

  matched_exact         its ID is valid and its 18-digit form equals a member's valid ID
  matched_fuzzy         it is the XA-10 candidate of a member (v_xa_fuzzy, exactly one
                        distinct candidate ID for that member ID and name)
  unmatched_invalid_id  otherwise, when its ID is not valid (empty, wrong shape, check
                        digit or birth date)
  unmatched             otherwise

so that rows = matched_exact + matched_fuzzy + unmatched + unmatched_invalid_id.
A row is one loaded row (after exact duplicates are removed by the loader); for
civil_affairs the person ID (id_number) is the row's ID, for housing the head's ID, for
businesses the legal representative's ID.

Call after checks.engine.prepare() (it reads v_agency, v_members and v_xa_fuzzy).
"""
from __future__ import annotations

from schemas.tables import AGENCY

CLASSES = ("matched_exact", "matched_fuzzy", "unmatched", "unmatched_invalid_id")

_SQL = """
WITH mem AS (
    SELECT DISTINCT id18 FROM v_members WHERE id_valid
), fz AS (
    SELECT DISTINCT agency, _rid FROM v_xa_fuzzy WHERE n_candidates = 1
), cls AS (
    SELECT a.agency,
           CASE WHEN a.id_valid AND EXISTS (SELECT 1 FROM mem WHERE mem.id18 = a.id18)
                     THEN 'matched_exact'
                WHEN fz._rid IS NOT NULL THEN 'matched_fuzzy'
                WHEN NOT a.id_valid THEN 'unmatched_invalid_id'
                ELSE 'unmatched' END AS c
    FROM v_agency a
    LEFT JOIN fz ON fz.agency = a.agency AND fz._rid = a._rid
)
SELECT agency,
       count(*) AS rows,
       count(*) FILTER (WHERE c = 'matched_exact') AS matched_exact,
       count(*) FILTER (WHERE c = 'matched_fuzzy') AS matched_fuzzy,
       count(*) FILTER (WHERE c = 'unmatched') AS unmatched,
       count(*) FILTER (WHERE c = 'unmatched_invalid_id') AS unmatched_invalid_id
FROM cls
GROUP BY agency
"""


def reconciliation_stats(con) -> dict[str, dict]:
    """Per agency table with loaded rows (in inputs.md order): rows, matched_exact,
    matched_fuzzy, unmatched, unmatched_invalid_id (ints)."""
    cur = con.execute(_SQL)
    cols = [d[0] for d in cur.description]
    found = {r[0]: dict(zip(cols[1:], (int(v) for v in r[1:]))) for r in cur.fetchall()}
    return {t.name: found[t.name] for t in AGENCY if t.name in found and found[t.name]["rows"] > 0}
