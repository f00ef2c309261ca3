"""Helpers for rule tests: build small canonical tables by hand and run rules on them.

    con = new_db()
    add(con, "members", [member("H1", "张三", pid(1980, male=True), "户主", gender="男"), ...])
    issues = run(con, "2026-10", only={"ID-01"})      # list of dicts (issues_current rows)
    keys(issues, "ID-01")                               # {(household_id, id_number), ...}
"""
from __future__ import annotations

import datetime as dt
import itertools

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
    cur = con.execute("SELECT * FROM issues_current ORDER BY rule_id, household_id, id_number")
    cols = [d[0] for d in cur.description]
    out = [dict(zip(cols, r)) for r in cur.fetchall()]
    run.results = {r.rule_id: r for r in results}
    return out


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
