"""The rule stage on Spark (`cardcheck run … --engine spark`).

    county_drops(drop) -> [(name, folder)]       a folder of county folders, or the drop itself
    ingest_counties(con, drop, counties, …)      each county read and normalised in its own DuckDB,
                                                 written as Parquet (partition county_part=<county>),
                                                 and gathered into `con` for the outputs
    evaluate(con, R, params, parquet, master, scratch) -> [RuleResult]
                                                 the catalogue on Spark over the Parquet tables; the
                                                 issues land in `con`'s issues_raw, as from
                                                 checks.engine.evaluate, so finish() and every output
                                                 are the same code whichever engine ran

Ingest stays with DuckDB (where the spreadsheets are); only the rules move. pyspark is imported
(by checks.spark_engine) only when this stage runs.
"""
from __future__ import annotations

from pathlib import Path

from checks import engine
from checks.spark_engine import SparkUnavailable  # noqa: F401  (re-exported for the use case)
from pipeline.ingest.read import data_files

RID_STRIDE = 10 ** 12        # _rid of county i is offset by i * RID_STRIDE (row ids stay distinct)


def county_drops(drop: Path) -> list[tuple[str, Path]]:
    """The county drops of a run: every sub-folder holding files, when the drop folder itself holds
    none directly (a province's folder of county folders); else the drop alone."""
    drop = Path(drop)
    direct = [p for p in drop.iterdir() if p.is_file() and not p.name.startswith(".")]
    subs = sorted(p for p in drop.iterdir() if p.is_dir() and not p.name.startswith("."))
    if direct or not subs:
        return [(drop.name, drop)]
    return [(p.name, p) for p in subs if any(True for _ in data_files(p))]


def export_single(con, parquet: Path, name: str) -> None:
    """A single drop already loaded in `con`: its tables as one county partition."""
    from checks import spark_engine as S

    S.export_parquet(con, parquet, name)


def ingest_counties(con, drop: Path, counties: list[tuple[str, Path]], parquet: Path, *, ingest,
                    progress=None, **ingest_kw) -> list:
    """Each county drop read and normalised on its own (its own DuckDB, so duplicate detection and
    row ids stay per county), written as Parquet, and appended to `con`. Returns the file reports
    (paths relative to `drop`, so they carry the county folder)."""
    import duckdb

    from checks import spark_engine as S
    from pipeline.ingest.load import REJECTED_DDL

    engine.ensure_tables(con)
    con.execute(REJECTED_DDL)
    reports = []
    for i, (name, folder) in enumerate(counties):
        c = duckdb.connect()
        try:
            files = list(data_files(folder))
            reports += ingest(c, files, drop, progress=progress, **ingest_kw)
            engine.ensure_tables(c)
            c.execute(REJECTED_DDL)
            if i:
                for t in (*S.TABLES, "schema_findings"):
                    c.execute(f'UPDATE "{t}" SET _rid = _rid + {i * RID_STRIDE}')
            S.export_parquet(c, parquet, name)
            for t in (*S.TABLES, "schema_findings", "rejected_rows"):
                arrow = c.sql(f'SELECT * FROM "{t}"').to_arrow_table()
                con.register("_county_rows", arrow)
                con.execute(f'INSERT INTO "{t}" BY NAME SELECT * FROM _county_rows')
                con.unregister("_county_rows")
        finally:
            c.close()
    return reports


def evaluate(con, R, params: dict, *, parquet: Path, master: str, scratch: Path) -> list:
    """The rules on Spark over the Parquet tables; their rows into `con`'s issues_raw."""
    from checks import spark_engine as S

    spark = S.session(master, scratch)
    try:
        S.register_parquet(spark, parquet, S.table_schemas(con))
        results, table = S.evaluate(spark, R, params)
    finally:
        spark.stop()
    con.execute(engine.RAW_DDL)
    con.register("_spark_issues", table)
    con.execute("INSERT INTO issues_raw BY NAME SELECT * FROM _spark_issues")
    con.unregister("_spark_issues")
    return results
