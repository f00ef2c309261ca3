"""The second month: the first month's households a month later, with households that left, deaths,
births and newly identified households."""
from __future__ import annotations

import copy

from demo.model import COUNTY_CODE, R1, County, D, age_on
from demo.county import finalize, make_household, new_person, set_income


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
