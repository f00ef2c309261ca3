"""cardcheck command line: run, validate, feedback, demo.

Errors reach the user as one line on stderr with exit code 2, never a traceback
(set CARDCHECK_DEBUG=1 to see one).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="cardcheck: data-quality checks for the poverty registration card system "
                       "(建档立卡/防返贫监测) — monthly runs, upload validation, village round trip.")


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"cardcheck: {msg}", err=True)
    raise typer.Exit(code)


def _progress(quiet: bool):
    """(per-file callback, status callback, context) using rich on stderr."""
    if quiet:
        return None, None, None
    from rich.console import Console

    console = Console(stderr=True)
    return (lambda name: console.print(f"  [dim]✓ {name}[/dim]", highlight=False),
            lambda msg: console.print(f"[bold]{msg}[/bold]", highlight=False), console)


@app.command()
def run(
    drop: Path = typer.Argument(..., help="folder of one month's files (the data drop)"),
    period: str = typer.Option(..., "--period", help="YYYY-MM; the reference date is its last day"),
    out: Path = typer.Option(Path("reports"), "--out", help="outputs go to OUT/<period>/"),
    db: Path = typer.Option(Path("data/clean/cardcheck.duckdb"), "--db", help="DuckDB database file"),
    params: Optional[Path] = typer.Option(None, "--params", help="YAML file overriding rule parameters"),
    no_mask_ids: bool = typer.Option(False, "--no-mask-ids", help="write full IDs in village workbooks"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """The monthly run: ingest the drop, run every rule, reconcile, write issue lists and reports."""
    from pipeline.run import RunError, run as do_run

    per_file, status, console = _progress(quiet)
    try:
        res = do_run(drop, period, out=out, db=db, params_file=params, mask_ids=not no_mask_ids,
                     progress=per_file, status=status)
    except RunError as exc:
        _fail(str(exc))
    t = res.manifest["totals"]
    typer.echo(f"{period}: {t['issues']} issues (error {t['by_severity']['error']}, "
               f"suspect {t['by_severity']['suspect']}, notice {t['by_severity']['notice']}; "
               f"resolved {t['resolved']}) -> {res.out_dir}")


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="spreadsheet files to check, each on its own"),
    kind: Optional[str] = typer.Option(None, "--kind", help="canonical table name, e.g. members"),
    period: Optional[str] = typer.Option(None, "--period", help="YYYY-MM (default: the current month)"),
    fmt: str = typer.Option("text", "--format", help="text | json | junit"),
) -> None:
    """CI-style check of uploaded files: exit 0 no error, 1 errors found, 2 a file is unusable."""
    from checks.params import ParamError, reference_date
    from pipeline import validate as V
    from schemas.tables import TABLES

    if fmt not in ("text", "json", "junit"):
        _fail(f"--format must be text, json or junit, not {fmt!r}")
    if kind is not None and kind not in TABLES:
        _fail(f"unknown --kind {kind!r} (one of: {', '.join(TABLES)})")
    period = period or V.default_period()
    try:
        ref = reference_date(period)
    except ParamError as exc:
        _fail(str(exc))
    results = [V.validate_file(Path(f), kind=kind, period=period) for f in files]
    render = {"text": V.render_text, "json": V.render_json, "junit": V.render_junit}[fmt]
    typer.echo(render(results, period, ref))
    raise typer.Exit(V.exit_code(results))


@app.command()
def feedback(
    workbooks: list[Path] = typer.Argument(..., help="village workbooks that came back, filled in"),
    db: Path = typer.Option(Path("data/clean/cardcheck.duckdb"), "--db", help="DuckDB database file"),
) -> None:
    """Read answered village workbooks and record each answer against its issue (takes effect next run)."""
    from pipeline.feedback import import_feedback

    if not db.exists():
        _fail(f"database not found: {db} (run `cardcheck run` first)")
    res = import_feedback(list(workbooks), db)
    for line in res.report_lines():
        typer.echo(line)
    raise typer.Exit(res.exit_code)


@app.command()
def demo(
    root: Path = typer.Option(Path("data/raw/demo"), "--root", help="where the demo drops are written"),
    out: Path = typer.Option(Path("reports"), "--out"),
    db: Path = typer.Option(Path("data/clean/demo.duckdb"), "--db"),
    households: int = typer.Option(3000, "--households", help="size of the generated county"),
    seed: int = typer.Option(7, "--seed"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Generate a realistic sample county (two periods, generated data only) and run it end to end."""
    from demo.generate import generate_demo
    from pipeline.run import RunError, run as do_run

    if db.exists():
        db.unlink()
    drops = generate_demo(root, seed=seed, n_households=households)
    typer.echo(f"demo drops written: {', '.join(str(d) for d in drops)}")
    per_file, status, _ = _progress(quiet)
    for d in drops:
        try:
            res = do_run(d, d.name, out=out, db=db, progress=per_file, status=status)
        except RunError as exc:
            _fail(str(exc))
        t = res.manifest["totals"]
        typer.echo(f"{d.name}: {t['issues']} issues, {t['resolved']} resolved -> {res.out_dir}")
    typer.echo(f"outputs: {out.resolve()}/<period>/ (issues.csv, run.json, rejected.csv, villages/ …); "
               f"database: {db.resolve()}")


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("cardcheck: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last guard: one line, no traceback
        if os.environ.get("CARDCHECK_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"cardcheck: internal error: {type(exc).__name__}: {msg[:300]} "
                   f"(set CARDCHECK_DEBUG=1 for details)", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
