"""Demo data generator: a fake county's monthly data drops (two periods), with the
messiness of real exports and injected defects recorded in ``truth/<period>.json`` beside the drops.

All people, IDs, phones and places are generated; IDs are structurally valid and use
real region codes of 湘阴县 (430624) and a few neighbours.

API::

    generate_county(seed=7, n_households=3000) -> County        # clean data, both periods
    inject_defects(county) -> County                              # in place; records truth
    write_drop(county, period, out_dir, messy=True, fmt="excel") -> dict   # truth manifest
    generate_demo(root, seed=7, n_households=3000, messy=True, defects=True, fmt="excel")

This module only composes the steps; each lives in its own module, in the order data flows::

    model.py            constants, calendar, the records (Person, Household, PeriodData, County)
    names.py            surnames, given-name characters, places, schools, employers
    county.py           the clean county of the first month
    second_month.py     the same county a month later (evolve)
    tables.py           one period's canonical tables (build_tables)
    defects_context.py  what the injectors share (Ctx, rec, row helpers)
    defects_card.py     injectors SCH, ID, HH, LAB, EDU, MED
    defects_support.py  injectors HOU, WAT, INC, PAIR, XA, PRJ, LOAN
    defects.py          the injection plan of both periods (RULES, inject_defects)
    mess.py             the mess of real exports: file styles, cell spellings, row-level mess
    writers.py          sheets written as xlsx/xls/csv and the truth manifest (write_drop)

demo/ imports only ``schemas`` outside itself, and only the demo command, bench/ and tests import it.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

from demo.model import COUNTY_CODE, PERIODS, County, D, PeriodData, ref_date
from demo.county import (
    Pools, _geography, add_nearmiss_children, assign_pairings, build_nonmembers, build_projects,
    make_household, make_loans, set_income)
from demo.second_month import evolve
from demo.tables import build_tables
from demo.defects import ALL_RULE_IDS, inject_defects
from demo.writers import truth_path, write_drop


def generate_county(seed: int = 7, n_households: int = 3000) -> County:
    """The clean in-memory data of both periods (no defects, no mess)."""
    rng = random.Random(f"{seed}|county")
    pools = Pools(seed)
    towns = _geography(rng, n_households)
    c = County(seed, n_households, towns, {})
    villages = [(t, tc, v, f"{vi + 1:02d}") for t, tc, vs in towns for vi, v in enumerate(vs)]
    weights = [rng.uniform(0.5, 1.5) for _ in villages]
    seqs: dict = {}
    hhs = []
    for _ in range(n_households):
        t, tc, v, vc = rng.choices(villages, weights)[0]
        seqs[(tc, vc)] = seqs.get((tc, vc), 0) + 1
        hid = f"{COUNTY_CODE}{tc}{vc}{seqs[(tc, vc)]:04d}"
        hhs.append(make_household(rng, pools, hid, t, v))
    hhs.sort(key=lambda h: h.hid)
    # clean near-misses
    add_nearmiss_children(c, hhs, rng, pools)
    nm = [h for h in hhs if not h.nearmiss and h.status == "已脱贫" and h.monitor_type == "无"]
    for h, tag in zip(nm[:4], ("inc04", "inc01", "inc04", "inc01")):
        h.nearmiss = tag
        set_income(h, rng)
    for h in nm[4:6]:
        h.nearmiss = "rebuild80"
        h.housing = ("D", D(2018, 4, 2), "已竣工", "拆除重建", 80.0, 35000)
        h.relocated = False
    for h in hhs:
        if rng.random() < 0.12:
            make_loans(h, rng)
    # near-miss LOAN-02: a 3-year loan over a leap day (exactly 1096 days)
    for h in hhs:
        if h.loans and not h.nearmiss:
            ln = h.loans[0]
            ln["issued_on"], ln["due_on"], ln["repay_status"] = D(2025, 6, 18), D(2028, 6, 18), "正常"
            h.nearmiss = "loan1096"
            break
    assign_pairings(c, hhs, rng, pools)
    build_projects(c, hhs, rng)
    n_members = sum(len(h.members) for h in hhs)
    build_nonmembers(c, rng, pools, n_members)
    c.models[PERIODS[0]] = hhs
    c.models[PERIODS[1]] = evolve(c, hhs, random.Random(f"{seed}|evolve"), pools)
    c._pools = pools
    for p in PERIODS:
        c.periods[p] = build_tables(c, p)
    return c


def generate_demo(root: Path, seed: int = 7, n_households: int = 3000, *, messy: bool = True,
                  defects: bool = True, fmt: str = "excel") -> list[Path]:
    """Write root/<period>/ for the two periods; returns the drop directories."""
    root = Path(root)
    county = generate_county(seed, n_households)
    if defects:
        inject_defects(county)
    out = []
    for p in PERIODS:
        d = root / p
        if d.is_dir():          # a fresh drop: a file left by an earlier generation is not this county's
            shutil.rmtree(d)
        write_drop(county, p, d, messy=messy, fmt=fmt)
        out.append(d)
    return out


__all__ = ["ALL_RULE_IDS", "PERIODS", "County", "PeriodData", "generate_county", "generate_demo",
           "inject_defects", "ref_date", "truth_path", "write_drop"]
