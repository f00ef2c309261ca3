"""The clean county of the first month: people and their attributes, households and their incomes,
loans, villages, helpers and pairings, clean near-misses, non-members in agency data, and projects."""
from __future__ import annotations

import datetime as dt
import random

from schemas.ids import make_id, region_codes

from demo import names as N
from demo.model import (
    COUNTY_CODE, DIS_CODE, GRADE_CODE, LAB, MONITOR_LINE, NEIGHBOURS, NOLAB, R1, R2, SEP1, County, D,
    Household, Person, add_years, age_on, birth_for_age, rdate)


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
