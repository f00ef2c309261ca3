"""What every defect injector shares: the injection context of a period (Ctx: fresh IDs, household
picking, free helpers), the truth record (rec) and the helpers that find and edit rows."""
from __future__ import annotations

import datetime as dt
import random

from schemas.ids import check_digit, make_id

from demo.model import COUNTY_CODE, MONITOR_LINE, POVERTY_LINE, R1, R2, County, D, PeriodData, age_on, rdate


def rec(rule, hid=None, idn=None, helper=None, project=None, note="", **extra) -> dict:
    d = {"rule_id": rule, "household_id": hid, "id_number": idn, "helper_id_number": helper,
         "project_id": project, "note": note}
    d.update(extra)
    return d


class Ctx:
    def __init__(self, county: County, pd: PeriodData):
        self.c = county
        self.pd = pd
        self.ids = pd.all_ids()
        self.used_helpers: set = set()
        self.used_projects: set = set()
        self.order = list(pd.index()["order"])
        random.Random(f"{county.seed}|{pd.period}|order").shuffle(self.order)
        self.ptype = {p["project_id"]: p["type"] for p in pd.tables["projects"]}
        self.helper_cur = None

    # ---- helpers ---------------------------------------------------------
    def fresh_id(self, rng, birth=None, male=None, region=COUNTY_CODE):
        birth = birth or rdate(rng, D(1955, 1, 1), D(2000, 12, 31))
        male = rng.random() < 0.5 if male is None else male
        for _ in range(200):
            i = make_id(region, birth, rng.randrange(100), male)
            if i not in self.ids:
                self.ids.add(i)
                return i
            birth += dt.timedelta(days=1)
        raise RuntimeError("no fresh id")

    def new_id_like(self, body17):
        i = body17 + check_digit(body17)
        if i in self.ids:
            return None
        self.ids.add(i)
        return i

    def pick(self, rng, pred, exclude=()):
        if not self.order:
            return None
        start = rng.randrange(len(self.order))
        pd = self.pd
        for k in range(len(self.order)):
            hid = self.order[(start + k) % len(self.order)]
            if hid in pd.used or hid in pd.protected or hid in exclude:
                continue
            if pd.hh(hid) is None or pd.hh(hid).get("_del"):
                continue
            if pred(hid):
                return hid
        return None

    def job_benef(self, hid):
        return any(self.ptype.get(b["project_id"]) in ("就业扶贫", "公益岗位") for b in self.pd.benef(hid))

    def house_benef(self, hid):
        return any(self.ptype.get(b["project_id"]) == "危房改造" for b in self.pd.benef(hid))

    def borrower(self, idn):
        loans = self.pd.tables["loans"]
        if getattr(self, "_bkey", None) != len(loans):
            self._bkey = len(loans)
            self._bset = {r["borrower_id_number"] for r in loans if not r.get("_del")}
        return idn in self._bset

    def helper_current(self):
        cur: dict = {}
        for r in self.pd.tables["pairings"]:
            if r.get("_del"):
                continue
            if r["start_on"] <= self.pd.R and (r["end_on"] is None or r["end_on"] >= self.pd.R):
                cur.setdefault(r["helper_id_number"], []).append(r["household_id"])
        return cur

    def free_helper(self, rng, max_cur=3):
        cur = self.helper_current()
        pd = self.pd
        hs = sorted(h for h, hhs in cur.items() if len(hhs) <= max_cur and h not in self.used_helpers
                    and not any(x in pd.protected for x in hhs) and h in pd.index()["helpers"])
        if not hs:
            return None
        h = hs[rng.randrange(len(hs))]
        self.used_helpers.add(h)
        return h


def _member(pd: PeriodData, hid, pred, head=False):
    for r in pd.mem(hid):
        if r.get("_t") or r.get("_dup"):
            continue
        if (r["relation"] == "户主") != head and not (head is None):
            continue
        if not r["id_number"] or len(r["id_number"]) != 18:
            continue
        if pred(r):
            return r
    return None


def _total(h):
    return h["wage_income"] + h["business_income"] + h["property_income"] + h["transfer_income"] - h["business_cost"]


def _set_pc(h):
    h["income_per_capita"] = round(_total(h) / h["size"], 2)


def _scale_income(h, pc):
    tot_new = int(pc * h["size"])
    tot_old = _total(h)
    f = tot_new / tot_old if tot_old > 0 else 0.1
    w = h["wage_income"]
    h["wage_income"] = max(1, int(w * f)) if w > 0 else 0
    h["property_income"] = int(h["property_income"] * f)
    h["transfer_income"] = int(h["transfer_income"] * f)
    h["business_cost"] = int(h["business_cost"] * f)
    b = tot_new - h["wage_income"] - h["property_income"] - h["transfer_income"] + h["business_cost"]
    if b < 0:
        h["transfer_income"] += b
        b = 0
    h["business_income"] = b
    _set_pc(h)


def _pc_ok(h):
    """Per-capita income raises no INC issue."""
    pc = h["income_per_capita"]
    if pc is None or pc <= 0 or pc > 60000:
        return False
    if h["status"] == "已脱贫":
        return pc >= (MONITOR_LINE if h["monitor_type"] == "无" else POVERTY_LINE)
    return True


def _one_pair(pd, hid):
    ps = pd.pairs(hid)
    if len(ps) != 1 or ps[0]["end_on"] is not None:
        return None
    return ps[0]


def _touch(*rows):
    for r in rows:
        r["_t"] = True


def _plain_member(x, hid, extra=lambda r: True):
    pd = x.pd
    if pd.hh(hid)["category"] != "一般贫困户":
        return None
    return _member(pd, hid, lambda r: extra(r) and not x.borrower(r["id_number"]))


def _ages(r):
    return age_on(r["_birth"], R1), age_on(r["_birth"], R2)
