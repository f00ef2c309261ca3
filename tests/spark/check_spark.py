"""make check-spark: the rule catalogue on both engines, proven equal (issue L).

1. every rule test of tests/rules (each rule's firing and near-miss fixtures) runs with
   CARDCHECK_PARITY=spark: after DuckDB, the same rules run on Spark over the same tables written as
   Parquet, and every issue row (id, keys, evidence, message) must be equal; a table per rule family;
2. the demo county end to end (both periods) on both engines: issues.csv, resolved.csv and
   rejected.csv must be byte-identical.

    python tests/spark/check_spark.py [--skip-rules] [--skip-demo] [--keep DIR]
Exit 0 when everything is equal. Not part of `make test` (it needs pyspark and Java; ~30 min on 2 cores).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAMILIES = ["SCH", "ID", "HH", "LAB", "EDU", "MED", "HOU", "WAT", "INC", "PAIR", "PRJ", "LOAN", "XA"]


def rules_parity(work: Path) -> bool:
    sys.path.insert(0, str(ROOT))
    from checks.catalogue import all_rules

    log = work / "parity.jsonl"
    env = dict(os.environ, CARDCHECK_PARITY="spark", CARDCHECK_PARITY_LOG=str(log))
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                           "tests/rules"], cwd=ROOT, env=env, capture_output=True, text=True)
    print(proc.stdout[-4000:])
    rows = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    per_rule: dict[str, dict] = {r.id: {"tests": set(), "cmp": 0, "eq": 0, "issues": 0} for r in all_rules()}
    for x in rows:
        d = per_rule.setdefault(x["rule"], {"tests": set(), "cmp": 0, "eq": 0, "issues": 0})
        d["tests"].add(x["test"])
        d["cmp"] += 1
        d["eq"] += x["equal"]
        d["issues"] += x["duckdb"]
    fam = collections.OrderedDict((f, {"rules": 0, "equal": 0, "unequal": [], "unexercised": [],
                                       "tests": 0, "issues": 0}) for f in FAMILIES)
    for rid, d in per_rule.items():
        f = fam[rid.split("-")[0]]
        f["rules"] += 1
        f["tests"] += len(d["tests"])
        f["issues"] += d["issues"]
        if d["cmp"] == 0 or d["issues"] == 0:
            f["unexercised"].append(rid)          # never compared, or never fired: not proven
        elif d["eq"] == d["cmp"]:
            f["equal"] += 1
        else:
            f["unequal"].append(rid)
    print(f"\nrule tests on DuckDB and Spark ({time.time() - t0:.0f} s; pytest exit {proc.returncode})")
    print(f"{'family':<7}{'rules':>6}{'equal':>7}{'tests':>7}{'issues compared':>17}  not equal / not fired")
    for name, f in fam.items():
        bad = ", ".join(f["unequal"] + [r + " (never fired)" for r in f["unexercised"]])
        print(f"{name:<7}{f['rules']:>6}{f['equal']:>7}{f['tests']:>7}{f['issues']:>17}  {bad or '-'}")
    total = sum(f["rules"] for f in fam.values())
    equal = sum(f["equal"] for f in fam.values())
    print(f"{'all':<7}{total:>6}{equal:>7}")
    return proc.returncode == 0 and equal == total


def _run(args: list[str], **kw) -> None:
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, **kw)
    if r.returncode not in (0, 1):
        print(r.stdout[-2000:], r.stderr[-2000:])
        raise SystemExit(f"failed: {' '.join(args)}")


def demo_parity(work: Path) -> bool:
    duck, spark = work / "duckdb", work / "spark"
    t0 = time.time()
    _run([str(BIN / "cardcheck"), "demo", "--data", str(duck), "--quiet"])
    t1 = time.time()
    periods = sorted(p.name for p in (duck / "raw" / "demo").iterdir() if p.name[:4].isdigit())
    for period in periods:
        _run([str(BIN / "cardcheck"), "run", str(duck / "raw" / "demo" / period), "--period", period,
              "--engine", "spark", "--spark-master", os.environ.get("CARDCHECK_SPARK_MASTER", "local[2]"),
              "--data", str(spark), "--quiet"])
    t2 = time.time()
    ok = True
    print(f"\ndemo end to end (DuckDB {t1 - t0:.0f} s, Spark {t2 - t1:.0f} s for {len(periods)} periods)")
    for period in periods:
        for name in ("issues.csv", "resolved.csv", "rejected.csv"):
            a = (duck / "reports" / period / name).read_bytes()
            b = (spark / "reports" / period / name).read_bytes()
            same = a == b
            ok &= same
            print(f"  {period}/{name:<13} {'byte-identical' if same else 'DIFFERENT'} "
                  f"({a.count(10)} lines)")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-rules", action="store_true")
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the work folder here")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="cardcheck-check-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        if not a.skip_rules:
            ok &= rules_parity(work)
        if not a.skip_demo:
            ok &= demo_parity(work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\ncheck-spark:", "PASSED — every rule equal on both engines" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
