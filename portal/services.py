"""The portal's one door into cardcheck's use cases (validate, run, the readers, masking, names).

Every import of `pipeline`, `checks` or `schemas` by the portal is in this module and nowhere
else, so the restructuring of issue G moves one file's imports. No Django here: the check
workers (portal.checkpool) import this module in a fresh process.

    check_file(path, kind, period)  -> dict    validate_file as `cardcheck validate` runs it,
                                               plus the rows' townships / household ids (for the
                                               township check of a submission)
    run_period(settings, period, on_step) -> dict   pipeline.run.run on <raw>/<period>/
    read_layouts(path, kind)        -> sheets with their header row and header → column
    latest_run(settings)            -> (period, manifest) of the last published run
    household_areas(settings)       -> [(household_id, township, village)] of the latest run
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

from pipeline import settings as _settings
from pipeline.store.duck import dicts
from pipeline.outputs.workbooks import SEVERITY_CN, SEVERITY_FILL, mask_text, mask_token, safe_name  # noqa: F401

Settings = _settings.Settings
SettingsError = _settings.SettingsError

STATUS_CN = {"new": "新发现", "persisting": "仍存在", "reopened": "再次出现", "waived": "核实无误",
             "resolved": "已销号"}
DATA_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
_PERIOD_DIR = re.compile(r"^\d{4}-\d{2}$")


class PeriodError(ValueError):
    """Not a YYYY-MM period; str(exc) says why."""


class RunFailed(Exception):
    """The run could not complete; str(exc) is the one-line reason."""


class Busy(Exception):
    """Another cardcheck command holds the data folder's run lock; str(exc) says who."""


def resolve_settings(config: Path | None = None, data: Path | None = None) -> Settings:
    return _settings.resolve(config=config, data=data)


# ---------------------------------------------------------------------------- kinds and periods

def kinds() -> dict[str, dict]:
    """Every table kind: title, family, whether a row names its township, whether it has a
    household id (the township of a row without 乡镇 comes from the latest run's households)."""
    from schemas.tables import TABLES

    out = {}
    for name, t in TABLES.items():
        cols = set(t.names)
        out[name] = {"title": t.title, "family": t.family, "township_col": "township" in cols,
                     "household_col": "household_id" in cols}
    return out


def normalise_period(p) -> str:
    from checks.params import ParamError, normalise_period as norm

    try:
        return norm(p)
    except ParamError as exc:
        raise PeriodError(str(exc)) from None


def shift_period(period: str, months: int) -> str:
    y, m = int(period[:4]), int(period[5:7])
    n = y * 12 + (m - 1) + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def this_period(today: dt.date | None = None) -> str:
    from pipeline.store.clock import local_now

    today = today or local_now().date()
    return f"{today.year:04d}-{today.month:02d}"


def local_text(when) -> str:
    from pipeline.store.clock import local_text as lt

    return lt(when)


# ---------------------------------------------------------------------------- checking a file

def check_file(path: str | Path, kind: str | None, period: str) -> dict:
    """`cardcheck validate` on one file (the same function), as a dict, plus `facts`: how the
    file's loaded rows fall into townships. Runs in a check worker (portal.checkpool)."""
    from pipeline.validate import validate_file

    path = Path(path)
    res = validate_file(path, kind=kind, period=period)
    out = dataclasses.asdict(res)
    out["facts"] = township_facts(path, res.kind) if res.usable and res.kind else {}
    return out


def township_facts(path: Path, kind: str) -> dict:
    """The kinds in the file, and per loaded row its township (乡镇 column) or, for a file
    without one, its household id — read by the same reader as the run (pipeline.ingest.load)."""
    import duckdb

    from pipeline.ingest.load import ingest

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        reports = ingest(con, [path], path.parent, kind=kind)
        loaded = [r for r in reports if r.kind and r.status == "loaded"]
        kinds_in = sorted({r.kind for r in loaded})
        has_township = any("township" in r.columns for r in loaded if r.kind == kind)
        has_household = any("household_id" in r.columns for r in loaded if r.kind == kind)
        facts = {"kinds": kinds_in, "by": None, "counts": {}}
        if has_township:
            facts["by"] = "township"
            col = "township"
        elif has_household:
            facts["by"] = "household_id"
            col = "household_id"
        else:
            return facts
        rows = con.execute(f'SELECT coalesce(trim("{col}"), \'\'), count(*) FROM "{kind}" GROUP BY 1').fetchall()
        facts["counts"] = {k: n for k, n in rows}
        return facts
    finally:
        con.close()


def read_layouts(path: Path, kind: str | None) -> list[dict]:
    """Each sheet of a file as the reader sees it: name, rows (raw values), row numbers, and
    where its header is (1-based row, header text → 1-based column), for annotating a copy."""
    from pipeline.ingest.read import read_file
    from pipeline.ingest.recognise import recognise

    out = []
    for sh in read_file(Path(path)):
        lay = recognise(sh, kind)
        header_row, cols = None, {}
        if lay is not None and lay.kind:
            header_row = sh.row_number(lay.header_index + lay.header_rows - 1)
            for _canon, i in lay.columns.items():
                if i is not None and i < len(lay.headers):
                    cols[str(lay.headers[i])] = i + 1
        out.append({"name": sh.name, "rows": sh.rows, "row_numbers": sh.row_numbers,
                    "header_row": header_row, "columns": cols})
    return out


def cell_text(v) -> str:
    from pipeline.ingest.read import cell_text as ct

    return ct(v)


# ---------------------------------------------------------------------------- the run

def lock_holder(s: Settings) -> str | None:
    """None when nobody holds the run lock, else who does (one sentence)."""
    from pipeline.store.runlock import Busy as _Busy, RunLock

    try:
        with RunLock(s.lock, "cardcheck serve (probe)", timeout=0):
            return None
    except _Busy as exc:
        return str(exc)


@contextlib.contextmanager
def run_lock(s: Settings, what: str, timeout: float = 0.0):
    """The data folder's run lock (the same as the CLI's); raises Busy."""
    from pipeline.store.runlock import Busy as _Busy, RunLock

    try:
        lock = RunLock(s.lock, what, timeout=timeout)
        lock.__enter__()
    except _Busy as exc:
        raise Busy(str(exc)) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def drop_dir(s: Settings, period: str) -> Path:
    return s.raw / period


def drop_files(drop: Path) -> list[Path]:
    from pipeline.ingest.read import data_files

    return list(data_files(drop)) if drop.is_dir() else []


def run_period(s: Settings, period: str, on_step) -> dict:
    """The monthly run of <raw>/<period>/ with the data folder's outputs and database, exactly
    as `cardcheck run` does it. on_step(dict) gets every stage. Raises RunFailed."""
    from pipeline.run import Interrupted, RunError, run

    def step(st) -> None:
        on_step({"stage": st.stage, "label": st.label, "done": st.done, "total": st.total,
                 "item": st.item, "files": st.data if st.stage == "files" else None})

    try:
        res = run(drop_dir(s, period), period, out=s.reports, db=s.database, on_step=step, data_dir=s.data)
    except (RunError, Interrupted) as exc:
        raise RunFailed(str(exc)) from None
    t = res.manifest.get("totals", {})
    return {"out_dir": str(res.out_dir), "issues": res.issues, "exit_code": res.exit_code,
            "not_loaded": res.not_loaded, "totals": t, "run_id": res.manifest.get("run_id")}


# ---------------------------------------------------------------------------- published outputs

def latest_run(s: Settings) -> tuple[str, dict] | None:
    """The last completed run's period and manifest (run.json of the latest period folder)."""
    if not s.reports.is_dir():
        return None
    for p in sorted((p for p in s.reports.iterdir() if p.is_dir() and _PERIOD_DIR.match(p.name)),
                    key=lambda p: p.name, reverse=True):
        f = p / "run.json"
        if f.is_file():
            try:
                return p.name, json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
    return None


def summary_path(s: Settings, period: str) -> Path | None:
    p = s.reports / period / "summary.html"
    return p if p.is_file() else None


def household_areas(s: Settings) -> list[tuple[str, str, str]] | None:
    """(household_id, township, village) of every household of the latest period in the
    database, or None when the database is busy (a run holds it) or absent. Opens DuckDB
    read-only, briefly, under the run lock."""
    from pipeline.store.duck import connect

    if not s.database.is_file():
        return []
    try:
        with run_lock(s, "cardcheck serve: reading the household list"):
            con = connect(s.database, read_only=True)
            try:
                if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'households'"
                                   ).fetchone()[0]:
                    return []
                rows = con.execute("""SELECT DISTINCT household_id, coalesce(trim(township), ''),
                                             coalesce(trim(village), '')
                                      FROM households WHERE household_id IS NOT NULL""").fetchall()
            finally:
                con.close()
    except Busy:
        return None
    return rows


# ---------------------------------------------------------------------------- issue I: answers and history

from pipeline.outputs.vocab import (ANSWERS, AUDIT_RESULTS, FLAG_AUDIT_OVERTURNED, FLAG_NOT_FIXED, HOW_CN,  # noqa: E402,F401
                                    severity_text, status_text)

AUDIT_FILE = "抽查复核.xlsx"


def snapshot(s: Settings, period: str) -> dict | None:
    """What the portal copies after a run is published: households, the period's issues in the
    order of issues.csv with the village workbook that listed each, and each village's latest
    workbook of the period. None when a run holds the database. DuckDB read-only, briefly."""
    from pipeline.store.duck import connect

    if not s.database.is_file():
        return {"households": [], "issues": [], "workbooks": [], "parts": []}
    try:
        with run_lock(s, "cardcheck serve: copying the latest run"):
            con = connect(s.database, read_only=True)
            try:
                tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
                homes = []
                if "households" in tables:
                    homes = con.execute("""SELECT DISTINCT household_id, coalesce(trim(township), ''),
                                                  coalesce(trim(village), '')
                                           FROM households WHERE household_id IS NOT NULL""").fetchall()
                issues, books = [], []
                if {"issue_history", "workbook_issues"} <= tables:
                    books = con.execute("""
                        WITH wb AS (
                            SELECT workbook_id, township, village, any_value(file) AS file, count(*) AS issued,
                                   max(created_at) AS created_at
                            FROM workbook_issues WHERE period = ? GROUP BY ALL
                        )
                        SELECT workbook_id, coalesce(township, ''), coalesce(village, ''), file, issued FROM wb
                        QUALIFY row_number() OVER (PARTITION BY township, village
                                                   ORDER BY created_at DESC, workbook_id) = 1""",
                                        [period]).fetchall()
                    cur = con.execute("""
                        WITH wb AS (
                            SELECT w.issue_id, w.workbook_id FROM workbook_issues w
                            WHERE w.period = ? AND w.workbook_id IN (SELECT unnest(?::VARCHAR[]))
                        )
                        SELECT h.issue_id, h.rule_id, h.rule_name, h.severity, h.status, h.flag, h.first_seen,
                               h.township, h.village, h.household_id, h.head_name, h.person_name, h.id_number,
                               h.message, h.responsible_unit, wb.workbook_id
                        FROM issue_history h LEFT JOIN wb USING (issue_id)
                        WHERE h.period = ?
                        ORDER BY h.township, h.village, h.household_id, h.rule_id, h.issue_id""",
                                      [period, [b[0] for b in books], period])
                    issues = dicts(cur)
                parts = household_parts(con)
            finally:
                con.close()
    except Busy:
        return None
    return {"households": homes, "issues": issues, "workbooks": books, "parts": parts}


def household_parts(con) -> list[tuple[str, str, int, dict]]:
    """Every household's record (the queries of `cardcheck history`), as (household_id, kind,
    seq, row) for the portal's 户档案."""
    from pipeline.cycle.household import kind_title, queries

    kinds = {"members": "member", "household": "household", "files": "file", "issues": "issue"}
    out = []
    for name, sql in queries(con).items():
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        seq: dict[str, int] = {}
        for r in cur.fetchall():
            row = dict(zip(cols, r))
            hid = str(row.pop("household_id") or "")
            if not hid:
                continue
            if name == "files":
                row["kind_title"] = kind_title(row["kind"])
            n = seq[hid] = seq.get(hid, 0) + 1
            out.append((hid, kinds[name], n, {k: (v if v is None or isinstance(v, (int, float, str)) else str(v))
                                              for k, v in row.items()}))
    return out


def workbook_id_of(path: Path) -> str:
    """The workbook id a returned workbook carries (the guarded reader; no database). Raises
    ValueError with the plain reason when the file cannot be used."""
    from pipeline.cycle.feedback import Unusable, read_workbook

    try:
        return read_workbook(Path(path)).workbook_id
    except Unusable as exc:
        raise ValueError(str(exc)) from None


def record_pending(s: Settings, jobs: list[dict], marks: dict, timeout: float = 0.0) -> dict:
    """Write the portal's pending answers, returned workbooks and spot-check results into the
    store with the code of `cardcheck feedback` (pipeline.cycle.feedback), in job order, in one
    transaction, under the run lock; then read back what the store holds past `marks`
    (feedback.imported_at, waiver_audits.recorded_at): answers recorded by anyone.

    jobs: {"id", "type": answer|return|audit, ...}. Raises Busy (everything stays pending)."""
    from pipeline.cycle import feedback as F
    from pipeline.cycle import history
    from pipeline.store.duck import connect

    if not s.database.is_file():
        raise Busy("还没有完成过月度运行")
    out = {"results": {}, "feedback": [], "audits": []}
    with run_lock(s, "cardcheck serve: recording answers", timeout=timeout):
        con = connect(s.database)
        try:
            history.ensure(con, "main")
            last = con.execute("SELECT max(imported_at) FROM feedback").fetchone()[0]
            last_audit = con.execute("SELECT max(recorded_at) FROM waiver_audits").fetchone()[0]
            con.execute("BEGIN TRANSACTION")
            try:
                for job in jobs:
                    res = F.FeedbackResult()
                    kind = job["type"]
                    if kind == "answer":
                        at = last = F._now_utc(last)
                        reg = F.registered(con, job["workbook_id"])
                        if reg is None or ((reg.township or "").strip(), (reg.village or "").strip()) != \
                                (job["township"], job["village"]):
                            res.refused.append(F.Row("网页填报", 0, job["issue_id"], job["answer"], F.OTHER_VILLAGE))
                        else:
                            F.record(con, reg, [F.Incoming(job["issue_id"], job["answer"], job.get("note"),
                                                           job.get("who"), job.get("answered_on"), None,
                                                           job["answer_id"], job.get("answered_at"))],
                                     res, at, how="browser", file="网页填报", account=job.get("account"))
                    elif kind == "audit":
                        at = last_audit = F._now_utc(last_audit)
                        reg = F.audit_registered(con, job["workbook_id"])
                        if reg is None:
                            res.refused.append(F.Row("网页填报", 0, job["issue_id"], job["result"], F.NOT_SAMPLED))
                        else:
                            F.record_audit(con, reg, [F.AuditIncoming(job["issue_id"], job["result"], job.get("note"),
                                                                      job.get("who"), None, job["answer_id"])],
                                           res, at, how="browser", file="网页填报", account=job.get("account"))
                    else:       # a returned workbook
                        at = last = F._now_utc(last)
                        try:
                            what = F.import_file(con, Path(job["path"]), res, at, area=job.get("area"),
                                                 key=job["key"], account=job.get("account"), name=job["name"],
                                                 audits=job.get("audits", False))
                            if what == "audit":
                                last_audit = max(last_audit or "", at)
                        except F.Unusable as exc:
                            res.problems.append((job["name"], str(exc)))
                    out["results"][job["id"]] = {"accepted": len(res.accepted), "refused": len(res.refused),
                                                 "ignored": res.ignored,
                                                 "problem": res.problems[0][1] if res.problems else "",
                                                 "lines": res.report_lines()}
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            cur = con.execute("""
                SELECT coalesce(answer_id, md5(concat_ws('|', imported_at, file, sheet_row, issue_id))) AS answer_id,
                       issue_id, period, township, village, workbook_id, answer, note, who, answered_on, how,
                       account, coalesce(answered_at, imported_at) AS made_at, file, imported_at
                FROM feedback WHERE imported_at > ? ORDER BY imported_at""", [marks.get("feedback") or ""])
            out["feedback"] = dicts(cur)
            cur = con.execute("""
                SELECT coalesce(answer_id, md5(concat_ws('|', recorded_at, file, sheet_row, issue_id))) AS answer_id,
                       issue_id, period, workbook_id, result, note, who, how, recorded_at
                FROM waiver_audits WHERE recorded_at > ? ORDER BY recorded_at""", [marks.get("audits") or ""])
            out["audits"] = dicts(cur)
        finally:
            con.close()
    return out


def period_dir(s: Settings, period: str) -> Path:
    return s.reports / period


def run_manifest(s: Settings, period: str) -> dict | None:
    f = s.reports / period / "run.json"
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
