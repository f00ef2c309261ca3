"""The county's constants and calendar (reference dates, ages, random dates) and the records every
part of the demo shares: Person, Household, PeriodData (one period's tables) and County."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field


D = dt.date
PERIODS = ("2026-09", "2026-10")
COUNTY = "湘阴县"
COUNTY_CODE = "430624"
NEIGHBOURS = ("430621", "430623", "430626", "430681", "430682", "430602", "430603")
SEP1 = D(2026, 9, 1)
NOLAB = ("丧失劳动力", "无劳动力")
LAB = ("普通劳动力", "技能劳动力")
POVERTY_LINE = 4000
MONITOR_LINE = 7500
TABLE_ORDER = ("members", "households", "helpers", "pairings", "projects", "beneficiaries", "loans",
               "civil_affairs", "disability", "education", "medical_insurance", "housing", "hukou",
               "vehicles", "businesses", "payroll", "real_estate")
PERSON_COL = {"civil_affairs": "id_number", "disability": "id_number", "education": "id_number",
              "medical_insurance": "id_number", "housing": "head_id_number", "hukou": "id_number",
              "vehicles": "id_number", "businesses": "id_number", "payroll": "id_number",
              "real_estate": "id_number"}
DIS_CODE = {"视力": "1", "听力": "2", "言语": "3", "肢体": "4", "智力": "5", "精神": "6", "多重": "7"}
GRADE_CODE = {"一级": "1", "二级": "2", "三级": "3", "四级": "4"}


def ref_date(period: str) -> D:
    y, m = map(int, period.split("-"))
    nxt = D(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


R1, R2 = ref_date(PERIODS[0]), ref_date(PERIODS[1])


def age_on(b: D, r: D) -> int:
    return r.year - b.year - ((r.month, r.day) < (b.month, b.day))


def add_years(d: D, n: int) -> D:
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def rdate(rng: random.Random, lo: D, hi: D) -> D:
    if hi <= lo:
        return lo
    d = lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))
    return d - dt.timedelta(days=1) if (d.month, d.day) == (2, 29) else d


def birth_for_age(rng: random.Random, age: int, r: D = R1) -> D:
    hi = add_years(r, -age)
    lo = add_years(r, -age - 1) + dt.timedelta(days=1)
    return rdate(rng, lo, hi)


# ---------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------

@dataclass(slots=True)
class Person:
    id: str
    name: str
    male: bool
    birth: D
    relation: str = ""
    education_level: str = ""
    school_status: str = "非在校生"
    health: str = "健康"
    labor: str = "无劳动力"
    work_status: str = "无"
    work_months: int = 0
    phone: str = ""
    ethnicity: str = "汉族"
    disab: tuple | None = None     # (category, grade, issued_on)
    school: tuple | None = None    # (school, stage, grade)
    grad: tuple | None = None      # (school, stage, grade) 毕业 row
    vehicle: tuple | None = None   # (type, plate, registered_on, status)
    biz: tuple | None = None       # (company, credit, capital, founded, status, type)
    estate: tuple | None = None    # (location, use, area, registered_on, zone)
    payroll: tuple | None = None   # (employer, staff_type, joined_on, status)
    hukou_type: str = "农业"


@dataclass(slots=True)
class Household:
    hid: str
    township: str
    village: str
    members: list
    category: str = "一般贫困户"
    cause: str = "缺资金"
    recognized_on: D = D(2015, 1, 1)
    status: str = "已脱贫"
    exit_year: int | None = None
    monitor_type: str = "无"
    wage: int = 0
    business: int = 0
    prop: int = 0
    transfer: int = 0
    cost: int = 0
    pc: float = 0.0
    housing_secure: bool = True
    house_grade: str = "无"
    house_area: float = 100.0
    water_secure: bool = True
    relocated: bool = False
    housing: tuple | None = None   # (grade, assessed_on, renovation, method, area_after, subsidy)
    civil_start: D = D(2016, 1, 1)
    civil_amount: int = 300
    pairings: list = field(default_factory=list)   # [helper_id, start, end]
    loans: list = field(default_factory=list)      # dicts
    nearmiss: str = ""


@dataclass
class PeriodData:
    period: str
    R: D
    tables: dict
    defects: list = field(default_factory=list)
    extra_files: list = field(default_factory=list)   # SCH-01 files: (name, kind, columns, rows)
    used: set = field(default_factory=set)
    protected: set = field(default_factory=set)
    instances: list = field(default_factory=list)     # applied defect instances (rule, variant, hid, prm)
    _idx: dict | None = None
    _refs: dict | None = None

    # -- indices --------------------------------------------------------
    def index(self):
        if self._idx is None:
            hh = {r["household_id"]: r for r in self.tables["households"]}
            mem: dict = {}
            for r in self.tables["members"]:
                mem.setdefault(r["household_id"], []).append(r)
            ag: dict = {}
            for t, col in PERSON_COL.items():
                d: dict = {}
                for r in self.tables[t]:
                    d.setdefault(r[col], []).append(r)
                ag[t] = d
            pair: dict = {}
            for r in self.tables["pairings"]:
                pair.setdefault(r["household_id"], []).append(r)
            loans: dict = {}
            for r in self.tables["loans"]:
                loans.setdefault(r["_hid"], []).append(r)
            helpers = {r["id_number"]: r for r in self.tables["helpers"]}
            benef: dict = {}
            for r in self.tables["beneficiaries"]:
                benef.setdefault(r["household_id"], []).append(r)
            self._idx = dict(hh=hh, mem=mem, ag=ag, pair=pair, loans=loans, helpers=helpers, benef=benef,
                             order=sorted(hh))
        return self._idx

    def hh(self, hid):
        return self.index()["hh"].get(hid)

    def mem(self, hid):
        return [r for r in self.index()["mem"].get(hid, []) if not r.get("_del")]

    def head(self, hid):
        hs = [r for r in self.mem(hid) if r["relation"] == "户主"]
        return hs[0] if len(hs) == 1 else None

    def ag(self, table, pid):
        return [r for r in self.index()["ag"][table].get(pid, []) if not r.get("_del")]

    def add(self, table, row):
        self.tables[table].append(row)
        self.register(row)
        idx = self.index()
        if table in PERSON_COL:
            idx["ag"][table].setdefault(row[PERSON_COL[table]], []).append(row)
        elif table == "members":
            idx["mem"].setdefault(row["household_id"], []).append(row)
        elif table == "pairings":
            idx["pair"].setdefault(row["household_id"], []).append(row)
        elif table == "loans":
            idx["loans"].setdefault(row["_hid"], []).append(row)
        elif table == "beneficiaries":
            idx["benef"].setdefault(row["household_id"], []).append(row)
        return row

    def pairs(self, hid):
        return [r for r in self.index()["pair"].get(hid, []) if not r.get("_del")]

    def loans(self, hid):
        return [r for r in self.index()["loans"].get(hid, []) if not r.get("_del")]

    def benef(self, hid):
        return [r for r in self.index()["benef"].get(hid, []) if not r.get("_del")]

    def age(self, row, r=None):
        return age_on(row["_birth"], r or self.R)

    def ages(self, row):
        return age_on(row["_birth"], R1), age_on(row["_birth"], R2)

    def all_ids(self):
        s = set()
        for t in ("members", "helpers"):
            s.update(r["id_number"] for r in self.tables[t])
        for t, col in PERSON_COL.items():
            s.update(r[col] for r in self.tables[t])
        return s

    _IDK = ("id_number", "head_id_number", "borrower_id_number", "helper_id_number")

    def register(self, row):
        if self._refs is not None:
            for k in self._IDK:
                v = row.get(k)
                if v:
                    self._refs.setdefault(v, []).append(row)

    def replace_id(self, old, new):
        """Change a person's ID in every table (the 'true' ID changes)."""
        idx = self.index()
        rows = []
        for t in ("members", "households", "loans", "pairings", "helpers", "civil_affairs"):
            rows.extend(self.tables[t])
        for t in PERSON_COL:
            if t != "civil_affairs":
                rows.extend(idx["ag"][t].get(old, []))
        for r in rows:
            for k in self._IDK:
                if r.get(k) == old:
                    r[k] = new
            cn = r.get("card_number")
            if cn and cn.startswith(old):
                r["card_number"] = new + cn[len(old):]
        for t, col in PERSON_COL.items():
            moved = idx["ag"][t].pop(old, None)
            if moved:
                idx["ag"][t].setdefault(new, []).extend(moved)
        if old in idx["helpers"]:
            idx["helpers"][new] = idx["helpers"].pop(old)

    def delete_agency(self, pid):
        for t in PERSON_COL:
            for r in self.ag(t, pid):
                r["_del"] = True


@dataclass
class County:
    seed: int
    n_households: int
    townships: list                 # [(name, code, [village names])]
    periods: dict                   # period -> PeriodData
    models: dict = field(default_factory=dict)   # period -> list[Household]
    helpers: dict = field(default_factory=dict)  # id -> helper dict
    projects: list = field(default_factory=list)
    nonmembers: list = field(default_factory=list)   # (Person, dict of agency row specs)
    defects_injected: bool = False
