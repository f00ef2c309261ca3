"""Hand-built issue tables for the village workbook and feedback tests.

    con = issues_db([issue(...), ...], households=[("H1", "已脱贫", "无", 5000.0), ...])

`issues_current` has ISSUE_COLUMNS + flag; `v_hh` and `households` hold only what
pipeline.outputs.workbooks reads.
"""
from __future__ import annotations

import hashlib

import duckdb

from checks.engine import ISSUE_COLUMNS
from schemas.ids import make_id
import datetime as dt

T1, V1 = "城西镇", "新泉村"
T2, V2 = "城东镇", "旧港村"


def pid(seq: int, year: int = 1980, male: bool = True) -> str:
    return make_id("430624", dt.date(year, 6, 15), seq, male)


def issue(rule_id: str, household_id: str | None, *, township=T1, village=V1, severity="error",
          status="new", flag=None, id_number=None, person_name=None, message=None, evidence=None,
          head_name=None, period="2026-10", **kw) -> dict:
    iid = hashlib.sha256(f"{rule_id}|{household_id}|{id_number}|{person_name}|{kw.get('project_id')}"
                         .encode()).hexdigest()[:16]
    row = dict.fromkeys(ISSUE_COLUMNS)
    row.update(issue_id=iid, period=period, rule_id=rule_id, rule_name=f"{rule_id}名称", severity=severity,
               status=status, first_seen=period, county="湘阴县", township=township, village=village,
               household_id=household_id, head_name=head_name or (f"户主{household_id}" if household_id else None),
               person_name=person_name, id_number=id_number, source="registry", responsible_unit="乡镇扶贫办",
               message=message or f"{person_name or household_id}有问题，请核实",
               evidence=evidence or "{}", flag=flag)
    row.update(kw)
    return row


def issues_db(issues: list[dict], households: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    cols = ISSUE_COLUMNS + ["flag"]
    con.execute("CREATE TEMP TABLE issues_current (" + ", ".join(f'"{c}" VARCHAR' for c in cols) + ")")
    con.executemany(f"INSERT INTO issues_current VALUES ({', '.join('?' for _ in cols)})",
                    [[i.get(c) for c in cols] for i in issues])
    con.execute("CREATE TEMP TABLE households (household_id VARCHAR, status VARCHAR, monitor_type VARCHAR, "
                "income_per_capita DOUBLE, _rid BIGINT)")
    if households:
        con.executemany("INSERT INTO households VALUES (?, ?, ?, ?, ?)",
                        [(*h, n) for n, h in enumerate(households)])
    # registered households: those of the households rows, with the issue rows' geography
    con.execute("""CREATE TEMP TABLE v_hh AS
                   SELECT DISTINCT h.household_id, i.township, i.village, i.head_name
                   FROM households h LEFT JOIN issues_current i USING (household_id)""")
    return con
