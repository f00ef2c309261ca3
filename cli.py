"""cardcheck command line: run, validate, feedback, history, demo, serve, user add.

Errors reach the user as one line on stderr, never a traceback (set CARDCHECK_DEBUG=1 to see
one). Exit codes: run 0 every file loaded, 1 completed but a file was not loaded, 2 could not
run; validate 0/1/2; feedback 0/1/2; Ctrl-C 130, SIGTERM 143, each with one line saying what
was kept.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="cardcheck: data-quality checks for the poverty registration card system "
                       "(建档立卡/防返贫监测) — monthly runs, upload validation, village round trip.")

DATA_HELP = "the data folder (raw drops, reports, database); default: $CARDCHECK_DATA, the nearest " \
            "cardcheck.toml, else ./data"
CONFIG_HELP = "a cardcheck.toml naming the data folder and its parts"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every step unwinds the same way."""
    signal_name = "SIGTERM"


def _on_sigterm(signum, frame):
    raise Terminated()


class Stopped(Exception):
    """Ctrl-C or SIGTERM outside a run (Typer would turn a KeyboardInterrupt into a silent exit)."""

    def __init__(self, signal_name: str, msg: str = "interrupted — nothing was changed"):
        super().__init__(msg)
        self.signal_name = signal_name


def _guard(fn):
    """Commands hand Ctrl-C/SIGTERM to main() as an ordinary exception, with what was kept."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise Stopped(getattr(exc, "signal_name", "SIGINT")) from None
    return wrapper


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"cardcheck: {msg}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from pipeline.run import TOOL_VERSION

        typer.echo(f"cardcheck {TOOL_VERSION}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """cardcheck: data-quality checks for 建档立卡/防返贫监测 data."""


def _settings(config: Optional[Path], data: Optional[Path], quiet: bool = False):
    from pipeline.settings import SettingsError, resolve

    try:
        s = resolve(config=config, data=data)
    except SettingsError as exc:
        _fail(str(exc))
    typer.echo(s.describe(), err=True)
    return s


# ---------------------------------------------------------------------------- console output

MARKS = {"ok": "✓", "rejected_rows": "!", "not_loaded": "✗", "skipped": "·"}


def file_marks(files: list[dict]) -> list[tuple[str, str]]:
    """(mark, line) per file report: ✓ loaded, ! loaded with rejected rows, ✗ not loaded,
    · skipped (an empty or notes sheet beside a table, an Office lock file), listed, not hidden."""
    from schemas.tables import TABLES

    loaded_files = {f["path"] for f in files if f.get("status") == "loaded"}
    out = []
    for f in files:
        where = f["path"] + (f" [{f['sheet']}]" if f.get("sheet") else "")
        status = f.get("status")
        reason = "; ".join(f.get("problems") or []) or status
        if status == "loaded":
            kind = TABLES[f["kind"]].title if f.get("kind") in TABLES else f.get("kind")
            if f.get("rows_rejected"):
                out.append(("!", f"{where}: {kind}，载入 {f['rows_loaded']:,} 行，拒收 {f['rows_rejected']:,} 行"
                                 f"（见 rejected.csv）"))
            else:
                out.append(("✓", f"{where}: {kind}，载入 {f['rows_loaded']:,} 行"))
        elif status in ("rejected", "unreadable"):
            out.append(("✗", f"{where}: {reason}"))
        elif f["path"] not in loaded_files:
            out.append(("·", f"{where}: 跳过 — {reason}"))
    return out


def files_summary(files: list[dict]) -> str:
    paths = {f["path"] for f in files}
    bad = {f["path"] for f in files if f.get("status") in ("rejected", "unreadable")}
    rejected = sum(f.get("rows_rejected") or 0 for f in files if f.get("status") == "loaded")
    return (f"{len(paths)} 个文件：{len(bad)} 个未载入，拒收 {rejected:,} 行 / "
            f"{len(paths)} file(s): {len(bad)} not loaded, {rejected:,} row(s) rejected")


class ConsoleSteps:
    """Shows a use case's steps on stderr: rich progress bars with counts and time left on a
    terminal, one line per stage otherwise; --quiet keeps only what must not be missed."""

    def __init__(self, quiet: bool = False):
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.live = self.console.is_terminal and not quiet
        self.progress = None
        self.tasks: dict[str, int] = {}
        self.files_shown = False

    def _bar(self, stage: str, label: str, total: int):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        if self.progress is None:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("剩余"), TimeRemainingColumn(),
                                     console=self.console, transient=False)
            self.progress.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(label, total=total)
        return self.tasks[stage]

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
            self.tasks = {}

    def __call__(self, st) -> None:
        if st.stage == "files":
            self._stop()
            self.show_files(st.data or [])
            return
        if st.stage == "notice":
            self._stop()
            self.console.print(f"[yellow]注意[/yellow] {st.item}")
            return
        if self.quiet:
            return
        if st.total is not None and self.live:
            task = self._bar(st.stage, st.label, st.total)
            self.progress.update(task, completed=st.done or 0, total=st.total)
            return
        if st.total is not None and st.done not in (0, None):
            return                                   # counted steps: one line at their start
        self._stop()
        self.console.print(f"[bold]{st.label}[/bold]")

    def show_files(self, files: list[dict]) -> None:
        if self.files_shown:
            return
        self.files_shown = True
        for mark, line in file_marks(files):
            if self.quiet and mark in ("✓", "·"):
                continue
            style = {"✓": "green", "!": "yellow", "✗": "bold red", "·": "dim"}[mark]
            self.console.print(f"  [{style}]{mark}[/{style}] {line}", markup=True)
        self.console.print(files_summary(files))

    def close(self) -> None:
        self._stop()


# ---------------------------------------------------------------------------- commands

@app.command()
@_guard
def run(
    drop: Path = typer.Argument(..., help="folder of one month's files (the data drop)"),
    period: str = typer.Option(..., "--period", help="YYYY-MM; the reference date is its last day"),
    out: Optional[Path] = typer.Option(None, "--out", help="outputs go to OUT/<period>/ (default: the data "
                                                           "folder's reports)"),
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB database file (default: the data folder's)"),
    params: Optional[Path] = typer.Option(None, "--params", help="YAML file overriding rule parameters"),
    no_mask_ids: bool = typer.Option(False, "--no-mask-ids", help="write full IDs in village workbooks"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
    engine: str = typer.Option("duckdb", "--engine", help="where the rules run: duckdb (default) or spark "
                                                         "(Parquet + Spark; a folder of county folders is "
                                                         "read county by county); needs cardcheck[spark] and Java"),
    spark_master: str = typer.Option("local[*]", "--spark-master", help="Spark master URL for --engine spark"),
) -> None:
    """The monthly run: ingest the drop, run every rule, reconcile, write issue lists and reports.
    Exit 0 every file loaded; 1 completed but a file was not loaded (listed with ✗); 2 could not run."""
    from pipeline.run import RunError, run as do_run

    s = _settings(config, data)
    steps = ConsoleSteps(quiet)
    try:
        res = do_run(drop, period, out=out or s.reports, db=db or s.database, params_file=params,
                     mask_ids=not no_mask_ids, on_step=steps, data_dir=s.data,
                     engine_name=engine, spark_master=spark_master)
    except RunError as exc:
        if exc.files:
            steps.show_files(exc.files)
        steps.close()
        _fail(str(exc))
    steps.close()
    if not quiet:
        show_timings(res.timings)
        cache = res.manifest.get("cache") or {}
        if cache.get("files_from_cache"):
            typer.echo(f"  未改动的文件用上次的读取结果 unchanged files reused: {cache['files_from_cache']}, "
                       f"read: {cache.get('files_read', 0)}"
                       + ("; 规则结果沿用上次 rule findings reused (same files, parameters, version)"
                          if cache.get("rules_from_cache") else ""), err=True)
    t = res.manifest["totals"]
    typer.echo(f"{res.manifest['period']}: {t['issues']} issues (error {t['by_severity']['error']}, "
               f"suspect {t['by_severity']['suspect']}, notice {t['by_severity']['notice']}; "
               f"resolved {t['resolved']}) -> {res.out_dir}")
    for x in res.manifest.get("townships_lacking", []):
        what = "成员表" if x["lacks"] == "members" else "家庭情况表"
        typer.echo(f"cardcheck: {x['township']} 缺少{what}：本期该乡镇跳过 {len(x['rules'])} 条规则", err=True)
    if res.exit_code:
        typer.echo(f"cardcheck: {len(res.not_loaded)} file(s) or sheet(s) not loaded (✗ above; listed in "
                   f"summary.html and run.json)", err=True)
    raise typer.Exit(res.exit_code)


STAGE_NAMES = {"read": "读取文件 reading", "load_contract": "载入检查 load contract", "check": "规则检查 rules",
               "reconcile": "部门比对 reconciliation", "history": "历次对比 history", "outputs": "问题清单 issue lists",
               "workbooks": "村级问题清单 village workbooks", "expectations": "整表期望检查 expectations",
               "summary": "汇总报告 summary", "save": "保存数据库 database"}


def show_timings(timings: dict[str, float]) -> None:
    """One line per stage, so users see where the time goes."""
    total = sum(timings.values())
    for stage, secs in timings.items():
        typer.echo(f"  {STAGE_NAMES.get(stage, stage):<32} {secs:7.2f} s", err=True)
    typer.echo(f"  {'合计 total':<32} {total:7.2f} s", err=True)


def _expand(paths: list[Path]) -> list[Path]:
    try:
        from pipeline.validate import expand_inputs
    except ImportError:                      # pragma: no cover
        expand_inputs = None
    if expand_inputs is not None:
        return expand_inputs(paths)
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith((".", "~$")))
        else:
            out.append(p)
    return out


@app.command()
@_guard
def validate(
    files: list[Path] = typer.Argument(..., help="spreadsheet files (or folders of them) to check, each on its own"),
    kind: Optional[str] = typer.Option(None, "--kind", help="canonical table name, e.g. members"),
    period: Optional[str] = typer.Option(None, "--period", help="YYYY-MM (default: the current month)"),
    fmt: str = typer.Option("text", "--format", help="text | json | junit"),
) -> None:
    """CI-style check of uploaded files: exit 0 no error, 1 errors found, 2 a file is unusable."""
    from checks.params import ParamError, normalise_period, reference_date
    from pipeline import validate as V
    from schemas.tables import TABLES

    if fmt not in ("text", "json", "junit"):
        _fail(f"--format must be text, json or junit, not {fmt!r}")
    if kind is not None and kind not in TABLES:
        _fail(f"unknown --kind {kind!r} (one of: {', '.join(TABLES)})")
    try:
        period = normalise_period(period or V.default_period())
        ref = reference_date(period)
    except ParamError as exc:
        _fail(str(exc))
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        _fail(f"file not found: {missing[0]}")
    paths = _expand(list(files))
    if not paths:
        _fail("no files to check in " + ", ".join(str(f) for f in files))
    results = [V.validate_file(Path(f), kind=kind, period=period) for f in paths]
    render = {"text": V.render_text, "json": V.render_json, "junit": V.render_junit}[fmt]
    typer.echo(render(results, period, ref))
    raise typer.Exit(V.exit_code(results))


@app.command()
@_guard
def feedback(
    workbooks: list[Path] = typer.Argument(..., help="village workbooks that came back, filled in"),
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB database file (default: the data folder's)"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Read answered village workbooks and record each answer against its issue (takes effect next run)."""
    from pipeline.store import runlock
    from pipeline.cycle.feedback import import_feedback

    s = _settings(config, data)
    db = _existing_database(db or s.database)
    try:
        with runlock.RunLock(s.lock, "cardcheck feedback", timeout=10):
            for msg in runlock.recover(s.state):
                typer.echo(f"cardcheck: {msg}", err=True)
            res = import_feedback(list(workbooks), db)
    except runlock.Busy as exc:
        _fail(str(exc))
    for line in res.report_lines():
        typer.echo(line)
    raise typer.Exit(res.exit_code)


def _existing_database(db: Path) -> Path:
    """The database a command reads: it must exist and be a DuckDB file (one line otherwise)."""
    from pipeline.store.duck import NotADatabase, check_database_file

    if not db.exists():
        _fail(f"database not found: {db} (run `cardcheck run` first, or give --data / --db)")
    try:
        check_database_file(db)
    except NotADatabase as exc:
        _fail(str(exc))
    return db


@app.command()
@_guard
def history(
    household_id: str = typer.Argument(..., help="the household's 户编号"),
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB database file (default: the data folder's)"),
    mask_ids: bool = typer.Option(False, "--mask-ids", help="mask ID numbers as in village workbooks"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Print one household's issue history: members, the files its rows came from, every issue of
    every period with its status, and every answer given (who, when, how). Exit 1: household unknown."""
    from pipeline.cycle.household import history_lines, household_record
    from pipeline.outputs.workbooks import mask_text
    from pipeline.store import runlock
    from pipeline.store.duck import connect

    s = _settings(config, data)
    db = _existing_database(db or s.database)
    try:
        with runlock.RunLock(s.lock, "cardcheck history", timeout=10):
            con = connect(db, read_only=True)
            try:
                rec = household_record(con, household_id)
            finally:
                con.close()
    except runlock.Busy as exc:
        _fail(str(exc))
    if rec is None:
        typer.echo(f"数据库中没有户编号为 {household_id} 的户。", err=True)
        raise typer.Exit(1)
    for line in history_lines(rec, mask_text if mask_ids else (lambda v: v)):
        typer.echo(line)


@app.command()
@_guard
def demo(
    households: int = typer.Option(3000, "--households", help="size of the generated county"),
    seed: int = typer.Option(7, "--seed"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Generate a realistic sample county (two periods, generated data only) and run it end to end,
    in the data folder (its drops under raw/demo/)."""
    from demo.generate import generate_demo
    from pipeline.store.demo_guard import DemoRefused, clear_demo_database
    from pipeline.run import RunError, run as do_run

    s = _settings(config, data)
    root = s.raw / "demo"
    try:
        clear_demo_database(s.database, root)
    except DemoRefused as exc:
        _fail(str(exc))
    drops = generate_demo(root, seed=seed, n_households=households)
    typer.echo(f"demo drops written: {', '.join(str(d) for d in drops)}")
    for d in drops:
        steps = ConsoleSteps(quiet)
        try:
            res = do_run(d, d.name, out=s.reports, db=s.database, on_step=steps, data_dir=s.data)
        except RunError as exc:
            steps.close()
            _fail(str(exc))
        steps.close()
        t = res.manifest["totals"]
        typer.echo(f"{d.name}: {t['issues']} issues, {t['resolved']} resolved -> {res.out_dir}")
    last = drops[-1].name
    typer.echo(f"outputs: {s.reports}/<period>/ (issues.csv, issues.xlsx, summary.html, run.json, rejected.csv, "
               f"villages/ …); database: {s.database}")
    typer.echo(f"open {s.reports / last / 'summary.html'} in a browser; village workbooks are in "
               f"{s.reports / last / 'villages'}")
    typer.echo("(the demo drops hold a few broken files on purpose: they are the ✗ lines above)")


@app.command()
@_guard
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (another than localhost is an "
                                                         "explicit choice; TLS is a reverse proxy's job)"),
    port: int = typer.Option(8000, "--port"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """The county portal in a browser (waitress): upload checks, the month's submissions, runs.
    Its settings: <data>/portal/portal.toml."""
    from portal.conf import OptionsError
    from portal.serve import serve as do_serve

    s = _settings(config, data)
    try:
        do_serve(s, host, port, echo=lambda m: typer.echo(m, err=True))
    except OptionsError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


user_app = typer.Typer(no_args_is_help=True, help="portal accounts")
app.add_typer(user_app, name="user")


@user_app.command("add")
@_guard
def user_add(
    name: str = typer.Argument(..., help="account name"),
    role: str = typer.Option(..., "--role", help="admin | county | township | village"),
    area: Optional[str] = typer.Option(None, "--area", help="township: 乡镇; village: 乡镇/村"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Make a portal account and print its one-time password (changed at first login)."""
    from portal.conf import OptionsError
    from portal.serve import UserError, add_user

    s = _settings(config, data)
    try:
        password = add_user(s, name, role, area)
    except (UserError, OptionsError) as exc:
        _fail(str(exc))
    typer.echo(f"account {name} ({role}) created; one-time password: {password}")
    typer.echo("it must be changed at the first login")


# ---------------------------------------------------------------------------- the last guard

def _message(exc: BaseException) -> str | None:
    """One line for a condition of the machine or the input (no 'internal error'), else None."""
    import errno

    if isinstance(exc, MemoryError):
        return "not enough memory for this work; close other programs or lower CARDCHECK_READERS"
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):       # a reader or workbook writer was killed (the OOM killer …)
        return ("a process reading the files or writing the workbooks was stopped by the system (usually: "
                "not enough memory); nothing was changed — close other programs, or set CARDCHECK_READERS=1 "
                "and CARDCHECK_WRITERS=1")
    if isinstance(exc, OSError):
        path = f" {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return f"the disk is full: cannot write{path}"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"no permission to use{path}"
        if exc.errno == errno.ENOENT:
            return f"not found:{path or ' a file'}"
        return f"cannot use{path}: {exc.strerror or exc}"
    try:
        import duckdb
    except ImportError:     # pragma: no cover
        return None
    if isinstance(exc, duckdb.OutOfMemoryException):
        return "not enough memory (DuckDB); set CARDCHECK_MEMORY_LIMIT lower or use a larger machine"
    if isinstance(exc, duckdb.IOException):
        text = str(exc).splitlines()[0] if str(exc) else ""
        if "space" in text.lower():
            return "the disk is full (a database or DuckDB's temporary folder)"
        return f"cannot read or write a database file: {text[:200]}"
    return None


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except SystemExit:
        raise
    except BaseException as exc:  # the last guard: one line, no traceback
        from pipeline.run import Interrupted

        if isinstance(exc, (Interrupted, Stopped)):
            code = 143 if exc.signal_name == "SIGTERM" else 130
            typer.echo(f"cardcheck: {exc}", err=True)
            sys.exit(code)
        if isinstance(exc, KeyboardInterrupt):
            code = 143 if getattr(exc, "signal_name", "") == "SIGTERM" else 130
            typer.echo("cardcheck: interrupted — nothing was changed", err=True)
            sys.exit(code)
        try:
            import duckdb

            if isinstance(exc, duckdb.InterruptException):
                typer.echo("cardcheck: interrupted — nothing was changed", err=True)
                sys.exit(130)
        except ImportError:     # pragma: no cover
            pass
        if os.environ.get("CARDCHECK_DEBUG"):
            raise
        msg = _message(exc)
        if msg:
            typer.echo(f"cardcheck: {msg}", err=True)
            sys.exit(2)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"cardcheck: internal error: {type(exc).__name__}: {first[:300]} "
                   f"(a defect of cardcheck; set CARDCHECK_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
