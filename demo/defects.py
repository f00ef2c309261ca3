"""Which defects are injected where: the rule table (RULES), the choice of households, the defects
that persist, get fixed or appear in the second month, and the files without a required column
(SCH-01); inject_defects runs it all."""
from __future__ import annotations

import random

from schemas.tables import TABLES

from demo.model import PERIODS, County, PeriodData
from demo.defects_context import Ctx, rec
from demo.defects_card import (
    inj_edu01, inj_edu02, inj_edu03, inj_edu04, inj_edu05, inj_hh01, inj_hh02, inj_hh03, inj_hh04, inj_hh05,
    inj_hh06, inj_hh07, inj_hh08, inj_hh09, inj_id01, inj_id02, inj_id03, inj_id04, inj_id05, inj_id06,
    inj_id07, inj_id08, inj_id09, inj_lab01, inj_lab02, inj_lab03, inj_lab04, inj_lab05, inj_med, inj_med04,
    inj_med05, inj_med06, inj_sch02, inj_sch03, inj_sch04)
from demo.defects_support import (
    inj_hou, inj_hou06, inj_inc, inj_loan, inj_pair, inj_pair01, inj_pair06, inj_pair07, inj_pair09,
    inj_pair10, inj_prj, inj_xa0708, inj_xa09, inj_xa10, inj_xa12, inj_xa_add, inj_xa_hukou)


NEARMISS_TAGS = {"age6", "age16", "age16w", "gap15", "inc04", "inc01", "rebuild80", "loan1096", "helper6", "gap30"}


def _b(fn, rule):
    return lambda x, hid, rng, prm, v: fn(x, hid, rng, prm, v, rule)


# (rule, injector, variants)
RULES = [
    ("SCH-02", inj_sch02, 3), ("SCH-03", inj_sch03, 2), ("SCH-04", inj_sch04, 2),
    ("ID-01", inj_id01, 2), ("ID-02", inj_id02, 2), ("ID-03", inj_id03, 2), ("ID-04", inj_id04, 1),
    ("ID-05", inj_id05, 2), ("ID-06", inj_id06, 1), ("ID-07", inj_id07, 2), ("ID-08", inj_id08, 2),
    ("ID-09", inj_id09, 1),
    ("HH-01", inj_hh01, 2), ("HH-02", inj_hh02, 1), ("HH-03", inj_hh03, 2), ("HH-04", inj_hh04, 2),
    ("HH-05", inj_hh05, 2), ("HH-06", inj_hh06, 1), ("HH-07", inj_hh07, 1), ("HH-08", inj_hh08, 2),
    ("HH-09", inj_hh09, 3),
    ("LAB-01", inj_lab01, 2), ("LAB-02", inj_lab02, 1), ("LAB-03", inj_lab03, 1), ("LAB-04", inj_lab04, 2),
    ("LAB-05", inj_lab05, 1),
    ("EDU-01", inj_edu01, 1), ("EDU-02", inj_edu02, 2), ("EDU-03", inj_edu03, 2), ("EDU-04", inj_edu04, 1),
    ("EDU-05", inj_edu05, 1),
    ("MED-01", _b(inj_med, "MED-01"), 1), ("MED-02", _b(inj_med, "MED-02"), 1), ("MED-03", _b(inj_med, "MED-03"), 1),
    ("MED-04", inj_med04, 2), ("MED-05", inj_med05, 1), ("MED-06", inj_med06, 1),
    ("HOU-01", _b(inj_hou, "HOU-01"), 2), ("HOU-02", _b(inj_hou, "HOU-02"), 1), ("HOU-03", _b(inj_hou, "HOU-03"), 1),
    ("HOU-04", _b(inj_hou, "HOU-04"), 1), ("HOU-05", _b(inj_hou, "HOU-05"), 1), ("HOU-06", inj_hou06, 1),
    ("WAT-01", _b(inj_hou, "WAT-01"), 1),
    ("INC-01", _b(inj_inc, "INC-01"), 1), ("INC-02", _b(inj_inc, "INC-02"), 1), ("INC-03", _b(inj_inc, "INC-03"), 2),
    ("INC-04", _b(inj_inc, "INC-04"), 1), ("INC-05", _b(inj_inc, "INC-05"), 1),
    ("PAIR-01", inj_pair01, 1), ("PAIR-02", _b(inj_pair, "PAIR-02"), 1), ("PAIR-03", _b(inj_pair, "PAIR-03"), 1),
    ("PAIR-04", _b(inj_pair, "PAIR-04"), 2), ("PAIR-05", _b(inj_pair, "PAIR-05"), 1), ("PAIR-06", inj_pair06, 1),
    ("PAIR-07", inj_pair07, 2), ("PAIR-08", _b(inj_pair, "PAIR-08"), 1), ("PAIR-09", inj_pair09, 1),
    ("PAIR-10", inj_pair10, 1), ("PAIR-11", _b(inj_pair, "PAIR-11"), 1),
    ("XA-01", _b(inj_xa_add, "XA-01"), 1), ("XA-02", _b(inj_xa_add, "XA-02"), 1), ("XA-03", _b(inj_xa_add, "XA-03"), 1),
    ("XA-04", _b(inj_xa_add, "XA-04"), 1), ("XA-05", _b(inj_xa_hukou, "XA-05"), 1),
    ("XA-06", _b(inj_xa_hukou, "XA-06"), 2), ("XA-07", _b(inj_xa0708, "XA-07"), 2),
    ("XA-08", _b(inj_xa0708, "XA-08"), 2), ("XA-09", inj_xa09, 2), ("XA-10", inj_xa10, 3),
    ("XA-11", _b(inj_xa_hukou, "XA-11"), 1), ("XA-12", inj_xa12, 1),
    ("PRJ-01", _b(inj_prj, "PRJ-01"), 2), ("PRJ-02", _b(inj_prj, "PRJ-02"), 2), ("PRJ-03", _b(inj_prj, "PRJ-03"), 1),
    ("PRJ-04", _b(inj_prj, "PRJ-04"), 2),
    ("LOAN-01", _b(inj_loan, "LOAN-01"), 2), ("LOAN-02", _b(inj_loan, "LOAN-02"), 1),
    ("LOAN-03", _b(inj_loan, "LOAN-03"), 1), ("LOAN-04", _b(inj_loan, "LOAN-04"), 1),
    ("LOAN-05", _b(inj_loan, "LOAN-05"), 2),
]
ALL_RULE_IDS = (["SCH-01"] + [r for r, _, _ in RULES])
HOUSEHOLDLESS = {"HOU-06", "XA-09", "PAIR-07", "PAIR-09", "PRJ-01", "PRJ-02", "PRJ-03"}


def _apply(x: Ctx, rule, fn, v, hid, prm, salt=""):
    pd = x.pd
    rng = random.Random(f"{x.c.seed}|{rule}|{v}|{hid}|{salt}")
    if prm.get("id"):
        x.ids.add(prm["id"])
    recs = fn(x, hid, rng, prm, v)
    if not recs:
        return None
    for r in recs:
        if r["household_id"] and pd.hh(r["household_id"]) is not None:
            pd.used.add(r["household_id"])
    if hid:
        pd.used.add(hid)
    for k in ("partner",):
        if prm.get(k):
            pd.used.add(prm[k])
    pd.defects.extend(recs)
    pd.instances.append((rule, v, hid, dict(prm)))
    return recs


def _select(x: Ctx, rule, fn, v, k):
    pd = x.pd
    if rule in HOUSEHOLDLESS:
        return _apply(x, rule, fn, v, None, {"salt": f"{pd.period}{k}"}, salt=f"{pd.period}{k}")
    sel = random.Random(f"{x.c.seed}|{pd.period}|sel|{rule}|{v}|{k}")
    order = x.order
    start = sel.randrange(len(order))
    for allow_used in (False, True):
        for i in range(len(order)):
            hid = order[(start + i) % len(order)]
            if hid in pd.protected or (hid in pd.used and not allow_used):
                continue
            h = pd.hh(hid)
            if h is None or h.get("_del"):
                continue
            if _apply(x, rule, fn, v, hid, {}):
                return True
    return False


def _sch01_files(pd: PeriodData):
    loans = [r for r in pd.tables["loans"] if not r.get("_del")][:3]
    cols = [c for c in TABLES["loans"].names if c != "issued_on"]
    edu = [r for r in pd.tables["education"] if not r.get("_del")][:4]
    ecols = [c for c in TABLES["education"].names if c != "enrol_status"]
    pd.extra_files = [("小额信贷补充台账", "loans", cols, [dict(r) for r in loans]),
                      ("学籍补录名单", "education", ecols, [dict(r) for r in edu])]
    pd.defects.append(rec("SCH-01", None, note="loans file without the required column 放款日期",
                          file="小额信贷补充台账", table="loans", missing="issued_on"))
    pd.defects.append(rec("SCH-01", None, note="education file without the required column 学籍状态",
                          file="学籍补录名单", table="education", missing="enrol_status"))


def inject_defects(county: County) -> County:
    """Inject defects into both periods (in place); the truth goes to each period's ``defects``."""
    if county.defects_injected:
        return county
    county.defects_injected = True
    big = county.n_households >= 1000
    p1, p2 = (county.periods[p] for p in PERIODS)
    hh_nm = {h.hid for h in county.models[PERIODS[0]] if h.nearmiss in NEARMISS_TAGS}
    hh_nm2 = {h.hid for h in county.models[PERIODS[1]] if h.nearmiss in NEARMISS_TAGS}
    p1.protected, p2.protected = set(hh_nm), set(hh_nm2)
    x1 = Ctx(county, p1)
    for rule, fn, nv in RULES:
        n = max(nv, 3 if big else 2)
        for k in range(n):
            _select(x1, rule, fn, k % nv, k)
    _sch01_files(p1)
    # period 2: most defects persist (same household, same injection), some are fixed, some are new
    x2 = Ctx(county, p2)
    fixed_rng = random.Random(f"{county.seed}|fixed")
    for rule, v, hid, prm in p1.instances:
        if fixed_rng.random() < 0.15:
            continue
        if hid is not None and (p2.hh(hid) is None or hid in p2.used):
            continue
        fn = next(f for r, f, _ in RULES if r == rule)
        _apply(x2, rule, fn, v, hid, dict(prm), salt=prm.get("salt", ""))
    for j, (rule, fn, nv) in enumerate(RULES):
        if j % 3 == 0:
            _select(x2, rule, fn, j % nv, 100 + j)
    _sch01_files(p2)
    return county
