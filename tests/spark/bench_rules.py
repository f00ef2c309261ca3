"""The rule stage on both engines at one size: throughput for the README's capacity note (issue L).

    python tests/spark/bench_rules.py --households 20000 [--cores 2] [--out FILE.json]

Generates a county with the demo generator (csv, period 2026-10), loads it with cardcheck's own
ingest into DuckDB once, then times the rule stage:
  DuckDB  engine.prepare + engine.evaluate with `threads` = cores;
  Spark   Parquet export, session start (local[cores]), views + rules (checks.spark_engine),
and checks the two issue lists are equal (issue ids, evidence, messages) after engine.finish.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=20000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()

    import duckdb

    from checks import engine
    from checks import spark_engine as S
    from checks.params import load_params, reference_date
    from demo.generate import generate_demo
    from pipeline.ingest.load import ingest
    from pipeline.ingest.read import data_files

    work = Path(tempfile.mkdtemp(prefix="cardcheck-bench-rules-"))
    period = "2026-10"
    t = time.perf_counter()
    generate_demo(work / "gen", n_households=a.households, fmt="csv")
    gen_s = time.perf_counter() - t
    drop = work / "gen" / period
    con = duckdb.connect(config={"threads": a.cores})
    ingest(con, list(data_files(drop)), drop, parallel=False)
    members = con.execute("SELECT count(*) FROM members").fetchone()[0]
    hh = con.execute("SELECT count(DISTINCT household_id) FROM households").fetchone()[0]
    params, R = load_params(), reference_date(period)

    t = time.perf_counter()
    engine.prepare(con, R, params)
    engine.evaluate(con, R, params)
    duck_s = time.perf_counter() - t
    engine.finish(con, period, params)
    duck_rows = con.execute("SELECT issue_id, evidence, message FROM issues_current ORDER BY ALL").fetchall()

    t = time.perf_counter()
    S.export_parquet(con, work / "parquet", "bench")
    export_s = time.perf_counter() - t
    t = time.perf_counter()
    spark = S.session(f"local[{a.cores}]", work / "spark")
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    S.register_parquet(spark, work / "parquet", S.table_schemas(con))
    _, table = S.evaluate(spark, R, params)
    spark_s = time.perf_counter() - t
    spark.stop()
    con.execute(engine.RAW_DDL)
    con.register("sp", table)
    con.execute("INSERT INTO issues_raw BY NAME SELECT * FROM sp")
    engine.finish(con, period, params)
    spark_rows = con.execute("SELECT issue_id, evidence, message FROM issues_current ORDER BY ALL").fetchall()

    res = {"households": hh, "members": members, "cores": a.cores, "generate_s": round(gen_s, 1),
           "duckdb_rules_s": round(duck_s, 1), "spark_export_parquet_s": round(export_s, 1),
           "spark_session_start_s": round(start_s, 1), "spark_rules_s": round(spark_s, 1),
           "issues": len(duck_rows), "equal": duck_rows == spark_rows,
           "duckdb_households_per_core_s": round(hh / duck_s / a.cores),
           "spark_households_per_core_s": round(hh / spark_s / a.cores)}
    print(json.dumps(res, indent=1))
    if a.out:
        a.out.write_text(json.dumps(res, indent=1))
    return 0 if res["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
