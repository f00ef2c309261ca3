"""Townships lacking a table (issue F): a township that households rows name and no loaded members
row does (one township's members file was not loaded) — or the reverse — has every rule that needs
the missing table skipped for that township this period, so it gets no flood of "household without
members" and its history keeps its last status."""
from __future__ import annotations

from checks.catalogue import all_rules


def lacking_townships(con) -> list[dict]:
    """[{township, lacks: 'members'|'households', rules: [rule ids needing that table]}]."""
    rows = con.execute("""
        WITH h AS (SELECT DISTINCT township FROM households WHERE coalesce(township, '') <> ''),
             m AS (SELECT DISTINCT township FROM members WHERE coalesce(township, '') <> '')
        SELECT township, 'members' FROM h WHERE township NOT IN (SELECT township FROM m)
        UNION ALL
        SELECT township, 'households' FROM m WHERE township NOT IN (SELECT township FROM h)
        ORDER BY 1, 2""").fetchall()
    rules = all_rules()
    return [{"township": township, "lacks": lacks, "rules": [r.id for r in rules if lacks in r.needs]}
            for township, lacks in rows]


def drop_lacking(con, lacking: list[dict]) -> None:
    """Remove this period's issues of the rules skipped for a township lacking a table."""
    pairs = [(r, x["township"]) for x in lacking for r in x["rules"]]
    if not pairs:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _lacking (rule_id VARCHAR, township VARCHAR)")
    con.executemany("INSERT INTO _lacking VALUES (?, ?)", pairs)
    con.execute("""DELETE FROM issues_current i USING _lacking l
                   WHERE i.rule_id = l.rule_id AND i.township = l.township""")
