"""make bench: ingest, rules and reconciliation at county scale, next to a bare calamine read.

    python -m bench.run_bench --households 50000 [--fmt excel|csv] [--keep]

Each measurement runs in its own process so that its peak memory (ru_maxrss) is its own.
Prints a table and writes bench/out/bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_bare(drop: Path) -> dict:
    """The floor: python-calamine to_python() of every sheet, csv.reader of every csv."""
    import csv
    import io

    from python_calamine import CalamineWorkbook

    from pipeline.ingest.read import data_files, decode

    rows = 0
    t = time.perf_counter()
    for p in data_files(drop):
        if p.suffix.lower() == ".csv":
            text, _ = decode(p.read_bytes())
            rows += sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
        else:
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                rows += len(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
    dt = time.perf_counter() - t
    return {"rows": rows, "seconds": round(dt, 2), "rows_per_s": round(rows / dt), "peak_mib": round(_peak_mib())}


def measure_run(drop: Path, period: str) -> dict:
    import duckdb

    from checks import engine
    from checks.catalogue import all_rules
    from checks.params import load_params, reference_date
    from pipeline.ingest.load import ingest
    from pipeline.ingest.read import data_files

    params = load_params()
    R = reference_date(period)
    con = duckdb.connect()
    files = list(data_files(drop))
    t0 = time.perf_counter()
    reports = ingest(con, files, drop)
    t1 = time.perf_counter()
    engine.prepare(con, R, params)
    t2 = time.perf_counter()
    registry = {r.id for r in all_rules() if r.source == "registry" and not r.id.startswith("XA")
                and not any(n not in ("members", "households", "helpers", "pairings", "projects",
                                      "beneficiaries", "loans") for n in r.needs)}
    res1 = engine.evaluate(con, R, params, only=registry)
    t3 = time.perf_counter()
    con.execute("CREATE OR REPLACE TEMP TABLE _reg AS SELECT * FROM issues_raw")
    res2 = engine.evaluate(con, R, params, exclude=registry)
    t4 = time.perf_counter()
    from pipeline.reconcile.stats import reconciliation_stats
    reconciliation_stats(con)
    t5 = time.perf_counter()
    con.execute("INSERT INTO issues_raw SELECT * FROM _reg")
    engine.finish(con, period, params)
    t6 = time.perf_counter()
    read = sum(r.rows_read for r in reports)
    skipped = sum(r.rows_skipped for r in reports)
    n_issues = con.execute("SELECT count(*) FROM issues_current").fetchone()[0]
    return {
        "files": len(files), "rows_read": read, "rows_skipped": skipped,
        "ingest_s": round(t1 - t0, 2), "ingest_rows_per_s": round((read + skipped) / (t1 - t0)),
        "prepare_views_s": round(t2 - t1, 2),
        "registry_rules_s": round(t3 - t2, 2), "registry_rules": len(registry),
        "agency_rules_s": round(t4 - t3, 2), "agency_rules": len([r for r in res2 if r.status == "evaluated"]),
        "reconciliation_stats_s": round(t5 - t4, 2), "finish_s": round(t6 - t5, 2),
        "issues": n_issues, "peak_mib": round(_peak_mib()),
        "skipped_rules": [r.rule_id for r in res1 + res2 if r.status == "skipped"],
    }


def measure_validate(drop: Path, rows: int = 10_000) -> dict:
    """`cardcheck validate` on a members workbook of `rows` data rows (cut from the drop's
    first members xlsx), wall time including start-up, as an uploader would run it."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    src = next(p for p in sorted(drop.glob("家庭成员*.xlsx")))
    grid = CalamineWorkbook.from_path(str(src)).get_sheet_by_index(0).to_python()
    head = next(i for i, r in enumerate(grid) if "姓名" in [str(c).strip() for c in r])
    target = OUT / f"validate_members_{rows}.xlsx"
    wb = xlsxwriter.Workbook(str(target))
    ws = wb.add_worksheet()
    for i, r in enumerate(grid[:head + 1 + rows]):
        for j, v in enumerate(r):
            if v != "":
                ws.write(i, j, v)
    wb.close()
    cardcheck = Path(sys.executable).parent / "cardcheck"
    times = []
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run([str(cardcheck), "validate", str(target), "--format", "json"],
                              capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"validate failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {"rows": rows, "seconds_min": round(min(times), 2), "seconds_max": round(max(times), 2)}


def _child(kind: str, drop: str, period: str) -> dict:
    cmd = [sys.executable, "-m", "bench.run_bench", "--child", kind, "--drop", drop, "--period", period]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=50000)
    ap.add_argument("--fmt", default="excel", choices=["excel", "csv"])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--child")
    ap.add_argument("--drop")
    ap.add_argument("--period", default="2026-10")
    args = ap.parse_args()
    if args.child:
        fn = {"bare": lambda: measure_bare(Path(args.drop)),
              "run": lambda: measure_run(Path(args.drop), args.period)}[args.child]
        print(json.dumps(fn()))
        return

    from demo.generate import generate_demo

    root = OUT / f"drop_{args.households}_{args.fmt}"
    period_dir = root / args.period
    if not period_dir.exists():
        t = time.perf_counter()
        generate_demo(root, seed=args.seed, n_households=args.households, fmt=args.fmt)
        print(f"generated {args.households} households ({args.fmt}) in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
    bare = _child("bare", str(period_dir), args.period)
    run = _child("run", str(period_dir), args.period)
    OUT.mkdir(parents=True, exist_ok=True)
    val = measure_validate(period_dir)
    ratio = run["ingest_rows_per_s"] / bare["rows_per_s"]
    result = {"households": args.households, "fmt": args.fmt, "cpu": os.cpu_count(),
              "bare_read": bare, "run": run, "ingest_vs_bare": round(ratio, 3), "validate": val}
    (OUT / "bench.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"households {args.households} ({args.fmt}), files {run['files']}, rows read {run['rows_read']}")
    print(f"bare calamine/csv read : {bare['rows_per_s']:>9,} rows/s  {bare['seconds']:>7} s  peak {bare['peak_mib']} MiB")
    print(f"cardcheck ingest       : {run['ingest_rows_per_s']:>9,} rows/s  {run['ingest_s']:>7} s  "
          f"= {ratio:.0%} of bare (target >= 75%)")
    print(f"views {run['prepare_views_s']} s; registry rules ({run['registry_rules']}) {run['registry_rules_s']} s; "
          f"agency rules ({run['agency_rules']}) {run['agency_rules_s']} s; "
          f"reconciliation stats {run['reconciliation_stats_s']} s; finish {run['finish_s']} s")
    print(f"issues {run['issues']}; peak memory of the run {run['peak_mib']} MiB")
    print(f"cardcheck validate, members xlsx of {val['rows']:,} rows: {val['seconds_min']}-{val['seconds_max']} s "
          f"wall incl. start-up (target < 2 s)")


if __name__ == "__main__":
    main()
