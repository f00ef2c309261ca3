"""The canonical tables of inputs.md, as data.

This module is the single source of truth for table kinds, column names, header
aliases, types and value domains. The reader (kind recognition), the normaliser
(types), the pandera models, the DuckDB DDL and the demo generator's headers all
derive from it.

Types: text, id (an 18/15-char person ID: text with ID normalisation), code
(digit codes such as 户编号 and phone numbers: text, but an integer-valued numeric
cell is read as its digits), int, num, date, bool, enum.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    name: str                 # canonical column name
    header: str               # Chinese header as in inputs.md
    type: str = "text"        # text | id | code | int | num | date | bool | enum
    req: bool = False         # required for recognising the kind (and SCH-04)
    aliases: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()   # enum values
    lo: float | None = None   # inclusive range for int/num
    hi: float | None = None
    empty_as: str | None = None    # value an empty cell loads as (monitor_type, house_grade: 无)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Table:
    name: str
    title: str                       # Chinese name of the kind
    family: str                      # registry | agency
    columns: tuple[Col, ...]
    keys: tuple[str, ...]            # a row with all of these empty cannot be attributed
    key_header: str                  # the key column for partial recognition
    unique_key: str | None = None    # repeated keys with different content are rejected
    also_required: tuple[str, ...] = ()   # required for SCH-04 without being req headers
    person_col: str | None = None    # the person key of an agency table

    def col(self, name: str) -> Col:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.req]

    @property
    def not_null(self) -> list[str]:
        """Columns whose emptiness raises SCH-04."""
        return self.required + [n for n in self.also_required if n not in self.required]


def E(*values: str) -> tuple[str, ...]:
    return tuple(values)


# the post-load contract (pandera, schemas.models) checks tables above this many rows on a
# fixed-seed sample: a province's tables are not copied into pandas whole (memory)
CONTRACT_SAMPLE_ROWS = 100_000


def contract_rows_sql(con, name: str, sample_rows: int = CONTRACT_SAMPLE_ROWS) -> str:
    """The rows of canonical table `name` the contract checks: all, or about `sample_rows` of them
    chosen by a hash of the row key (the same rows every time; a reservoir sample cost 2-3x the
    copy itself)."""
    n = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    where = f" WHERE hash(_rid) % {n} < {sample_rows}" if n > sample_rows else ""
    return f'SELECT * EXCLUDE (_extra) FROM "{name}"{where}'

_GEO = (
    Col("county", "县", aliases=("县市区", "区县")),
    Col("township", "乡镇", aliases=("乡(镇)", "镇乡", "乡镇街道")),
    Col("village", "行政村", aliases=("村", "村(社区)")),
)

MEMBERS = Table(
    "members", "家庭成员", "registry",
    (
        *_GEO,
        Col("household_id", "户编号", "code", req=True),
        Col("person_no", "人编号", "code"),
        Col("name", "姓名", req=True),
        Col("id_number", "证件号码", "id", req=True, aliases=("身份证号码", "身份证号")),
        Col("gender", "性别", "enum", domain=E("男", "女")),
        Col("relation", "与户主关系", "enum", req=True, domain=E(
            "户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女",
            "之父", "之母", "之兄弟姐妹", "其他")),
        Col("ethnicity", "民族"),
        Col("education_level", "文化程度", "enum", domain=E(
            "文盲或半文盲", "小学", "初中", "高中", "大专及以上", "学龄前儿童")),
        Col("school_status", "在校生状况", "enum", domain=E(
            "非在校生", "学前教育", "小学", "初中", "高中", "中职", "高职", "大专",
            "本科及以上", "送教上门")),
        Col("health", "健康状况", "enum", domain=E("健康", "长期慢性病", "患有大病", "残疾")),
        Col("labor", "劳动技能", "enum", domain=E(
            "普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")),
        Col("work_status", "务工状况", "enum", domain=E(
            "乡镇内务工", "县内乡镇外务工", "省内县外务工", "省外务工", "公益岗位", "无")),
        Col("work_months", "务工时间（月）", "int", lo=0, hi=12),
        Col("basic_medical", "是否参加城乡居民基本医疗保险", "bool", aliases=("是否参加基本医疗保险",)),
        Col("serious_illness_ins", "是否参加大病保险", "bool"),
        Col("phone", "联系电话", "code"),
    ),
    keys=("household_id", "id_number"), key_header="household_id",
)

HOUSEHOLDS = Table(
    "households", "家庭情况", "registry",
    (
        *_GEO,
        Col("household_id", "户编号", "code", req=True),
        Col("head_name", "户主姓名", req=True),
        Col("head_id_number", "户主证件号码", "id", aliases=("户主身份证号",)),
        Col("size", "家庭人口数", "int", req=True, aliases=("家庭人口",), lo=0),
        Col("category", "贫困户属性", "enum", req=True, domain=E("一般贫困户", "低保贫困户", "特困供养贫困户")),
        Col("cause", "主要致贫原因", "enum", domain=E(
            "因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
            "交通条件落后", "自身发展动力不足", "其他")),
        Col("recognized_on", "识别时间", "date", aliases=("识别日期",)),
        Col("status", "脱贫属性", "enum", req=True, aliases=("脱贫状态",), domain=E("未脱贫", "已脱贫", "返贫")),
        Col("exit_year", "脱贫年度", "int"),
        Col("monitor_type", "监测对象类别", "enum", domain=E("无", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"), empty_as="无"),
        Col("income_per_capita", "年人均纯收入（元）", "num"),
        Col("wage_income", "工资性收入（元）", "num"),
        Col("business_income", "生产经营性收入（元）", "num"),
        Col("property_income", "财产性收入（元）", "num"),
        Col("transfer_income", "转移性收入（元）", "num"),
        Col("business_cost", "生产经营性支出（元）", "num"),
        Col("housing_secure", "住房安全有保障", "bool"),
        Col("house_grade", "危房等级", "enum", domain=E("A", "B", "C", "D", "无"), empty_as="无"),
        Col("house_area", "住房面积（㎡）", "num"),
        Col("water_secure", "饮水安全有保障", "bool"),
        Col("relocated", "是否易地扶贫搬迁户", "bool"),
    ),
    keys=("household_id",), key_header="household_id", unique_key="household_id",
    also_required=("status", "category", "size"),
)

HELPERS = Table(
    "helpers", "帮扶责任人", "registry",
    (
        Col("name", "帮扶责任人姓名", req=True, aliases=("姓名",)),
        Col("id_number", "帮扶责任人证件号码", "id", req=True, aliases=("证件号码", "身份证号码")),
        Col("phone", "联系电话", "code", req=True, aliases=("手机号码",)),
        Col("unit", "帮扶单位", req=True, aliases=("帮扶单位名称",)),
        Col("unit_level", "单位隶属关系", "enum", domain=E("中央", "省级", "市级", "县级", "乡镇")),
        Col("rank", "职务级别", "enum", domain=E("厅局级", "县处级", "乡科级", "科员", "其他")),
    ),
    keys=("id_number",), key_header="id_number", unique_key="id_number",
)

PAIRINGS = Table(
    "pairings", "结对帮扶关系", "registry",
    (
        Col("household_id", "户编号", "code", req=True),
        Col("helper_id_number", "帮扶责任人证件号码", "id", req=True),
        Col("helper_name", "帮扶责任人姓名"),
        Col("start_on", "帮扶开始时间", "date", req=True),
        Col("end_on", "帮扶结束时间", "date"),
    ),
    keys=("household_id",), key_header="household_id",
)

PROJECTS = Table(
    "projects", "扶贫项目", "registry",
    (
        Col("project_id", "项目编号", "code", req=True),
        Col("name", "项目名称", req=True),
        Col("type", "项目类型", "enum", req=True, domain=E(
            "产业发展", "就业扶贫", "公益岗位", "基础设施", "危房改造", "易地搬迁", "教育", "健康", "金融", "其他")),
        Col("content", "建设内容"),
        Col("funds_10k", "资金规模（万元）", "num"),
        Col("start_on", "开工时间", "date"),
        Col("end_on", "完工时间", "date"),
        Col("notice_url", "公示网址"),
        Col("township", "乡镇", aliases=("乡(镇)", "镇乡", "乡镇街道")),
        Col("village", "行政村", aliases=("村", "村(社区)")),
    ),
    keys=("project_id",), key_header="project_id", unique_key="project_id",
)

BENEFICIARIES = Table(
    "beneficiaries", "项目受益户", "registry",
    (
        Col("project_id", "项目编号", "code", req=True),
        Col("household_id", "受益户编号", "code", req=True, aliases=("户编号",)),
    ),
    keys=("project_id", "household_id"), key_header="project_id",
)

LOANS = Table(
    "loans", "扶贫小额信贷", "registry",
    (
        Col("borrower_name", "借款人姓名", req=True),
        Col("borrower_id_number", "借款人证件号码", "id", req=True),
        Col("household_id", "户编号", "code"),
        Col("amount", "贷款金额（元）", "num", req=True),
        Col("issued_on", "放款日期", "date", req=True),
        Col("due_on", "到期日期", "date"),
        Col("balance", "贷款余额（元）", "num"),
        Col("repay_status", "还款状态", "enum", domain=E("正常", "逾期", "已结清")),
        Col("purpose", "贷款用途", "enum", domain=E("种植业", "养殖业", "加工业", "商贸流通", "其他")),
        Col("use_mode", "资金使用方式", "enum", domain=E("自主发展", "合作发展", "入股企业")),
    ),
    keys=("borrower_id_number", "household_id"), key_header="borrower_id_number",
)

# --- agency extracts -------------------------------------------------------

CIVIL_AFFAIRS = Table(
    "civil_affairs", "民政低保特困", "agency",
    (
        Col("name", "姓名"),
        Col("id_number", "身份证号码", "id", req=True),
        Col("aid_type", "救助类型", "enum", req=True, domain=E("农村低保", "城市低保", "农村特困", "城市特困")),
        Col("head_id_number", "户主身份证号码", "id"),
        Col("start_on", "起始日期", "date"),
        Col("end_on", "终止日期", "date"),
        Col("monthly_amount", "月保障金（元）", "num"),
        Col("township", "乡镇"),
        Col("village", "村"),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

DISABILITY = Table(
    "disability", "残联残疾人", "agency",
    (
        Col("name", "姓名"),
        Col("id_number", "身份证号", "id", req=True),
        Col("card_number", "残疾证号", req=True),
        Col("category", "残疾类别", "enum", domain=E("视力", "听力", "言语", "肢体", "智力", "精神", "多重")),
        Col("grade", "残疾等级", "enum", domain=E("一级", "二级", "三级", "四级")),
        Col("issued_on", "发证日期", "date"),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

EDUCATION = Table(
    "education", "教育学籍", "agency",
    (
        Col("name", "学生姓名"),
        Col("id_number", "身份证件号", "id", req=True),
        Col("school", "学校名称", req=True),
        Col("stage", "学段", "enum", domain=E("学前", "小学", "初中", "高中", "中职", "高职", "本科")),
        Col("grade", "年级"),
        Col("enrol_status", "学籍状态", "enum", req=True, domain=E("在读", "休学", "转出", "辍学", "毕业")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

MEDICAL_INSURANCE = Table(
    "medical_insurance", "医保参保", "agency",
    (
        Col("name", "姓名"),
        Col("id_number", "公民身份号码", "id", req=True),
        Col("year", "参保年度", "int", req=True),
        Col("scheme", "险种类型", "enum", domain=E("城乡居民基本医疗保险", "职工基本医疗保险")),
        Col("status", "参保状态", "enum", req=True, domain=E("参保缴费", "暂停", "终止")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

HOUSING = Table(
    "housing", "住建危房改造", "agency",
    (
        Col("head_name", "户主姓名"),
        Col("head_id_number", "户主身份证号", "id", req=True),
        Col("grade", "鉴定等级", "enum", req=True, domain=E("A", "B", "C", "D")),
        Col("assessed_on", "鉴定日期", "date"),
        Col("renovation", "改造状态", "enum", domain=E("未改造", "在建", "已竣工")),
        Col("method", "改造方式", "enum", domain=E("修缮加固", "拆除重建", "置换", "其他")),
        Col("area_after", "改造后面积（㎡）", "num"),
        Col("subsidy", "补助资金（元）", "num"),
        Col("target_type", "对象类别", "enum", domain=E(
            "建档立卡贫困户", "低保户", "分散供养特困人员", "贫困残疾人家庭", "其他")),
    ),
    keys=("head_id_number",), key_header="head_id_number", person_col="head_id_number",
)

HUKOU = Table(
    "hukou", "公安户籍", "agency",
    (
        Col("name", "姓名"),
        Col("id_number", "公民身份号码", "id", req=True),
        Col("hukou_status", "户籍状态", "enum", req=True, domain=E("正常", "死亡注销", "迁出", "服兵役")),
        Col("changed_on", "变动日期", "date"),
        Col("hukou_type", "户口性质", "enum", domain=E("农业", "非农业", "居民")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

VEHICLES = Table(
    "vehicles", "公安车辆", "agency",
    (
        Col("owner", "所有人"),
        Col("id_number", "身份证明号码", "id", req=True),
        Col("plate", "号牌号码", req=True),
        Col("vehicle_type", "车辆类型", "enum", domain=E(
            "小型轿车", "小型普通客车", "中型客车", "轻型货车", "重型货车", "三轮汽车",
            "低速货车", "拖拉机", "普通二轮摩托车")),
        Col("registered_on", "初次登记日期", "date"),
        Col("vehicle_status", "车辆状态", "enum", domain=E("正常", "注销", "报废")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

BUSINESSES = Table(
    "businesses", "市场监管企业", "agency",
    (
        Col("company", "企业名称", req=True),
        Col("credit_code", "统一社会信用代码"),
        Col("legal_rep", "法定代表人"),
        Col("id_number", "法定代表人证件号码", "id", req=True),
        Col("capital_10k", "注册资本（万元）", "num"),
        Col("founded_on", "成立日期", "date"),
        Col("reg_status", "登记状态", "enum", domain=E("存续", "在业", "吊销", "注销")),
        Col("company_type", "企业类型", "enum", domain=E(
            "有限责任公司", "股份有限公司", "个人独资企业", "个体工商户", "农民专业合作社")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

PAYROLL = Table(
    "payroll", "财政供养人员", "agency",
    (
        Col("name", "姓名"),
        Col("id_number", "身份证号", "id", req=True),
        Col("employer", "单位名称", req=True),
        Col("staff_type", "人员类别", "enum", domain=E("公务员", "参公人员", "事业编制", "国企管理人员")),
        Col("joined_on", "入编日期", "date"),
        Col("payroll_status", "状态", "enum", domain=E("在职", "离职", "退休")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

REAL_ESTATE = Table(
    "real_estate", "不动产登记", "agency",
    (
        Col("owner", "权利人"),
        Col("id_number", "权利人证件号", "id", req=True),
        Col("location", "不动产坐落", req=True),
        Col("use", "房屋用途", "enum", domain=E("住宅", "商业", "办公", "其他")),
        Col("area", "建筑面积（㎡）", "num"),
        Col("registered_on", "登记日期", "date"),
        Col("zone", "所在区域", "enum", domain=E("城镇", "农村")),
    ),
    keys=("id_number",), key_header="id_number", person_col="id_number",
)

REGISTRY = (MEMBERS, HOUSEHOLDS, HELPERS, PAIRINGS, PROJECTS, BENEFICIARIES, LOANS)
AGENCY = (CIVIL_AFFAIRS, DISABILITY, EDUCATION, MEDICAL_INSURANCE, HOUSING, HUKOU,
          VEHICLES, BUSINESSES, PAYROLL, REAL_ESTATE)
TABLES: dict[str, Table] = {t.name: t for t in (*REGISTRY, *AGENCY)}

# Columns every canonical DuckDB table carries besides its own.
META_COLUMNS = (
    ("_rid", "BIGINT"),      # row id, unique across the run, in file order
    ("_file", "VARCHAR"),    # path of the source file, relative to the drop
    ("_sheet", "VARCHAR"),
    ("_row", "INTEGER"),     # Excel row number (CSV: line number) as the uploader sees it
)

SQL_TYPES = {"text": "VARCHAR", "id": "VARCHAR", "code": "VARCHAR", "enum": "VARCHAR",
             "int": "BIGINT", "num": "DOUBLE", "date": "DATE", "bool": "BOOLEAN"}


def ddl(table: Table, name: str | None = None) -> str:
    cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in table.columns]
    cols += [f"{n} {t}" for n, t in META_COLUMNS]
    cols.append("_extra VARCHAR")   # extra (non-canonical) columns of the row, as JSON
    return f'CREATE OR REPLACE TABLE "{name or table.name}" ({", ".join(cols)})'
