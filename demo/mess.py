"""The mess of real exports: how each file of a drop is styled (titles, grouped headers, aliases,
spellings of dates, numbers, yes/no and IDs, stray spaces), and row-level mess that the truth
records (rounded IDs, duplicated rows, rows without a key)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.tables import Col

from demo.model import COUNTY, County, D, PeriodData
from demo.tables import _live, _row
from demo.defects_context import rec


# ---------------------------------------------------------------------------
# cells: how one value is spelled
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


# ---------------------------------------------------------------------------
# files: the styles of a messy drop, and the row-level mess
# ---------------------------------------------------------------------------

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
