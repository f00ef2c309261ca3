"""`cardcheck validate`: CI-style check of uploaded files, each on its own.

Kind recognition, header, schema (SCH-*) and the single-table rules of outputs.md,
every finding with file, sheet, the Excel row number the uploader sees, the
column header and the value. Exit code: 2 if any file is unusable, else 1 if any
`error`, else 0. No heavy imports here (no pandas, pandera or Great Expectations).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# outputs.md: exactly these single-table rules (plus the within-file parts of the
# household rules, which see only the uploaded file anyway)
VALIDATE_RULES = {
    "SCH-02", "SCH-03", "SCH-04",
    "ID-01", "ID-02", "ID-03", "ID-04", "ID-06", "ID-07", "HH-08",
    "LAB-01", "LAB-02", "LAB-03", "LAB-04", "LAB-05", "EDU-01", "EDU-02", "MED-01",
    "HOU-01", "HOU-02", "WAT-01", "INC-01", "INC-02", "INC-03", "INC-04",
    "PAIR-01", "PAIR-04", "PAIR-05", "PAIR-07", "PAIR-11", "PRJ-01", "PRJ-02",
    "LOAN-01", "LOAN-02", "LOAN-03", "LOAN-04",
    "ID-05", "ID-09", "HH-01", "HH-04", "HH-05", "HH-06", "HH-07",
}


@dataclass
class Finding:
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    rule_id: str
    rule_name: str
    severity: str
    message: str


@dataclass
class FileResult:
    file: str
    kind: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    usable: bool = True
    problem: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    findings: list[Finding] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)     # rules evaluated on this file


def default_period(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _locate_sql(kind: str) -> str:
    key = {
        "members": ("household_id", "id_number"),
        "households": ("household_id", None),
        "pairings": ("household_id", "helper_id_number"),
        "beneficiaries": ("household_id", None),
        "loans": ("household_id", "borrower_id_number"),
        "helpers": (None, "id_number"),
        "projects": (None, "project_id"),
    }.get(kind, (None, "id_number"))
    hh, pk = key
    return hh or "", pk or ""


def validate_file(path: Path, *, kind: str | None, period: str) -> FileResult:
    import duckdb

    from checks import engine
    from checks.catalogue import all_rules
    from checks.params import load_params, reference_date
    from pipeline.load import ingest

    res = FileResult(file=str(path))
    con = duckdb.connect()
    reports = ingest(con, [path], path.parent, kind=kind)
    loaded = [r for r in reports if r.kind and r.status == "loaded"]
    problems = [r for r in reports if r.status in ("unreadable", "rejected")]
    if not loaded:
        res.usable = False
        if problems:
            p = problems[0]
            res.problem, res.kind, res.sheet, res.header_row = "; ".join(p.problems), p.kind, p.sheet, p.header_row
            res.rows_read, res.rows_rejected = p.rows_read, p.rows_rejected
            if p.missing_columns:
                for m in p.missing_columns:
                    res.findings.append(Finding(str(path), p.sheet, p.header_row, m, None, "SCH-01", "缺少必需列",
                                                "error", f"缺少必需列「{m}」，文件未载入"))
        else:
            res.problem = "no sheet holds a table of a known kind (header not recognised)"
        return res
    rep = loaded[0]
    res.kind, res.sheet, res.header_row = rep.kind, rep.sheet, rep.header_row
    res.rows_read = sum(r.rows_read for r in loaded)
    res.rows_loaded = sum(r.rows_loaded for r in loaded)
    res.rows_rejected = sum(r.rows_rejected for r in loaded)
    headers = {}
    for r in loaded:
        headers.update(r.columns)

    params = load_params()
    R = reference_date(period)
    engine.prepare(con, R, params)
    present = engine.present_tables(con)
    rules = {r.id for r in all_rules() if r.id in VALIDATE_RULES and set(r.needs) <= present}
    results = engine.evaluate(con, R, params, only=rules)
    res.rules = sorted(r.rule_id for r in results if r.status == "evaluated")
    engine.finish(con, period, params)

    # rejected rows are errors
    for file, sheet, row, reason, raw in con.execute(
            'SELECT file, sheet, "row", reason, raw FROM rejected_rows ORDER BY "row"').fetchall():
        res.findings.append(Finding(str(path), sheet or None, row, None, None, "REJECTED", "行未载入",
                                    "error", f"第{row}行未载入：{reason}"))
    # schema findings carry their own row
    sch = con.execute("""
        SELECT f.rule_id, f._sheet, f._row, f.field, f.value, i.rule_name, i.severity, i.message
        FROM schema_findings f
        JOIN issues_current i ON i.rule_id = f.rule_id
             AND i.household_id IS NOT DISTINCT FROM f.household_id
             AND coalesce(i.field, '') = coalesce(f.field, '')
             AND coalesce(i.id_number, i.helper_id_number, i.project_id, '') =
                 coalesce(f.id_number, f.helper_id_number, f.project_id, '')
        ORDER BY f._row""").fetchall()
    for rule_id, sheet, row, fld, value, name, sev, msg in sch:
        res.findings.append(Finding(str(path), sheet or None, row, headers.get(fld, fld), value,
                                    rule_id, name, sev, msg))
    # other issues: the person's row, else the household's first row, else the key's row
    t = rep.kind
    hh_col, key_col = _locate_sql(t)
    hh = f't."{hh_col}"' if hh_col else "NULL"
    key = f't."{key_col}"' if key_col else "NULL"
    rows = con.execute(f"""
        WITH r AS (SELECT {hh} AS hh, {key} AS k, _sheet, _row FROM "{t}" t),
        hk AS (SELECT hh, k, min(_row) AS row, arg_min(_sheet, _row) AS sheet FROM r GROUP BY hh, k),
        h AS (SELECT hh, min(_row) AS row, arg_min(_sheet, _row) AS sheet FROM r GROUP BY hh),
        kk AS (SELECT k, min(_row) AS row, arg_min(_sheet, _row) AS sheet FROM r GROUP BY k),
        i AS (SELECT *, coalesce(id_number, helper_id_number, project_id) AS pk FROM issues_current
              WHERE rule_id NOT LIKE 'SCH-%')
        SELECT i.rule_id, i.rule_name, i.severity, i.field, i.value, i.message,
               coalesce(hk.sheet, h.sheet, kk.sheet) AS sheet, coalesce(hk.row, h.row, kk.row) AS row
        FROM i
        LEFT JOIN hk ON hk.hh = i.household_id AND hk.k = i.pk
        LEFT JOIN h ON h.hh = i.household_id
        LEFT JOIN kk ON kk.k = i.pk
        ORDER BY row NULLS LAST, i.rule_id""").fetchall()
    for rule_id, name, sev, fld, value, msg, sheet, row in rows:
        res.findings.append(Finding(str(path), sheet or None, row, headers.get(fld, fld) if fld else None,
                                    value, rule_id, name, sev, msg))
    res.findings.sort(key=lambda f: (f.row or 0, f.rule_id))
    con.close()
    return res


def exit_code(results: list[FileResult]) -> int:
    if any(not r.usable for r in results):
        return 2
    if any(f.severity == "error" for r in results for f in r.findings):
        return 1
    return 0


def render_text(results: list[FileResult], period: str, ref: dt.date) -> str:
    lines = [f"基准日 reference date R = {ref.isoformat()} (period {period})"]
    for r in results:
        if not r.usable:
            lines.append(f"{r.file}: UNUSABLE — {r.problem}")
        else:
            lines.append(f"{r.file}: {r.kind} (sheet {r.sheet or '-'}, header row {r.header_row}), "
                         f"rows read {r.rows_read}, loaded {r.rows_loaded}, rejected {r.rows_rejected}; "
                         f"{len(r.findings)} finding(s)")
        for f in r.findings:
            where = f"{f.sheet}!" if f.sheet else ""
            col = f" [{f.column}]" if f.column else ""
            val = f" = {f.value!r}" if f.value not in (None, "") else ""
            lines.append(f"  {where}row {f.row if f.row is not None else '-'}{col}{val}: "
                         f"{f.severity} {f.rule_id} {f.rule_name} — {f.message}")
    errors = sum(f.severity == "error" for r in results for f in r.findings)
    lines.append(f"{len(results)} file(s), {errors} error(s), exit {exit_code(results)}")
    return "\n".join(lines)


def render_json(results: list[FileResult], period: str, ref: dt.date) -> str:
    return json.dumps({"period": period, "reference_date": ref.isoformat(),
                       "exit_code": exit_code(results),
                       "files": [asdict(r) for r in results]}, ensure_ascii=False, indent=2)


def render_junit(results: list[FileResult], period: str, ref: dt.date) -> str:
    """One testsuite per file, one testcase per rule, failing when the rule has an error finding."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites name=\"cardcheck validate\">"]
    for r in results:
        by_rule: dict[str, list[Finding]] = {}
        for f in r.findings:
            by_rule.setdefault(f.rule_id, []).append(f)
        cases = sorted(set(r.rules) | set(by_rule) | ({"FILE"} if not r.usable else set()))
        failures = 0
        body = []
        for rule in cases:
            fs = by_rule.get(rule, [])
            errs = [f for f in fs if f.severity == "error"]
            body.append(f'  <testcase classname={quoteattr(r.file)} name={quoteattr(rule)}>')
            if rule == "FILE":
                failures += 1
                body.append(f"   <failure message={quoteattr(r.problem or 'unusable file')}/>")
            elif errs:
                failures += 1
                text = "\n".join(f"row {f.row} [{f.column or ''}] {f.value or ''}: {f.message}" for f in errs)
                body.append(f"   <failure message={quoteattr(f'{len(errs)} error(s)')}>{escape(text)}</failure>")
            elif fs:
                text = "\n".join(f"row {f.row} [{f.column or ''}] {f.severity}: {f.message}" for f in fs)
                body.append(f"   <system-out>{escape(text)}</system-out>")
            body.append("  </testcase>")
        out.append(f' <testsuite name={quoteattr(r.file)} tests="{len(cases)}" failures="{failures}" '
                   f'timestamp={quoteattr(dt.datetime.now().isoformat(timespec="seconds"))} '
                   f'hostname="cardcheck">')
        out.append(f'  <properties><property name="reference_date" value="{ref.isoformat()}"/></properties>')
        out.extend(body)
        out.append(" </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out)
