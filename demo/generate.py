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

import csv
import datetime as dt
import io
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from schemas.tables import TABLES, Col, Table

from demo.model import COUNTY, COUNTY_CODE, PERIODS, TABLE_ORDER, County, D, PeriodData, ref_date
from demo.county import (
    Pools, _geography, add_nearmiss_children, assign_pairings, build_nonmembers, build_projects,
    make_household, make_loans, set_income)
from demo.second_month import evolve
from demo.tables import _live, _row, build_tables
from demo.defects_context import rec
from demo.defects import ALL_RULE_IDS, inject_defects


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
