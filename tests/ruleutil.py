"""Helpers for rule tests: build small canonical tables by hand and run rules on them.

    con = new_db()
    add(con, "members", [member("H1", "张三", pid(1980, male=True), "户主", gender="男"), ...])
    issues = run(con, "2026-10", only={"ID-01"})      # list of dicts (issues_current rows)
    keys(issues, "ID-01")                               # {(household_id, id_number), ...}
"""
from __future__ import annotations

import datetime as dt
import itertools
import os

import duckdb

from checks import engine
from checks.params import load_params, reference_date
from schemas.ids import make_id
from schemas.tables import TABLES

_seq = itertools.count(1)


def new_db():
    con = duckdb.connect()
    engine.ensure_tables(con)
    return con


def add(con, table: str, rows: list[dict]) -> None:
    """Insert rows (dicts of canonical column -> value) into a canonical table."""
    t = TABLES[table]
    for row in rows:
        unknown = set(row) - set(t.names)
        if unknown:
            raise KeyError(f"{table}: unknown columns {unknown}")
        rid = next(_seq)
        cols = [c for c in t.names if c in row]
        names = ", ".join(f'"{c}"' for c in cols) + ", _rid, _file, _sheet, _row"
        marks = ", ".join("?" for _ in cols) + ", ?, 'test.xlsx', 'Sheet1', ?"
        con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                    [row[c] for c in cols] + [rid, rid + 1])


def run(con, period: str = "2026-10", params: dict | None = None, only=None) -> list[dict]:
    p = load_params(overrides=params or {})
    R = reference_date(period)
    engine.prepare(con, R, p)
    results = engine.evaluate(con, R, p, only=set(only) if only else None)
    engine.finish(con, period, p)
    out = _current(con)
    run.results = {r.rule_id: r for r in results}
    if os.environ.get("CARDCHECK_PARITY") == "spark":
        _spark_parity(con, period, p, R, only, results, out)
    return out


def _current(con) -> list[dict]:
    cur = con.execute("SELECT * FROM issues_current ORDER BY rule_id, household_id, id_number, issue_id")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# ---------------------------------------------------------------------------- engine parity (make check-spark)

_SPARK = {}


def _spark_parity(con, period, p, R, only, duck_results, duck_rows) -> None:
    """The same rules on Spark over the same tables (exported as Parquet): every issue row — id,
    keys, evidence, message — must be equal. Records one line per rule for the check-spark table."""
    import json
    import tempfile

    from checks import spark_engine as S

    if "spark" not in _SPARK:
        _SPARK["tmp"] = tempfile.mkdtemp(prefix="cardcheck-parity-")
        _SPARK["spark"] = S.session("local[2]", _SPARK["tmp"] + "/spark")
    spark = _SPARK["spark"]
    root = tempfile.mkdtemp(dir=_SPARK["tmp"])
    S.export_parquet(con, root, "test")
    S.register_parquet(spark, root, S.table_schemas(con))
    results, table = S.evaluate(spark, R, p, only=set(only) if only else None,
                                present=engine.present_tables(con))
    con.execute("CREATE OR REPLACE TEMP TABLE issues_raw_duckdb AS SELECT * FROM issues_raw")
    con.execute(engine.RAW_DDL)
    con.register("spark_raw", table)
    con.execute("INSERT INTO issues_raw BY NAME SELECT * FROM spark_raw")
    con.unregister("spark_raw")
    engine.finish(con, period, p)
    spark_rows = _current(con)
    con.execute("CREATE OR REPLACE TEMP TABLE issues_raw AS SELECT * FROM issues_raw_duckdb")
    engine.finish(con, period, p)

    def canon(rows):
        return sorted(tuple(sorted((k, "" if v is None else str(v)) for k, v in r.items())) for r in rows)

    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    log = os.environ.get("CARDCHECK_PARITY_LOG")
    rule_ids = sorted({r.rule_id for r in duck_results} | {r.rule_id for r in results})
    bad = []
    for rid in rule_ids:
        d = [r for r in duck_rows if r["rule_id"] == rid]
        s = [r for r in spark_rows if r["rule_id"] == rid]
        equal = canon(d) == canon(s)
        if not equal:
            bad.append((rid, d, s))
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"test": test, "rule": rid, "duckdb": len(d), "spark": len(s),
                                    "equal": equal}, ensure_ascii=False) + "\n")
    if bad:
        rid, d, s = bad[0]
        only_d = [r for r in d if canon([r])[0] not in canon(s)]
        only_s = [r for r in s if canon([r])[0] not in canon(d)]
        raise AssertionError(f"{rid}: DuckDB and Spark differ\n only DuckDB: {only_d[:3]}\n only Spark: {only_s[:3]}")


def fired(issues: list[dict], rule_id: str) -> list[dict]:
    return [i for i in issues if i["rule_id"] == rule_id]


def keys(issues: list[dict], rule_id: str) -> set[tuple]:
    return {(i["household_id"], i["id_number"]) for i in issues if i["rule_id"] == rule_id}


def pid(year: int, month: int = 6, day: int = 15, *, male: bool = True, region: str = "430624",
        seq: int | None = None) -> str:
    """A valid 18-digit ID born on year-month-day."""
    return make_id(region, dt.date(year, month, day), next(_seq) if seq is None else seq, male)


def member(household_id: str, name: str, id_number: str | None, relation: str, **kw) -> dict:
    """A member row with sensible clean defaults (adult, healthy, working, insured)."""
    row = dict(county="湘阴县", township="城西镇", village="新泉村", household_id=household_id,
               name=name, id_number=id_number, relation=relation, gender=None,
               health="健康", labor="普通劳动力", work_status="省外务工", work_months=10,
               school_status="非在校生", education_level="初中", basic_medical=True,
               serious_illness_ins=True)
    if id_number and len(id_number) in (15, 18) and row["gender"] is None:
        digit = id_number[16] if len(id_number) == 18 else id_number[14]
        if digit.isdigit():
            row["gender"] = "男" if int(digit) % 2 else "女"
    row.update(kw)
    return row


def household(household_id: str, head_name: str, **kw) -> dict:
    row = dict(county="湘阴县", township="城西镇", village="新泉村", household_id=household_id,
               head_name=head_name, size=1, category="一般贫困户", cause="缺资金",
               recognized_on=dt.date(2016, 3, 1), status="已脱贫", exit_year=2019,
               monitor_type="无", income_per_capita=12000.0, wage_income=12000.0,
               business_income=0.0, property_income=0.0, transfer_income=0.0, business_cost=0.0,
               housing_secure=True, house_grade="无", water_secure=True, relocated=False)
    row.update(kw)
    return row


def wrong_check(valid: str) -> str:
    """The same ID with a wrong check digit."""
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def db_with(members, households=()):
    """A database holding these members (and households)."""
    con = new_db()
    add(con, "members", members)
    if households:
        add(con, "households", list(households))
    return con
