"""Defect injectors of the card's own rows of people and households: schema (SCH-02..04), identity
(ID), household make-up (HH), labour (LAB), education (EDU) and health and disability (MED)."""
from __future__ import annotations

from demo import names as N
from demo.model import DIS_CODE, LAB, NOLAB, R1, R2, D, add_years, age_on
from demo.county import make_name
from demo.tables import _row
from demo.defects_context import Ctx, _ages, _member, _one_pair, _pc_ok, _plain_member, _set_pc, _touch, rec


# Each injector: (ctx, hid, rng, prm, v) -> list of truth records, or None when the household does not fit.
# Checks come first; nothing is changed unless the injection applies.

def inj_sch02(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    if v == 0:
        h.setdefault("__raw__", {})["income_per_capita"] = "abc"
        return [rec("SCH-02", hid, note="households.income_per_capita written as 'abc'", table="households",
                    field="income_per_capita")]
    if v == 1:
        m = _member(pd, hid, lambda r: r["work_status"] == "无")
        if not m:
            return None
        m.setdefault("__raw__", {})["work_months"] = "13"
        _touch(m)
        return [rec("SCH-02", hid, m["id_number"], note="members.work_months written as 13 (outside 0..12)",
                    table="members", field="work_months")]
    h.setdefault("__raw__", {})["recognized_on"] = "2019.13.45"
    return [rec("SCH-02", hid, note="households.recognized_on written as '2019.13.45'", table="households",
                field="recognized_on")]


def _insert_after(lst, row, new, pd=None):
    if pd is not None:
        pd.register(new)
    _insert_after0(lst, row, new)


def _insert_after0(lst, row, new):
    for i, r in enumerate(lst):
        if r is row:
            lst.insert(i + 1, new)
            return
    lst.append(new)


def inj_sch03(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if v == 0:
        m = _member(pd, hid, lambda r: True)
        if not m:
            return None
        cp = dict(m)
        cp["_dup"] = True
        _insert_after(pd.tables["members"], m, cp, pd)
        _touch(m)
        return [rec("SCH-03", hid, m["id_number"], note="members row exported twice", table="members")]
    p = _one_pair(pd, hid)
    if not p:
        return None
    cp = dict(p)
    cp["_dup"] = True
    _insert_after(pd.tables["pairings"], p, cp, pd)
    return [rec("SCH-03", hid, note="pairings row exported twice", table="pairings")]


def inj_sch04(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if v == 0:
        m = _member(pd, hid, lambda r: r["relation"] in ("之子", "之女", "之孙子", "之孙女"))
        if not m:
            return None
        m["relation"] = None
        _touch(m)
        return [rec("SCH-04", hid, m["id_number"], note="members.relation empty", table="members", field="relation")]
    h = pd.hh(hid)
    if h["category"] != "一般贫困户":
        return None
    h["category"] = None
    return [rec("SCH-04", hid, note="households.category empty", table="households", field="category")]


def inj_id01(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _plain_member(x, hid)
    if not m:
        return None
    old = m["id_number"]
    if v == 0:
        new = old[:17] + rng.choice([c for c in "0123456789X" if c != old[17]])
        note = "wrong check digit; the person's agency records were removed"
    else:
        new = old[:17]
        note = "17-character ID (last character lost); the person's agency records were removed"
    pd.delete_agency(old)
    m["id_number"] = new
    _touch(m)
    return [rec("ID-01", hid, new, note=note)]


def inj_id02(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _plain_member(x, hid)
    if not m:
        return None
    old = m["id_number"]
    body = old[:10] + "0230" + old[14:17] if v == 0 else old[:6] + "2027" + old[10:17]
    new = x.new_id_like(body)
    if not new:
        return None
    pd.delete_agency(old)
    m["id_number"] = new
    _touch(m)
    return [rec("ID-02", hid, new, note="birth date 02-30 in the ID" if v == 0 else "birth year 2027 (after R)")]


def inj_id03(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _plain_member(x, hid)
    if not m:
        return None
    old = m["id_number"]
    new = x.new_id_like(("439999" if v == 0 else "990624") + old[6:17])
    if not new:
        return None
    pd.replace_id(old, new)
    _touch(m)
    return [rec("ID-03", hid, new, note="unknown region code (ID changed in every table)")]


def inj_id04(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _plain_member(x, hid, lambda r: r["relation"] != "配偶")
    if not m:
        return None
    old = m["id_number"]
    new = x.new_id_like(old[:16] + str(int(old[16]) ^ 1))
    if not new:
        return None
    pd.replace_id(old, new)
    _touch(m)
    return [rec("ID-04", hid, new, note="gender digit of the ID contradicts the recorded gender")]


def inj_id05(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if v == 0:
        m = _plain_member(x, hid, lambda r: r["relation"] not in ("配偶",))
        if not m:
            return None
        cp = {k: val for k, val in m.items() if k not in ("_t", "__raw__")}
        cp["person_no"] = m["household_id"] + "98"
        cp["phone"] = None
        pd.add("members", cp)
        _touch(m, cp)
        return [rec("ID-05", hid, m["id_number"], note="person entered twice in the household (not an exact duplicate)"),
                rec("HH-02", hid, note="size no longer equals member rows (person entered twice)")]
    m = _plain_member(x, hid, lambda r: r["work_status"] != "无" and r["school_status"] == "非在校生")
    if not m:
        return None

    def okb(b):
        h = pd.hh(b)
        if h["category"] != "一般贫困户" or h["size"] >= 7 or h.get("__raw__"):
            return False
        t = dict(h)
        t["size"] += 1
        _set_pc(t)
        return _pc_ok(t)
    b = prm.get("partner") or x.pick(rng, okb, exclude={hid})
    if not b or pd.hh(b) is None or b in pd.used and "partner" not in prm:
        return None
    prm["partner"] = b
    hb = pd.hh(b)
    cp = {k: val for k, val in m.items() if k not in ("_t", "__raw__")}
    cp.update(household_id=b, township=hb["township"], village=hb["village"], relation="其他",
              person_no=b + "99", phone=None)
    pd.add("members", cp)
    hb["size"] += 1
    _set_pc(hb)
    _touch(m, cp)
    return [rec("ID-05", hid, m["id_number"], note=f"same person also registered in household {b}"),
            rec("ID-05", b, m["id_number"], note=f"same person also registered in household {hid}")]


def inj_id06(x: Ctx, hid, rng, prm, v):
    m = _plain_member(x, hid, lambda r: 1901 <= r["_birth"].year <= 1999)
    if not m:
        return None
    old = m["id_number"]
    m["id_number"] = old[:6] + old[8:17]
    _touch(m)
    return [rec("ID-06", hid, m["id_number"], note=f"legacy 15-digit ID (18-digit form {old} in agency data)")]


def inj_id07(x: Ctx, hid, rng, prm, v):
    m = _member(x.pd, hid, lambda r: len(r["name"]) >= 2)
    if not m:
        return None
    n = m["name"]
    m["name"] = n + "2" if v == 0 else n[0] + "\u3000" + n[1:]
    _touch(m)
    return [rec("ID-07", hid, m["id_number"], note=f"name {m['name']!r}")]


def inj_id08(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    head = pd.head(hid)
    if not head or h["head_name"] != head["name"]:
        return None
    if v == 0:
        h["head_name"] = make_name(rng, head["gender"] == "男")
        if h["head_name"] == head["name"]:
            return None
        note = "households.head_name differs from the 户主 member"
    else:
        h["head_id_number"] = x.fresh_id(rng)
        note = "households.head_id_number differs from the 户主 member"
    return [rec("ID-08", hid, note=note)]


def inj_id09(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _member(pd, hid, lambda r: bool(r["phone"]), head=None)
    if not m:
        return None
    b = prm.get("partner") or x.pick(rng, lambda b: any(r["phone"] and r["relation"] != "户主" for r in pd.mem(b)),
                                     exclude={hid})
    if not b or pd.hh(b) is None:
        return None
    mb = _member(pd, b, lambda r: bool(r["phone"]))
    if not mb:
        return None
    prm["partner"] = b
    mb["phone"] = m["phone"]
    _touch(mb)
    return [rec("ID-09", hid, note=f"phone {m['phone']} also used in household {b}", phone=m["phone"]),
            rec("ID-09", b, note=f"phone {m['phone']} also used in household {hid}", phone=m["phone"])]


def inj_hh01(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    head = pd.head(hid)
    if not head:
        return None
    if v == 0:
        head["relation"] = "其他"
        _touch(head)
        return [rec("HH-01", hid, note="no member with relation 户主")]
    sp = _member(pd, hid, lambda r: r["relation"] == "配偶")
    if not sp:
        return None
    sp["relation"] = "户主"
    _touch(sp)
    return [rec("HH-01", hid, note="two members with relation 户主")]


def inj_hh02(x: Ctx, hid, rng, prm, v):
    h = x.pd.hh(hid)
    if h["size"] < 2:
        return None
    t = dict(h)
    t["size"] -= 1
    _set_pc(t)
    if not _pc_ok(t):
        return None
    h["size"] -= 1
    _set_pc(h)
    return [rec("HH-02", hid, note="households.size one less than member rows")]


def inj_hh03(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    mem = pd.mem(hid)
    if h["category"] != "一般贫困户" or pd.loans(hid) or x.job_benef(hid) or x.house_benef(hid):
        return None
    if v == 0 and h["cause"] in ("因病", "因残", "因学"):
        return None
    if any(pd.ag("housing", m["id_number"]) for m in mem):
        return None
    if v == 0:
        for m in mem:
            m["_del"] = True
        return [rec("HH-03", hid, note="household row without member rows"),
                rec("HH-01", hid, note="no 户主 (no members at all)"),
                rec("HH-02", hid, note="size > 0 but no member rows")]
    if not any(m["work_status"] != "无" for m in mem):
        return None
    h["_del"] = True
    for p in pd.pairs(hid):
        p["_del"] = True
    for b in pd.benef(hid):
        b["_del"] = True
    return [rec("HH-03", hid, note="member rows without a households row (its pairings removed too)")]


def inj_hh04(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    head = pd.head(hid)
    if not head:
        return None
    if v == 0:
        sp = _member(pd, hid, lambda r: r["relation"] == "配偶" and r["_birth"] < add_years(head["_birth"], 15))
        if not sp:
            return None
        sp["relation"] = "之子" if sp["gender"] == "男" else "之女"
        _touch(sp)
        return [rec("HH-04", hid, sp["id_number"], note="spouse recorded as child (not 15 years younger)")]
    ch = _member(pd, hid, lambda r: r["relation"] in ("之子", "之女"))
    if not ch:
        return None
    ch["relation"] = "之父" if ch["relation"] == "之子" else "之母"
    _touch(ch)
    return [rec("HH-04", hid, ch["id_number"], note="child recorded as parent (not 15 years older)")]


def inj_hh05(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    head = pd.head(hid)
    sp = _member(pd, hid, lambda r: r["relation"] == "配偶")
    if not head or not sp:
        return None
    if v == 0:
        ch = _member(pd, hid, lambda r: r["relation"] in ("之子", "之女") and pd.age(r) >= 18)
        if not ch:
            return None
        ch["relation"] = "配偶"
        _touch(ch)
        return [rec("HH-05", hid, note="two members with relation 配偶")]
    old = sp["id_number"]
    new = x.new_id_like(old[:16] + str(int(old[16]) ^ 1))
    if not new:
        return None
    pd.replace_id(old, new)
    sp["gender"] = head["gender"]
    _touch(sp)
    return [rec("HH-05", hid, note="spouse of the same gender as the head (gender and ID both changed)")]


def inj_hh06(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    mem = pd.mem(hid)
    head = pd.head(hid)
    if not head or any(r["relation"] not in ("户主", "配偶", "之子", "之女") for r in mem):
        return None
    kids = [r for r in mem if r["relation"] in ("之子", "之女") and age_on(r["_birth"], R2) <= 15
            and age_on(r["_birth"], R1) >= 3 and len(r["id_number"]) == 18]
    if not kids:
        return None
    c = kids[0]
    for r in mem:
        if r["relation"] in ("户主", "配偶") and add_years(r["_birth"], 15) > c["_birth"]:
            return None
    for r in mem:
        if r is c:
            continue
        if r["relation"] in ("户主", "配偶"):
            r["relation"] = "之父" if r["gender"] == "男" else "之母"
        else:
            r["relation"] = "之兄弟姐妹"
    c["relation"] = "户主"
    h = pd.hh(hid)
    h["head_name"], h["head_id_number"] = c["name"], c["id_number"]
    _touch(*mem)
    return [rec("HH-06", hid, note=f"a child aged {pd.age(c)} recorded as head", person=c["id_number"])]


def inj_hh07(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    vs = next(vs for t, _, vs in x.c.townships if t == h["township"])
    others = [v2 for v2 in vs if v2 != h["village"]]
    m = _member(pd, hid, lambda r: True)
    if not m or not others:
        return None
    m["village"] = others[0]
    _touch(m)
    return [rec("HH-07", hid, note=f"one member recorded in village {others[0]}")]


def inj_hh08(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    rel = "之子" if v == 0 else "之女"
    m = _member(pd, hid, lambda r: r["relation"] == rel)
    if not m:
        return None
    old = m["id_number"]
    new = x.new_id_like(old[:16] + str(int(old[16]) ^ 1))
    if not new:
        return None
    pd.replace_id(old, new)
    m["gender"] = "女" if m["gender"] == "男" else "男"
    _touch(m)
    return [rec("HH-08", hid, new, note=f"{rel} recorded as {m['gender']} (ID agrees)")]


def inj_hh09(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    h = pd.hh(hid)
    mem = pd.mem(hid)
    if v == 0:
        if any(r["health"] in ("长期慢性病", "患有大病") for r in mem):
            return None
        h["cause"] = "因病"
    elif v == 1:
        if any(r["school_status"] != "非在校生" for r in mem):
            return None
        h["cause"] = "因学"
    else:
        if any(r["health"] == "残疾" for r in mem):
            return None
        h["cause"] = "因残"
    return [rec("HH-09", hid, note=f"cause {h['cause']} without a matching member")]


def inj_lab01(x: Ctx, hid, rng, prm, v):
    m = _member(x.pd, hid, lambda r: 6 <= _ages(r)[0] and _ages(r)[1] <= 15)
    if not m:
        return None
    if v == 0:
        m["labor"] = "普通劳动力"
    else:
        m["labor"], m["work_status"], m["work_months"] = "弱劳动力或半劳动力", "乡镇内务工", 6
    _touch(m)
    return [rec("LAB-01", hid, m["id_number"], note=f"child with labor {m['labor']}")]


def inj_lab02(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    heavy = {r["id_number"] for r in pd.tables["disability"] if r["grade"] in ("一级", "二级")}
    m = _member(pd, hid, lambda r: _ages(r)[0] >= 66 and r["id_number"] not in heavy and r["labor"] not in LAB,
                head=None)
    if not m:
        return None
    m["labor"] = "普通劳动力"
    _touch(m)
    return [rec("LAB-02", hid, m["id_number"], note="aged 66+ with 普通劳动力")]


def inj_lab03(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    mem = pd.mem(hid)
    m = _member(pd, hid, lambda r: 18 <= _ages(r)[0] and _ages(r)[1] <= 58 and r["health"] == "健康"
                and r["school_status"] == "非在校生" and r["labor"] in LAB and r["work_status"] == "无", head=None)
    if not m:
        return None
    if pd.hh(hid)["category"] == "一般贫困户" and not any(r["labor"] not in NOLAB for r in mem if r is not m):
        return None
    m["labor"] = "无劳动力"
    _touch(m)
    return [rec("LAB-03", hid, m["id_number"], note="healthy working-age non-student with 无劳动力")]


def inj_lab04(x: Ctx, hid, rng, prm, v):
    if v == 0:
        m = _member(x.pd, hid, lambda r: r["work_status"] != "无", head=None)
        if not m:
            return None
        m["work_months"] = 0
        note = "working with 0 months"
    else:
        m = _member(x.pd, hid, lambda r: r["work_status"] == "无" and r["labor"] in LAB, head=None)
        if not m:
            return None
        m["work_months"] = 4
        note = "not working with 4 months"
    _touch(m)
    return [rec("LAB-04", hid, m["id_number"], note=note)]


def inj_lab05(x: Ctx, hid, rng, prm, v):
    m = _member(x.pd, hid, lambda r: _ages(r)[0] >= 16 and r["school_status"] == "非在校生" and r["labor"] in NOLAB
                and (r["health"] != "健康" or _ages(r)[0] > 60), head=None)
    if not m:
        return None
    m["work_status"], m["work_months"] = "乡镇内务工", 5
    _touch(m)
    return [rec("LAB-05", hid, m["id_number"], note=f"labor {m['labor']} but working")]


def _kid(pd, hid, stages=("小学", "初中")):
    return _member(pd, hid, lambda r: 7 <= _ages(r)[0] and _ages(r)[1] <= 14 and r["school_status"] in stages
                   and any(e["enrol_status"] == "在读" for e in pd.ag("education", r["id_number"])))


def inj_edu01(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if pd.hh(hid)["cause"] == "因学":
        return None
    m = _kid(pd, hid)
    if not m:
        return None
    m["school_status"] = "非在校生"
    for e in pd.ag("education", m["id_number"]):
        e["_del"] = True
    _touch(m)
    return [rec("EDU-01", hid, m["id_number"], note="compulsory-age child recorded 非在校生 (no 学籍 row)")]


def inj_edu02(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if v == 0:
        m = _member(pd, hid, lambda r: 7 <= _ages(r)[0] and _ages(r)[1] <= 11 and r["school_status"] == "小学")
        if not m:
            return None
        m["school_status"] = "高中"
    else:
        m = _member(pd, hid, lambda r: 40 <= _ages(r)[0] <= 55 and r["school_status"] == "非在校生", head=None)
        if not m:
            return None
        m["school_status"] = "本科及以上"
    _touch(m)
    return [rec("EDU-02", hid, m["id_number"], note=f"school_status {m['school_status']} at age {pd.age(m)}")]


def inj_edu03(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _kid(pd, hid)
    if not m:
        return None
    for e in pd.ag("education", m["id_number"]):
        e["enrol_status"] = "辍学" if v == 0 else "休学"
    _touch(m)
    return [rec("EDU-03", hid, m["id_number"], note="学籍 says 辍学/休学")]


def inj_edu04(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _member(pd, hid, lambda r: 18 <= _ages(r)[0] <= 40 and r["school_status"] == "非在校生"
                and not pd.ag("education", r["id_number"]), head=None)
    if not m:
        return None
    pd.add("education", _row("education", name=m["name"], id_number=m["id_number"], school=N.SCHOOLS_COLLEGE[1],
                             stage="高职", grade="大二", enrol_status="在读"))
    _touch(m)
    return [rec("EDU-04", hid, m["id_number"], note="学籍 在读 but registry 非在校生")]


def inj_edu05(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _kid(pd, hid)
    if not m:
        return None
    for e in pd.ag("education", m["id_number"]):
        e["_del"] = True
    _touch(m)
    return [rec("EDU-05", hid, m["id_number"], note=f"registry {m['school_status']} but no 学籍 row")]


def inj_med(x: Ctx, hid, rng, prm, v, rule):
    pd = x.pd
    m = _member(pd, hid, lambda r: bool(pd.ag("medical_insurance", r["id_number"])), head=None)
    if not m:
        return None
    if rule in ("MED-01", "MED-02"):
        for r in pd.ag("medical_insurance", m["id_number"]):
            r["_del"] = True
    if rule in ("MED-01", "MED-03"):
        m["basic_medical"] = False
    _touch(m)
    return [rec(rule, hid, m["id_number"], note={"MED-01": "registry 否 and no 参保 record",
                                                   "MED-02": "registry 是 but no 参保 record",
                                                   "MED-03": "registry 否 but a 参保缴费 record"}[rule])]


def inj_med04(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if v == 0:
        m = _member(pd, hid, lambda r: r["health"] == "残疾" and bool(pd.ag("disability", r["id_number"])), head=None)
        if not m:
            return None
        for r in pd.ag("disability", m["id_number"]):
            r["_del"] = True
        note = "残疾 without a 残联 record"
    else:
        m = _member(pd, hid, lambda r: r["health"] == "健康" and not pd.ag("disability", r["id_number"]), head=None)
        if not m:
            return None
        pd.add("disability", _row("disability", name=m["name"], id_number=m["id_number"],
                                  card_number=m["id_number"] + "44", category="肢体", grade="四级",
                                  issued_on=D(2021, 5, 20)))
        note = "残联 record but health 健康"
    _touch(m)
    return [rec("MED-04", hid, m["id_number"], note=note)]


def inj_med05(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    m = _member(pd, hid, lambda r: r["health"] == "残疾" and len(pd.ag("disability", r["id_number"])) == 1, head=None)
    if not m:
        return None
    d = pd.ag("disability", m["id_number"])[0]
    code = DIS_CODE[d["category"]]
    d["card_number"] = d["card_number"][:18] + ("7" if code != "7" else "1") + d["card_number"][19:]
    _touch(m)
    return [rec("MED-05", hid, m["id_number"], note=f"card {d['card_number']} category code wrong",
                card_number=d["card_number"])]


def inj_med06(x: Ctx, hid, rng, prm, v):
    pd = x.pd
    if pd.hh(hid)["wage_income"] <= 0:
        return None
    m = _member(pd, hid, lambda r: r["health"] == "残疾" and 16 <= _ages(r)[0] and _ages(r)[1] <= 60
                and r["school_status"] == "非在校生" and len(pd.ag("disability", r["id_number"])) == 1
                and r["work_status"] == "无", head=None)
    if not m:
        return None
    d = pd.ag("disability", m["id_number"])[0]
    d["grade"] = "一级"
    d["card_number"] = d["card_number"][:19] + "1"
    m["labor"] = "普通劳动力"
    _touch(m)
    return [rec("MED-06", hid, m["id_number"], note="一级 disability with 普通劳动力")]
