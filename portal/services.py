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
