"""One period's canonical tables, row by row, from the county's households, helpers, projects and
non-members (build_tables), and the rows of a table an injection has not deleted (_live)."""
from __future__ import annotations

from schemas.tables import TABLES

from demo import names as N
from demo.model import (
    COUNTY, DIS_CODE, GRADE_CODE, PERIODS, PERSON_COL, TABLE_ORDER, County, D, PeriodData, Person, ref_date)


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


def _live(rows):
    return [r for r in rows if not r.get("_del")]
