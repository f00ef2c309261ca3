"""One household's record across periods (`cardcheck history HOUSEHOLD_ID`, the portal's 户档案).

    household_record(con, household_id) -> dict | None

From the store (a DuckDB connection to the database, read-only is enough): the household's
members and the files its rows came from (the canonical tables of the latest period, with
file, sheet and Excel row), every issue of every period with its status and flag, every answer
given (who, when, how) and the county's spot-check results. None when the household appears
nowhere. Set-based queries only.

    history_lines(record, mask) -> list[str]     the plain-Chinese text the CLI prints
"""
from __future__ import annotations

from pipeline.outputs.vocab import AUDIT_RESULTS, HOW_CN, local_text, severity_text, status_text
from pipeline.store.duck import dicts


def _catalog(con) -> dict[str, set[str]]:
    """Every table of the main schema with its columns (one catalog query)."""
    out: dict[str, set[str]] = {}
    for t, c in con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                            "AND database_name = current_database()").fetchall():
        out.setdefault(t, set()).add(c)
    return out


def queries(con) -> dict[str, str]:
    """The set-based queries of the household record, over every household (each has a
    household_id column): members, head (households row), files, issues. The CLI filters them to
    one household; the portal copies them whole after a run (its 户档案 then reads no DuckDB)."""
    from schemas.tables import TABLES

    cat = _catalog(con)
    out: dict[str, str] = {}
    if "members" in cat:
        cols = cat["members"]
        want = [c for c in ("person_no", "name", "id_number", "relation", "gender") if c in cols]
        out["members"] = (f"SELECT household_id, {', '.join(want)} FROM members "
                          f"ORDER BY household_id, {'person_no, ' if 'person_no' in cols else ''}name")
    if "households" in cat:
        cols = cat["households"]
        want = [c for c in ("township", "village", "head_name", "status", "monitor_type") if c in cols]
        out["household"] = (f"SELECT household_id, {', '.join(want)} FROM households "
                            f"QUALIFY row_number() OVER (PARTITION BY household_id) = 1")
    parts = [f"""SELECT household_id, '{name}' AS kind, "_file" AS file, "_sheet" AS sheet,
                        min("_row") AS first_row, count(*) AS rows FROM "{name}" GROUP BY ALL"""
             for name, t in TABLES.items()
             if "household_id" in t.names and name in cat and {"_file", "_sheet", "_row"} <= cat[name]]
    if parts:
        out["files"] = " UNION ALL ".join(parts) + " ORDER BY household_id, kind, file, sheet"
    if "issue_history" in cat:
        out["issues"] = """SELECT household_id, period, issue_id, rule_id, rule_name, severity, status, flag,
                                  first_seen, person_name, id_number, message, township, village
                           FROM issue_history WHERE household_id IS NOT NULL
                           ORDER BY household_id, period, rule_id, issue_id"""
    return out


def kind_title(kind: str) -> str:
    from schemas.tables import TABLES

    return TABLES[kind].title if kind in TABLES else kind


def household_record(con, household_id: str) -> dict | None:
    hid = (household_id or "").strip()
    cat = _catalog(con)
    q = queries(con)
    out: dict = {"household_id": hid, "members": [], "household": None, "files": [], "issues": [],
                 "answers": [], "audits": [], "periods": []}

    def one(name: str) -> list[dict]:
        if name not in q:
            return []
        return dicts(con.execute(f"SELECT * EXCLUDE (household_id) FROM ({q[name]}) WHERE household_id = ?", [hid]))

    out["members"] = one("members")
    rows = one("household")
    out["household"] = rows[0] if rows else None
    out["files"] = one("files")
    for f in out["files"]:
        f["kind_title"] = kind_title(f["kind"])
    out["issues"] = one("issues")
    _has = lambda t: t in cat                  # noqa: E731
    ids = sorted({i["issue_id"] for i in out["issues"]})
    if ids and _has("feedback"):
        out["answers"] = dicts(con.execute("""
            SELECT issue_id, period, answer, note, who, answered_on, how, account, file, sheet_row,
                   coalesce(answered_at, imported_at) AS at, imported_at
            FROM feedback WHERE issue_id IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY imported_at, sheet_row""", [ids]))
    if ids and _has("waiver_audits"):
        out["audits"] = dicts(con.execute("""
            SELECT issue_id, period, result, note, who, how, recorded_at FROM waiver_audits
            WHERE issue_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY recorded_at""", [ids]))
    out["periods"] = sorted({i["period"] for i in out["issues"]})
    if not (out["members"] or out["household"] or out["issues"]):
        return None
    return out


def history_lines(rec: dict, mask=lambda s: s) -> list[str]:
    """The household's history as the console prints it (plain Chinese); `mask` applies to
    every ID-like value."""
    m = lambda v: mask("" if v is None else str(v))          # noqa: E731
    hh = rec.get("household") or {}
    head = [f"户编号 {m(rec['household_id'])}"]
    if hh:
        head.append(f"{hh.get('township') or ''}{hh.get('village') or ''} 户主 {m(hh.get('head_name'))}")
    lines = ["  ".join(head)]
    if rec["members"]:
        lines.append("家庭成员（最近一期）：")
        for p in rec["members"]:
            lines.append(f"  {m(p.get('name'))}  {m(p.get('relation'))}  {m(p.get('id_number'))}")
    if rec["files"]:
        lines.append("数据来源（最近一期）：")
        for f in rec["files"]:
            lines.append(f"  {f['kind_title']}：{f['file']} 工作表 {f['sheet']} 第{f['first_row']}行起 {f['rows']} 行")
    answers: dict[str, list[dict]] = {}
    for a in rec["answers"]:
        answers.setdefault(a["issue_id"], []).append(a)
    audits: dict[str, list[dict]] = {}
    for a in rec["audits"]:
        audits.setdefault(a["issue_id"], []).append(a)
    if not rec["issues"]:
        lines.append("各期均无问题。")
    for period in rec["periods"]:
        rows = [i for i in rec["issues"] if i["period"] == period]
        lines.append(f"{period}：{len(rows)} 个问题")
        for i in rows:
            who = f"{m(i.get('person_name'))} " if i.get("person_name") else ""
            if i.get("id_number"):
                who = f"{who.strip()}（{m(i['id_number'])}） "
            lines.append(f"  [{status_text(i['status'], i.get('flag'))}] [{severity_text(i['severity'])}] "
                         f"{i['rule_id']} {i.get('rule_name') or ''}：{who}{m(i.get('message'))}（问题编号 {i['issue_id']}）")
            for a in answers.get(i["issue_id"], []):
                if a["period"] != period:
                    continue
                by = a.get("who") or a.get("account") or ""
                note = f"，{m(a['note'])}" if a.get("note") else ""
                lines.append(f"      答复：{a['answer']}{note}（{HOW_CN.get(a.get('how') or '', a.get('how') or '')}，"
                             f"{m(by)}，{local_text(a['at'])}）")
            for a in audits.get(i["issue_id"], []):
                if a["period"] != period:
                    continue
                lines.append(f"      抽查复核：{AUDIT_RESULTS.get(a['result'], a['result'])}"
                             f"{'，' + m(a['note']) if a.get('note') else ''}（{m(a.get('who'))}，{local_text(a['recorded_at'])}）")
    return lines
