"""`cardcheck validate`: CI-style check of uploaded files, each on its own.

Kind recognition, header, schema (SCH-*) and the single-table rules of outputs.md,
every finding with file, sheet, the Excel row number the uploader sees, the
column header and the value. Exit code: 2 if any file is unusable, else 1 if any
`error`, else 0. No heavy imports here (no pandas, pandera or Great Expectations).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from pipeline.outputs.vocab import SEVERITY_CN, local_text, local_time, problem_text

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


def TABLE_TITLES() -> dict[str, str]:
    from pipeline.outputs.vocab import table_title
    from schemas.tables import TABLES

    return {t: table_title(t) for t in TABLES}


def default_period(today: dt.date | None = None) -> str:
    """The current month, in the county's time zone."""
    today = today or local_time().date()
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


def expand_inputs(paths) -> list[Path]:
    """The files to check: a file as given, a folder as every file inside it (at any depth),
    sorted by path. Hidden files and Office lock files (~$…) are left out; any other file is
    kept, so that a stray .txt or .zip is reported as unusable rather than skipped silently."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p))))
        else:
            out.append(p)
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in rel.parts)


HEAD_BYTES = 1 << 20        # the head of a text file read to find its header


def _head_sheets(path: Path) -> list:
    """The sheets of a file as far as a header can be found: a text file's first records only."""
    from pipeline.ingest.read import EXCEL_SUFFIXES, Sheet, _records, read_file

    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_file(path)
    import io

    with open(path, "rb") as f:
        data = f.read(HEAD_BYTES)
    cut = data.rfind(b"\n")
    if len(data) == HEAD_BYTES and cut > 0:
        data = data[:cut + 1]
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8", errors="replace")
    rows, numbers, _ = _records(io.StringIO(text, newline=""), 60)
    return [Sheet(name="", rows=rows, row_numbers=numbers)]


def missing_for_kind(path: Path, kind: str) -> dict[str | None, tuple[int | None, list[str]]]:
    """sheet → (header row, headers of the required columns of `kind` the sheet lacks): for a file
    checked with --kind that does not hold that kind of table. A file that cannot be read, or a
    sheet without any header row, lacks every required column."""
    from pipeline.ingest.read import ReadError
    from pipeline.ingest.recognise import find_header
    from schemas.headers import map_columns
    from schemas.tables import TABLES

    t = TABLES[kind]
    required = [t.col(c) for c in t.required]
    every = [c.header for c in required]
    try:
        sheets = _head_sheets(path)
    except (ReadError, OSError, ValueError):
        return {None: (None, every)}
    out: dict[str | None, tuple[int | None, list[str]]] = {}
    for sh in sheets:
        found = find_header(sh)
        if found is None:
            out[sh.name or None] = (None, every)
            continue
        idx, headers, _ = found
        cols = map_columns(t, headers)
        out[sh.name or None] = (sh.row_number(idx), [c.header for c in required if c.name not in cols])
    return out or {None: (None, every)}


SMALL_FILE_BYTES = 4 * 1024**2


def validate_file(path: Path, *, kind: str | None, period: str) -> FileResult:
    from pipeline.store.duck import connect

    from checks import engine
    from checks.catalogue import all_rules
    from checks.params import load_params, reference_date
    from pipeline.ingest.load import ingest

    res = FileResult(file=str(path))
    try:
        small = path.stat().st_size < SMALL_FILE_BYTES
    except OSError:
        small = True
    # a small file: DuckDB's second thread costs more in coordination than it gains (~0.08 s of
    # the ~1 s an uploader waits for a 10,000-row workbook)
    con = connect(config={"threads": 1}) if small else connect()
    reports = ingest(con, [path], path.parent, kind=kind)
    loaded = [r for r in reports if r.kind and r.status == "loaded"]
    problems = [r for r in reports if r.status in ("unreadable", "rejected")]
    title = TABLE_TITLES().get(kind or "", kind or "")
    by_sheet = missing_for_kind(path, kind) if kind and not loaded else None
    if problems:
        # a file, or a sheet holding a table of rows, that was not loaded makes the file unusable
        res.usable = False
        reasons = []
        for p in problems:
            missing, header_row = list(p.missing_columns), p.header_row
            if not missing and kind and p.status == "rejected":
                if by_sheet is None:
                    by_sheet = missing_for_kind(path, kind)
                found = by_sheet.get(p.sheet) or (next(iter(by_sheet.values())) if len(by_sheet) == 1 else None)
                if found:
                    header_row, missing = p.header_row or found[0], found[1]
            where = f"工作表“{p.sheet}”：" if p.sheet and len(reports) > 1 else ""
            if kind and missing:
                reasons.append(f"{where}不是{title}，缺少必需列：" + "、".join(missing))
            else:
                reasons.extend(where + problem_text(x) for x in (p.problems or ["未能读入"]))
            for m in missing:
                res.findings.append(Finding(str(path), p.sheet, header_row, m, None, "SCH-01", "缺少必需列",
                                            "error", f"缺少{title or TABLE_TITLES().get(p.kind or '', '')}"
                                                     f"的必需列“{m}”，文件未载入"))
        res.problem = "；".join(dict.fromkeys(reasons))
        if not loaded:
            p = problems[0]
            res.kind, res.sheet, res.header_row = p.kind or kind, p.sheet, p.header_row
            res.rows_read, res.rows_rejected = p.rows_read, p.rows_rejected
            con.close()
            return res
    if not loaded:
        res.usable = False
        if kind:
            sheet, (header_row, missing) = next(iter(by_sheet.items()))
            res.problem = f"不是{title}，缺少必需列：" + "、".join(missing) if missing else "没有找到表头行"
            for m in missing:
                res.findings.append(Finding(str(path), sheet, header_row, m, None, "SCH-01", "缺少必需列",
                                            "error", f"缺少{title}的必需列“{m}”，文件未载入"))
        else:
            res.problem = "没有找到任何一种已知表格的表头行（无法识别是哪种表）"
        con.close()
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
    present = engine.present_tables(con)
    rules = {r.id for r in all_rules() if r.id in VALIDATE_RULES and set(r.needs) <= present}
    engine.prepare(con, R, params, only=engine.views_for(rules) + ("v_hh",))     # finish() reads v_hh
    results = engine.evaluate(con, R, params, only=rules)
    res.rules = sorted(r.rule_id for r in results if r.status == "evaluated")
    engine.finish(con, period, params)

    # rejected rows are errors
    for file, sheet, row, reason, raw in con.execute(
            'SELECT file, sheet, "row", reason, raw FROM rejected_rows ORDER BY "row"').fetchall():
        res.findings.append(Finding(str(path), sheet or None, row, None, None, "REJECTED", "行未载入",
                                    "error", f"第{row}行未载入：{problem_text(reason)}"))
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


TEXT_LIMIT = 50        # findings printed per rule and file by --format text


def render_text(results: list[FileResult], period: str, ref: dt.date, *, limit: int = TEXT_LIMIT) -> str:
    """The report for people, in plain Chinese: per file what was recognised, then its findings
    (at most `limit` per rule, the rest counted), then the totals."""
    lines = [f"基准日：{ref.isoformat()}（期别 {period}）；检查时间：{local_text()}"]
    for r in results:
        name = Path(r.file).name or r.file
        if not r.usable:
            lines.append(f"文件 {r.file}：无法使用——{r.problem or '原因不明'}")
        else:
            kind = TABLE_TITLES().get(r.kind or "", r.kind or "未识别")
            sheet = f"工作表“{r.sheet}”，" if r.sheet else ""
            by_sev = Counter(f.severity for f in r.findings)
            sev = "，".join(f"{SEVERITY_CN[k]} {by_sev[k]:,} 条" for k in ("error", "suspect", "notice") if by_sev[k])
            lines.append(f"文件 {r.file}：{kind}（{sheet}表头在第{r.header_row}行）；读取 {r.rows_read:,} 行，"
                         f"载入 {r.rows_loaded:,} 行，拒收 {r.rows_rejected:,} 行；"
                         f"发现问题 {len(r.findings):,} 条" + (f"（{sev}）" if sev else ""))
        shown: Counter = Counter()
        over: Counter = Counter()
        names: dict[str, str] = {}
        for f in r.findings:
            names.setdefault(f.rule_id, f.rule_name)
            if shown[f.rule_id] >= limit:
                over[f.rule_id] += 1
                continue
            shown[f.rule_id] += 1
            lines.append("  " + _finding_line(f))
        for rule_id, n in over.items():
            lines.append(f"  ……另有 {n:,} 条（{rule_id} {names[rule_id]}，{name}）")
    counts = Counter(f.severity for r in results for f in r.findings)
    unusable = sum(1 for r in results if not r.usable)
    lines.append(f"共 {len(results)} 个文件" + (f"（{unusable} 个无法使用）" if unusable else "") + "；"
                 + "，".join(f"{SEVERITY_CN[k]} {counts[k]:,} 条" for k in ("error", "suspect", "notice"))
                 + f"；退出码 {exit_code(results)}")
    return "\n".join(lines)


def _finding_line(f: Finding) -> str:
    where = f"工作表“{f.sheet}”" if f.sheet else ""
    row = f"第{f.row}行" if f.row is not None else "（行号不详）"
    col = f"“{f.column}”列" if f.column else ""
    val = f"（填写的值：{f.value}）" if f.value not in (None, "") else ""
    sev = SEVERITY_CN.get(f.severity, f.severity)
    if f.rule_id == "SCH-01":             # the column is missing: the place is the header row
        row = f"表头（第{f.row}行）" if f.row is not None else "表头"
        return f"{where}{row}：{sev} {f.rule_id} {f.rule_name}——{f.message}"
    return f"{where}{row}{col}{val}：{sev} {f.rule_id} {f.rule_name}——{f.message}"


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
                   f'timestamp={quoteattr(local_time().replace(tzinfo=None).isoformat(timespec="seconds"))} '
                   f'hostname="cardcheck">')
        out.append(f'  <properties><property name="reference_date" value="{ref.isoformat()}"/></properties>')
        out.extend(body)
        out.append(" </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out)
