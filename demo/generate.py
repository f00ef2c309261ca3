"""Demo data generator: a fake county's monthly data drops (two periods), with the
messiness of real exports and injected defects recorded in ``truth/<period>.json`` beside the drops.

All people, IDs, phones and places are generated; IDs are structurally valid and use
real region codes of 湘阴县 (430624) and a few neighbours.

API::

    generate_county(seed=7, n_households=3000) -> County        # clean data, both periods
    inject_defects(county) -> County                              # in place; records truth
    write_drop(county, period, out_dir, messy=True, fmt="excel") -> dict   # truth manifest
    generate_demo(root, seed=7, n_households=3000, messy=True, defects=True, fmt="excel")
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from schemas.ids import check_digit, make_id, region_codes
from schemas.tables import TABLES, Col, Table

from demo import names as N
from demo.model import (
    COUNTY, COUNTY_CODE, DIS_CODE, GRADE_CODE, LAB, MONITOR_LINE, NEIGHBOURS, NOLAB, PERIODS, PERSON_COL,
    POVERTY_LINE, R1, R2, SEP1, TABLE_ORDER, County, D, Household, PeriodData, Person, add_years, age_on,
    birth_for_age, rdate, ref_date)


# ---------------------------------------------------------------------------
# pools
# ---------------------------------------------------------------------------

class Pools:
    def __init__(self, seed):
        self.rng = random.Random(f"{seed}|pools")
        self.ids: set = set()
        self.phones: set = set()
        self.plates: set = set()
        codes = set(region_codes())
        self.regions = [COUNTY_CODE] + [c for c in NEIGHBOURS if c in codes]

    def new_id(self, birth: D, male: bool, region: str | None = None) -> str:
        rng = self.rng
        if region is None:
            region = COUNTY_CODE if rng.random() < 0.86 else rng.choice(self.regions[1:])
        for _ in range(60):
            i = make_id(region, birth, rng.randrange(100), male)
            if i not in self.ids:
                self.ids.add(i)
                return i
        return self.new_id(birth + dt.timedelta(days=1), male, region)

    def phone(self) -> str:
        rng = self.rng
        while True:
            p = "1" + rng.choice("35789") + rng.choice("0123456789") + f"{rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def plate(self) -> str:
        rng = self.rng
        while True:
            p = "湘F" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") + f"{rng.randrange(10**4):04d}"
            if p not in self.plates:
                self.plates.add(p)
                return p


def make_name(rng: random.Random, male: bool, surname: str | None = None) -> str:
    s = surname or rng.choice(N.SURNAMES)
    chars = N.MALE_CHARS if male else N.FEMALE_CHARS
    if rng.random() < 0.72:
        return s + rng.choice(chars) + rng.choice(chars)
    return s + rng.choice(chars)


def new_person(pools: Pools, rng, birth: D, male: bool, surname=None, relation="") -> Person:
    return Person(pools.new_id(birth, male), make_name(rng, male, surname), male, birth, relation)


# ---------------------------------------------------------------------------
# person attributes (valid at both reference dates)
# ---------------------------------------------------------------------------

def derive(p: Person, rng: random.Random, town: str, village: str, pools: Pools) -> None:
    a1, a2 = age_on(p.birth, R1), age_on(p.birth, R2)
    s = age_on(p.birth, SEP1)
    if a1 >= 60:
        w = (50, 32, 8, 10)
    elif a1 >= 16:
        w = (85, 7, 3, 5)
    else:
        w = (95, 1, 1, 3)
    p.health = rng.choices(("健康", "长期慢性病", "患有大病", "残疾"), w)[0]
    if p.health == "残疾":
        grade = rng.choices(("一级", "二级", "三级", "四级"), (10, 20, 35, 35))[0]
        p.disab = (rng.choice(tuple(DIS_CODE)), grade,
                   rdate(rng, max(add_years(p.birth, 1), D(2008, 1, 1)), D(2026, 6, 30)))
    heavy = bool(p.disab and p.disab[1] in ("一级", "二级"))
    # school
    st = "非在校生"
    if s <= 2:
        st = "非在校生"
    elif s <= 5:
        st = "学前教育"
    elif s <= 11:
        st = "小学"
    elif s <= 14:
        st = "初中"
    elif s == 15:
        st = rng.choices(("高中", "中职"), (80, 20))[0]
    elif s <= 17:
        st = rng.choices(("高中", "中职", "非在校生"), (55, 15, 30))[0]
    elif s <= 21:
        st = rng.choices(("高职", "大专", "本科及以上", "非在校生"), (8, 8, 14, 70))[0]
    if heavy and 6 <= s <= 14 and rng.random() < 0.5:
        st = "送教上门"
    p.school_status = st
    p.school = None
    if st == "学前教育":
        p.school = (N.SCHOOLS_PRE.format(town=town), "学前", ("小班", "中班", "大班")[min(2, max(0, s - 3))])
    elif st == "小学":
        p.school = (N.SCHOOLS_PRIMARY.format(town=town), "小学", f"{s - 5}年级")
    elif st == "初中":
        p.school = (N.SCHOOLS_MIDDLE.format(town=town), "初中", ("七年级", "八年级", "九年级")[s - 12])
    elif st in ("高中", "中职"):
        sch = rng.choice(N.SCHOOLS_HIGH if st == "高中" else N.SCHOOLS_VOC)
        p.school = (sch, st, ("一年级", "二年级", "三年级")[min(2, s - 15)])
    elif st in ("高职", "大专", "本科及以上"):
        p.school = (rng.choice(N.SCHOOLS_COLLEGE), "本科" if st == "本科及以上" else "高职",
                    ("大一", "大二", "大三", "大四")[min(3, s - 18)])
    if st == "非在校生" and 18 <= s <= 22 and rng.random() < 0.3:
        p.grad = (rng.choice(N.SCHOOLS_HIGH), "高中", "三年级")
    # education level
    if st in ("学前教育",) or (st == "非在校生" and s <= 5):
        el = "学龄前儿童"
    elif st == "小学":
        el = "小学"
    elif st == "初中":
        el = "小学"
    elif st in ("高中", "中职"):
        el = "初中"
    elif st in ("高职", "大专", "本科及以上"):
        el = "高中"
    elif st == "送教上门":
        el = "文盲或半文盲"
    else:
        y = p.birth.year
        if y < 1950:
            el = rng.choices(("文盲或半文盲", "小学"), (40, 60))[0]
        elif y < 1970:
            el = rng.choices(("文盲或半文盲", "小学", "初中"), (10, 50, 40))[0]
        elif y < 1990:
            el = rng.choices(("小学", "初中", "高中"), (15, 60, 25))[0]
        else:
            el = rng.choices(("初中", "高中", "大专及以上"), (40, 40, 20))[0]
    p.education_level = el
    # labour
    student = st != "非在校生"
    if student or a1 < 16:
        p.labor, p.work_status, p.work_months = "无劳动力", "无", 0
    else:
        if a2 >= 65:
            lab = rng.choices(("弱劳动力或半劳动力", "丧失劳动力", "无劳动力"), (55, 30, 15))[0]
        elif p.health == "健康" and a1 <= 60:
            lab = rng.choices(("普通劳动力", "技能劳动力", "弱劳动力或半劳动力"), (68, 27, 5))[0]
        elif p.health == "健康":
            lab = rng.choice(("普通劳动力", "弱劳动力或半劳动力"))
        elif heavy:
            lab = rng.choices(("丧失劳动力", "无劳动力", "弱劳动力或半劳动力"), (50, 20, 30))[0]
        else:
            lab = rng.choices(("普通劳动力", "弱劳动力或半劳动力", "丧失劳动力"), (35, 45, 20))[0]
        p.labor = lab
        if lab in LAB and rng.random() < 0.8:
            p.work_status = rng.choices(("乡镇内务工", "县内乡镇外务工", "省内县外务工", "省外务工", "公益岗位"),
                                        (20, 20, 25, 30, 5))[0]
            p.work_months = rng.randint(3, 12)
        elif lab == "弱劳动力或半劳动力" and rng.random() < 0.3:
            p.work_status = rng.choice(("乡镇内务工", "公益岗位"))
            p.work_months = rng.randint(2, 10)
        else:
            p.work_status, p.work_months = "无", 0
    # agency-facing facts
    adult = a1 >= 18
    if adult and p.labor in LAB and a1 <= 65:
        x = rng.random()
        if x < 0.07:
            p.vehicle = (rng.choices(("轻型货车", "三轮汽车", "拖拉机", "普通二轮摩托车", "低速货车", "重型货车"),
                                     (25, 15, 15, 35, 8, 2))[0], pools.plate(),
                         rdate(rng, D(2012, 1, 1), D(2026, 6, 30)), "正常")
        elif x < 0.075:   # near-miss XA-03: a car that is scrapped
            p.vehicle = ("小型轿车", pools.plate(), rdate(rng, D(2008, 1, 1), D(2014, 6, 30)), "报废")
        y = rng.random()
        if y < 0.012:
            p.biz = (f"湘阴县{village}{rng.choice(N.COMPANY_WORDS)}专业合作社", credit_code(rng), rng.randint(5, 200),
                     rdate(rng, D(2013, 1, 1), D(2025, 12, 31)), "存续", "农民专业合作社")
        elif y < 0.014:   # near-miss XA-02: a company that was deregistered
            p.biz = (f"湘阴县{p.name[0]}氏{rng.choice(N.COMPANY_WORDS)}有限公司", credit_code(rng), rng.randint(10, 100),
                     rdate(rng, D(2010, 1, 1), D(2015, 12, 31)), "注销", "有限责任公司")
        if rng.random() < 0.002:   # near-miss XA-01: left the payroll
            p.payroll = (rng.choice(N.EMPLOYERS), "事业编制", rdate(rng, D(2005, 1, 1), D(2012, 1, 1)), "离职")
    p.hukou_type = "农业" if rng.random() < 0.95 else "居民"


def credit_code(rng) -> str:
    alnum = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "93" + "430624" + "".join(rng.choice(alnum) for _ in range(10))


# ---------------------------------------------------------------------------
# households
# ---------------------------------------------------------------------------

def make_family(rng, pools: Pools, town, village) -> list:
    head_age = rng.choices(range(28, 86), [1 if a < 35 else 3 if a < 45 else 5 if a < 75 else 2 for a in range(28, 86)])[0]
    head_male = rng.random() < 0.82
    hb = birth_for_age(rng, head_age)
    head = new_person(pools, rng, hb, head_male, relation="户主")
    mem = [head]
    sur = head.name[0]
    spouse = None
    if rng.random() < 0.8:
        sb = rdate(rng, add_years(hb, -6), add_years(hb, 6))
        if age_on(sb, R1) >= 20:
            spouse = new_person(pools, rng, sb, not head_male, relation="配偶")
            mem.append(spouse)
            if not head_male:
                sur = spouse.name[0]
    nkids = rng.choices((0, 1, 2, 3), (15, 35, 38, 12))[0] if head_age >= 22 else 0
    married_son = None
    for _ in range(nkids):
        cb = rdate(rng, add_years(hb, 20), add_years(hb, 38))
        if cb > R1 - dt.timedelta(days=60):
            continue
        male = rng.random() < 0.52
        ch = new_person(pools, rng, cb, male, surname=sur, relation="之子" if male else "之女")
        mem.append(ch)
        if male and married_son is None and age_on(cb, R1) >= 24 and rng.random() < 0.45:
            married_son = ch
    if married_son is not None:
        db = rdate(rng, add_years(married_son.birth, -3), add_years(married_son.birth, 4))
        if age_on(db, R1) >= 20:
            mem.append(new_person(pools, rng, db, False, relation="之儿媳"))
        for _ in range(rng.choices((0, 1, 2), (25, 45, 30))[0]):
            lo = max(add_years(married_son.birth, 20), add_years(hb, 40))
            gb = rdate(rng, lo, add_years(lo, 12))
            if gb > R1 - dt.timedelta(days=60):
                continue
            male = rng.random() < 0.52
            mem.append(new_person(pools, rng, gb, male, surname=married_son.name[0],
                                  relation="之孙子" if male else "之孙女"))
    if head_age <= 58 and rng.random() < 0.22:
        for male in (True, False):
            if rng.random() < 0.6:
                pb = rdate(rng, add_years(hb, -34), add_years(hb, -22))
                if age_on(pb, R1) <= 92:
                    mem.append(new_person(pools, rng, pb, male, surname=head.name[0] if male else None,
                                          relation="之父" if male else "之母"))
    if spouse is None and rng.random() < 0.05:
        sb = rdate(rng, add_years(hb, -8), add_years(hb, 8))
        if age_on(sb, R1) >= 18:
            male = rng.random() < 0.5
            mem.append(new_person(pools, rng, sb, male, surname=head.name[0], relation="之兄弟姐妹"))
    return mem[:8]


def finalize(h: Household, rng, keep_category=False) -> None:
    """(Re)establish every household-level invariant of clean data."""
    mem = h.members
    size = len(mem)
    head = mem[0]
    nolab = all(m.labor in NOLAB for m in mem)
    if not keep_category:
        h.category = rng.choices(("一般贫困户", "低保贫困户", "特困供养贫困户"), (76, 20, 4))[0]
    if h.category == "特困供养贫困户" and size > 2:
        h.category = "低保贫困户"
    if nolab and h.category == "一般贫困户":
        h.category = "特困供养贫困户" if size <= 2 and age_on(head.birth, R1) >= 60 else "低保贫困户"
    # cause
    opts = {"缺技术": 2, "缺资金": 2, "缺劳力": 1, "因灾": 0.5, "缺土地": 0.5, "缺水": 0.3,
            "交通条件落后": 0.5, "自身发展动力不足": 0.5, "其他": 0.3}
    if any(m.health in ("长期慢性病", "患有大病") for m in mem):
        opts["因病"] = 5
    if any(m.health == "残疾" for m in mem):
        opts["因残"] = 4
    if any(m.school_status != "非在校生" for m in mem):
        opts["因学"] = 1.5
    if not keep_category or h.cause not in opts:
        h.cause = rng.choices(list(opts), list(opts.values()))[0]
    set_income(h, rng)


def set_income(h: Household, rng, pc_target: float | None = None) -> None:
    mem = h.members
    size = len(mem)
    if pc_target is None:
        if h.status == "已脱贫":
            pc_target = rng.uniform(6200, 9000) if h.monitor_type != "无" else rng.uniform(8600, 26000)
        else:
            pc_target = rng.uniform(3000, 7000)
    total = int(pc_target * size) + 1
    if h.nearmiss == "inc04":
        total = MONITOR_LINE * size
    has_w = any(m.work_status != "无" or m.labor in LAB for m in mem)
    ws = rng.uniform(0.45, 0.75) if has_w else 0.0
    ts = rng.uniform(0.15, 0.3) if h.category != "一般贫困户" else rng.uniform(0.04, 0.12)
    ps = rng.uniform(0.0, 0.04)
    wage, transfer, prop = int(total * ws), int(total * ts), int(total * ps)
    if has_w and wage == 0:
        wage = 1
    net_b = total - wage - transfer - prop
    if net_b < 0:
        transfer += net_b
        net_b = 0
    cost = int(net_b * rng.uniform(0.1, 0.3))
    h.wage, h.business, h.prop, h.transfer, h.cost = wage, net_b + cost, prop, transfer, cost
    h.pc = round((wage + net_b + cost + prop + transfer - cost) / size, 2)
    if h.nearmiss == "inc01":
        h.pc = round(h.pc + 9.5, 2)


def make_household(rng, pools, hid, town, village) -> Household:
    mem = make_family(rng, pools, town, village)
    for p in mem:
        derive(p, rng, town, village, pools)
    head = mem[0]
    head.phone = pools.phone()
    for p in mem[1:]:
        if age_on(p.birth, R1) >= 18 and rng.random() < 0.75:
            p.phone = pools.phone()
    h = Household(hid, town, village, mem)
    h.recognized_on = rdate(rng, D(2014, 3, 1), D(2019, 10, 31))
    x = rng.random()
    if x < 0.88:
        h.status = "已脱贫"
        h.exit_year = rng.randint(max(2016, h.recognized_on.year), 2020)
    elif x < 0.95:
        h.status = "未脱贫"
    else:
        h.status = "返贫"
    h.monitor_type = "无" if h.status != "已脱贫" or rng.random() < 0.9 else \
        rng.choice(("脱贫不稳定户", "边缘易致贫户"))
    if h.status != "已脱贫" and rng.random() < 0.4:
        h.monitor_type = rng.choice(("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"))
    h.relocated = rng.random() < 0.07
    h.house_grade = rng.choices(("无", "A", "B"), (55, 30, 15))[0]
    h.house_area = float(rng.randrange(60, 200))
    if not h.relocated and rng.random() < 0.12:
        g = rng.choices(("A", "B", "C", "D"), (25, 30, 25, 20))[0]
        assessed = rdate(rng, D(2016, 1, 1), D(2020, 6, 30))
        if g in ("C", "D"):
            method = rng.choices(("修缮加固", "拆除重建", "置换"), (50, 40, 10))[0]
            area = float(rng.randrange(45, 80)) if method == "拆除重建" else float(rng.randrange(60, 150))
            h.housing = (g, assessed, "已竣工", method, area, rng.choice((10000, 15000, 20000, 25000, 35000)))
        else:
            h.housing = (g, assessed, "未改造", None, None, None)
    h.civil_start = rdate(rng, max(h.recognized_on, D(2015, 1, 1)), D(2021, 12, 31))
    h.civil_amount = rng.choice((260, 300, 330, 365, 390, 420))
    finalize(h, rng)
    return h


def make_loans(h: Household, rng) -> None:
    cands = [m for m in h.members if 18 <= age_on(m.birth, R1) <= 64 and m.labor not in NOLAB]
    if not cands:
        return
    b = cands[0]
    issued = rdate(rng, D(2024, 1, 1), D(2026, 8, 28))
    term = rng.choice((1, 2, 3, 3))
    due = add_years(issued, term)
    amount = rng.choice((5000, 10000, 20000, 30000, 40000, 50000))
    if due <= R2:
        due = add_years(issued, 3)
    h.loans.append(dict(borrower=b, amount=amount, issued_on=issued, due_on=due,
                        balance=amount if rng.random() < 0.6 else amount // 2, repay_status="正常",
                        purpose=rng.choice(("种植业", "养殖业", "加工业", "商贸流通", "其他")),
                        use_mode=rng.choice(("自主发展", "自主发展", "合作发展")),
                        give_hid=rng.random() < 0.7))
    if rng.random() < 0.3:   # an older, settled loan
        iss = rdate(rng, D(2019, 1, 1), D(2022, 6, 30))
        amt = rng.choice((10000, 20000, 50000))
        h.loans.append(dict(borrower=b, amount=amt, issued_on=iss, due_on=add_years(iss, rng.choice((1, 2, 3))),
                            balance=0, repay_status="已结清", purpose=rng.choice(("种植业", "养殖业")),
                            use_mode="自主发展", give_hid=True))


# ---------------------------------------------------------------------------
# county
# ---------------------------------------------------------------------------

def _geography(rng, n):
    n_towns = 5 if n < 1000 else rng.randint(6, 8)
    towns = list(N.TOWNSHIPS[:n_towns])
    n_vil = 30 if n < 1000 else min(60, max(30, n // 60))
    prefixes = rng.sample(N.VILLAGE_PREFIX, n_vil)
    out = []
    per = [n_vil // n_towns + (i < n_vil % n_towns) for i in range(n_towns)]
    k = 0
    for i, t in enumerate(towns):
        vs = [p + ("村" if rng.random() < 0.85 else "社区") for p in prefixes[k:k + per[i]]]
        k += per[i]
        out.append((t, f"{101 + i}", vs))
    return out


def new_helper(rng, pools: Pools, towns) -> dict:
    b = rdate(rng, D(1965, 1, 1), D(1996, 12, 31))
    male = rng.random() < 0.6
    unit, level = rng.choice(N.UNITS)
    unit = unit.format(town=rng.choice(towns)[0])
    rank = rng.choices(N.RANKS, N.RANK_WEIGHTS)[0]
    if level == "乡镇" and rank in ("厅局级", "县处级"):
        rank = "乡科级"
    return dict(name=make_name(rng, male), id_number=pools.new_id(b, male), phone=pools.phone(),
                unit=unit, unit_level=level, rank=rank, _birth=b, _male=male)


def assign_pairings(c: County, hhs: list, rng, pools) -> None:
    towns = c.townships
    order = hhs[:]
    rng.shuffle(order)
    # near-miss: helper with six households, never more than five at once
    i = 0
    current: dict = {}
    former: list = []
    two_spell = set()
    for h in order:
        if h.recognized_on <= D(2018, 12, 31) and rng.random() < 0.18:
            two_spell.add(h.hid)
    # current helpers
    while i < len(order):
        hp = new_helper(rng, pools, towns)
        c.helpers[hp["id_number"]] = hp
        k = rng.choice((2, 3, 3, 4, 4))
        for h in order[i:i + k]:
            current[h.hid] = hp["id_number"]
        i += k
    gap30_done = False
    fslots: list = []
    for h in order:
        r = h.recognized_on
        if h.hid in two_spell:
            s1 = r + dt.timedelta(days=rng.randint(0, 60))
            e1 = min(s1 + dt.timedelta(days=rng.randint(300, 1800)), D(2025, 6, 30))
            gap = rng.randint(0, 30)
            if not gap30_done:
                gap, gap30_done = 30, True
                h.nearmiss = h.nearmiss or "gap30"
            s2 = e1 + dt.timedelta(days=gap + 1)
            if not fslots:
                fh = new_helper(rng, pools, towns)
                c.helpers[fh["id_number"]] = fh
                former.append(fh["id_number"])
                fslots = [fh["id_number"]] * 3
            h.pairings = [[fslots.pop(), s1, e1], [current[h.hid], s2, None]]
        else:
            h.pairings = [[current[h.hid], r + dt.timedelta(days=rng.randint(0, 90)), None]]
    # near-miss PAIR-01: helper X with 5 current households + one ended spell
    ys = [h for h in order if h.hid in two_spell and not h.nearmiss]
    singles = [h for h in order if h.hid not in two_spell and not h.nearmiss]
    if ys and len(singles) >= 5:
        y = ys[0]
        e1 = y.pairings[0][2]
        cand = [h for h in singles if h.recognized_on < e1][:5]
        if len(cand) == 5:
            x = new_helper(rng, pools, towns)
            c.helpers[x["id_number"]] = x
            y.pairings[0][0] = x["id_number"]
            y.nearmiss = "helper6"
            for h in cand:
                h.pairings = [[x["id_number"], e1 + dt.timedelta(days=rng.randint(1, 200)), None]]
                h.nearmiss = "helper6"


def add_nearmiss_children(c, hhs, rng, pools):
    """Children exactly 6 and a worker exactly 16 on a reference date; a child exactly 15 years younger."""
    specs = [(add_years(R1, -6), "age6"), (add_years(R2, -6), "age6"), (add_years(R1, -16), "age16w"),
             (add_years(R2, -16), "age16"), (None, "gap15")]
    cands = [h for h in hhs if not h.nearmiss and 32 <= age_on(h.members[0].birth, R1) <= 45
             and len(h.members) <= 6]
    for (b, tag), h in zip(specs, cands[: len(specs)]):
        head = h.members[0]
        if b is None:
            b = add_years(head.birth, 15)
            if b > R1 - dt.timedelta(days=60):
                continue
        male = rng.random() < 0.5
        p = new_person(pools, rng, b, male, surname=head.name[0] if head.male else None,
                       relation="之子" if male else "之女")
        derive(p, rng, h.township, h.village, pools)
        if tag == "age16w":   # works, exactly 16 on R1 (birthday on R1)
            p.school_status, p.school, p.education_level = "非在校生", None, "初中"
            p.labor, p.work_status, p.work_months = "普通劳动力", "省内县外务工", 3
            p.health = "健康"
            p.disab = None
        p.disab = None if p.health != "残疾" else p.disab
        h.members.append(p)
        h.nearmiss = tag
        finalize(h, rng, keep_category=True)


def build_nonmembers(c: County, rng, pools, n_members: int):
    out = []
    towns = c.townships
    total = max(60, int(n_members * 0.32))
    for k in range(total):
        age = rng.randint(1, 90)
        male = rng.random() < 0.5
        b = birth_for_age(rng, age)
        p = new_person(pools, rng, b, male)
        t, _, vs = rng.choice(towns)
        v = rng.choice(vs)
        spec: dict = {}
        x = rng.random
        if x() < 0.75:
            st = rng.choices(("正常", "迁出", "死亡注销", "服兵役"), (82, 10, 6, 2))[0]
            spec["hukou"] = (st, None if st == "正常" else rdate(rng, D(2018, 1, 1), D(2026, 8, 31)),
                             rng.choices(("农业", "非农业", "居民"), (50, 30, 20))[0])
        if x() < 0.45:
            spec["medical_insurance"] = (rng.choice((2025, 2026)),
                                         rng.choice(("城乡居民基本医疗保险", "职工基本医疗保险")),
                                         rng.choices(("参保缴费", "暂停", "终止"), (85, 10, 5))[0])
        if 6 <= age <= 22 and x() < 0.3:
            spec["education"] = (rng.choice(N.SCHOOLS_HIGH), rng.choice(("小学", "初中", "高中")), "二年级",
                                 rng.choices(("在读", "毕业", "转出"), (70, 20, 10))[0])
        if age >= 18 and x() < 0.04:
            ended = x() < 0.3
            spec["civil_affairs"] = ("农村低保" if ended else rng.choice(("城市低保", "城市特困")),
                                     rdate(rng, D(2016, 1, 1), D(2021, 1, 1)),
                                     rdate(rng, D(2021, 2, 1), D(2025, 12, 31)) if ended else None,
                                     rng.choice((300, 420, 560)), t, v)
        if x() < 0.025:
            spec["disability"] = (rng.choice(tuple(DIS_CODE)), rng.choice(tuple(GRADE_CODE)),
                                  rdate(rng, D(2010, 1, 1), D(2026, 1, 1)))
        if age >= 25 and x() < 0.02:
            g = rng.choice("ABCD")
            spec["housing"] = (g, rdate(rng, D(2016, 1, 1), D(2024, 1, 1)),
                               rng.choice(("未改造", "在建", "已竣工")) if g in "CD" else "未改造",
                               rng.choice(("修缮加固", "拆除重建", "其他")), float(rng.randrange(60, 140)),
                               rng.choice((15000, 20000, 30000)),
                               rng.choice(("低保户", "分散供养特困人员", "贫困残疾人家庭", "其他")))
        if age >= 20 and x() < 0.06:
            spec["vehicles"] = (rng.choice(("小型轿车", "小型普通客车", "中型客车", "轻型货车")), pools.plate(),
                                rdate(rng, D(2010, 1, 1), D(2026, 6, 1)), rng.choices(("正常", "注销", "报废"), (85, 10, 5))[0])
        if age >= 22 and x() < 0.025:
            spec["businesses"] = (f"湘阴县{p.name[0]}{rng.choice(N.COMPANY_WORDS)}{rng.choice(('有限公司', '商行', '专业合作社'))}",
                                  credit_code(rng), rng.randint(10, 500), rdate(rng, D(2008, 1, 1), D(2026, 1, 1)),
                                  rng.choice(("存续", "在业", "注销", "吊销")),
                                  rng.choice(("有限责任公司", "个人独资企业", "个体工商户", "农民专业合作社", "股份有限公司")))
        if 22 <= age <= 75 and x() < 0.05:
            spec["payroll"] = (rng.choice(N.EMPLOYERS), rng.choice(("公务员", "参公人员", "事业编制", "国企管理人员")),
                               rdate(rng, D(1990, 1, 1), D(2024, 1, 1)),
                               "退休" if age > 60 else rng.choices(("在职", "离职"), (90, 10))[0])
        if age >= 22 and x() < 0.1:
            spec["real_estate"] = (f"湘阴县{rng.choice(N.STREETS)}{rng.randint(1, 300)}号" if x() < 0.6
                                   else f"湘阴县{t}{v}{rng.randint(1, 12)}组",
                                   rng.choices(("住宅", "商业", "办公", "其他"), (75, 15, 5, 5))[0],
                                   float(rng.randrange(50, 200)), rdate(rng, D(2008, 1, 1), D(2026, 6, 1)),
                                   rng.choice(("城镇", "农村")))
        if spec:
            out.append((p, spec))
    # guarantee every agency table has some non-member rows
    need = {"civil_affairs", "disability", "education", "housing", "vehicles", "businesses", "payroll", "real_estate"}
    have = set().union(*[s.keys() for _, s in out]) if out else set()
    for t in sorted(need - have):
        p, spec = out[rng.randrange(len(out))]
        b = p.birth
        if t == "civil_affairs":
            spec[t] = ("城市低保", D(2019, 3, 1), None, 420, towns[0][0], towns[0][2][0])
        elif t == "disability":
            spec[t] = ("肢体", "三级", D(2018, 5, 1))
        elif t == "education":
            spec[t] = (N.SCHOOLS_HIGH[0], "高中", "二年级", "毕业")
        elif t == "housing":
            spec[t] = ("C", D(2019, 1, 1), "已竣工", "修缮加固", 90.0, 20000, "低保户")
        elif t == "vehicles":
            spec[t] = ("小型轿车", pools.plate(), D(2020, 1, 1), "正常")
        elif t == "businesses":
            spec[t] = ("湘阴县某商贸有限公司", credit_code(rng), 100, D(2019, 1, 1), "存续", "有限责任公司")
        elif t == "payroll":
            spec[t] = (N.EMPLOYERS[0], "公务员", D(2010, 1, 1), "在职")
        elif t == "real_estate":
            spec[t] = ("湘阴县文星大道8号", "住宅", 98.0, D(2015, 1, 1), "城镇")
    c.nonmembers = out


def build_projects(c: County, hhs, rng):
    n_proj = max(8, len(hhs) // 40)
    types = ["就业扶贫", "公益岗位", "危房改造", "产业发展"] + \
        rng.choices(("产业发展", "就业扶贫", "公益岗位", "基础设施", "危房改造", "易地搬迁", "教育", "健康", "金融", "其他"),
                    (30, 10, 8, 20, 6, 4, 6, 6, 5, 5), k=n_proj - 4)
    by_town: dict = {}
    for h in hhs:
        by_town.setdefault(h.township, []).append(h)
    projects = []
    for k, typ in enumerate(types):
        t, _, vs = c.townships[k % len(c.townships)]
        v = rng.choice(vs)
        start = rdate(rng, D(2016, 3, 1), D(2025, 10, 31))
        end = min(start + dt.timedelta(days=rng.randint(60, 400)), D(2026, 9, 15))
        pid = f"XM{start.year}{COUNTY_CODE}{k + 1:04d}"
        pool = by_town.get(t, [])
        if typ in ("就业扶贫", "公益岗位"):
            pool = [h for h in pool if any(m.work_status != "无" for m in h.members)]
        bens = rng.sample(pool, min(len(pool), rng.randint(5, 25)))
        projects.append(dict(project_id=pid, name=f"{v}{typ}项目", type=typ,
                             content=f"{t}{v}{typ}：{rng.choice(('新建', '改造', '扶持', '补助'))}{rng.randint(1, 50)}处/户",
                             funds_10k=round(rng.uniform(5, 300), 1), start_on=start, end_on=end,
                             notice_url=f"http://www.xiangyin.gov.cn/xxgk/fpxm/{start.year}/{pid}.html",
                             township=t, village=v, _bens=[h.hid for h in sorted(bens, key=lambda h: h.hid)]))
    c.projects = projects


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


def evolve(c: County, hhs1, rng, pools) -> list:
    """Period 2: a month later. A few households leave, a few are new, births and deaths."""
    hhs = []
    for h in hhs1:
        h2 = copy.copy(h)
        h2.members = list(h.members)
        h2.pairings = [list(p) for p in h.pairings]
        h2.loans = list(h.loans)
        hhs.append(h2)
    n = len(hhs)
    gone: list = []       # (Person, hukou status, date)
    plain = [h for h in hhs if not h.nearmiss]
    rng.shuffle(plain)
    k_rm = max(2, n * 6 // 1000)
    removed = set()
    for h in plain[:k_rm]:
        removed.add(h.hid)
        for m in h.members:
            gone.append((m, "迁出", D(2026, 10, 9)))
    # deaths of an elderly non-head member
    k_d = max(2, n * 4 // 1000)
    deaths = 0
    for h in plain[k_rm:]:
        if deaths >= k_d:
            break
        old = [m for m in h.members[1:] if age_on(m.birth, R1) >= 72 and m.relation in ("之父", "之母", "配偶")
               and m.work_status == "无"]
        if old and len(h.members) >= 2:
            m = old[0]
            h.members = [x for x in h.members if x is not m]
            gone.append((m, "死亡注销", D(2026, 10, 5)))
            finalize(h, rng, keep_category=True)
            h.nearmiss = h.nearmiss or "p2death"
            deaths += 1
    # births
    k_b = max(2, n * 4 // 1000)
    births = 0
    for h in plain[k_rm + 40:]:
        if births >= k_b:
            break
        head = h.members[0]
        ha = age_on(head.birth, R1)
        if 24 <= ha <= 42 and any(m.relation == "配偶" for m in h.members) and len(h.members) < 7:
            rel_m, rel_f = "之子", "之女"
        elif ha >= 46 and any(m.relation == "之儿媳" for m in h.members) and len(h.members) < 7:
            rel_m, rel_f = "之孙子", "之孙女"
        else:
            continue
        male = rng.random() < 0.5
        b = D(2026, 10, rng.randint(2, 20))
        p = new_person(pools, rng, b, male, surname=head.name[0], relation=rel_m if male else rel_f)
        p.education_level, p.school_status, p.labor = "学龄前儿童", "非在校生", "无劳动力"
        h.members.append(p)
        finalize(h, rng, keep_category=True)
        h.nearmiss = h.nearmiss or "p2birth"
        births += 1
    hhs = [h for h in hhs if h.hid not in removed]
    # new households (防返贫监测: newly identified this month)
    k_n = max(2, n * 5 // 1000)
    counts: dict = {}
    for h in hhs:
        for hp, s, e in h.pairings:
            if e is None:
                counts[hp] = counts.get(hp, 0) + 1
    free = sorted(hp for hp, k in counts.items() if k <= 3)
    seqs: dict = {}
    for h in hhs:
        key = h.hid[:11]
        seqs[key] = max(seqs.get(key, 0), int(h.hid[11:]))
    for k in range(k_n):
        t, tc, vs = c.townships[k % len(c.townships)]
        vi = rng.randrange(len(vs))
        key = f"{COUNTY_CODE}{tc}{vi + 1:02d}"
        seqs[key] = seqs.get(key, 0) + 1
        h = make_household(rng, pools, f"{key}{seqs[key]:04d}", t, vs[vi])
        h.recognized_on = D(2026, 10, 8)
        h.status, h.exit_year, h.monitor_type = "未脱贫", None, "突发严重困难户"
        h.housing = None
        set_income(h, rng)
        hp = free[k % len(free)] if free else next(iter(c.helpers))
        h.pairings = [[hp, D(2026, 10, 12), None]]
        h.nearmiss = "p2new"
        hhs.append(h)
    hhs.sort(key=lambda h: h.hid)
    c._gone = gone
    return hhs


# ---------------------------------------------------------------------------
# model -> canonical table rows
# ---------------------------------------------------------------------------

_NAMES = {t: tuple(TABLES[t].names) for t in TABLES}


def _row(table: str, **kw) -> dict:
    r = dict.fromkeys(_NAMES[table])
    r.update(kw)
    return r


def build_tables(c: County, period: str) -> PeriodData:
    R = ref_date(period)
    hhs = c.models[period]
    T = {t: [] for t in TABLE_ORDER}
    members_ids = set()
    for h in hhs:
        head = h.members[0]
        T["households"].append(_row(
            "households", county=COUNTY, township=h.township, village=h.village, household_id=h.hid,
            head_name=head.name, head_id_number=head.id, size=len(h.members), category=h.category, cause=h.cause,
            recognized_on=h.recognized_on, status=h.status, exit_year=h.exit_year, monitor_type=h.monitor_type,
            income_per_capita=h.pc, wage_income=h.wage, business_income=h.business, property_income=h.prop,
            transfer_income=h.transfer, business_cost=h.cost, housing_secure=h.housing_secure,
            house_grade=h.house_grade, house_area=h.house_area, water_secure=h.water_secure, relocated=h.relocated))
        for k, m in enumerate(h.members):
            members_ids.add(m.id)
            T["members"].append(_row(
                "members", county=COUNTY, township=h.township, village=h.village, household_id=h.hid,
                person_no=f"{h.hid}{k + 1:02d}", name=m.name, id_number=m.id, gender="男" if m.male else "女",
                relation=m.relation, ethnicity=m.ethnicity, education_level=m.education_level,
                school_status=m.school_status, health=m.health, labor=m.labor, work_status=m.work_status,
                work_months=m.work_months, basic_medical=True, serious_illness_ins=True, phone=m.phone or None,
                _birth=m.birth))
            # agency rows of members
            if h.category in ("低保贫困户", "特困供养贫困户"):
                T["civil_affairs"].append(_row(
                    "civil_affairs", name=m.name, id_number=m.id,
                    aid_type="农村低保" if h.category == "低保贫困户" else "农村特困",
                    head_id_number=head.id, start_on=max(h.civil_start, m.birth), monthly_amount=h.civil_amount,
                    township=h.township, village=h.village))
            if m.disab:
                cat, grade, iss = m.disab
                T["disability"].append(_row("disability", name=m.name, id_number=m.id,
                                            card_number=m.id + DIS_CODE[cat] + GRADE_CODE[grade],
                                            category=cat, grade=grade, issued_on=iss))
            if m.school:
                T["education"].append(_row("education", name=m.name, id_number=m.id, school=m.school[0],
                                           stage=m.school[1], grade=m.school[2], enrol_status="在读"))
            if m.grad:
                T["education"].append(_row("education", name=m.name, id_number=m.id, school=m.grad[0],
                                           stage=m.grad[1], grade=m.grad[2], enrol_status="毕业"))
            T["medical_insurance"].append(_row("medical_insurance", name=m.name, id_number=m.id, year=R.year,
                                               scheme="城乡居民基本医疗保险", status="参保缴费"))
            if int(m.id[-4:-1]) % 4 == 0:
                T["medical_insurance"].append(_row("medical_insurance", name=m.name, id_number=m.id, year=R.year - 1,
                                                   scheme="城乡居民基本医疗保险", status="参保缴费"))
            T["hukou"].append(_row("hukou", name=m.name, id_number=m.id, hukou_status="正常",
                                   changed_on=m.birth if m.birth.year >= 2020 else None, hukou_type=m.hukou_type))
            if m.vehicle:
                T["vehicles"].append(_row("vehicles", owner=m.name, id_number=m.id, plate=m.vehicle[1],
                                          vehicle_type=m.vehicle[0], registered_on=m.vehicle[2],
                                          vehicle_status=m.vehicle[3]))
            if m.biz:
                T["businesses"].append(_row("businesses", company=m.biz[0], credit_code=m.biz[1], legal_rep=m.name,
                                            id_number=m.id, capital_10k=m.biz[2], founded_on=m.biz[3],
                                            reg_status=m.biz[4], company_type=m.biz[5]))
            if m.payroll:
                T["payroll"].append(_row("payroll", name=m.name, id_number=m.id, employer=m.payroll[0],
                                         staff_type=m.payroll[1], joined_on=m.payroll[2],
                                         payroll_status=m.payroll[3]))
        if int(head.id[-3:-1]) % 7 == 0:   # rural homestead registered
            T["real_estate"].append(_row("real_estate", owner=head.name, id_number=head.id,
                                         location=f"湘阴县{h.township}{h.village}{int(h.hid[-2:]) % 12 + 1}组",
                                         use="住宅", area=h.house_area, registered_on=D(2019, 8, 1), zone="农村"))
        elif int(head.id[-3:-1]) % 97 == 1:   # near-miss XA-04: a shop in town
            T["real_estate"].append(_row("real_estate", owner=head.name, id_number=head.id,
                                         location=f"湘阴县{N.STREETS[0]}{int(h.hid[-3:])}号门面",
                                         use="商业", area=36.0, registered_on=D(2021, 3, 1), zone="城镇"))
        if h.housing:
            g, ass, ren, meth, area, sub = h.housing
            T["housing"].append(_row("housing", head_name=head.name, head_id_number=head.id, grade=g,
                                     assessed_on=ass, renovation=ren, method=meth, area_after=area, subsidy=sub,
                                     target_type="建档立卡贫困户"))
        for hp, s, e in h.pairings:
            T["pairings"].append(_row("pairings", household_id=h.hid, helper_id_number=hp,
                                      helper_name=c.helpers[hp]["name"], start_on=s, end_on=e))
        for ln in h.loans:
            b = ln["borrower"]
            if b not in h.members:
                continue
            T["loans"].append(_row("loans", borrower_name=b.name, borrower_id_number=b.id,
                                   household_id=h.hid if ln["give_hid"] else None, amount=ln["amount"],
                                   issued_on=ln["issued_on"], due_on=ln["due_on"], balance=ln["balance"],
                                   repay_status=ln["repay_status"], purpose=ln["purpose"], use_mode=ln["use_mode"],
                                   _hid=h.hid))
    for hp in c.helpers.values():
        T["helpers"].append(_row("helpers", **{k: v for k, v in hp.items() if not k.startswith("_")}))
        if int(hp["id_number"][-3:-1]) % 5 < 3:
            T["hukou"].append(_row("hukou", name=hp["name"], id_number=hp["id_number"], hukou_status="正常",
                                   hukou_type="非农业"))
    present = {h.hid for h in hhs}
    for p in c.projects:
        T["projects"].append({k: v for k, v in p.items() if not k.startswith("_")})
        for hid in p["_bens"]:
            if hid in present:
                T["beneficiaries"].append(_row("beneficiaries", project_id=p["project_id"], household_id=hid))
    for p, spec in c.nonmembers:
        if p.id in members_ids:
            continue
        _nonmember_rows(T, p, spec)
    if period != PERIODS[0]:
        for p, st, d in getattr(c, "_gone", []):
            T["hukou"].append(_row("hukou", name=p.name, id_number=p.id, hukou_status=st, changed_on=d,
                                   hukou_type=p.hukou_type))
            T["medical_insurance"].append(_row("medical_insurance", name=p.name, id_number=p.id, year=R.year,
                                               scheme="城乡居民基本医疗保险", status="终止"))
    # hukou rows of members are unique; drop a helper/non-member hukou row that collides with a member ID
    for t in PERSON_COL:
        if t in ("hukou",):
            seen = set()
            rows = []
            for r in T[t]:
                if r["id_number"] in seen:
                    continue
                seen.add(r["id_number"])
                rows.append(r)
            T[t] = rows
        T[t].sort(key=lambda r: (r[PERSON_COL[t]] or ""))
    return PeriodData(period, R, T)


def _nonmember_rows(T, p: Person, spec: dict) -> None:
    for t, v in spec.items():
        if t == "hukou":
            T[t].append(_row(t, name=p.name, id_number=p.id, hukou_status=v[0], changed_on=v[1], hukou_type=v[2]))
        elif t == "medical_insurance":
            T[t].append(_row(t, name=p.name, id_number=p.id, year=v[0], scheme=v[1], status=v[2]))
        elif t == "education":
            T[t].append(_row(t, name=p.name, id_number=p.id, school=v[0], stage=v[1], grade=v[2], enrol_status=v[3]))
        elif t == "civil_affairs":
            T[t].append(_row(t, name=p.name, id_number=p.id, aid_type=v[0], head_id_number=p.id, start_on=v[1],
                             end_on=v[2], monthly_amount=v[3], township=v[4], village=v[5]))
        elif t == "disability":
            T[t].append(_row(t, name=p.name, id_number=p.id, card_number=p.id + DIS_CODE[v[0]] + GRADE_CODE[v[1]],
                             category=v[0], grade=v[1], issued_on=v[2]))
        elif t == "housing":
            T[t].append(_row(t, head_name=p.name, head_id_number=p.id, grade=v[0], assessed_on=v[1], renovation=v[2],
                             method=v[3], area_after=v[4], subsidy=v[5], target_type=v[6]))
        elif t == "vehicles":
            T[t].append(_row(t, owner=p.name, id_number=p.id, plate=v[1], vehicle_type=v[0], registered_on=v[2],
                             vehicle_status=v[3]))
        elif t == "businesses":
            T[t].append(_row(t, company=v[0], credit_code=v[1], legal_rep=p.name, id_number=p.id, capital_10k=v[2],
                             founded_on=v[3], reg_status=v[4], company_type=v[5]))
        elif t == "payroll":
            T[t].append(_row(t, name=p.name, id_number=p.id, employer=v[0], staff_type=v[1], joined_on=v[2],
                             payroll_status=v[3]))
        elif t == "real_estate":
            T[t].append(_row(t, owner=p.name, id_number=p.id, location=v[0], use=v[1], area=v[2],
                             registered_on=v[3], zone=v[4]))


# ---------------------------------------------------------------------------
# defects
# ---------------------------------------------------------------------------

NEARMISS_TAGS = {"age6", "age16", "age16w", "gap15", "inc04", "inc01", "rebuild80", "loan1096", "helper6", "gap30"}


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


def _plain_member(x, hid, extra=lambda r: True):
    pd = x.pd
    if pd.hh(hid)["category"] != "一般贫困户":
        return None
    return _member(pd, hid, lambda r: extra(r) and not x.borrower(r["id_number"]))


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


def _ages(r):
    return age_on(r["_birth"], R1), age_on(r["_birth"], R2)


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


# ---------------------------------------------------------------------------
# writer (mess)
# ---------------------------------------------------------------------------

FW = str.maketrans("0123456789", "０１２３４５６７８９")
ZW = "\u200b"
BOOLS = (("是", "否"), ("Y", "N"), ("√", "×"), ("1", "0"), ("有", "无"), ("y", "n"))
INT_SUFFIX = {"size": "人", "work_months": "个月", "exit_year": "年", "year": "年"}
EXCEL_EPOCH = D(1899, 12, 30)


def _num_text(v) -> str:
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def _plain_text(col: Col, v) -> str:
    if v is None:
        return ""
    if col.type == "date":
        return v.isoformat()
    if col.type == "bool":
        return "是" if v else "否"
    if col.type in ("num", "int"):
        return _num_text(v)
    return str(v)


@dataclass
class Style:
    titles: tuple = ()
    group: list | None = None            # [(group label or None, [cols])]; None label = vertical header
    shuffle: bool = False
    extras: tuple = ()
    alias: float = 0.0
    hdr_noise: float = 0.0
    id_mess: float = 0.0
    numeric_codes: tuple = ()
    dates: tuple = ("iso",)
    bools: tuple = (("是", "否"),)
    money: tuple = ("plain",)
    ints: tuple = ("plain",)
    text_noise: float = 0.0
    empty_rows: int = 0
    repeat_header: bool = False
    totals: tuple = ()
    sheet_index: int = 0
    first_sheet: str = ""                # "notes" | "empty"
    sheet_name: str = "Sheet1"


@dataclass
class FilePlan:
    name: str
    kind: str
    fmt: str                 # xlsx | xls | csv
    encoding: str = "utf-8"
    sheets: list = field(default_factory=list)   # [(sheet name, grid, merges)]
    data_rows: int = 0
    skipped: int = 0
    unattributable: int = 0
    sigs: list = field(default_factory=list)
    not_loaded: bool = False
    sheet: str = ""


def _label(col: Col, st: Style, rng) -> str:
    lab = col.header
    if col.aliases and rng.random() < st.alias:
        lab = rng.choice(col.aliases)
    if rng.random() < st.hdr_noise:
        k = rng.randrange(4)
        if k == 0 and len(lab) >= 3:
            i = rng.randrange(1, len(lab) - 1)
            lab = lab[:i] + "\n" + lab[i:]
        elif k == 1 and len(lab) >= 3:
            i = rng.randrange(1, len(lab) - 1)
            lab = lab[:i] + " " + lab[i:]
        elif k == 2 and "（" in lab:
            lab = lab.replace("（", "(").replace("）", ")")
        elif k == 3 and col.type == "int" and "（" not in lab:
            lab = lab + "（" + INT_SUFFIX.get(col.name, "个") + "）"
        else:
            lab = " " + lab + "\u3000"
    return lab


def _date_cell(d: D, style: str, fmtk: str):
    if style == "cell" and fmtk != "csv":
        return ("d", d)
    if style == "serial":
        n = (d - EXCEL_EPOCH).days
        return ("n", n) if fmtk != "csv" else ("s", str(n))
    if style == "slash":
        return ("s", f"{d.year}/{d.month}/{d.day}")
    if style == "dot":
        return ("s", f"{d.year}.{d.month}.{d.day}")
    if style == "compact":
        s = d.strftime("%Y%m%d")
        return ("n", int(s)) if fmtk != "csv" else ("s", s)
    if style == "cn":
        return ("s", f"{d.year}年{d.month}月{d.day}日")
    if style == "month" and d.day == 1:
        return ("s", f"{d.year}-{d.month:02d}")
    return ("s", d.isoformat())


def _id_text(v: str, rng) -> str:
    k = rng.randrange(6)
    if k == 0:
        return "'" + v
    if k == 1 and v.endswith("X"):
        return v[:-1] + "x"
    if k == 2:
        return " " + v + " "
    if k == 3 and len(v) == 18:
        return v[:6] + " " + v[6:14] + " " + v[14:]
    if k == 4:
        return v.translate(FW)
    return "\u3000" + v


def _rounded(v: str):
    f = float(f"{int(v):.14e}")
    return f, f"{int(v):.14E}"


def _cell(col: Col, v, st: Style, rng, fmtk: str, messy: bool):
    if v is None or v == "":
        return None
    t = col.type
    if not messy:
        if fmtk != "csv" and t in ("num", "int") and isinstance(v, (int, float)):
            return ("n", v)
        return ("s", _plain_text(col, v))
    if t == "date":
        return _date_cell(v, rng.choice(st.dates), fmtk)
    if t == "bool":
        y, n = rng.choice(st.bools)
        return ("s", y if v else n)
    if t in ("num", "int"):
        style = rng.choice(st.money if t == "num" else st.ints)
        if t == "num" and "元" not in col.header and style not in ("plain", "fw", "comma"):
            style = "plain"   # ¥/元 only on money columns
        if isinstance(v, (int, float)) and v < 0:
            style = "plain"
        s = _num_text(v)
        if style == "plain":
            return ("n", v) if fmtk != "csv" else ("s", s)
        if style == "comma":
            return ("s", f"{v:,.2f}" if t == "num" else f"{v:,}")
        if style == "yen":
            return ("s", "¥" + s)
        if style == "yen2":
            return ("s", "￥" + f"{v:,.2f}")
        if style == "yuan":
            return ("s", s + "元")
        if style == "fw":
            return ("s", s.translate(FW))
        if style == "suffix":
            return ("s", s + INT_SUFFIX.get(col.name, ""))
        return ("s", s)
    if t == "id":
        if rng.random() < st.id_mess:
            return ("s", _id_text(v, rng))
        return ("s", v)
    if t == "code":
        if col.name in st.numeric_codes and fmtk != "csv" and v.isdigit() and len(v) <= 15 and v[0] != "0":
            return ("n", int(v))
        return ("s", v)
    s = str(v)
    if st.text_noise and rng.random() < st.text_noise:
        k = rng.randrange(4)
        if k == 0:
            s = "\u3000" + s
        elif k == 1:
            s = s + "  "
        elif k == 2 and len(s) >= 2:
            i = rng.randrange(1, len(s))
            s = s[:i] + ZW + s[i:]
        else:
            s = ZW + s + "\u3000"
    return ("s", s)


def _sig(table: Table, cols, row, flags):
    out = []
    raw = row.get("__raw__") or {}
    for c in cols:
        if c in raw:
            out.append(("raw", raw[c]))
        else:
            out.append(row.get(c))
    if flags.get(id(row), {}).get("round"):
        out.append("ROUNDED")
    return tuple(out)


def _build_sheet(plan: FilePlan, table: Table, rows, st: Style, rng, messy, flags, fmtk, cols=None):
    cols = list(cols or table.names)
    if st.shuffle and not st.group:
        rng.shuffle(cols)
    order: list = []       # entries: canonical name or ("x", extra)
    if st.group:
        for _, gcols in st.group:
            gc = list(gcols)
            if st.shuffle:
                rng.shuffle(gc)
            order.extend(gc)
    else:
        order = cols
    order = list(order)
    for e in st.extras:
        if e == "序号":
            order.insert(0, ("x", e))
        else:
            order.insert(rng.randrange(len(order) + 1), ("x", e))
    ncol = len(order)
    colobj = {c.name: c for c in table.columns}
    labels = [e[1] if isinstance(e, tuple) else _label(colobj[e], st, rng) for e in order]
    grid: list = []
    merges: list = []
    skipped = 0
    for t in st.titles:
        r = len(grid)
        grid.append([None] * ncol)
        if fmtk == "csv":
            grid[r][0] = ("s", t)
        else:
            merges.append((r, 0, r, ncol - 1, t))
        skipped += 1
    if st.group:
        r = len(grid)
        upper = [None] * ncol
        lower = [("s", lab) for lab in labels]
        gmap = {}
        for g, gcols in st.group:
            for c in gcols:
                gmap[c] = g
        i = 0
        while i < ncol:
            e = order[i]
            g = gmap.get(e) if not isinstance(e, tuple) else None
            if g is None:     # vertical header: name in the upper cell, lower empty
                if fmtk == "csv":
                    upper[i] = ("s", labels[i])
                else:
                    merges.append((r, i, r + 1, i, labels[i]))
                lower[i] = None
                i += 1
                continue
            j = i
            while j + 1 < ncol and not isinstance(order[j + 1], tuple) and gmap.get(order[j + 1]) == g:
                j += 1
            if fmtk == "csv" or j == i:
                upper[i] = ("s", g)
            else:
                merges.append((r, i, r, j, g))
            i = j + 1
        grid.append(upper)
        grid.append(lower)
        skipped += 2
        header = lower
    else:
        header = [("s", lab) for lab in labels]
        grid.append(header)
        skipped += 1
    n = len(rows)
    empties = set(rng.sample(range(1, n), min(st.empty_rows, max(0, n - 1)))) if n > 2 else set()
    rep_at = rng.randrange(n // 3, 2 * n // 3) if st.repeat_header and n > 6 else -1
    inorder = set(e for e in order if not isinstance(e, tuple))
    canon = [c for c in table.names if c in inorder]
    data = 0
    for i, row in enumerate(rows):
        if i in empties:
            grid.append([None] * ncol)
            skipped += 1
        if i == rep_at:
            grid.append(list(header) if not st.group else [("s", lab) for lab in labels])
            skipped += 1
        raw = row.get("__raw__") or {}
        fl = flags.get(id(row), {})
        out = []
        for k, e in enumerate(order):
            if isinstance(e, tuple):
                if e[1] == "序号":
                    out.append(("n", i + 1) if fmtk != "csv" else ("s", str(i + 1)))
                elif rng.random() < 0.05:
                    out.append(("s", rng.choice(("已核实", "外出务工", "新增", "待核查"))))
                else:
                    out.append(None)
                continue
            if e in raw:
                out.append(("s", raw[e]))
                continue
            v = row.get(e)
            if fl.get("round") and e == "id_number":
                f, s = _rounded(v)
                out.append(("n", f) if fmtk != "csv" else ("s", s))
                continue
            out.append(_cell(colobj[e], v, st, rng, fmtk, messy))
        grid.append(out)
        data += 1
        key_empty = all(row.get(kc) in (None, "") for kc in table.keys)
        plan.sigs.append((_sig(table, canon, row, flags), key_empty))
        if key_empty:
            plan.unattributable += 1
    for t in st.totals:
        r = [None] * ncol
        if t == "合计":
            r[0] = ("s", "合计")
            r[-1] = ("s", f"共{n}条")
        else:
            r[0] = ("s", t)
        grid.append(r)
        skipped += 1
    plan.data_rows += data
    plan.skipped += skipped
    return grid, merges


def _build_plain(plan: FilePlan, table: Table, rows, fmtk: str, cols=None):
    """Fast path without mess: header in row 1, canonical headers, plain values."""
    cols = list(cols or table.names)
    colobj = [table.col(c) for c in cols]
    csvm = fmtk == "csv"

    def fmt_for(c: Col):
        if c.type == "date":
            return lambda v: v.isoformat()
        if c.type == "bool":
            return lambda v: "是" if v else "否"
        if c.type in ("num", "int"):
            if csvm:
                return _num_text
            return lambda v: v
        return str
    fmts = [fmt_for(c) for c in colobj]
    kinds = ["n" if (c.type in ("num", "int") and not csvm) else "s" for c in colobj]
    keyidx = [cols.index(k) for k in table.keys if k in cols]
    grid = [[c.header for c in colobj] if csvm else [("s", c.header) for c in colobj]]
    sigs = plan.sigs
    unattr = 0
    for row in rows:
        vals = [row[c] for c in cols]
        raw = row.get("__raw__")
        out = []
        for i, v in enumerate(vals):
            if raw and cols[i] in raw:
                vals[i] = ("raw", raw[cols[i]])
                out.append(raw[cols[i]] if csvm else ("s", raw[cols[i]]))
            elif v is None or v == "":
                out.append("" if csvm else None)
            elif csvm:
                out.append(fmts[i](v))
            elif kinds[i] == "n" and isinstance(v, (int, float)):
                out.append(("n", v))
            else:
                out.append(("s", _plain_text(colobj[i], v)))
        grid.append(out)
        ke = all(vals[k] in (None, "") for k in keyidx)
        unattr += ke
        sigs.append((tuple(vals), ke))
    plan.data_rows += len(rows)
    plan.skipped += 1
    plan.unattributable += unattr
    return grid, []


def _live(rows):
    return [r for r in rows if not r.get("_del")]


def _write_plan(plan: FilePlan, out_dir: Path):
    path = out_dir / plan.name
    if plan.fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        for _, grid, _ in plan.sheets:
            for r in grid:
                w.writerow(["" if c is None else c if c.__class__ is str else
                            (c[1] if c[0] == "s" else _num_text(c[1]) if c[0] == "n" else c[1].isoformat())
                            for c in r])
        data = buf.getvalue()
        enc = plan.encoding
        path.write_bytes(data.encode("utf-8-sig" if enc == "utf-8-sig" else enc))
        return
    if plan.fmt == "xls":
        import xlwt
        wb = xlwt.Workbook(encoding="utf-8")
        dstyle = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        for name, grid, merges in plan.sheets:
            ws = wb.add_sheet(name)
            covered = set()
            for r1, c1, r2, c2, text in merges:
                ws.write_merge(r1, r2, c1, c2, text)
                covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
            for ri, r in enumerate(grid):
                for ci, c in enumerate(r):
                    if c is None or (ri, ci) in covered:
                        continue
                    if c[0] == "d":
                        ws.write(ri, ci, dt.datetime(c[1].year, c[1].month, c[1].day), dstyle)
                    else:
                        ws.write(ri, ci, c[1])
        wb.save(str(path))
        return
    import xlsxwriter
    # constant_memory is much faster for big sheets but flushes rows early: not with vertical merges
    cm = not any(m[2] > m[0] for _, _, merges in plan.sheets for m in merges)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "constant_memory": cm})
    wb.set_properties({"created": dt.datetime(2026, 10, 3, 9, 0, 0), "author": "湘阴县乡村振兴局"})
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    mfmt = wb.add_format({"align": "center", "bold": True})
    for name, grid, merges in plan.sheets:
        ws = wb.add_worksheet(name)
        covered = set()
        for r1, c1, r2, c2, text in sorted(merges):
            if (r1, c1) == (r2, c2):
                ws.write_string(r1, c1, text)
            else:
                ws.merge_range(r1, c1, r2, c2, text, mfmt)
            covered.add((r1, c1))
        ws_s, ws_n, ws_d = ws.write_string, ws.write_number, ws.write_datetime
        for ri, r in enumerate(grid):
            for ci, c in enumerate(r):
                if c is None or (ri, ci) in covered:
                    continue
                k = c[0]
                if k == "s":
                    ws_s(ri, ci, c[1])
                elif k == "n":
                    ws_n(ri, ci, c[1])
                else:
                    ws_d(ri, ci, dt.datetime(c[1].year, c[1].month, c[1].day), dfmt)
    wb.close()


REG_NAMES = {"members": "家庭成员", "households": "家庭情况表", "helpers": "帮扶责任人花名册",
             "pairings": "结对帮扶关系", "projects": "扶贫项目库", "beneficiaries": "项目受益户",
             "loans": "扶贫小额信贷台账", "civil_affairs": "民政低保特困对象", "disability": "残联持证残疾人",
             "education": "学籍数据", "medical_insurance": "医保参保名单", "housing": "住建危房改造台账",
             "hukou": "公安户籍比对", "vehicles": "车辆登记信息", "businesses": "市场主体登记",
             "payroll": "财政供养人员", "real_estate": "不动产登记"}


def _messy_specs(county: County, pd: PeriodData, rng):
    """(file name, kind, fmt, encoding, Style, rows) for the realistic excel drop."""
    y, m = pd.period.split("-")
    ym = f"{y}年{int(m)}月"
    T = {t: _live(r) for t, r in pd.tables.items()}
    specs = []
    all_dates = ("cell", "serial", "iso", "slash", "dot", "compact", "cn", "month")
    txt_dates = ("iso", "slash", "dot", "compact", "cn", "month")
    # members, one file per township
    towns = [t for t, _, _ in county.townships]
    by_town: dict = {t: [] for t in towns}
    for r in T["members"]:
        by_town.setdefault(r["township"], []).append(r)
    member_styles = [
        ("xlsx", "utf-8", Style(titles=(f"{COUNTY}{ym}建档立卡人口明细表", "导出日期：" + f"{pd.R + dt.timedelta(days=3)}",
                                        "单位：湘阴县乡村振兴局"),
                               shuffle=True, extras=("序号", "备注1"), alias=0.5, hdr_noise=0.3, id_mess=0.12,
                               numeric_codes=("household_id",), bools=BOOLS[:2], ints=("plain", "suffix"),
                               text_noise=0.04, empty_rows=2, repeat_header=True, totals=("合计", "制表人：刘芳"))),
        ("csv", "gb18030", Style(titles=(f"{COUNTY}{ym}家庭成员信息",), hdr_noise=0.5, id_mess=0.1,
                                 bools=(("√", "×"),), ints=("plain", "fw"), text_noise=0.04, empty_rows=1,
                                 totals=("总计",))),
        ("xlsx", "utf-8", Style(id_mess=0.08, numeric_codes=("phone",), bools=(("1", "0"),), sheet_index=1,
                                first_sheet="notes", sheet_name="成员明细", text_noise=0.03, extras=("序号",))),
        ("csv", "utf-8-sig", Style(alias=1.0, shuffle=True, id_mess=0.1, bools=(("有", "无"), ("是", "否")),
                                   text_noise=0.03, totals=("填表人：周敏",))),
        ("xlsx", "utf-8", Style(titles=(f"{COUNTY}{ym}建档立卡人口明细表",),
                                group=[(None, ["household_id", "person_no"]),
                                       ("地址", ["county", "township", "village"]),
                                       ("基本信息", ["name", "id_number", "gender", "relation", "ethnicity", "phone"]),
                                       ("教育与健康", ["education_level", "school_status", "health"]),
                                       ("劳动与务工", ["labor", "work_status", "work_months"]),
                                       ("医疗保障", ["basic_medical", "serious_illness_ins"])],
                                shuffle=True, id_mess=0.1, numeric_codes=("household_id", "phone"),
                                bools=BOOLS, ints=("plain", "suffix", "fw"), text_noise=0.03, empty_rows=1,
                                totals=("小计",))),
    ]
    member_files = []
    for i, t in enumerate(towns):
        fmt, enc, st = member_styles[i] if i < len(member_styles) else \
            ("xlsx", "utf-8", Style(titles=(f"{t}{ym}家庭成员",), id_mess=0.08, bools=BOOLS[:3], text_noise=0.03,
                                    numeric_codes=("household_id",)))
        member_files.append([f"{REG_NAMES['members']}_{i + 1:02d}{t}.{fmt}", "members", fmt, enc, st, by_town[t]])
    specs.extend(member_files)
    hh_group = [(None, ["household_id"]),
                ("基本信息", ["county", "township", "village", "head_name", "head_id_number", "size", "category", "cause",
                          "recognized_on", "status", "exit_year", "monitor_type"]),
                ("收入情况", ["income_per_capita", "wage_income", "business_income", "property_income",
                          "transfer_income", "business_cost"]),
                ("两不愁三保障", ["housing_secure", "house_grade", "house_area", "water_secure", "relocated"])]
    specs += [
        [f"{REG_NAMES['households']}.xlsx", "households", "xlsx", "utf-8",
         Style(titles=(f"{COUNTY}{ym}建档立卡户基本情况表", "数据截至：" + pd.R.isoformat()), group=hh_group,
               shuffle=True, extras=("序号",), alias=0.4, hdr_noise=0.2, id_mess=0.08,
               numeric_codes=("household_id",), dates=all_dates, bools=BOOLS,
               money=("plain", "comma", "yen", "yen2", "yuan", "fw"), ints=("plain", "suffix", "fw"),
               text_noise=0.03, empty_rows=1, totals=("合计", "制表人：李娟  审核人：王强")), T["households"]],
        [f"{REG_NAMES['helpers']}.xls", "helpers", "xls", "utf-8",
         Style(titles=(f"{COUNTY}帮扶责任人花名册",), alias=0.5, numeric_codes=("phone",), id_mess=0.05,
               text_noise=0.03), T["helpers"]],
        [f"{REG_NAMES['pairings']}.csv", "pairings", "csv", "utf-8-sig",
         Style(dates=txt_dates, id_mess=0.08, text_noise=0.02, empty_rows=1), T["pairings"]],
        [f"{REG_NAMES['projects']}.xlsx", "projects", "xlsx", "utf-8",
         Style(dates=("cell", "serial"), money=("plain", "fw", "comma"), alias=0.5, sheet_index=1,
               first_sheet="notes", sheet_name="项目清单", extras=("备注1",)), T["projects"]],
        [f"{REG_NAMES['beneficiaries']}.xlsx", "beneficiaries", "xlsx", "utf-8",
         Style(titles=("项目受益户名单",), alias=0.5, numeric_codes=("household_id",)), T["beneficiaries"]],
        [f"{REG_NAMES['loans']}.csv", "loans", "csv", "utf-8",
         Style(dates=("cn", "compact", "slash", "iso"), money=("plain", "comma", "yen", "yen2", "yuan"),
               id_mess=0.1, text_noise=0.02, totals=("合计",)), T["loans"]],
        [f"{REG_NAMES['civil_affairs']}.xlsx", "civil_affairs", "xlsx", "utf-8",
         Style(titles=("湘阴县民政局低保特困救助对象名册", f"统计时间：{ym}"), dates=("serial", "cell", "iso"),
               money=("plain", "yuan"), id_mess=0.08, shuffle=True, text_noise=0.03), T["civil_affairs"]],
        [f"{REG_NAMES['disability']}.csv", "disability", "csv", "gb18030",
         Style(dates=("iso", "slash", "cn"), id_mess=0.08, text_noise=0.03), T["disability"]],
        [f"{REG_NAMES['education']}.xlsx", "education", "xlsx", "utf-8",
         Style(id_mess=0.15, text_noise=0.03, extras=("序号",)), T["education"]],
        [f"{REG_NAMES['medical_insurance']}.csv", "medical_insurance", "csv", "utf-8-sig",
         Style(ints=("plain", "suffix"), id_mess=0.05), T["medical_insurance"]],
        [f"{REG_NAMES['housing']}.xlsx", "housing", "xlsx", "utf-8",
         Style(titles=("农村危房改造对象台账",), group=[("户主信息", ["head_name", "head_id_number", "target_type"]),
                                                   ("鉴定信息", ["grade", "assessed_on"]),
                                                   ("改造信息", ["renovation", "method", "area_after", "subsidy"])],
               dates=("cell", "dot"), money=("plain", "comma", "yuan", "yen"), id_mess=0.08), T["housing"]],
        [f"{REG_NAMES['hukou']}.xlsx", "hukou", "xlsx", "utf-8",
         Style(titles=("公安户籍比对结果",), dates=("cell", "compact", "iso"), id_mess=0.08, text_noise=0.03,
               empty_rows=1), T["hukou"]],
        [f"{REG_NAMES['vehicles']}.xlsx", "vehicles", "xlsx", "utf-8",
         Style(dates=("cell", "iso"), id_mess=0.08, shuffle=True), T["vehicles"]],
        [f"{REG_NAMES['businesses']}.csv", "businesses", "csv", "gb18030",
         Style(dates=("cn", "iso"), money=("plain", "fw"), id_mess=0.08), T["businesses"]],
        [f"{REG_NAMES['payroll']}.xlsx", "payroll", "xlsx", "utf-8",
         Style(dates=("cell", "month", "iso"), sheet_index=1, first_sheet="empty", sheet_name="在编人员",
               id_mess=0.08), T["payroll"]],
        [f"{REG_NAMES['real_estate']}.xlsx", "real_estate", "xlsx", "utf-8",
         Style(titles=("不动产登记信息查询结果",), dates=("cell", "slash"), money=("plain", "fw"), id_mess=0.08),
         T["real_estate"]],
    ]
    return specs


def _mess_rows(county, pd: PeriodData, specs, rng, flags, mess_defects):
    """Row-level mess that creates issues (rounded IDs, duplicates) or rejected rows; recorded in the truth."""
    defect_hh = {d["household_id"] for d in pd.defects if d["household_id"]}
    loans_ids = {r["borrower_id_number"] for r in pd.tables["loans"]}
    idx = pd.index()
    member_specs = [s for s in specs if s[1] == "members"]
    xlsx_members = [s for s in member_specs if s[2] == "xlsx"]

    def clean_member(r):
        hid = r["household_id"]
        h = idx["hh"].get(hid)
        return (hid not in defect_hh and hid not in pd.protected and h is not None and not h.get("_del")
                and r["relation"] not in ("户主", None) and len(r["id_number"] or "") == 18
                and r["id_number"][-1] != "X" and r["id_number"] not in loans_ids and not r.get("_t")
                and not r.get("_dup") and h["category"] == "一般贫困户")
    used = set()
    # rounded numeric IDs (ID-01)
    n_round = 3 if county.n_households >= 1000 else 2
    for s in xlsx_members:
        rows = [r for r in s[5] if clean_member(r)]
        rng.shuffle(rows)
        for r in rows:
            if n_round <= 0:
                break
            if r["household_id"] in used:
                continue
            f, disp = _rounded(r["id_number"])
            shown = f"{int(f):d}"
            if sum(a != b for a, b in zip(shown, r["id_number"])) < 2:
                continue
            flags.setdefault(id(r), {})["round"] = True
            used.add(r["household_id"])
            mess_defects.append(rec("ID-01", r["household_id"], disp,
                                    note=f"mess: ID written as a numeric cell, rounded to 15 digits (true ID {r['id_number']})",
                                    true_id=r["id_number"], file=s[0]))
            n_round -= 1
    # exact duplicates within a member file and across two member files (SCH-03)
    first = member_specs[0]
    cands = [r for r in first[5] if clean_member(r) and r["household_id"] not in used and id(r) not in flags]
    rng.shuffle(cands)
    for r in cands[:2]:
        used.add(r["household_id"])
        rows = first[5]
        pos = next(i for i, x in enumerate(rows) if x is r)
        rows.insert(min(len(rows), pos + 1 + rng.randrange(5)), r)
        mess_defects.append(rec("SCH-03", r["household_id"], r["id_number"],
                                note=f"mess: members row exported twice in {first[0]}", table="members"))
    if len(member_specs) >= 3:
        src, dst = member_specs[0], member_specs[2]
        for r in cands[2:]:
            if r["household_id"] in used:
                continue
            used.add(r["household_id"])
            dst[5].append(r)
            mess_defects.append(rec("SCH-03", r["household_id"], r["id_number"],
                                    note=f"mess: members row of {src[0]} also exported in {dst[0]}", table="members"))
            break
    # a duplicate agency row (non-member) and rejected rows (no key at all)
    hk = next(s for s in specs if s[1] == "hukou")
    member_ids = {r["id_number"] for r in pd.tables["members"]}
    nm = [r for r in hk[5] if r["id_number"] not in member_ids and r["hukou_status"] != "正常"]
    if nm:
        r = nm[rng.randrange(len(nm))]
        hk[5] = list(hk[5])
        pos = next(i for i, x in enumerate(hk[5]) if x is r)
        hk[5].insert(pos + 1, r)
        mess_defects.append(rec("SCH-03", None, r["id_number"], note="mess: hukou row of a non-member exported twice",
                                table="hukou"))
    t0 = first[5][0]
    first[5].insert(len(first[5]) // 2, _row("members", county=COUNTY, township=t0["township"], village=t0["village"],
                                              name="待核实人员", relation="其他", gender="男"))
    hk[5].insert(len(hk[5]) // 3, _row("hukou", name="无证人员", hukou_status="正常"))
    for s in specs:
        s[5] = list(s[5])


def _plan_from_spec(spec, county, pd, rng, flags, messy):
    name, kind, fmt, enc, st, rows = spec[:6]
    cols = spec[6] if len(spec) > 6 else None
    plan = FilePlan(name, kind, fmt, enc)
    table = TABLES[kind]
    fmtk = fmt
    if messy:
        grid, merges = _build_sheet(plan, table, rows, st, rng, messy, flags, fmtk, cols)
    else:
        grid, merges = _build_plain(plan, table, rows, fmtk, cols if cols else None)
    if st.sheet_index == 1 and fmt != "csv":
        if st.first_sheet == "notes":
            notes = [[("s", "填表说明")], [("s", "1. 本表由系统导出，请勿修改表头。")],
                     [("s", "2. 数据截至" + pd.R.isoformat() + "。")], [("s", "3. 数据见第二个工作表。")]]
            plan.sheets.append(("填表说明", notes, []))
        else:
            plan.sheets.append(("Sheet1", [], []))
    plan.sheets.append((st.sheet_name, grid, merges))
    plan.sheet = st.sheet_name
    return plan


def write_drop(county: County, period: str, out_dir: Path, *, messy: bool = True, fmt: str = "excel") -> dict:
    """Write one period's files into out_dir; returns (and writes to truth_path(out_dir)) the manifest."""
    pd = county.periods[period]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{county.seed}|{period}|mess|{messy}|{fmt}")
    flags: dict = {}
    mess_defects: list = []
    if fmt == "csv" or not messy:
        ext = "csv" if fmt == "csv" else "xlsx"
        specs = [[f"{t}.{ext}", t, ext, "utf-8", Style(), _live(pd.tables[t])] for t in TABLE_ORDER]
        messy_cells = False
    else:
        specs = _messy_specs(county, pd, rng)
        _mess_rows(county, pd, specs, rng, flags, mess_defects)
        messy_cells = True
    extra = []
    for base, kind, cols, rows in pd.extra_files:
        if fmt == "csv" or not messy:
            extra.append([f"{kind}_补充_缺列.{'csv' if fmt == 'csv' else 'xlsx'}", kind,
                          "csv" if fmt == "csv" else "xlsx", "utf-8", Style(), rows, cols])
        else:
            extra.append([f"{base}.{'xlsx' if kind == 'loans' else 'csv'}", kind,
                          "xlsx" if kind == "loans" else "csv", "utf-8", Style(titles=("补录数据",)), rows, cols])
    plans = [_plan_from_spec(s, county, pd, rng, flags, messy_cells) for s in specs]
    xplans = [_plan_from_spec(s, county, pd, rng, flags, messy_cells) for s in extra]
    for p in xplans:
        p.not_loaded = True
    # duplicates across files of a kind, in path order
    files: dict = {}
    seen: dict = {}
    for p in sorted(plans, key=lambda p: p.name):
        dups = 0
        s = seen.setdefault(p.kind, set())
        for sig, unattr in p.sigs:
            if unattr:
                continue
            if sig in s:
                dups += 1
            else:
                s.add(sig)
        files[p.name] = {"kind": p.kind, "sheet": p.sheet, "data_rows": p.data_rows, "duplicate_rows": dups,
                         "rejected_rows": p.unattributable + dups, "skipped_rows": p.skipped}
    for p in xplans:
        files[p.name] = {"kind": p.kind, "sheet": p.sheet, "data_rows": p.data_rows, "duplicate_rows": 0,
                         "rejected_rows": p.data_rows, "skipped_rows": p.skipped, "not_loaded": "SCH-01"}
    for p in plans + xplans:
        _write_plan(p, out_dir)
    defects = [dict(d) for d in pd.defects] + mess_defects
    sch01_names = {p.name for p in xplans}
    for d in defects:
        if d["rule_id"] == "SCH-01" and d.get("file"):
            d["file"] = next((n for n in sch01_names if d["file"] in n or d.get("table") in n), d["file"])
    bad = {d["household_id"] for d in defects if d["household_id"]}
    hh_ids = sorted(r["household_id"] for r in pd.tables["households"] if not r.get("_del"))
    truth = {"period": period, "reference_date": pd.R.isoformat(), "seed": county.seed,
             "n_households": county.n_households, "messy": messy, "fmt": fmt,
             "defects": defects,
             "clean_households": [h for h in hh_ids if h not in bad],
             "near_miss_households": sorted(pd.protected & set(hh_ids)),
             "files": files}
    target = truth_path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False), encoding="utf-8")
    return truth


def truth_path(drop: Path) -> Path:
    """Where the ground truth of a generated drop is kept: beside the drop, not inside it (a run
    lists every file of its drop, and the truth is not a spreadsheet of the county)."""
    drop = Path(drop)
    return drop.parent / "truth" / f"{drop.name}.json"


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
