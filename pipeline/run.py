"""The monthly run: read → normalise → load → check → reconcile → report, atomically.

    run(drop, period, out=..., db=..., ...) -> RunResult        (raises RunError, Interrupted)

All work happens in an in-memory DuckDB; only a completed run touches the outputs (written to a
temporary folder, then swapped in) and the database file (one transaction). A failed run leaves
the previous outputs and database state intact. The database commit and the swap are tied by a
journal (pipeline.store.runlock), so a run killed between them is finished or rolled back by the next
command. One run at a time per data folder (the run lock). The run never prints: it reports its
steps through `on_step` (pipeline.progress).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from checks import engine
from checks.params import ParamError, load_params, normalise_period, reference_date
from pipeline.check.cache import RuleCache, stage_key
from pipeline.check.coverage import drop_lacking, lacking_townships
from pipeline.cycle import evidence, history
from pipeline.ingest.load import ingest
from pipeline.ingest.read import data_files
from pipeline.outputs import audit_book, report, workbooks
from pipeline.outputs.sidecar import Sidecar, export_contract
from pipeline.progress import OnStep, quiet, step
from pipeline.reconcile.stats import reconciliation_stats
from pipeline.store import runlock
from pipeline.store.clock import local_now
from pipeline.store.duck import NotADatabase, check_database_file, connect
from schemas.sql import lit
from schemas.tables import TABLES

TOOL_VERSION = "0.2.0"
NOT_LOADED = ("rejected", "unreadable")


class RunError(Exception):
    """The run cannot proceed; str(exc) is the one-line reason (exit code 2). `files` holds the
    file reports when the files were read (so the face can show which were not loaded)."""

    def __init__(self, msg: str, files: list[dict] | None = None):
        super().__init__(msg)
        self.files = files or []


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: str(exc) says what was kept, true for the step the run was in."""

    def __init__(self, msg: str, signal_name: str = "SIGINT"):
        super().__init__(msg)
        self.signal_name = signal_name


class StageClock:
    """Wall time per stage of a run (seconds, in order), for the console and run.json `timings`."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.seconds: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = self._now()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._last, 3)
        self._last = now


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict
    issues: int
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def not_loaded(self) -> list[dict]:
        return self.manifest.get("not_loaded", [])

    @property
    def exit_code(self) -> int:
        """0 every file loaded; 1 the run completed but a file or table sheet was not loaded."""
        return 1 if self.not_loaded else 0


# DuckDB's memory cap for a run (CARDCHECK_MEMORY_LIMIT); beyond it DuckDB spills to a temporary
# folder. With the reader workers, the sidecar and the workbook writers beside it, a province run
# (1,000,000 households) stays under 4 GiB summed over its processes (make bench-province).
MEMORY_LIMIT = "3GB"

def _now() -> str:
    return local_now().isoformat(timespec="seconds")


def village_stats(con, rate_limit: float) -> list[dict]:
    rows = con.execute("""
        WITH hh AS (
            SELECT DISTINCT h.household_id, v.township, v.village
            FROM households h JOIN v_hh v USING (household_id)
        ), bad AS (
            SELECT DISTINCT household_id FROM issues_current
            WHERE severity IN ('error', 'suspect') AND status <> 'waived' AND household_id IS NOT NULL
        )
        SELECT township, village, count(*) AS households,
               count(*) FILTER (WHERE household_id IN (SELECT household_id FROM bad)) AS with_issues
        FROM hh GROUP BY township, village ORDER BY township, village""").fetchall()
    out = []
    for township, village, n, bad in rows:
        rate = bad / n if n else 0.0
        out.append({"township": township, "village": village, "households": n,
                    "households_with_issues": bad, "suspect_rate": round(rate, 4),
                    "flagged": rate > rate_limit})
    return out


def totals(con) -> dict:
    sev = dict(con.execute("SELECT severity, count(*) FROM issues_current GROUP BY ALL").fetchall())
    st = dict(con.execute("SELECT status, count(*) FROM issues_current GROUP BY ALL").fetchall())
    resolved = con.execute("SELECT count(*) FROM issues_resolved").fetchone()[0]
    total = con.execute("SELECT count(*) FROM issues_current").fetchone()[0]
    return {"issues": total,
            "by_severity": {k: sev.get(k, 0) for k in ("error", "suspect", "notice")},
            "by_status": {k: st.get(k, 0) for k in ("new", "persisting", "reopened", "waived")},
            "resolved": resolved}


# ---------------------------------------------------------------------------- checks before any work

def check_locations(out: Path, db: Path) -> None:
    """Refuse unusable output and database locations before reading anything."""
    out, db = Path(out), Path(db)
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a folder: give a folder for the outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".cardcheck-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write the outputs to {out}: {exc.strerror or exc}") from None
    try:
        check_database_file(db)
    except NotADatabase as exc:
        raise RunError(str(exc)) from None
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the folder of the database {db.parent}: {exc.strerror or exc}") from None
    if db.exists() and not os.access(db, os.W_OK):
        raise RunError(f"the database {db} is read-only: cardcheck cannot record this run")


def _disk_message(exc: OSError, where: str) -> str:
    path = exc.filename or where
    if exc.errno == errno.ENOSPC:
        return f"the disk is full: cannot write {path}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write {path}"
    return f"cannot write {path}: {exc.strerror or exc}"


@contextlib.contextmanager
def _signals_deferred():
    """Ctrl-C/SIGTERM wait until the block is done (the commit and the swap are short and must not
    be cut between them). POSIX only; elsewhere the journal still makes the pair recoverable."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------------------- the run

def run(drop: Path, period: str, *, out: Path = Path("reports"), db: Path = Path("data/clean/cardcheck.duckdb"),
        params_file: Path | None = None, mask_ids: bool = True, on_step: OnStep | None = None,
        data_dir: Path | None = None, engine_name: str = "duckdb", spark_master: str = "local[*]") -> RunResult:
    """One monthly run. `data_dir` holds the run lock and the swap journals (default: the
    database's folder). `engine_name` "spark" runs the rule stage on Spark (`spark_master`) over the
    canonical tables written as Parquet; a drop of county folders is then read county by county."""
    on_step = on_step or quiet
    try:
        period = normalise_period(period)
        params = load_params(params_file)
        R = reference_date(period)
    except ParamError as exc:
        raise RunError(str(exc)) from None
    if engine_name not in ("duckdb", "spark"):
        raise RunError(f"--engine must be duckdb or spark, not {engine_name!r}")
    drop, out, db = Path(drop), Path(out), Path(db)
    if drop.is_file():
        raise RunError(f"{drop} is a file: run takes the folder of one month's files "
                       f"(e.g. {drop.parent}); to check a single file use `cardcheck validate`")
    if not drop.is_dir():
        raise RunError(f"drop folder not found: {drop}")
    files = list(data_files(drop))
    if not files:
        raise RunError(f"the drop folder {drop} holds no files")
    check_locations(out, db)
    data_dir = Path(data_dir) if data_dir is not None else db.parent
    state = data_dir / ".cardcheck"
    try:
        with runlock.RunLock(data_dir / "cardcheck.lock", f"cardcheck run {period}"):
            for msg in runlock.recover(state):
                on_step(step("notice", item=msg))
            runlock.remove_leftovers(out)
            return _run_locked(drop, period, R, files, params, out=out, db=db, mask_ids=mask_ids,
                               on_step=on_step, state=state,
                               cache_dir=None if os.environ.get("CARDCHECK_CACHE", "1") == "0"
                               else data_dir / "cache" / "ingest",
                               engine_name=engine_name, spark_master=spark_master)
    except runlock.Busy as exc:
        raise RunError(str(exc)) from None


def _run_locked(drop: Path, period: str, R: dt.date, files: list[Path], params: dict, *, out: Path, db: Path,
                mask_ids: bool, on_step: OnStep, state: Path, cache_dir: Path | None = None,
                engine_name: str = "duckdb", spark_master: str = "local[*]") -> RunResult:
    import duckdb

    started = _now()
    run_id = uuid.uuid4().hex
    clock = StageClock()
    phase = {"now": "reading"}
    final = out / period

    def interrupted(sig: str) -> Interrupted:
        if phase["now"] == "published":
            return Interrupted(f"interrupted after the run of {period} had completed: its outputs are in "
                               f"{final} and the database is updated", sig)
        return Interrupted("interrupted — nothing was changed: the earlier outputs and the database are as "
                           "they were", sig)

    try:
        with contextlib.ExitStack() as cleanup:
            # bounded memory: DuckDB spills to a temporary folder beyond the limit (province-sized drops);
            # the connection and the folder go whatever happens
            spill = runlock.spill_dir()
            cleanup.callback(shutil.rmtree, spill, ignore_errors=True)
            con = connect(config={"memory_limit": os.environ.get("CARDCHECK_MEMORY_LIMIT", MEMORY_LIMIT),
                                  "temp_directory": str(spill)})
            cleanup.callback(con.close)
            # the slow checks (pandera contract, Great Expectations) go to a second process that
            # imports their libraries while the files are read and the rules run (niced: it takes
            # what the readers leave, e.g. the core a single big workbook leaves idle)
            side = Sidecar.start()
            cleanup.callback(side.close)
            on_step(step("read", done=0, total=len(files)))
            counter = {"n": 0}

            def file_done(rel: str) -> None:
                counter["n"] += 1
                on_step(step("read", done=counter["n"], total=len(files), item=rel))

            cache_stats: dict = {}
            counties: list = []
            if engine_name == "spark":
                from pipeline.check import spark as spark_stage
                parquet = Path(spill) / "parquet"
                counties = spark_stage.county_drops(drop)
            if len(counties) > 1:       # a folder of county folders: each county read on its own
                reports = spark_stage.ingest_counties(
                    con, drop, counties, parquet, ingest=ingest, progress=file_done,
                    max_sheets=params["max_sheets_per_workbook"], cache_dir=cache_dir, stats=cache_stats)
            else:
                reports = ingest(con, files, drop, progress=file_done, max_sheets=params["max_sheets_per_workbook"],
                                 cache_dir=cache_dir, stats=cache_stats)
            clock.lap("read")
            file_dicts = [r.as_dict() for r in reports]
            on_step(step("files", data=file_dicts))
            present = engine.present_tables(con)
            for core in ("members", "households"):
                if core not in present:
                    raise RunError(f"no {core} rows loaded ({TABLES[core].title}): the drop needs at least one "
                                   f"readable {core} file", files=file_dicts)

            # a re-run whose files, parameters and code did not change: the rules' findings (and the
            # contract's verdict) of last time
            # (DuckDB only: a Spark run computes its own findings, which is what it is for)
            rules_cache = RuleCache(cache_dir.parent / "rules") \
                if cache_dir is not None and engine_name == "duckdb" else None
            key = stage_key(reports, params, R, period) if rules_cache is not None else None
            hit = rules_cache.get(key, con) if rules_cache is not None else None
            cache_stats["rules_from_cache"] = hit is not None
            contract = rules_cache.get_extra(key, "contract") if hit is not None else None
            if contract is not None:
                side.known("contract", contract)
            else:
                side.submit("contract", export_contract(con, Path(spill) / "sidecar"))
            clock.lap("load_contract")
            on_step(step("check"))
            if hit is not None:
                results, lacking, recon = hit
                engine.prepare(con, R, params, only=("v_hh",))        # what the outputs need
                clock.lap("check")
                clock.lap("reconcile")
            else:
                engine.prepare(con, R, params)
                if engine_name == "spark":
                    if len(counties) == 1:
                        spark_stage.export_single(con, parquet, counties[0][0])
                    try:
                        results = spark_stage.evaluate(con, R, params, parquet=parquet, master=spark_master,
                                                       scratch=Path(spill) / "spark")
                    except spark_stage.SparkUnavailable as exc:
                        raise RunError(str(exc), files=file_dicts) from None
                else:
                    results = engine.evaluate(con, R, params)
                engine.finish(con, period, params)
                lacking = lacking_townships(con)
                drop_lacking(con, lacking)
                clock.lap("check")

                on_step(step("reconcile"))
                recon = reconciliation_stats(con)
                engine.release_views(con, keep=("v_hh",))     # the outputs need v_hh only
                if rules_cache is not None:
                    rules_cache.put(key, con, results, lacking, recon)
                clock.lap("reconcile")

            try:
                con.execute(f"ATTACH {lit(str(db))} AS store")
            except duckdb.Error as exc:
                raise RunError(f"cannot open the database {db}: {str(exc).splitlines()[0]}") from None
            history.ensure(con, "store")
            skips = [(r.rule_id, "", r.reason) for r in results if r.status == "skipped"]
            skips += [(rid, x["township"], f"{x['township']} lacks {x['lacks']}")
                      for x in lacking for rid in x["rules"]]
            prev = history.apply(con, "store", period, skips)
            counts = dict(con.execute("SELECT rule_id, count(*) FROM issues_current GROUP BY ALL").fetchall())

            not_loaded = [{"file": r.path, "sheet": r.sheet, "reason": "; ".join(r.problems) or r.status}
                          for r in reports if r.status in NOT_LOADED]
            lacking_by_rule: dict[str, list[str]] = {}
            for x in lacking:
                for rid in x["rules"]:
                    lacking_by_rule.setdefault(rid, []).append(x["township"])
            manifest = {
                "period": period,
                "reference_date": R.isoformat(),
                "started_at": started,
                "finished_at": None,
                "tool": "cardcheck",
                "tool_version": TOOL_VERSION,
                "run_id": run_id,
                "previous_period": prev,
                "drop": str(drop),
                "parameters": params,
                "files": file_dicts,
                "cache": cache_stats,
                "rule_timings": engine.rule_timings(results),
                "not_loaded": not_loaded,
                "townships_lacking": lacking,
                "rules": {r.rule_id: {"status": r.status, **({"reason": r.reason} if r.reason else {}),
                                      "issues": counts.get(r.rule_id, 0) if r.status == "evaluated" else 0,
                                      **({"skipped_townships": lacking_by_rule[r.rule_id]}
                                         if r.rule_id in lacking_by_rule else {})}
                          for r in results},
                "reconciliation": recon,
                "villages": village_stats(con, params["village_suspect_rate"]),
                "totals": totals(con),
            }
            manifest.update(evidence.for_run(con, "store", period, prev, params))    # returns, rule precision
            sample = evidence.draw_sample(con, "store", period)                       # waiver audit sample
            if engine_name == "spark":
                manifest["engine"] = {"name": "spark", "master": spark_master,
                                      "county_drops": [name for name, _ in counties] if len(counties) > 1 else []}
            clock.lap("history")

            phase["now"] = "writing"
            tmp = runlock.tmp_output_dir(out, period)
            try:
                on_step(step("outputs"))
                n_issues = report.write_issues(con, tmp)
                report.write_resolved(con, tmp)
                report.write_rejected(con, tmp)
                from pipeline.outputs import expectations, summary
                prev_manifest = expectations.previous_manifest(con, prev)
                exp_key = None
                if rules_cache is not None:
                    exp_key = "expectations-" + RuleCache.subkey(
                        expectations.inputs_identity(con, manifest, prev_manifest))
                    cached = rules_cache.get_extra(key, exp_key, folder_to=tmp / expectations.DOCS_DIR) \
                        if hit is not None else None
                    if cached is not None:
                        side.known("expectations", cached)
                        cache_stats["expectations_from_cache"] = True
                if "expectations" not in side.done:
                    side.submit("expectations", expectations.export_inputs(
                        con, Path(spill) / "sidecar", tmp, manifest, prev_manifest))
                side.stop_if_unused()
                clock.lap("outputs")
                on_step(step("workbooks", done=0, total=None))
                workbooks.write_all(con, tmp, period, mask_ids=mask_ids, params=params,
                                    progress=lambda d, t: on_step(step("workbooks", done=d, total=t)))
                clock.lap("workbooks")
                manifest["waiver_audit"] = evidence.sample_manifest(sample, audit_book.write_audit(con, tmp, period,
                                                                                                  sample))
                on_step(step("expectations"))
                try:
                    manifest["expectations"] = side.result("expectations")
                except RuntimeError as exc:     # the batch checks must not sink the run
                    manifest["expectations"] = {"status": "error", "reason": str(exc), "data_docs": None,
                                                "results": [], "evaluated": 0, "failed": 0, "skipped": 0,
                                                "success": False}
                breaches = side.result("contract")
                if breaches:        # the loader broke its own contract: a defect of cardcheck, not of the input
                    raise RuntimeError("post-load contract broken: " + "; ".join(breaches))
                if rules_cache is not None and not cache_stats.get("expectations_from_cache"):
                    rules_cache.put_extra(key, "contract", breaches)
                    if manifest["expectations"].get("status") == "evaluated":
                        rules_cache.put_extra(key, exp_key, manifest["expectations"],
                                              folder_from=tmp / expectations.DOCS_DIR)
                clock.lap("expectations")
                manifest["finished_at"] = _now()
                summary.write_summary(con, tmp, manifest)
                clock.lap("summary")
                manifest["timings"] = clock.seconds      # the database save is timed after the commit
                report.write_json(tmp / "run.json", manifest)
                on_step(step("save"))
                with _signals_deferred():
                    phase["now"] = "saving"
                    journal = runlock.write_journal(state, period, run_id=run_id, db=db, tmp=tmp, final=final)
                    _commit(con, db, period, started, manifest, inputs_key=key)
                    phase["now"] = "committed"
                    clock.lap("save")
                    manifest["timings"] = clock.seconds
                    report.write_json(tmp / "run.json", manifest)     # with the save's time
                    runlock.swap_in(tmp, final)
                    journal.unlink(missing_ok=True)
                    phase["now"] = "published"
            except BaseException:
                if phase["now"] == "committed":
                    # the database has the run: keep the new outputs and the journal, so the next
                    # command finishes the swap (pipeline.store.runlock.recover)
                    raise RunError(f"the run of {period} was saved in the database, but its outputs could not "
                                   f"be moved into {final}; the next cardcheck command will finish it") from None
                if phase["now"] != "published":
                    shutil.rmtree(tmp, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        runlock.journal_path(state, period).unlink(missing_ok=True)
                raise
    except KeyboardInterrupt as exc:
        raise interrupted(getattr(exc, "signal_name", "SIGINT")) from None
    except duckdb.InterruptException:
        raise interrupted("SIGINT") from None
    except duckdb.OutOfMemoryException:
        raise RunError("not enough memory for this drop within CARDCHECK_MEMORY_LIMIT "
                       f"({os.environ.get('CARDCHECK_MEMORY_LIMIT', MEMORY_LIMIT)}); nothing was changed") from None
    except duckdb.IOException as exc:
        text = str(exc).splitlines()[0]
        if "space" in text.lower():
            raise RunError(f"the disk is full (database {db} or DuckDB's temporary folder): nothing was changed"
                           ) from None
        raise RunError(f"cannot read or write the database {db}: {text}; nothing was changed") from None
    except OSError as exc:
        raise RunError(_disk_message(exc, str(out)) + "; nothing was changed") from None
    return RunResult(final, manifest, n_issues, timings=clock.seconds)


def _commit(con, db: Path, period: str, started: str, manifest: dict, inputs_key: str | None = None) -> None:
    """The database in one transaction (rolled back on any failure). The store keeps the canonical
    tables of its latest period; `inputs_key` names what they were made from (pipeline.check.cache
    stage_key): when the store already holds the tables of the same key they are not copied again."""
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        latest = con.execute("SELECT max(period) FROM store.runs WHERE status = 'completed'").fetchone()[0]
        if latest is None or period >= latest:
            con.execute("CREATE TABLE IF NOT EXISTS store.canonical_inputs (inputs_key VARCHAR)")
            held = [k for (k,) in con.execute("SELECT inputs_key FROM store.canonical_inputs").fetchall()]
            if inputs_key is None or held != [inputs_key]:
                for t in (*TABLES, "schema_findings", "rejected_rows"):
                    con.execute(f'CREATE OR REPLACE TABLE store."{t}" AS SELECT * FROM memory.main."{t}"')
                con.execute("DELETE FROM store.canonical_inputs")
                if inputs_key is not None:
                    con.execute("INSERT INTO store.canonical_inputs VALUES (?)", [inputs_key])
        history.persist(con, "store", period, started, manifest["finished_at"], TOOL_VERSION,
                        json.dumps(manifest, ensure_ascii=False, default=str))
        workbooks.persist_registry(con, "store")        # which issue went into which workbook
        evidence.persist_audit(con, "store")            # and into the waiver audit sample
        con.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error) and "space" in str(exc).lower():
            raise RunError(f"the disk is full: cannot write the database {db}; the database is unchanged") from None
        raise
