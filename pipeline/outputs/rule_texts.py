"""Texts people read about the rules: the meaning of each rule (说明 sheet), the 比对依据
(evidence in plain Chinese) and the 政策依据 (policy with the parameters in force).

    MEANINGS[rule_id]                               one sentence a village clerk understands
    evidence_text(rule_id, evidence, source, ctx)   比对依据 from the canonical evidence JSON
    policy_text(rule.policy, params)                政策依据

Used by the village workbooks, issues.xlsx and (later) the portal.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

MEANINGS: dict[str, str] = {
    "SCH-01": "上报文件缺少必需的列，整份文件未能读取。",
    "SCH-02": "某个字段填写的值无法识别（格式不对或不在规定选项内），已按空值处理。",
    "SCH-03": "同一文件中同一条记录完全重复出现，只保留了一条。",
    "SCH-04": "必填字段没有填写。",
    "ID-01": "身份证号码不是18位标准格式，或最后一位校验码不对（包括被电子表格改成科学计数法的号码）。",
    "ID-02": "身份证号码中的出生日期不是真实日期、晚于基准日或早于1900年。",
    "ID-03": "身份证号码前6位不是已知的行政区划代码。",
    "ID-04": "登记的性别与身份证号码第17位不符（单数为男，双数为女）。",
    "ID-05": "同一个身份证号码登记了不止一次（本户重复录入或一人多户）。",
    "ID-06": "仍使用旧版15位身份证号码，应更新为18位。",
    "ID-07": "姓名含数字、字母、空格或特殊符号，或只有1个字、超过15个字。",
    "ID-08": "家庭情况表中的户主姓名或证件号码与成员表中的户主不一致。",
    "ID-09": "同一个联系电话登记在多户。",
    "HH-01": "一户中户主人数不是1人（没有户主或有多名户主）。",
    "HH-02": "登记的家庭人口数与成员名单人数不一致。",
    "HH-03": "有户信息没有成员，或有成员没有户信息。",
    "HH-04": "子女、父母、孙辈与户主的年龄差不合常理。",
    "HH-05": "一户有多名配偶，或配偶与户主性别相同。",
    "HH-06": "户主不满16周岁。",
    "HH-07": "同一户的成员登记在不同的乡镇或村。",
    "HH-08": "性别与“与户主关系”矛盾（如“之子”登记为女）。",
    "HH-09": "主要致贫原因与成员状况不符（如因病致贫但无患病成员）。",
    "LAB-01": "不满16周岁的未成年人登记为有劳动能力或在务工。",
    "LAB-02": "65周岁及以上老人登记为普通或技能劳动力。",
    "LAB-03": "劳动年龄内、身体健康、不在校的成员登记为无劳动能力或丧失劳动力。",
    "LAB-04": "务工状况与务工时间矛盾（务工但时间为0，或未务工却有务工时间）。",
    "LAB-05": "登记为无劳动能力或丧失劳动力，却在务工。",
    "EDU-01": "义务教育年龄的儿童少年登记为非在校生或未填写，疑似失学辍学。",
    "EDU-02": "在校生状况与年龄不符（如年龄与所读学段不相称）。",
    "EDU-03": "义务教育年龄的学生在教育部门学籍中为辍学或休学。",
    "EDU-04": "登记为非在校生，但教育部门学籍显示在读。",
    "EDU-05": "登记为小学或初中在校生，但教育部门没有其学籍记录（区外就读请注明）。",
    "MED-01": "登记为未参加城乡居民基本医疗保险（有医保部门数据时，医保数据中也没有本年度参保缴费记录）。",
    "MED-02": "登记为已参保，但医保部门没有本年度参保缴费记录。",
    "MED-03": "登记为未参保，但医保部门显示本年度已参保缴费。",
    "MED-04": "健康状况中的残疾标识与残联数据不一致。",
    "MED-05": "残疾证号与身份证号码、残疾类别或等级不对应。",
    "MED-06": "一级、二级重度残疾人员登记为普通或技能劳动力。",
    "HOU-01": "住房为C级或D级危房，却登记为住房安全有保障。",
    "HOU-02": "已脱贫户住房为危房或住房安全未保障。",
    "HOU-03": "住建部门鉴定为危房且未完成改造，却登记为住房安全有保障。",
    "HOU-04": "拆除重建后的住房面积超过标准。",
    "HOU-05": "已纳入易地扶贫搬迁的农户又纳入了危房改造。",
    "HOU-06": "住建部门的建档立卡危改对象在建档立卡成员中查无此人。",
    "WAT-01": "已脱贫户饮水安全未保障。",
    "INC-01": "登记的年人均纯收入与各项收入、支出和家庭人口数计算的结果不一致。",
    "INC-02": "已脱贫户的年人均纯收入低于当年扶贫标准。",
    "INC-03": "收入或支出为负数，或人均纯收入为0、负数或异常偏高。",
    "INC-04": "已脱贫户人均纯收入低于防返贫监测标准，却未纳入监测。",
    "INC-05": "家中有劳动力但无人务工、也没有工资性收入（零就业家庭）。",
    "PAIR-01": "一名帮扶责任人同时结对的户数超过上限。",
    "PAIR-02": "结对帮扶开始时间早于贫困户识别时间。",
    "PAIR-03": "基准日没有有效的帮扶责任人（摘帽不摘帮扶）。",
    "PAIR-04": "结对起止时间错误（结束早于开始，或时间晚于基准日）。",
    "PAIR-05": "结对帮扶中间断档时间过长。",
    "PAIR-06": "帮扶责任人本人是建档立卡户成员。",
    "PAIR-07": "帮扶责任人的证件号码、电话、单位、级别或职级信息有误或不全。",
    "PAIR-08": "结对记录中的帮扶责任人不在帮扶责任人名册中。",
    "PAIR-09": "结对记录中的户编号在家庭情况表中不存在。",
    "PAIR-10": "帮扶责任人已死亡注销，结对关系仍然有效。",
    "PAIR-11": "基准日同一户同时有多名帮扶责任人。",
    "PRJ-01": "项目的建设内容、起止时间、资金或公示网址缺失。",
    "PRJ-02": "项目结束时间早于开始时间，或开始时间晚于基准日。",
    "PRJ-03": "项目受益户的户编号在家庭情况表中不存在。",
    "PRJ-04": "受益户的家庭状况与所受益的项目不相符。",
    "LOAN-01": "扶贫小额信贷金额低于或高于规定额度。",
    "LOAN-02": "扶贫小额信贷期限超过3年。",
    "LOAN-03": "扶贫小额信贷已逾期或到期未结清。",
    "LOAN-04": "扶贫小额信贷以入股企业方式使用（户贷企用）。",
    "LOAN-05": "借款人不是建档立卡户成员，或与所填户编号不对应。",
    "XA-01": "家庭成员在财政供养人员名单中（在职或退休）。",
    "XA-02": "家庭成员是正常经营企业（非农民专业合作社）的法定代表人。",
    "XA-03": "家庭成员名下登记有小汽车。",
    "XA-04": "家庭成员在城镇登记有住宅。",
    "XA-05": "公安户籍显示已死亡注销，建档立卡信息中未减员。",
    "XA-06": "公安户籍显示已迁出或为非农业户口。",
    "XA-07": "贫困户属性中的低保身份与民政数据不一致。",
    "XA-08": "贫困户属性中的特困供养身份与民政数据不一致。",
    "XA-09": "正在享受农村低保或特困供养，但不是建档立卡成员（疑似漏评）。",
    "XA-10": "证件号码与部门数据中同名人员的号码仅差一位，疑似录入错误。",
    "XA-11": "证件号码在公安户籍数据中查无此人。",
    "XA-12": "全家均无劳动能力的一般贫困户未享受低保或特困供养兜底。",
}


# ---------------------------------------------------------------------------
# 比对依据: the evidence people read
#
# The `evidence` column is canonical JSON (sorted keys, English names) and stays byte-identical
# across periods: waivers compare it as a string. What a village reads is made from it here:
# per rule, the keys in a natural order (who, what was recorded, what the department says, the
# standard), labelled in plain Chinese, codes in words, internal keys (record hashes, edit
# positions, duplicates) left out, and empty values said once ("未填写：A、B").

def _num(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def _scalar(v) -> str | None:
    """A value as text; None for an empty value."""
    if v is None or v == "" or v == []:
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float)):
        return _num(v)
    if isinstance(v, list):
        return "、".join(x for x in (_scalar(i) for i in v) if x) or None
    if isinstance(v, dict):
        return "，".join(f"{k}：{_scalar(x) or '空'}" for k, x in v.items())
    return str(v)


def _unit(u: str):
    def f(v, ev, ctx):
        s = _scalar(v)
        return None if s is None else f"{s}{u}"
    return f


def _quote(v, ev, ctx):
    return None if v is None else f"“{v}”"


def _none_as(word: str):
    def f(v, ev, ctx):
        s = _scalar(v)
        return word if s is None else s
    return f


def _have(v, ev, ctx):
    return None if v is None else ("有" if v else "没有")


def _span(start, end) -> str:
    """A period of time: 2019-01-26至2020-03-31, or 2019-01-26起 when it has no end."""
    s, e = _scalar(start), _scalar(end)
    if s and e:
        return f"{s}至{e}"
    if s:
        return f"{s}起"
    if e:
        return f"开始时间未填写，至{e}"
    return "起止时间均未填写"


def _spells(v, ev, ctx):
    if not v:
        return "无"
    return "；".join(_span(x.get("start_on"), x.get("end_on")) for x in v if isinstance(x, dict))


def _gaps(v, ev, ctx):
    if not v:
        return None
    return "；".join(f"{_span(g.get('from'), g.get('to'))}，共{_num(g.get('days'))}天"
                    for g in v if isinstance(g, dict))


def _civil_rows(v, ev, ctx):
    if not v:
        return "无"
    out = []
    for r in v:
        if not isinstance(r, dict):
            continue
        state = "（基准日有效）" if r.get("active") else "（基准日已不在享受期）"
        out.append(f"{r.get('id_number') or '证件号码未填写'}，{_span(r.get('start_on'), r.get('end_on'))}{state}")
    return "；".join(out) or "无"


def _aid_rows(v, ev, ctx):
    if not v:
        return "无"
    return "；".join(f"{r.get('name') or '姓名未填写'}，{r.get('aid_type') or ''}，"
                    f"{_span(r.get('start_on'), r.get('end_on'))}" for r in v if isinstance(r, dict))


def _member_labor(v, ev, ctx):
    if not v:
        return "无"
    return "、".join(f"{r.get('name') or r.get('id_number') or '姓名未填写'}（{r.get('labor') or '劳动技能未填写'}）"
                    for r in v if isinstance(r, dict))


def _housing_rows(v, ev, ctx):
    """HOU-03: 'head ID/grade/renovation' strings → D级、未改造（户主证件号码…）."""
    if not v:
        return "无"
    out = []
    for x in v:
        parts = str(x).split("/")
        if len(parts) == 3:
            hid, grade, ren = parts
            out.append(f"{grade or '等级未填写'}级、{ren or '改造状态未填写'}（户主证件号码{hid or '未填写'}）")
        else:
            out.append(str(x))
    return "；".join(out)


def _table(v, ev, ctx):
    from pipeline.outputs.vocab import table_title

    return table_title(v) if v else None


def _field_of_table(v, ev, ctx):
    """A canonical column name as the header of its table (SCH-02/04)."""
    from schemas.tables import TABLES

    t = TABLES.get(ev.get("table") or "")
    if t is not None:
        for c in t.columns:
            if c.name == v:
                return c.header
    return _column_headers().get(v, v) if v else None


def _departments(v, ev, ctx):
    from pipeline.outputs.vocab import DEPARTMENTS, department

    if not v:
        return None
    items = v if isinstance(v, list) else [v]
    return "、".join(DEPARTMENTS[x][1] if x in DEPARTMENTS else department(x) for x in items)


def _edit(v, ev, ctx):
    pos = ev.get("position")
    where = f"第{pos}位" if isinstance(pos, int) else ""
    if v == "substitution":
        return f"{where}数字不同" if where else "有一位数字不同"
    if v == "transposition":
        return f"{where}和第{pos + 1}位前后颠倒" if where else "相邻两位前后颠倒"
    return _scalar(v)


def _gender_digit(v, ev, ctx):
    if v is None:
        return None
    want = ev.get("id_gender")
    return f"{v}（单数为男，双数为女，按号码应为{want}）" if want else str(v)


def _birth_digits(v, ev, ctx):
    if not v:
        return None
    import datetime as _dt

    try:
        d = _dt.date(int(v[:4]), int(v[4:6]), int(v[6:8]))
    except (ValueError, TypeError):
        return f"{v}（不是真实日期）"
    if d < _dt.date(1900, 1, 1):
        return f"{v}（早于1900年）"
    return f"{v}（晚于基准日）"


def _age_range(v, ev, ctx):
    lo, hi = ev.get("age_lo"), ev.get("age_hi")
    if lo is None or hi is None:
        return None
    return f"{_num(lo)}至{_num(hi)}岁"


def _loan_range(v, ev, ctx):
    lo, hi = ev.get("loan_min"), ev.get("loan_max")
    if lo is None or hi is None:
        return None
    return f"{_num(lo)}至{_num(hi)}元"


def _count(unit: str, zero: str):
    def f(v, ev, ctx):
        if v is None:
            return None
        return zero if v == 0 else f"{_num(v)}{unit}"
    return f


def _region(v, ev, ctx):
    return None if not v else f"{v}（不是已知的行政区划代码）"


def _unless_same(other: str):
    """Hidden when equal to another key's value (the agency's copy of the member's ID)."""
    def f(v, ev, ctx):
        if v is None or v == ev.get(other):
            return _HIDE
        return str(v)
    return f


def _hukou_match(v, ev, ctx):
    return "查无此人" if v is False else ("有记录" if v else None)


def _education_rows(v, ev, ctx):
    return "无学籍记录" if not v else f"{_num(v)}条"


def _medical(v, ev, ctx):
    """MED-01..03: what the medical-insurance data says for R's year (MED-01: only when loaded)."""
    year = ev.get("year")
    y = f"{year}年度" if year else "本年度"
    if ctx is not None and ctx.rule_id == "MED-01" and not ctx.has("medical_insurance"):
        return "本期未提供医保数据，未比对"
    statuses = [s for s in (v or []) if s]
    if not statuses:
        return f"{y}无参保记录"
    return f"{y}参保状态为" + "、".join(statuses)


_HIDE = object()     # a formatter's answer: leave this key out


def _hide(v, ev, ctx):
    return _HIDE


# rule → the evidence keys in reading order: "key", or (key, label), or (key, label, formatter);
# a formatter is f(value, evidence, context) -> text | None (empty) | _HIDE.
# Keys of the evidence not listed here follow at the end with their generic labels.
_MONEY = _unit("元")
_PERSON = [("birth", "出生日期")]
EVIDENCE_ORDER: dict[str, list] = {
    "SCH-02": [("table", "数据表", _table), ("field", "字段", _field_of_table), ("value", "填写的值", _quote)],
    "SCH-03": [("table", "数据表", lambda v, e, c: f"{_table(v, e, c) or '未知数据表'}（同一条记录出现了不止一次，只保留了一条）"),
               ("row_hash", "", _hide)],
    "SCH-04": [("table", "数据表", _table), ("field", "未填写的字段", _field_of_table)],
    "ID-02": ["id_number", ("birth_digits", "号码中的出生日期", _birth_digits)],
    "ID-03": ["id_number", ("region_code", "前6位地区码", _region)],
    "ID-04": [("gender", "登记性别"), "id_number", ("gender_digit", "号码中表示性别的数字", _gender_digit),
              ("id_gender", "", _hide)],
    "ID-05": [("names", "姓名"), "id_number", ("rows", "共登记", _unit("次")),
              ("rows_in_household", "本户登记", _unit("次")), ("households", "登记所在的户编号")],
    "ID-06": [("id_number", "旧版15位号码"), ("id18", "对应的18位号码")],
    "ID-07": [("name", "姓名", _quote), ("length", "去掉首尾空格后的字数", _unit("个字"))],
    "ID-08": [("head_name", "家庭情况表中的户主姓名"), ("head_id_number", "家庭情况表中的户主证件号码"),
              ("member_name", "家庭成员表中户主的姓名"),
              ("member_id_number", "家庭成员表中户主的证件号码", _unless_same("head_id_number"))],
    "ID-09": [("phone", "联系电话"), ("households", "登记这个电话的户编号")],
    "HH-01": [("n_heads", "户主人数", _unit("人")), ("heads", "登记为户主的成员", _none_as("无"))],
    "HH-02": [("size", "登记的家庭人口数", _unit("人")), ("member_rows", "家庭成员表中的人数", _unit("人"))],
    "HH-03": [("in_households", "家庭情况表中", lambda v, e, c: "有此户" if v else "没有此户"),
              ("in_members", "家庭成员表中", lambda v, e, c: "有此户成员" if v else "没有此户成员")],
    "HH-04": ["relation", ("birth", "本人出生日期"), ("head_birth", "户主出生日期"),
              ("min_years", "应相差至少", _unit("岁"))],
    "HH-05": [("spouses", "配偶人数", _unit("人")), ("spouse_genders", "配偶性别"), ("head_gender", "户主性别")],
    "HH-06": [("head_id_number", "户主证件号码"), ("head_birth", "户主出生日期")],
    "HH-07": [("townships", "成员登记的乡镇"), ("villages", "成员登记的村")],
    "HH-08": ["relation", ("gender", "登记性别")],
    "HH-09": ["cause", ("member_ill", "有长期慢性病或患大病的成员", _have),
              ("member_disabled", "有残疾成员", _have), ("member_in_school", "有在校生", _have)],
    "LAB-01": [*_PERSON, "labor", "work_status"],
    "LAB-02": [*_PERSON, "labor"],
    "LAB-03": [*_PERSON, "health", "school_status", "labor"],
    "LAB-04": ["work_status", ("work_months", "务工时间", _unit("个月"))],
    "LAB-05": ["labor", "work_status"],
    "EDU-01": [*_PERSON, "school_status"],
    "EDU-02": [*_PERSON, "school_status", ("age_lo", "该学段的年龄范围", _age_range), ("age_hi", "", _hide)],
    "EDU-03": [*_PERSON, "school_status", ("enrol_status", "学籍状态"), ("school", "学校")],
    "EDU-04": ["school_status", ("enrol_status", "学籍状态"), ("school", "学校")],
    "EDU-05": ["school_status", ("education_rows", "教育部门", _education_rows)],
    "MED-01": ["basic_medical", ("medical_statuses", "医保数据", _medical), ("year", "", _hide)],
    "MED-02": ["basic_medical", ("medical_statuses", "医保数据", _medical), ("year", "", _hide)],
    "MED-03": ["basic_medical", ("medical_statuses", "医保数据", _medical), ("year", "", _hide)],
    "MED-04": ["health", ("disability_cards", "残联残疾证", _none_as("无"))],
    "MED-05": [("id_number", "身份证号"), ("card_number", "残疾证号"), ("category", "残疾类别"), ("grade", "残疾等级")],
    "MED-06": ["labor", ("disability_grade", "残疾等级"), ("disability_cards", "残疾证号")],
    "HOU-01": [("house_grade", "危房等级", _unit("级")), "housing_secure"],
    "HOU-02": ["status", ("house_grade", "危房等级"), "housing_secure"],
    "HOU-03": ["housing_secure", ("housing", "住建部门鉴定", _housing_rows)],
    "HOU-04": [("method", "改造方式"), ("area_after", "改造后面积", _unit("㎡")),
               ("rebuild_max_area", "面积上限", _unit("㎡"))],
    "HOU-05": ["relocated", ("renovation", "危房改造状态")],
    "HOU-06": [("head_name", "户主姓名"), ("head_id_number", "户主证件号码"), ("target_type", "住建登记的对象类别")],
    "WAT-01": ["status", "water_secure"],
    "INC-01": [("income_per_capita", "登记的年人均纯收入", _MONEY), ("wage_income", "工资性收入", _MONEY),
               ("business_income", "生产经营性收入", _MONEY), ("property_income", "财产性收入", _MONEY),
               ("transfer_income", "转移性收入", _MONEY), ("business_cost", "生产经营性支出", _MONEY),
               ("size", "家庭人口数", _unit("人")), ("computed", "按收入构成计算的年人均纯收入", _MONEY)],
    "INC-02": ["status", ("income_per_capita", "年人均纯收入", _MONEY), ("poverty_line", "当年扶贫标准", _MONEY)],
    "INC-03": [("income_per_capita", "年人均纯收入", _MONEY), ("wage_income", "工资性收入", _MONEY),
               ("business_income", "生产经营性收入", _MONEY), ("property_income", "财产性收入", _MONEY),
               ("transfer_income", "转移性收入", _MONEY), ("business_cost", "生产经营性支出", _MONEY),
               ("max_income_per_capita", "人均纯收入上限", _MONEY)],
    "INC-04": ["status", "monitor_type", ("income_per_capita", "年人均纯收入", _MONEY),
               ("monitoring_line", "当年防返贫监测标准", _MONEY), ("poverty_line", "当年扶贫标准", _MONEY)],
    "INC-05": [("working_age_labourers", "劳动年龄内的劳动力", _unit("人")),
               ("members_working", "务工人数", _unit("人")), ("wage_income", "工资性收入", _MONEY)],
    "PAIR-01": [("helper_id_number", "帮扶责任人证件号码"), ("max_active_households", "最多同时结对", _unit("户")),
                ("first_day_over_limit", "首次超过上限的日期"), ("limit", "上限", lambda v, e, c: f"每人{_num(v)}户")],
    "PAIR-02": [("helper_id_number", "帮扶责任人证件号码"), ("start_on", "帮扶开始时间"), ("recognized_on", "识别时间")],
    "PAIR-03": [("pairings", "结对记录", _count("条", "无")), ("last_end_on", "最近一次帮扶结束时间",
                                                          lambda v, e, c: _HIDE if not e.get("pairings") else _scalar(v))],
    "PAIR-04": [("helper_id_number", "帮扶责任人证件号码"), ("spells", "结对时间", _spells)],
    "PAIR-05": [("gaps", "断档", _gaps), ("max_gap_days", "允许的最长断档", _unit("天"))],
    "PAIR-06": [("helper_name", "帮扶责任人"), ("helper_id_number", "帮扶责任人证件号码"), ("unit", "帮扶单位"),
                ("member_name", "建档立卡成员"), ("member_id_number", "成员证件号码", _unless_same("helper_id_number"))],
    "PAIR-07": [("id_number", "帮扶责任人证件号码"), ("phone", "联系电话"), ("unit", "帮扶单位"),
                ("unit_level", "单位隶属关系"), ("rank", "职务级别")],
    "PAIR-08": [("helper_name", "结对记录中的帮扶责任人"), ("helper_id_number", "帮扶责任人证件号码")],
    "PAIR-09": [("household_id", "结对记录中的户编号"), ("helper_id_numbers", "帮扶责任人证件号码")],
    "PAIR-10": [("helper_id_number", "帮扶责任人证件号码"), ("spells", "结对时间", _spells),
                ("died_on", "公安户籍死亡注销日期")],
    "PAIR-11": [("helper_id_numbers", "基准日有效的帮扶责任人证件号码")],
    "PRJ-01": [("content", "建设内容"), ("start_on", "开工时间"), ("end_on", "完工时间"),
               ("funds_10k", "资金规模", _unit("万元")), ("notice_url", "公示网址")],
    "PRJ-02": [("start_on", "开工时间"), ("end_on", "完工时间")],
    "PRJ-03": [("project_id", "项目编号"), ("household_id", "受益户编号")],
    "PRJ-04": [("project_id", "项目编号"), ("project_type", "项目类型"), ("members", "家庭成员", _unit("人")),
               ("members_working", "务工人数", _unit("人")), "housing_secure"],
    "LOAN-01": [("borrower_id_number", "借款人证件号码"), ("issued_on", "放款日期"), ("amount", "贷款金额", _MONEY),
                ("loan_min", "规定额度", _loan_range), ("loan_max", "", _hide)],
    "LOAN-02": [("borrower_id_number", "借款人证件号码"), ("issued_on", "放款日期"), ("due_on", "到期日期"),
                ("term_days", "贷款期限", _unit("天")), ("max_term_days", "最长期限", _unit("天"))],
    "LOAN-03": [("borrower_id_number", "借款人证件号码"), ("issued_on", "放款日期"), ("due_on", "到期日期"),
                ("balance", "贷款余额", _MONEY), ("repay_status", "还款状态")],
    "LOAN-04": [("borrower_id_number", "借款人证件号码"), ("issued_on", "放款日期"), ("amount", "贷款金额", _MONEY),
                ("use_mode", "资金使用方式")],
    "LOAN-05": [("borrower_name", "借款人"), ("borrower_id_number", "借款人证件号码"),
                ("loan_household_ids", "贷款登记的户编号", _none_as("未填写")),
                ("member_household_ids", "证件号码所在的建档立卡户", _none_as("无"))],
    "XA-01": [("member_id_number", "成员证件号码"), ("agency_name", "财政供养名单中的姓名"),
              ("agency_id_number", "名单中的证件号码", _unless_same("member_id_number")), ("employer", "单位名称"),
              ("staff_type", "人员类别"), ("payroll_status", "状态"), ("joined_on", "入编日期")],
    "XA-02": [("member_id_number", "成员证件号码"), ("legal_rep", "法定代表人"),
              ("agency_id_number", "法定代表人证件号码", _unless_same("member_id_number")), ("company", "企业名称"),
              ("credit_code", "统一社会信用代码"), ("company_type", "企业类型"), ("reg_status", "登记状态"),
              ("capital_10k", "注册资本", _unit("万元")), ("founded_on", "成立日期")],
    "XA-03": [("member_id_number", "成员证件号码"), ("owner", "车辆所有人"),
              ("agency_id_number", "所有人证件号码", _unless_same("member_id_number")), ("vehicle_type", "车辆类型"),
              ("plate", "号牌号码"), ("vehicle_status", "车辆状态"), ("registered_on", "初次登记日期")],
    "XA-04": [("member_id_number", "成员证件号码"), ("owner", "权利人"),
              ("agency_id_number", "权利人证件号码", _unless_same("member_id_number")), ("location", "不动产坐落"),
              ("use", "房屋用途"), ("zone", "所在区域"), ("area", "建筑面积", _unit("㎡")), ("registered_on", "登记日期")],
    "XA-05": [("member_id_number", "成员证件号码"), ("agency_name", "户籍登记的姓名"),
              ("agency_id_number", "户籍登记的证件号码", _unless_same("member_id_number")),
              ("hukou_status", "户籍状态"), ("changed_on", "注销日期")],
    "XA-06": [("member_id_number", "成员证件号码"), ("agency_name", "户籍登记的姓名"),
              ("agency_id_number", "户籍登记的证件号码", _unless_same("member_id_number")),
              ("hukou_status", "户籍状态"), ("hukou_type", "户口性质"), ("changed_on", "变动日期")],
    "XA-07": [("category", "贫困户属性"), ("aid_type", "", _hide),
              ("civil_affairs_rows", "家庭成员的农村低保记录", _civil_rows)],
    "XA-08": [("category", "贫困户属性"), ("aid_type", "", _hide),
              ("civil_affairs_rows", "家庭成员的农村特困供养记录", _civil_rows)],
    "XA-09": [("id_number", "证件号码"), ("aid", "民政救助记录", _aid_rows)],
    "XA-10": [("name", "姓名"), ("id_number", "登记的证件号码"),
              ("candidate_id_number", "部门数据中同名人员的证件号码"), ("agencies", "该号码出现在", _departments),
              ("edit", "两个号码的差异", _edit), ("position", "", _hide)],
    "XA-11": [("name", "姓名"), ("id_number", "证件号码"), ("id18", "18位号码", _unless_same("id_number")),
              ("hukou_match", "公安户籍", _hukou_match)],
    "XA-12": [("category", "贫困户属性"), ("members", "家庭成员", _member_labor),
              ("active_rural_aid", "有效的农村低保或特困供养记录", lambda v, e, c: "无" if not v else "有")],
}

# Labels of keys a rule's order does not label (and of keys no rule lists), beyond column headers.
EVIDENCE_LABELS: dict[str, str] = {
    "id_number": "证件号码", "name": "姓名", "birth": "出生日期", "relation": "与户主关系",
    "status": "脱贫属性", "category": "贫困户属性", "cause": "主要致贫原因", "monitor_type": "监测对象类别",
    "labor": "劳动技能", "work_status": "务工状况", "health": "健康状况", "school_status": "在校生状况",
    "basic_medical": "是否参加城乡居民基本医疗保险", "housing_secure": "住房安全有保障",
    "water_secure": "饮水安全有保障", "relocated": "是否易地扶贫搬迁户", "house_grade": "危房等级",
    "gender": "性别", "year": "年度", "grade": "等级", "type": "类型", "start_on": "开始日期",
    "end_on": "结束日期", "days": "天数", "from": "起", "to": "止", "value": "值", "field": "字段",
    "table": "数据表", "length": "长度", "limit": "上限", "households": "户编号", "members": "家庭成员",
}


@dataclass(frozen=True)
class EvidenceContext:
    """What a reader's text may depend on beyond the evidence: the rule, and which tables the run
    loaded (MED-01 says it compared with the medical-insurance data only when it was loaded).
    loaded=None: unknown (treated as not loaded)."""
    rule_id: str = ""
    loaded: frozenset[str] | None = None

    def has(self, table: str) -> bool:
        return self.loaded is not None and table in self.loaded


def _id01_parts(ev: dict) -> list[tuple[str, str | None]]:
    """ID-01 said once and plainly: a number Excel rounded, a wrong length, a wrong check digit."""
    v = ev.get("id_number")
    s = "" if v is None else str(v)
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?[Ee]\+?[0-9]+", s):
        return [("证件号码", f"{s}（已被电子表格改成科学计数法，后几位已经丢失，无法还原）")]
    length = ev.get("length") if isinstance(ev.get("length"), int) else len(s)
    check, expected = ev.get("check_digit"), ev.get("expected_check_digit")
    if check is not None and expected is not None:
        return [("证件号码", s), ("最后一位校验码", f"登记为{check}，按前17位计算应为{expected}")]
    if length == 15 and s.isdigit():
        return [("证件号码", f"{s}（15位旧号码，其中的出生日期无效）")]
    if length != 18:
        return [("证件号码", f"{s}（共{length}位，身份证号码应为18位）")]
    return [("证件号码", f"{s}（应为17位数字加1位数字或X）")]


def evidence_parts(rule_id: str, evidence, ctx: EvidenceContext | None = None) -> list[tuple[str, str | None]]:
    """(label, text) pairs of an issue's evidence in reading order; text None = empty."""
    if evidence in (None, "", {}):
        return []
    if not isinstance(evidence, dict):
        return [("", _scalar(evidence))]
    ctx = EvidenceContext(rule_id, ctx.loaded if ctx is not None else None)
    if rule_id == "ID-01":
        return _id01_parts(evidence)
    order = EVIDENCE_ORDER.get(rule_id, [])
    parts: list[tuple[str, str | None]] = []
    done: set[str] = set()
    for item in order:
        key, label, fmt = (item, None, None) if isinstance(item, str) else (tuple(item) + (None, None))[:3]
        done.add(key)
        if key not in evidence:
            continue
        v = evidence[key]
        text = fmt(v, evidence, ctx) if fmt else _scalar(v)
        if text is _HIDE:
            continue
        parts.append((label or _label(key), text))
    for key, v in evidence.items():          # keys the order does not know (a rule added one)
        if key not in done and key not in ("row_hash", "position"):
            parts.append((_label(key), _scalar(v)))
    return parts


def join_parts(parts: list[tuple[str, str | None]]) -> str:
    """`标签：值；…`, the empty values said once where the first of them stands: 未填写：A、B."""
    empty = [label for label, text in parts if text is None and label]
    out, said = [], False
    for label, text in parts:
        if text is None:
            if not said and empty:
                out.append("未填写：" + "、".join(empty))
                said = True
            continue
        out.append(f"{label}：{text}" if label else text)
    return "；".join(out)


def evidence_text(rule_id: str | None, evidence: str | dict | None, source: str | None = None,
                  ctx: EvidenceContext | None = None) -> str:
    """比对依据: the evidence as a village reads it, prefixed by the department's data when the
    issue comes from an agency table (【公安户籍】…)."""
    data = evidence
    if isinstance(evidence, str):
        try:
            data = json.loads(evidence) if evidence else None
        except ValueError:
            data = evidence
    rid = rule_id or ""
    body = join_parts(evidence_parts(rid, data, ctx))
    if source and source != "registry":
        from schemas.tables import TABLES

        title = TABLES[source].title if source in TABLES else "部门数据"
        return f"【{title}】{body}"
    return body


_HEADERS: dict[str, str] | None = None


def _column_headers() -> dict[str, str]:
    global _HEADERS
    if _HEADERS is None:
        from schemas.tables import TABLES

        _HEADERS = {}
        for t in TABLES.values():
            for c in t.columns:
                _HEADERS.setdefault(c.name, c.header)
    return _HEADERS


def _label(key: str) -> str:
    if key in EVIDENCE_LABELS:
        return EVIDENCE_LABELS[key]
    return _column_headers().get(key, "其他")


# ---------------------------------------------------------------------------
# 政策依据: policy texts may name parameters ({max_households_per_helper}); the workbook shows
# them with the values in force

class _Values(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def policy_text(policy: str | None, params: dict | None = None) -> str:
    if not policy:
        return ""
    if params is None:
        from checks.params import load_params

        params = load_params()
    vals = _Values()
    for k, v in params.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals[k] = _num(v)
        elif isinstance(v, list) and len(v) == 2:
            vals[k + "_lo"], vals[k + "_hi"] = _num(v[0]), _num(v[1])
    try:
        return policy.format_map(vals)
    except (ValueError, IndexError):
        return policy
