"""make bench: the whole monthly run at county scale, next to a bare calamine read of the same files.

    python -m bench.run_bench --households 50000 [--shapes mixed,xlsx] [--keep]

Two shapes of drop, both generated (demo.generate, no real data):
  mixed  the demo's messy drop: per-township members workbooks, several csv (DuckDB parses csv
         in parallel), 26 files
  xlsx   one workbook per table, as a county system exports them: a single ~20 MB members
         workbook (~180,000 rows), medical insurance and hukou workbooks of ~200,000 rows each

For each shape, in separate processes (so that times and memory are their own):
  bare   python-calamine `to_python()` of every sheet and csv.reader of every csv, one process:
         the floor — the cost of reading the files once
  run    `cardcheck run` as a user runs it (its own data folder): wall time, the peak resident
         memory summed over its process tree (polled), and the run's per-stage times (run.json)
  rerun  the same period again with no file changed (the cache of read files), and again after
         one township's members file changed (only that file is read again)
and once: `cardcheck validate` of a 10,000-row members workbook, wall time including start-up.

Prints the tables and the ratios the targets are stated in; writes bench/out/bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PERIOD = "2026-10"


def measure_bare(drop: Path) -> dict:
    """The floor: python-calamine to_python() of every sheet, csv.reader of every csv."""
    import csv
    import io

    from python_calamine import CalamineWorkbook

    from pipeline.ingest.read import decode

    rows = 0
    t = time.perf_counter()
    for p in sorted(drop.iterdir()):
        if p.suffix.lower() == ".csv":
            text, _ = decode(p.read_bytes())
            rows += sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
        elif p.suffix.lower() in (".xlsx", ".xls"):
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                rows += len(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
    dt = time.perf_counter() - t
    return {"rows": rows, "seconds": round(dt, 2), "rows_per_s": round(rows / dt)}


def run_measured(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time and peak RSS summed over the process tree (polled every 50 ms)."""
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    peak = [0]
    done = threading.Event()

    def poll():
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            except psutil.NoSuchProcess:
                break
            peak[0] = max(peak[0], total)
            time.sleep(0.05)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-2000:]}{err[-3000:]}")
    return {"seconds": round(wall, 2), "peak_mib": round(peak[0] / 2**20), "exit": proc.returncode}


def cardcheck() -> list[str]:
    return [sys.executable, "-c", "import cli; cli.main()"]


def measure_run(drop: Path, data: Path) -> dict:
    res = run_measured([*cardcheck(), "run", str(drop), "--period", PERIOD, "--data", str(data), "-q"])
    manifest = json.loads((data / "reports" / PERIOD / "run.json").read_text(encoding="utf-8"))
    res["timings"] = manifest.get("timings", {})
    res["rule_timings"] = manifest.get("rule_timings", {})
    res["cache"] = manifest.get("cache", {})
    res["rows_read"] = sum(f.get("rows_read") or 0 for f in manifest["files"])
    res["files"] = len({f["path"] for f in manifest["files"]})
    res["files_read"] = manifest.get("cache", {}).get("files_read", res["files"])
    res["issues"] = manifest["totals"]["issues"]
    return res


def measure_validate(drop: Path, rows: int = 10_000) -> dict:
    """`cardcheck validate` on a members workbook of `rows` data rows (cut from the drop's members
    workbook), wall time including start-up, as an uploader would run it."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    src = next(p for p in sorted(drop.glob("*.xlsx")) if "成员" in p.name or "members" in p.name)
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
    times = []
    for _ in range(5):
        times.append(run_measured([str(Path(sys.executable).parent / "cardcheck"), "validate", str(target),
                                   "--format", "json"])["seconds"])
    return {"rows": rows, "seconds_min": min(times), "seconds_median": sorted(times)[len(times) // 2]}


def change_one_township(drop: Path) -> str:
    """Append a harmless extra column value to one township's members rows (a new sha256, the same
    data): returns the file name."""
    from python_calamine import CalamineWorkbook
    import xlsxwriter

    members = sorted(p for p in drop.iterdir() if ("成员" in p.name or "members" in p.name)
                     and p.suffix.lower() in (".xlsx", ".csv"))
    target = members[-1]
    if target.suffix.lower() == ".csv":
        with open(target, "ab") as f:
            f.write(b"\r\n")             # a trailing empty line: skipped, the file's bytes differ
        return target.name
    sheets = CalamineWorkbook.from_path(str(target))
    wb = xlsxwriter.Workbook(str(target) + ".new")
    for name in sheets.sheet_names:
        ws = wb.add_worksheet(name)
        for i, r in enumerate(sheets.get_sheet_by_name(name).to_python()):
            ws.write_row(i, 0, r)
    wb.close()
    os.replace(str(target) + ".new", target)
    return target.name


def generate(shape: str, households: int, seed: int) -> Path:
    from demo.generate import generate_demo

    root = OUT / f"drop_{households}_{shape}"
    if not (root / PERIOD).exists():
        t = time.perf_counter()
        generate_demo(root, seed=seed, n_households=households, messy=(shape == "mixed"), fmt="excel")
        print(f"generated {households} households ({shape}) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return root / PERIOD


def bench_shape(shape: str, households: int, seed: int) -> dict:
    drop = generate(shape, households, seed)
    bare = json.loads(subprocess.run([sys.executable, "-m", "bench.run_bench", "--child-bare", str(drop)],
                                     cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    data = OUT / f"data_{shape}"
    shutil.rmtree(data, ignore_errors=True)
    first = measure_run(drop, data)
    rerun = measure_run(drop, data)
    work = OUT / f"drop_{households}_{shape}_changed" / PERIOD
    shutil.rmtree(work.parent, ignore_errors=True)
    shutil.copytree(drop, work)
    changed = change_one_township(work)
    one = measure_run(work, data)
    shutil.rmtree(work.parent, ignore_errors=True)
    return {"shape": shape, "bare": bare, "run": first, "rerun_unchanged": rerun,
            "rerun_one_changed": {**one, "changed": changed},
            "run_vs_bare": round(first["seconds"] / bare["seconds"], 2),
            "ingest_vs_bare": round(first["timings"].get("read", 0) / bare["seconds"], 2),
            "rerun_vs_run": round(rerun["seconds"] / first["seconds"], 2)}


def print_shape(r: dict) -> None:
    b, run = r["bare"], r["run"]
    print(f"\n== {r['shape']}: {run['files']} files, {run['rows_read']:,} data rows, {run['issues']:,} issues")
    print(f"bare single-process read      {b['seconds']:7.2f} s  ({b['rows_per_s']:,} rows/s)")
    print(f"cardcheck run (whole)         {run['seconds']:7.2f} s  = {r['run_vs_bare']:.2f}× the bare read "
          f"(target ≤ 1.5×); peak {run['peak_mib']:,} MiB over the process tree")
    for stage, secs in run["timings"].items():
        print(f"    {stage:<16}{secs:7.2f} s")
    fam = run.get("rule_timings", {}).get("families", {})
    if fam:
        print("    rule families: " + ", ".join(f"{k} {v:.2f}" for k, v in fam.items()))
        print("    slowest rules: " + ", ".join(f"{k} {v:.2f}" for k, v in run["rule_timings"]["slowest"]))
    print(f"ingest (read stage)           {run['timings'].get('read', 0):7.2f} s  = {r['ingest_vs_bare']:.2f}× "
          f"the bare read (target ≤ 1.0×)")
    rr, one = r["rerun_unchanged"], r["rerun_one_changed"]
    print(f"re-run, nothing changed       {rr['seconds']:7.2f} s  = {r['rerun_vs_run']:.0%} of the first run "
          f"(target < 25%); files read {rr['files_read']} of {rr['files']}, "
          f"rules {'from the cache' if rr['cache'].get('rules_from_cache') else 'run again'}")
    print(f"re-run, {one['changed']} changed: {one['seconds']:.2f} s; files read {one['files_read']} of "
          f"{one['files']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=50000)
    ap.add_argument("--shapes", default="mixed,xlsx")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--child-bare")
    args = ap.parse_args()
    if args.child_bare:
        print(json.dumps(measure_bare(Path(args.child_bare))))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results = [bench_shape(s, args.households, args.seed) for s in args.shapes.split(",")]
    val = measure_validate(generate("xlsx", args.households, args.seed))
    for r in results:
        print_shape(r)
    print(f"\ncardcheck validate, members xlsx of {val['rows']:,} rows: {val['seconds_min']:.2f} s "
          f"(median {val['seconds_median']:.2f} s) wall incl. start-up (target < 1.0 s)")
    (OUT / "bench.json").write_text(json.dumps({"households": args.households, "cpu": os.cpu_count(),
                                                "shapes": results, "validate": val}, indent=2,
                                               ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
