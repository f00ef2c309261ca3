"""The rule catalogue on Spark: the same views and rule queries as checks.engine, transpiled by
checks.portable, over canonical tables held as Parquet.

    session(master, tmp) -> SparkSession          quiet, UI off, temp/warehouse dirs under `tmp`
    export_parquet(con, root, part)               canonical tables of a DuckDB connection → Parquet
    register_parquet(spark, root)                 the Parquet tables as Spark temp views
    evaluate(spark, ref_date, params, …)          views + rules → ([RuleResult], pyarrow.Table of issues_raw)

The rule results come back in the columns of `issues_raw` (evidence as JSON text), so that
checks.engine.finish() — issue ids, context, messages — and every output are the same code whichever
engine found the issues. pyspark is imported here only (and only when the Spark engine runs).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from checks import params as P
from checks import portable
from checks.catalogue import VIEWS, all_rules
from checks.engine import RuleResult
from schemas import ids
from schemas.tables import TABLES

RAW_COLUMNS = ["rule_id", "severity", "household_id", "id_number", "helper_id_number", "project_id",
               "person_name", "field", "value", "evidence", "disc", "source", "township", "village",
               "county", "detail"]
PART = "county_part"          # the Parquet partition column: the county drop a row came from
EXTRA_TABLES = ("schema_findings",)
_NAME_RE = re.compile(r"\b(v_[a-z0-9_]+)\b")


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing; str(exc) is one plain sentence."""


def _quiet() -> None:
    """pyspark warns about pandas 3 on import (and sets warning filters of its own): ignore it."""
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


def session(master: str = "local[*]", tmp: Path | None = None, app: str = "cardcheck"):
    """A SparkSession for the rule stage (UI off, logging at ERROR, scratch dirs under `tmp`)."""
    _quiet()
    import logging

    for name in ("py4j", "pyspark", "SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
        _quiet()
    except ImportError:
        raise SparkUnavailable("pyspark is not installed: install cardcheck with the spark extra "
                               "(pip install 'cardcheck[spark]') or use --engine duckdb") from None
    import shutil
    import tempfile

    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise SparkUnavailable("Java is not installed (Spark needs a Java 17 or newer runtime): "
                               "install a JDK or use --engine duckdb")
    tmp = Path(tmp or tempfile.mkdtemp(prefix="cardcheck-spark-"))
    tmp.mkdir(parents=True, exist_ok=True)
    log4j = tmp / "log4j2.properties"          # quiet: no banner, no WARN/ERROR lines on the console
    log4j.write_text("rootLogger.level = off\nrootLogger.appenderRef.stderr.ref = console\n"
                     "appender.console.type = Console\nappender.console.name = console\n"
                     "appender.console.target = SYSTEM_ERR\n"
                     "appender.console.layout.type = PatternLayout\n", encoding="utf-8")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["SPARK_CONF_DIR"] = str(tmp)      # Spark reads log4j2.properties from there
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    b = (SparkSession.builder.master(master).appName(app)
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.ansi.enabled", "true")
         .config("spark.sql.jsonGenerator.ignoreNullFields", "false")
         .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
         .config("spark.sql.shuffle.partitions", os.environ.get("CARDCHECK_SPARK_PARTITIONS", "8"))
         .config("spark.local.dir", str(tmp / "local"))
         .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
         .config("spark.driver.extraJavaOptions",
                 f"-Djava.io.tmpdir={tmp} -Dderby.system.home={tmp / 'derby'} "
                 f"-Dlog4j2.configurationFile={log4j.as_uri()}")
         .config("spark.driver.memory", os.environ.get("CARDCHECK_SPARK_DRIVER_MEMORY", "4g")))
    # the JVM inherits stderr when it starts: give it a log file instead of the console
    saved = os.dup(2)
    log = open(tmp / "spark.log", "ab")
    try:
        os.dup2(log.fileno(), 2)
        spark = b.getOrCreate()
    except Exception as exc:          # no JVM, bad JAVA_HOME, …
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"Spark could not start (is Java 17+ installed?): {first}") from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        log.close()
    spark.sparkContext.setLogLevel("OFF")
    return spark


# ---------------------------------------------------------------------------- tables

_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "INTEGER": "int", "DOUBLE": "double",
          "DATE": "date", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp"}


def export_parquet(con, root: Path, part: str, *, rid_offset: int = 0) -> None:
    """Write every canonical table (and schema_findings) of a DuckDB connection as Parquet under
    root/<table>/county_part=<part>/. `rid_offset` is added to _rid, so that row ids of several
    county drops stay distinct in one Spark run."""
    from schemas.sql import lit

    for t in (*TABLES, *EXTRA_TABLES):
        dest = Path(root) / t / f"{PART}={part}"
        dest.mkdir(parents=True, exist_ok=True)
        cols = [r[0] for r in con.execute(f'DESCRIBE "{t}"').fetchall()]
        sel = ", ".join(f'"_rid" + {int(rid_offset)} AS "_rid"' if c == "_rid" else f'"{c}"' for c in cols)
        con.execute(f'COPY (SELECT {sel} FROM "{t}") TO {lit(str(dest / "data.parquet"))} (FORMAT parquet)')


def _schema_of(con, t: str) -> str:
    parts = []
    for name, typ, *_ in con.execute(f'DESCRIBE "{t}"').fetchall():
        parts.append(f"`{name}` {_TYPES.get(typ, 'string')}")
    return ", ".join(parts)


def register_parquet(spark, root: Path, schemas: dict[str, str]) -> None:
    """Every table under root as a temp view (the partition column dropped); `schemas` gives each
    table's Spark DDL schema (from the DuckDB DDL), so that even an empty table has its columns."""
    for t, ddl in schemas.items():
        df = spark.read.schema(ddl + f", `{PART}` string").parquet(str(Path(root) / t))
        df.drop(PART).createOrReplaceTempView(t)


def table_schemas(con) -> dict[str, str]:
    return {t: _schema_of(con, t) for t in (*TABLES, *EXTRA_TABLES)}


def present_tables(spark) -> set[str]:
    parts = " UNION ALL ".join(f"SELECT '{t}' AS t FROM (SELECT 1 FROM `{t}` LIMIT 1)" for t in TABLES)
    return {r[0] for r in spark.sql(parts).collect()}


# ---------------------------------------------------------------------------- rules

def _view_deps() -> dict[str, set[str]]:
    return {v.name: set(_NAME_RE.findall(v.sql)) & set(VIEWS) - {v.name} for v in VIEWS.values()}


def needed_views(rule_sqls: list[str]) -> list[str]:
    """The views the given queries use, with their own dependencies, in declaration order."""
    deps = _view_deps()
    want = set()
    stack = [n for s in rule_sqls for n in _NAME_RE.findall(s) if n in VIEWS]
    while stack:
        n = stack.pop()
        if n not in want:
            want.add(n)
            stack.extend(deps[n])
    return [v for v in VIEWS if v in want]


def evaluate(spark, ref_date: dt.date, params: dict, *, only: set[str] | None = None,
             exclude: set[str] | None = None, present: set[str] | None = None):
    """Views and rules on Spark. Returns ([RuleResult], pyarrow.Table with the issues_raw columns)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    _quiet()
    values = P.sql_params(params, ref_date)
    present = present_tables(spark) if present is None else present
    if not spark.catalog.tableExists("region_codes"):
        spark.createDataFrame([(c,) for c in ids.region_codes()], "code string") \
            .persist(StorageLevel.MEMORY_AND_DISK).createOrReplaceTempView("region_codes")

    chosen, results = [], {}
    for r in all_rules():
        if (only is not None and r.id not in only) or (exclude and r.id in exclude):
            continue
        missing = [t for t in r.needs if t not in present]
        if missing:
            results[r.id] = RuleResult(r.id, "skipped", "missing table: " + ", ".join(missing))
            continue
        if r.needs_any and not any(t in present for t in r.needs_any):
            results[r.id] = RuleResult(r.id, "skipped", "missing tables: none of " + ", ".join(r.needs_any))
            continue
        reason = r.precheck(values) if r.precheck else None
        if reason:
            results[r.id] = RuleResult(r.id, "skipped", reason)
            continue
        chosen.append(r)

    cached = []
    for name in needed_views([r.sql for r in chosen]):
        df = spark.sql(portable.to_spark(VIEWS[name].sql, values)).persist(StorageLevel.MEMORY_AND_DISK)
        df.createOrReplaceTempView(name)
        cached.append(df)

    import pyarrow as pa

    # one job per rule (a union of the whole catalogue is one plan too large for Spark's optimiser);
    # each rule's rows come back as Arrow — issues are few next to the rows they are found in
    empty = pa.table({c: pa.array([], pa.string()) for c in RAW_COLUMNS})
    parts, counts = [empty], {}
    for r in chosen:
        try:
            q = spark.sql(portable.to_spark(r.sql, values))
            cols = set(q.columns)
            got = q.select(F.lit(r.id).alias("rule_id"), *[
                (F.col(f"`{c}`").cast("string") if c in cols else F.lit(None).cast("string")).alias(c)
                for c in RAW_COLUMNS[1:]]).toArrow()
        except Exception as exc:
            raise RuntimeError(f"{r.id} on Spark: {str(exc).splitlines()[0]}") from exc
        counts[r.id] = got.num_rows
        if got.num_rows:
            parts.append(got.cast(empty.schema))
    table = pa.concat_tables(parts)
    for df in cached:
        df.unpersist()
    for r in chosen:
        results[r.id] = RuleResult(r.id, "evaluated", "", counts.get(r.id, 0))
    ordered = [results[r.id] for r in all_rules() if r.id in results]
    return ordered, table
