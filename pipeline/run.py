"""The monthly run: read → normalise → load → check → reconcile → report, atomically.

All work happens in an in-memory DuckDB; only a completed run touches the outputs
(written to a temporary folder, then swapped in) and the database file (one
transaction). A failed run leaves the previous outputs and database state intact.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from checks import engine
from checks.params import ParamError, load_params, reference_date
from pipeline import history, report, workbooks
from pipeline.load import ingest
from pipeline.reconcile import reconciliation_stats
from pipeline.read import data_files
from schemas.tables import TABLES

TOOL_VERSION = "0.1.0"


class RunError(Exception):
    """The run cannot proceed; str(exc) is the one-line reason (exit code 2)."""


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict
    issues: int
    notes: list[str] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


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


def run(drop: Path, period: str, *, out: Path = Path("reports"), db: Path = Path("data/clean/cardcheck.duckdb"),
        params_file: Path | None = None, mask_ids: bool = True, progress=None, status=None) -> RunResult:
    say = status or (lambda msg: None)
    started = _now()
    try:
        params = load_params(params_file)
        R = reference_date(period)
    except ParamError as exc:
        raise RunError(str(exc)) from None
    drop = Path(drop)
    if not drop.is_dir():
        raise RunError(f"drop folder not found: {drop}")
    files = list(data_files(drop))
    if not files:
        raise RunError(f"no .xlsx, .xls or .csv files in {drop}")

    # bounded memory: DuckDB spills to a temporary folder beyond the limit (province-sized drops);
    # the connection and the folder go whatever happens
    with contextlib.ExitStack() as cleanup:
        spill = tempfile.mkdtemp(prefix="cardcheck-spill-")
        cleanup.callback(shutil.rmtree, spill, ignore_errors=True)
        con = duckdb.connect(config={"memory_limit": os.environ.get("CARDCHECK_MEMORY_LIMIT", "4GB"),
                                     "temp_directory": spill})
        cleanup.callback(con.close)
        say(f"读取 {len(files)} 个文件 / reading {len(files)} files")
        reports = ingest(con, files, drop, progress=progress)
        from schemas.models import validate_loaded
        validate_loaded(con)   # the post-load contract (a breach is a cardcheck defect, not bad input)
        present = engine.present_tables(con)
        for core in ("members", "households"):
            if core not in present:
                raise RunError(f"no {core} rows loaded ({TABLES[core].title}): the drop needs at least one "
                               f"readable {core} file")

        say("规则检查 / checking rules")
        engine.prepare(con, R, params)
        results = engine.evaluate(con, R, params)
        engine.finish(con, period, params)

        say("部门比对 / reconciling")
        recon = reconciliation_stats(con)
        engine.release_views(con, keep=("v_hh",))     # the outputs need v_hh only

        db = Path(db)
        db.parent.mkdir(parents=True, exist_ok=True)
        try:
            con.execute(f"ATTACH '{db.as_posix()}' AS store")
        except duckdb.Error as exc:
            raise RunError(f"cannot open the database {db}: {str(exc).splitlines()[0]}") from None
        history.ensure(con, "store")
        skipped = [r.rule_id for r in results if r.status == "skipped"]
        prev = history.apply(con, "store", period, skipped)

        manifest = {
            "period": period,
            "reference_date": R.isoformat(),
            "started_at": started,
            "finished_at": None,
            "tool": "cardcheck",
            "tool_version": TOOL_VERSION,
            "previous_period": prev,
            "drop": str(drop),
            "parameters": params,
            "files": [r.as_dict() for r in reports],
            "rules": {r.rule_id: {"status": r.status, **({"reason": r.reason} if r.reason else {}),
                                  "issues": r.count} for r in results},
            "reconciliation": recon,
            "villages": village_stats(con, params["village_suspect_rate"]),
            "totals": totals(con),
        }

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        final = out / period
        tmp = Path(tempfile.mkdtemp(prefix=f".{period}.", dir=out))
        try:
            say("写出结果 / writing outputs")
            n_issues = report.write_issues(con, tmp)
            report.write_resolved(con, tmp)
            report.write_rejected(con, tmp)
            say("村级问题清单 / village workbooks")
            workbooks.write_all(con, tmp, period, mask_ids=mask_ids, params=params)
            from pipeline import expectations, summary
            say("整表期望检查 / batch expectations")
            prev_manifest = expectations.previous_manifest(con, prev)
            manifest["expectations"] = expectations.run_expectations(con, tmp, manifest, prev_manifest)
            manifest["finished_at"] = _now()
            summary.write_summary(con, tmp, manifest)
            report.write_json(tmp / "run.json", manifest)
            # database: one transaction
            con.execute("BEGIN TRANSACTION")
            try:
                latest = con.execute("SELECT max(period) FROM store.runs WHERE status = 'completed'").fetchone()[0]
                if latest is None or period >= latest:
                    for t in (*TABLES, "schema_findings", "rejected_rows"):
                        con.execute(f'CREATE OR REPLACE TABLE store."{t}" AS SELECT * FROM memory.main."{t}"')
                history.persist(con, "store", period, started, manifest["finished_at"], TOOL_VERSION,
                                json.dumps(manifest, ensure_ascii=False, default=str))
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            # outputs: swap the folder in
            if final.exists():
                old = out / f".{period}.old"
                if old.exists():
                    shutil.rmtree(old)
                final.rename(old)
                tmp.rename(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return RunResult(final, manifest, n_issues)
