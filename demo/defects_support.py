"""Defect injectors of what supports a household and what other agencies know of it: housing and
water (HOU, WAT), income (INC), helper pairings (PAIR), cross-agency records (XA), projects (PRJ)
and loans (LOAN); each injector works as described in demo.defects_card."""
from __future__ import annotations

import datetime as dt

from schemas.ids import check_digit

from demo import names as N
from demo.model import COUNTY_CODE, LAB, NOLAB, D, add_years
from demo.county import credit_code, make_name
from demo.tables import _row
from demo.defects_context import Ctx, _ages, _member, _one_pair, _plain_member, _scale_income, _touch, rec


def _has_housing(pd, hid):
    return any(pd.ag("housing", r["id_number"]) for r in pd.mem(hid))


def inj_hou(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    h = pd.hh(hid)
    head = pd.head(hid)
    if not head or len(head["id_number"]) != 18:
        return None
    if rule == "HOU-01":
        if v == 0 and h["status"] == "已脱贫":
            return None
        if v == 1 and h["status"] != "已脱贫":
            return None
        h["house_grade"] = "C" if v == 0 else "D"
        out = [rec("HOU-01", hid, note=f"house_grade {h['house_grade']} but housing_secure 是")]
        if h["status"] == "已脱贫":
            out.append(rec("HOU-02", hid, note="已脱贫 with a C/D house"))
        return out
    if rule == "HOU-02":
        if h["status"] != "已脱贫" or x.house_benef(hid):
            return None
        h["housing_secure"] = False
        return [rec("HOU-02", hid, note="已脱贫 but housing_secure 否")]
    if rule == "WAT-01":
        if h["status"] != "已脱贫":
            return None
        h["water_secure"] = False
        return [rec("WAT-01", hid, note="已脱贫 but water_secure 否")]
    if _has_housing(pd, hid):
        return None
    if rule == "HOU-05" and not h["relocated"]:
        return None
    if rule in ("HOU-03", "HOU-04") and h["relocated"]:
        return None
    spec = {"HOU-03": ("D", "未改造", None, None, None),
            "HOU-04": ("D", "已竣工", "拆除重建", 96.0, 35000),
            "HOU-05": ("C", "已竣工", "修缮加固", 90.0, 15000)}[rule]
    pd.add("housing", _row("housing", head_name=head["name"], head_id_number=head["id_number"], grade=spec[0],
                           assessed_on=D(2019, 4, 16), renovation=spec[1], method=spec[2], area_after=spec[3],
                           subsidy=spec[4], target_type="建档立卡贫困户"))
    return [rec(rule, hid, note={"HOU-03": "住建 D 级未改造 while housing_secure 是",
                                 "HOU-04": "拆除重建 96㎡ > 80㎡", "HOU-05": "relocated household in 危房改造"}[rule])]


def inj_hou06(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if "id" not in prm:
        prm["id"] = x.fresh_id(rng)
        prm["name"] = make_name(rng, int(prm["id"][16]) % 2 == 1)
    pd.add("housing", _row("housing", head_name=prm["name"], head_id_number=prm["id"], grade="C",
                           assessed_on=D(2020, 3, 9), renovation="已竣工", method="修缮加固", area_after=75.0,
                           subsidy=20000, target_type="建档立卡贫困户"))
    return [rec("HOU-06", None, prm["id"], note="危改对象 建档立卡贫困户 whose head is no member")]


def inj_inc(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    h = pd.hh(hid)
    if h.get("__raw__") or h["income_per_capita"] is None:
        return None
    if rule == "INC-01":
        if h["status"] != "已脱贫" or h["income_per_capita"] > 50000:
            return None
        h["income_per_capita"] = round(h["income_per_capita"] + 800, 2)
        return [rec("INC-01", hid, note="income_per_capita 800 元 above the identity")]
    if rule == "INC-02":
        if h["status"] != "已脱贫":
            return None
        _scale_income(h, 3500)
        return [rec("INC-02", hid, note="已脱贫 with per-capita income 3500")]
    if rule == "INC-03":
        if v == 0:
            h["business_income"] += 300 + h["property_income"]
            h["property_income"] = -300
        else:
            h["business_income"] += 150 + h["transfer_income"]
            h["transfer_income"] = -150
        return [rec("INC-03", hid, note="a negative income component")]
    if rule == "INC-04":
        if h["status"] != "已脱贫" or h["monitor_type"] != "无":
            return None
        _scale_income(h, 6000)
        return [rec("INC-04", hid, note="已脱贫, not monitored, per-capita 6000 < 7500")]
    # INC-05
    mem = pd.mem(hid)
    if x.job_benef(hid) or not any(r["labor"] in LAB and 16 <= _ages(r)[0] and _ages(r)[1] <= 60 for r in mem):
        return None
    for r in mem:
        if r["work_status"] != "无":
            r["work_status"], r["work_months"] = "无", 0
    h["business_income"] += h["wage_income"]
    h["wage_income"] = 0
    _touch(*mem)
    return [rec("INC-05", hid, note="labourers but nobody working and no wage income")]


def inj_pair01(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    p = _one_pair(pd, hid)
    if not p:
        return None
    H = p["helper_id_number"]
    if H in x.used_helpers:
        return None
    cur = x.helper_current().get(H, [])
    if any(h in pd.used or h in pd.protected for h in cur) or len(cur) > 5:
        return None
    moved = prm.get("moved")
    if moved is None:
        moved = []
        excl = set(cur)
        while len(cur) + len(moved) < 6:
            b = x.pick(rng, lambda b: _one_pair(pd, b) is not None and _one_pair(pd, b)["helper_id_number"]
                       not in x.used_helpers, exclude=excl)
            if not b:
                return None
            moved.append(b)
            excl.add(b)
    else:
        if any(pd.hh(b) is None or _one_pair(pd, b) is None for b in moved):
            return None
    x.used_helpers.add(H)
    for b in moved:
        q = _one_pair(pd, b)
        q["helper_id_number"], q["helper_name"] = H, p["helper_name"]
        pd.used.add(b)
    prm["moved"] = moved
    return [rec("PAIR-01", h, helper=H, note="helper with 6 active households") for h in sorted(set(cur) | set(moved))]


def inj_pair(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    h = pd.hh(hid)
    p = _one_pair(pd, hid)
    if not p or p["start_on"] > D(2023, 6, 30) or h.get("__raw__"):
        return None
    if rule == "PAIR-02":
        p["start_on"] = h["recognized_on"] - dt.timedelta(days=200)
        return [rec("PAIR-02", hid, note="pairing starts 200 days before recognition", helper=p["helper_id_number"])]
    if rule == "PAIR-03":
        p["end_on"] = D(2026, 8, 10)
        return [rec("PAIR-03", hid, note="the only pairing ended 2026-08-10")]
    if rule == "PAIR-04":
        if v == 0:
            p["end_on"] = D(2026, 12, 15)
            return [rec("PAIR-04", hid, helper=p["helper_id_number"], note="end_on after R")]
        s = h["recognized_on"] + dt.timedelta(days=30)
        pd.add("pairings", _row("pairings", household_id=hid, helper_id_number=p["helper_id_number"],
                                helper_name=p["helper_name"], start_on=s, end_on=s - dt.timedelta(days=100)))
        return [rec("PAIR-04", hid, helper=p["helper_id_number"], note="an extra pairing row with end_on < start_on")]
    if rule == "PAIR-05":
        mid = p["start_on"] + dt.timedelta(days=365)
        p["end_on"] = mid
        pd.add("pairings", _row("pairings", household_id=hid, helper_id_number=p["helper_id_number"],
                                helper_name=p["helper_name"], start_on=mid + dt.timedelta(days=46), end_on=None))
        return [rec("PAIR-05", hid, note="45-day gap between two spells")]
    if rule == "PAIR-08":
        if "id" not in prm:
            prm["id"] = x.fresh_id(rng)
            prm["name"] = make_name(rng, True)
        p["helper_id_number"], p["helper_name"] = prm["id"], prm["name"]
        return [rec("PAIR-08", hid, helper=prm["id"], note="pairing helper not in the helpers roster")]
    if rule == "PAIR-11":
        G = prm.get("helper") or x.free_helper(rng)
        if not G or G not in pd.index()["helpers"]:
            return None
        prm["helper"] = G
        x.used_helpers.add(G)
        pd.add("pairings", _row("pairings", household_id=hid, helper_id_number=G,
                                helper_name=pd.index()["helpers"][G]["name"],
                                start_on=max(h["recognized_on"] + dt.timedelta(days=1), D(2024, 3, 1)), end_on=None))
        return [rec("PAIR-11", hid, note="two helpers active on R", helper=G)]
    raise KeyError(rule)


def inj_pair06(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _member(pd, hid, lambda r: _ages(r)[0] >= 22 and not x.borrower(r["id_number"]), head=None)
    if not m:
        return None
    H = prm.get("helper") or x.free_helper(rng)
    if not H or H not in pd.index()["helpers"]:
        return None
    prm["helper"] = H
    x.used_helpers.add(H)
    pd.index()["helpers"][H]["id_number"] = m["id_number"]
    pd.index()["helpers"][m["id_number"]] = pd.index()["helpers"].pop(H)
    x.used_helpers.add(m["id_number"])     # the helper is keyed by its new ID now: never pick it again
    for r in pd.tables["pairings"]:
        if r["helper_id_number"] == H:
            r["helper_id_number"] = m["id_number"]
    _touch(m)
    return [rec("PAIR-06", hid, m["id_number"], helper=m["id_number"], note="a helper's ID is this member's ID")]


def inj_pair07(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    H = prm.get("helper") or x.free_helper(rng, max_cur=5)
    if not H or H not in pd.index()["helpers"]:
        return None
    prm["helper"] = H
    x.used_helpers.add(H)
    hp = pd.index()["helpers"][H]
    if v == 0:
        hp["phone"] = "0730-5123456"
        return [rec("PAIR-07", None, helper=H, note="helper phone is a landline")]
    new = H[:17] + ("0" if H[17] != "0" else "1")
    pd.replace_id(H, new)
    x.used_helpers.add(new)
    return [rec("PAIR-07", None, helper=new, note="helper ID check digit wrong (pairings carry the same ID)")]


def inj_pair09(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if "hid" not in prm:
        while True:
            u = f"{COUNTY_CODE}199{rng.randrange(10 ** 6):06d}"
            if pd.hh(u) is None:
                break
        prm["hid"] = u
    H = prm.get("helper") or x.free_helper(rng)
    if not H or H not in pd.index()["helpers"]:
        return None
    prm["helper"] = H
    pd.add("pairings", _row("pairings", household_id=prm["hid"], helper_id_number=H,
                            helper_name=pd.index()["helpers"][H]["name"], start_on=D(2021, 5, 6), end_on=None))
    return [rec("PAIR-09", prm["hid"], helper=H, note="pairing of a household_id not in households")]


def inj_pair10(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    p = _one_pair(pd, hid)
    if not p:
        return None
    H = p["helper_id_number"]
    cur = x.helper_current().get(H, [])
    if H in x.used_helpers or len(cur) > 4 or any(h in pd.used or h in pd.protected for h in cur):
        return None
    if any(len(pd.pairs(h)) != 1 for h in cur):
        return None
    x.used_helpers.add(H)
    hp = pd.index()["helpers"][H]
    rows = pd.ag("hukou", H)
    if rows:
        rows[0]["hukou_status"], rows[0]["changed_on"] = "死亡注销", D(2026, 8, 20)
    else:
        pd.add("hukou", _row("hukou", name=hp["name"], id_number=H, hukou_status="死亡注销",
                             changed_on=D(2026, 8, 20), hukou_type="非农业"))
    for h in cur:
        pd.used.add(h)
    return [rec("PAIR-10", h, helper=H, note="helper died 2026-08-20, pairing still active") for h in sorted(cur)]


def inj_xa_add(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    m = _member(pd, hid, lambda r: 22 <= _ages(r)[0] <= 60, head=None)
    if not m:
        return None
    i, n = m["id_number"], m["name"]
    if rule == "XA-01":
        pd.add("payroll", _row("payroll", name=n, id_number=i, employer=N.EMPLOYERS[v % len(N.EMPLOYERS)],
                               staff_type="事业编制", joined_on=D(2015, 7, 1), payroll_status="在职"))
        note = "member on the state payroll (在职)"
    elif rule == "XA-02":
        pd.add("businesses", _row("businesses", company=f"湘阴县{n}{N.COMPANY_WORDS[v]}有限公司",
                                  credit_code=credit_code(rng), legal_rep=n, id_number=i, capital_10k=100,
                                  founded_on=D(2022, 4, 1), reg_status="存续", company_type="有限责任公司"))
        note = "member is legal rep of a 有限责任公司 (存续)"
    elif rule == "XA-03":
        plate = prm.setdefault("plate", x.c._pools.plate())
        pd.add("vehicles", _row("vehicles", owner=n, id_number=i, plate=plate, vehicle_type="小型轿车",
                                registered_on=D(2023, 1, 12), vehicle_status="正常"))
        note = f"member owns a 小型轿车 {plate}"
    else:
        pd.add("real_estate", _row("real_estate", owner=n, id_number=i, location=f"湘阴县{N.STREETS[v]}18号3栋502",
                                   use="住宅", area=112.0, registered_on=D(2022, 9, 1), zone="城镇"))
        note = "member owns a 城镇 住宅"
    _touch(m)
    return [rec(rule, hid, i, note=note)]


def inj_xa_hukou(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    m = _member(pd, hid, lambda r: len(pd.ag("hukou", r["id_number"])) == 1)
    if not m:
        return None
    hk = pd.ag("hukou", m["id_number"])[0]
    if rule == "XA-05":
        hk["hukou_status"], hk["changed_on"] = "死亡注销", D(2026, 6, 15)
        note = "hukou 死亡注销 2026-06-15"
    elif rule == "XA-06":
        if v == 0:
            hk["hukou_status"], hk["changed_on"] = "迁出", D(2025, 3, 1)
            note = "hukou 迁出"
        else:
            hk["hukou_type"] = "非农业"
            note = "hukou type 非农业"
    else:
        hk["_del"] = True
        note = "no hukou record"
    _touch(m)
    return [rec(rule, hid, m["id_number"], note=note)]


def _civil_rows(pd, hid):
    return [r for m in pd.mem(hid) for r in pd.ag("civil_affairs", m["id_number"])]


def inj_xa0708(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    h = pd.hh(hid)
    cat = "低保贫困户" if rule == "XA-07" else "特困供养贫困户"
    if v == 0:
        rows = _civil_rows(pd, hid)
        if h["category"] != cat or not rows:
            return None
        for r in rows:
            r["_del"] = True
        return [rec(rule, hid, note=f"{cat} without an active {'农村低保' if rule == 'XA-07' else '农村特困'} record",
                    severity="error")]
    if h["category"] != "一般贫困户":
        return None
    m = _member(pd, hid, lambda r: True, head=True)
    if not m:
        return None
    pd.add("civil_affairs", _row("civil_affairs", name=m["name"], id_number=m["id_number"],
                                 aid_type="农村低保" if rule == "XA-07" else "农村特困", head_id_number=m["id_number"],
                                 start_on=D(2025, 1, 1), monthly_amount=360, township=h["township"],
                                 village=h["village"]))
    _touch(m)
    return [rec(rule, hid, note=f"一般贫困户 with an active {'农村低保' if rule == 'XA-07' else '农村特困'} record",
                severity="suspect")]


def inj_xa09(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if "id" not in prm:
        prm["id"] = x.fresh_id(rng)
        prm["name"] = make_name(rng, int(prm["id"][16]) % 2 == 1)
    t, _, vs = x.c.townships[v % len(x.c.townships)]
    pd.add("civil_affairs", _row("civil_affairs", name=prm["name"], id_number=prm["id"],
                                 aid_type="农村低保" if v == 0 else "农村特困", head_id_number=prm["id"],
                                 start_on=D(2023, 6, 1), monthly_amount=380, township=t, village=vs[0]))
    return [rec("XA-09", None, prm["id"], note="active 农村低保/特困 for a non-member")]


def inj_xa10(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _plain_member(x, hid, lambda r: len(pd.ag("hukou", r["id_number"])) == 1)
    if not m:
        return None
    old = m["id_number"]
    pos = 14 + (v % 2)
    new = None
    for d in rng.sample("0123456789", 10):
        if d == old[pos]:
            continue
        cand = old[:pos] + d + old[pos + 1:]
        if cand not in x.ids:
            new = cand
            break
    if new is None:
        return None
    if v == 2:   # near-miss: a second, equally close agency ID with the same name
        other = new[:17] + check_digit(new[:17])
        if other in x.ids:
            return None
        x.ids.add(other)
        pd.add("medical_insurance", _row("medical_insurance", name=m["name"], id_number=other, year=pd.R.year,
                                         scheme="城乡居民基本医疗保险", status="参保缴费"))
    x.ids.add(new)
    m["id_number"] = new
    _touch(m)
    if v == 2:
        return [rec("ID-01", hid, new, note=f"one digit mistyped (true ID {old}); XA-10 near-miss: two equally "
                                          f"close agency IDs with the same name, so no XA-10", true_id=old)]
    return [rec("ID-01", hid, new, note=f"one digit mistyped; agency records carry the true ID {old}", true_id=old),
            rec("XA-10", hid, new, note=f"candidate {old}", candidate=old)]


def inj_xa12(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    mem = pd.mem(hid)
    if not mem or x.job_benef(hid) or h["size"] > 3:
        return None
    for r in mem:
        a1, a2 = _ages(r)
        if not (r["school_status"] != "非在校生" or a2 < 16 or a1 > 60 or r["health"] != "健康"):
            return None
    for r in mem:
        if r["labor"] not in NOLAB:
            r["labor"] = "丧失劳动力"
        r["work_status"], r["work_months"] = "无", 0
    for r in _civil_rows(pd, hid):
        r["_del"] = True
    h["category"] = "一般贫困户"
    _touch(*mem)
    return [rec("XA-12", hid, note="no one able to work, 一般贫困户, no 低保/特困")]


def _project(x: Ctx, rng, prm, pred=lambda p: True, fresh=True):
    pd = x.pd
    pid = prm.get("project")
    rows = {p["project_id"]: p for p in pd.tables["projects"]}
    if pid:
        return rows.get(pid)
    cands = [p for p in sorted(rows) if (p not in x.used_projects or not fresh) and pred(rows[p])]
    if not cands:
        return None
    pid = cands[rng.randrange(len(cands))]
    if fresh:
        x.used_projects.add(pid)
    prm["project"] = pid
    return rows[pid]


def inj_prj(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    if rule in ("PRJ-01", "PRJ-02"):
        p = _project(x, rng, prm)
        if not p:
            return None
        if rule == "PRJ-01":
            if v == 0:
                p["content"] = None
            else:
                p["notice_url"] = "www.xiangyin.gov.cn/xxgk/fpxm.html"
            return [rec(rule, None, project=p["project_id"], note="content empty" if v == 0 else "notice_url not http(s)")]
        if v == 0:
            p["end_on"] = p["start_on"] - dt.timedelta(days=30)
        else:
            p["start_on"], p["end_on"] = D(2026, 12, 1), D(2027, 6, 30)
        return [rec(rule, None, project=p["project_id"], note="end before start" if v == 0 else "start after R")]
    if rule == "PRJ-03":
        p = _project(x, rng, prm)
        if not p:
            return None
        if "hid" not in prm:
            while True:
                u = f"{COUNTY_CODE}198{rng.randrange(10 ** 6):06d}"
                if pd.hh(u) is None:
                    break
            prm["hid"] = u
        pd.add("beneficiaries", _row("beneficiaries", project_id=p["project_id"], household_id=prm["hid"]))
        return [rec("PRJ-03", prm["hid"], project=p["project_id"], note="beneficiary household_id not in households")]
    h = pd.hh(hid)
    mem = pd.mem(hid)
    if v == 0:
        if any(r["work_status"] != "无" for r in mem) or not mem:
            return None
        p = _project(x, rng, prm, lambda p: p["type"] in ("就业扶贫", "公益岗位"), fresh=False)
        note = "就业/公益岗位 beneficiary with nobody working"
    else:
        if h["status"] == "已脱贫" or x.house_benef(hid):
            return None
        p = _project(x, rng, prm, lambda p: p["type"] == "危房改造", fresh=False)
        note = "危房改造 beneficiary with housing_secure 否"
    if not p:
        return None
    if v == 1:
        h["housing_secure"] = False
    pd.add("beneficiaries", _row("beneficiaries", project_id=p["project_id"], household_id=hid))
    return [rec("PRJ-04", hid, project=p["project_id"], note=note)]


def _loan(x: Ctx, hid, rng):
    pd = x.pd
    ls = [r for r in pd.loans(hid) if r["repay_status"] == "正常" and not r.get("_t")]
    if ls:
        return ls[0]
    m = _member(pd, hid, lambda r: 18 <= _ages(r)[0] <= 60 and r["labor"] in LAB, head=None)
    if not m:
        return None
    return pd.add("loans", _row("loans", borrower_name=m["name"], borrower_id_number=m["id_number"], household_id=hid,
                                amount=30000, issued_on=D(2025, 4, 10), due_on=D(2027, 4, 10), balance=30000,
                                repay_status="正常", purpose="养殖业", use_mode="自主发展", _hid=hid))


def inj_loan(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    if rule == "LOAN-05":
        if v == 0:
            if "id" not in prm:
                prm["id"] = x.fresh_id(rng)
                prm["name"] = make_name(rng, int(prm["id"][16]) % 2 == 1)
            pd.add("loans", _row("loans", borrower_name=prm["name"], borrower_id_number=prm["id"], household_id=None,
                                 amount=20000, issued_on=D(2025, 9, 3), due_on=D(2027, 9, 3), balance=20000,
                                 repay_status="正常", purpose="种植业", use_mode="自主发展", _hid=None))
            return [rec("LOAN-05", None, prm["id"], note="borrower is no member")]
        m = _member(pd, hid, lambda r: 18 <= _ages(r)[0] <= 60, head=None)
        if not m:
            return None
        b = prm.get("partner") or x.pick(rng, lambda b: True, exclude={hid})
        if not b or pd.hh(b) is None:
            return None
        prm["partner"] = b
        pd.add("loans", _row("loans", borrower_name=m["name"], borrower_id_number=m["id_number"], household_id=b,
                             amount=10000, issued_on=D(2025, 11, 20), due_on=D(2027, 11, 20), balance=10000,
                             repay_status="正常", purpose="养殖业", use_mode="自主发展", _hid=b))
        _touch(m)
        return [rec("LOAN-05", None, m["id_number"], note=f"loan given household {b} is not the borrower's ({hid})",
                    given_household_id=b, borrower_household_id=hid)]
    ln = _loan(x, hid, rng)
    if not ln:
        return None
    ln["_t"] = True
    if rule == "LOAN-01":
        ln["amount"] = ln["balance"] = 1000 if v == 0 else 80000
        note = f"amount {ln['amount']}"
    elif rule == "LOAN-02":
        ln["due_on"] = add_years(ln["issued_on"], 5)
        note = "term 5 years"
    elif rule == "LOAN-03":
        ln["repay_status"] = "逾期"
        note = "repay_status 逾期"
    else:
        ln["use_mode"] = "入股企业"
        note = "户贷企用 (入股企业)"
    return [rec(rule, hid, note=note, borrower_id_number=ln["borrower_id_number"])]
