"""Village workbooks (outputs.md "Village workbooks") on hand-built issue tables."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest

from pipeline.outputs import vocab
from pipeline.outputs import workbooks as W
from wbutil import T1, T2, V1, V2, issue, issues_db, pid

HH1, HH2, HH3, HH9 = "430624101010001", "430624101010002", "430624101010003", "430624102020001"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c for c in row] for row in ws.iter_rows()] for ws in wb}


def list_rows(path) -> list[dict]:
    ws = openpyxl.load_workbook(path)[W.LIST_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture
def two_villages(tmp_path):
    a, b, cand = pid(1), pid(2, male=False), pid(3)
    issues = [
        issue("ID-01", HH1, id_number=a, person_name="张三", message=f"张三的证件号码{a}校验失败",
              evidence=f'{{"id_number":"{a}","length":18}}'),
        issue("XA-10", HH1, id_number=b, person_name="李四", severity="suspect", status="persisting",
              flag="整改未见效", source="hukou",
              message=f"李四的证件号码{b}与部门数据中同名人员的证件号码{cand}仅差一位",
              evidence=f'{{"candidate_id_number":"{cand}"}}'),
        issue("HH-02", HH2, severity="notice", status="reopened"),
        issue("HH-02", HH3, status="waived"),                                # not listed
        issue("PRJ-01", None, project_id="P0001", township=T1, village=V1),  # project row names the village
        issue("PRJ-01", None, project_id="P0002", township=None, village=None),  # county level
        issue("HOU-06", None, id_number=pid(4), township=T1, village=None),      # county level
        issue("ID-01", HH9, township=T2, village=V2, id_number="4.30624198006151E+17",
              message="号码4.30624198006151E+17已被截断"),
    ]
    con = issues_db(issues, [(HH1, "已脱贫", "无", 5000.0), (HH2, "未脱贫", "无", 3000.0),
                             (HH3, "已脱贫", "无", 9000.0), (HH9, "已脱贫", "脱贫不稳定户", 20000.0)])
    paths = W.write_all(con, tmp_path, "2026-10")
    return issues, paths, tmp_path


def test_one_workbook_per_village_with_only_its_rows(two_villages):
    issues, paths, out = two_villages
    assert sorted(p.relative_to(out).as_posix() for p in paths) == [
        f"villages/{T2}/{V2}.xlsx", f"villages/{T1}/{V1}.xlsx"]
    v1 = out / "villages" / T1 / f"{V1}.xlsx"
    ids = {r["issue_id"] for r in list_rows(v1)}
    by = {(i["rule_id"], i["household_id"], i.get("project_id")): i["issue_id"] for i in issues}
    assert ids == {by[("ID-01", HH1, None)], by[("XA-10", HH1, None)], by[("HH-02", HH2, None)],
                   by[("PRJ-01", None, "P0001")]}
    v2 = out / "villages" / T2 / f"{V2}.xlsx"
    assert {r["户编号"] for r in list_rows(v2)} == {HH9}
    # nothing of village 2 anywhere in village 1's workbook
    text = " ".join(str(c.value) for rows in cells(v1).values() for row in rows for c in row if c.value)
    assert HH9 not in text and V2 not in text


def test_sheets_info_cells_and_layout(two_villages):
    _, _, out = two_villages
    path = out / "villages" / T1 / f"{V1}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [W.INFO_SHEET, W.LIST_SHEET, W.SUMMARY_SHEET]
    info = wb[W.INFO_SHEET]
    assert [info[f"B{W.INFO_ROWS[k]}"].value for k in ("county", "township", "village", "period")] == \
        ["湘阴县", T1, V1, "2026-10"]
    ws = wb[W.LIST_SHEET]
    assert [c.value for c in ws[1]] == W.LIST_HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:R5"
    rows = list_rows(path)
    assert [r["序号"] for r in rows] == [1, 2, 3, 4]
    flagged = next(r for r in rows if r["成员姓名"] == "李四")
    assert flagged["状态"] == "仍存在（整改未见效）"
    assert flagged["比对依据"].startswith("【公安户籍】")
    assert {r["状态"] for r in rows} == {"新发现", "仍存在（整改未见效）", "再次出现"}
    # severity colours on the issue columns
    fills = {ws.cell(row=r, column=6).value: ws.cell(row=r, column=6).fill.fgColor.rgb for r in range(2, 6)}
    assert any(v.endswith(W.SEVERITY_FILL["suspect"]) for k, v in fills.items() if "疑似" in k)
    # rules that occur are explained
    info_text = [c.value for row in info.iter_rows() for c in row if c.value]
    assert "XA-10" in info_text and "HH-02" in info_text and "ID-01" in info_text
    assert "WAT-01" not in info_text


def test_household_summary_and_class(two_villages):
    _, _, out = two_villages
    ws = openpyxl.load_workbook(out / "villages" / T1 / f"{V1}.xlsx")[W.SUMMARY_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(W.SUMMARY_HEADERS)
    assert tuple(rows[1:]) == ((HH1, f"户主{HH1}", "黄", 1, 1, 0, 2), (HH2, f"户主{HH2}", "红", 0, 0, 1, 1))


@pytest.mark.parametrize("status, monitor, income, expected", [
    ("未脱贫", "无", 99999, "红"), ("返贫", None, None, "红"),
    ("已脱贫", "边缘易致贫户", 99999, "黄"), ("已脱贫", "无", 7000, "黄"),
    ("已脱贫", "无", 7500, "绿"), ("已脱贫", None, None, "绿"), (None, "无", 100, ""), ("", "无", 1, ""),
])
def test_household_class(status, monitor, income, expected):
    assert W.household_class(status, monitor, income, 7500.0) == expected


def test_dropdown_on_answer_column(two_villages):
    _, _, out = two_villages
    ws = openpyxl.load_workbook(out / "villages" / T1 / f"{V1}.xlsx")[W.LIST_SHEET]
    col = openpyxl.utils.get_column_letter(W.LIST_HEADERS.index(W.ANSWER_HEADER) + 1)
    dvs = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(dvs) == 1
    dv = dvs[0]
    assert dv.type == "list" and dv.formula1 == '"' + ",".join(W.ANSWERS) + '"'
    assert str(dv.sqref) == f"{col}2:{col}5"
    assert not dv.showDropDown          # (openpyxl: True would hide the arrow)


def test_ids_masked_everywhere(two_villages):
    issues, _, out = two_villages
    for path in (out / "villages" / T1 / f"{V1}.xlsx", out / "villages" / T2 / f"{V2}.xlsx"):
        for rows in cells(path).values():
            for row in rows:
                for c in row:
                    if isinstance(c.value, str):
                        assert not FULL_ID.search(c.value), c.value
                        assert "E+17" not in c.value or "*" in c.value, c.value
    rows = list_rows(out / "villages" / T1 / f"{V1}.xlsx")
    a = issues[0]["id_number"]
    zs = next(r for r in rows if r["成员姓名"] == "张三")
    assert zs["证件号码"] == a[:6] + "********" + a[-4:]
    assert a[:6] + "********" + a[-4:] in zs["问题描述"]
    assert zs["户编号"] == HH1                      # 15-digit household IDs are keys, not masked
    ls = next(r for r in rows if r["成员姓名"] == "李四")
    cand = pid(3)
    assert cand not in ls["问题描述"] and cand not in ls["比对依据"]
    assert cand[:6] + "********" + cand[-4:] in ls["比对依据"]
    (v2,) = list_rows(out / "villages" / T2 / f"{V2}.xlsx")
    assert v2["证件号码"] == "4.3062**********E+17"


def test_no_masking_when_asked(tmp_path):
    a = pid(5)
    con = issues_db([issue("ID-01", HH1, id_number=a, message=f"号码{a}")], [(HH1, "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10", mask_ids=False)
    (row,) = list_rows(path)
    assert row["证件号码"] == a and a in row["问题描述"]


def test_mask_text():
    a = pid(6)
    assert W.mask_text(f"号{a}与{a[:15]}，卡号{a}41，电话13800138000，户{HH1}", {HH1}) == (
        f"号{a[:6]}********{a[-4:]}与{a[:6]}*****{a[11:15]}，卡号{a[:6]}**********{a[-2:]}41，"
        f"电话13800138000，户{HH1}")
    assert W.mask_text("430624198006151234X") == "430624198006151234X"[:6] + "*********" + "234X"
    assert W.mask_text("2026-10-31 金额12000.5") == "2026-10-31 金额12000.5"


FORMULAS = ["=1+1", "+1", "-2", "@SUM(A1)", '=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0"]


def test_formula_like_values_stay_text(tmp_path):
    issues = [issue("ID-07", HH1, person_name=f, head_name=f, message=f, id_number=None, value=f,
                    field="name", evidence='{"name":"%s"}' % f.replace('"', '\\"'))
              for f in FORMULAS]
    con = issues_db(issues, [(HH1, "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    ws = openpyxl.load_workbook(path)[W.LIST_SHEET]
    hdr = [c.value for c in ws[1]]
    seen = set()
    for row in ws.iter_rows(min_row=2):
        for h in ("户主姓名", "成员姓名", "问题描述"):
            c = row[hdr.index(h)]
            assert c.data_type == "s", (h, c.value)
            seen.add(c.value)
    assert seen >= set(FORMULAS)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8")


def test_control_characters_and_long_text(tmp_path):
    con = issues_db([issue("ID-07", HH1, person_name="张\x07三", message="x" * 40000)],
                    [(HH1, "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    (row,) = list_rows(path)
    assert row["成员姓名"] == "张\u2407三"
    assert len(row["问题描述"]) <= W.MAX_CELL + 1


@pytest.mark.parametrize("name, expected", [
    ("../x", "__x"), ("新村/老村", "新村_老村"), ("a\\b", "a_b"), ("村\x00\x1f名", "村__名"),
    ("", "未知"), (None, "未知"), ("  ", "未知"), ("..", "_"), (".hidden", "_hidden"), ("CON", "_CON"),
    ("村.", "村_"), ("新\u202e村", "新_村"), ('a:b*c?"<>|', "a_b_c_____"),
])
def test_safe_name(name, expected):
    assert W.safe_name(name) == expected


def test_unsafe_names_and_collisions(tmp_path):
    issues = [issue("HH-02", f"H{n}", township=t, village=v)
              for n, (t, v) in enumerate([("../x", "新村/老村"), ("../x", "新村_老村"), ("乡\x01镇", ""),
                                          ("..", ".."), ("Town", "a村"), ("town", "A村")])]
    con = issues_db(issues, [(f"H{n}", "已脱贫", "无", 1.0) for n in range(6)])
    paths = W.write_all(con, tmp_path, "2026-10")
    rel = sorted(p.relative_to(tmp_path / "villages").as_posix() for p in paths)
    assert rel == sorted(["__x/新村_老村.xlsx", "__x/新村_老村_2.xlsx", "乡_镇/未知.xlsx", "_/_.xlsx",
                          "Town/a村.xlsx", "town_2/A村.xlsx"])
    root = (tmp_path / "villages").resolve()
    for p in paths:
        assert p.resolve().is_relative_to(root) and p.is_file()
    # the 说明 sheet keeps the real names
    info = openpyxl.load_workbook(tmp_path / "villages" / "__x" / "新村_老村_2.xlsx")[W.INFO_SHEET]
    assert (info["B4"].value, info["B5"].value) == ("../x", "新村_老村")


def test_household_without_geography_goes_to_unknown(tmp_path):
    con = issues_db([issue("HH-02", HH1, township=None, village=None)], [(HH1, "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    assert path.relative_to(tmp_path).as_posix() == "villages/未知/未知.xlsx"


def test_no_issues_no_workbooks(tmp_path):
    con = issues_db([issue("HH-02", HH1, status="waived"), issue("PRJ-01", None, township=None)],
                    [(HH1, "已脱贫", "无", 1.0)])
    assert W.write_all(con, tmp_path, "2026-10") == []
    assert not (tmp_path / "villages").exists()


# ---------------------------------------------------------------------------
# texts the village reads (issue F "Texts the village reads")

def _evidence_of(tmp_path, issues, households=None, **kw) -> dict[str, str]:
    """rule_id → 比对依据 of the one workbook written for these issues."""
    con = issues_db(issues, households or [(i["household_id"], "已脱贫", "无", 1.0) for i in issues
                                           if i.get("household_id")])
    (path,) = W.write_all(con, tmp_path, "2026-10", **kw)
    return {r["issue_id"]: r["比对依据"] for r in list_rows(path)}


def test_evidence_is_plain_chinese(tmp_path):
    ev = {
        # XA-10: department codes, an edit code and an edit position
        "XA-10": ('{"agencies":["hukou","medical_insurance"],"candidate_id_number":"430624198010305124",'
                  '"edit":"substitution","id_number":"430624198010300124","name":"柯倩","position":15}', "hukou"),
        # SCH-03: a record fingerprint
        "SCH-03": ('{"row_hash":"daa5b5246517009a","table":"hukou"}', "hukou"),
        # ID-01: an ID Excel rounded
        "ID-01": ('{"check_digit":null,"expected_check_digit":null,"id_number":"4.30624198006151E+17","length":20}',
                  "registry"),
        # PAIR-04: keys sorted by their English names put the end before the start
        "PAIR-04": ('{"helper_id_number":"430624199605232133","spells":[{"end_on":"2015-08-25",'
                    '"start_on":"2015-12-03"}]}', "registry"),
        # PRJ-01: two empty values
        "PRJ-01": ('{"content":null,"end_on":"2017-04-16","funds_10k":18.4,"notice_url":null,'
                   '"start_on":"2016-03-13"}', "registry"),
        "HH-04": ('{"birth":"2011-09-24","head_birth":"1990-12-12","min_years":15,"relation":"之母"}', "registry"),
    }
    issues = [issue(rid, f"43062410101{n:04d}", evidence=e, source=src, person_name=f"人{n}")
              for n, (rid, (e, src)) in enumerate(ev.items())]
    got = _evidence_of(tmp_path, issues)
    texts = {i["rule_id"]: got[i["issue_id"]] for i in issues}
    for rid, text in texts.items():
        assert not re.search(r"hukou|medical_insurance|substitution|row_hash|位置|记录指纹|daa5b5", text), (rid, text)
    assert "公安户籍" in texts["XA-10"] and "医保" in texts["XA-10"] and "第15位" in texts["XA-10"]
    assert "空" not in texts["ID-01"] and "校验码" not in texts["ID-01"] and "长度" not in texts["ID-01"]
    assert texts["ID-01"].count("科学计数法") == 1
    assert "2015-12-03至2015-08-25" in texts["PAIR-04"]                      # start before end
    assert texts["PRJ-01"].count("未填写") == 1 and "空" not in texts["PRJ-01"]
    assert "建设内容" in texts["PRJ-01"] and "公示网址" in texts["PRJ-01"]
    assert texts["PRJ-01"].index("开工时间") < texts["PRJ-01"].index("完工时间")
    # who / what was recorded first, the standard last
    h = texts["HH-04"]
    assert h.index("与户主关系") < h.index("本人出生日期") < h.index("户主出生日期") < h.index("相差")


def test_policy_is_named_not_cited(tmp_path):
    issues = [issue("PAIR-01", "H1"), issue("SCH-02", "H1", person_name="甲"), issue("HH-01", "H2")]
    con = issues_db(issues, [("H1", "已脱贫", "无", 1.0), ("H2", "已脱贫", "无", 1.0)])
    from checks.params import load_params

    (path,) = W.write_all(con, tmp_path, "2026-10", params=load_params(overrides={"max_households_per_helper": 3}))
    ws = openpyxl.load_workbook(path)[W.INFO_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = next(i for i, r in enumerate(rows) if r[0] == "规则编号")
    policy = {r[0]: r[4] for r in rows[head + 1:] if r[0]}
    assert set(policy) == {"PAIR-01", "SCH-02", "HH-01"}
    for rid, text in policy.items():
        assert text and not re.search(r"[A-Za-z]|篇|00[0-4]", text), (rid, text)
    assert policy["PAIR-01"] == "结对帮扶每人不超过3户"          # the parameter in force


def test_one_vocabulary(tmp_path):
    assert W.SEVERITY_CN is vocab.SEVERITY_CN and W.STATUS_CN is vocab.STATUS_CN
    assert vocab.SEVERITY_CN == {"error": "错误", "suspect": "疑似", "notice": "提示"}
    assert vocab.STATUS_CN == {"new": "新发现", "persisting": "仍存在", "reopened": "再次出现",
                               "waived": "核实无误", "resolved": "已销号"}
    con = issues_db([issue("HH-02", "H1", severity="suspect", status="reopened")], [("H1", "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    (row,) = list_rows(path)
    assert row["状态"] == "再次出现" and row["问题类别"].endswith("（疑似）")


def test_last_answer_shown_read_only_beside_persisting_issues(tmp_path):
    a, b, c = (issue("HH-02", h, status=s) for h, s in (("H1", "persisting"), ("H2", "persisting"), ("H3", "new")))
    con = issues_db([a, b, c], [(h, "已脱贫", "无", 1.0) for h in ("H1", "H2", "H3")])
    con.execute("CREATE TEMP TABLE _answers (issue_id VARCHAR, answer VARCHAR, note VARCHAR, period VARCHAR)")
    con.execute("INSERT INTO _answers VALUES (?, '属实-整改中', '正在补录成员', '2026-09'), "
                "(?, '无法核实', NULL, '2026-07')", [a["issue_id"], b["issue_id"]])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    rows = {r["issue_id"]: r for r in list_rows(path)}
    assert (rows[a["issue_id"]][W.LAST_ANSWER_HEADER], rows[a["issue_id"]][W.LAST_NOTE_HEADER]) == \
        ("属实-整改中", "正在补录成员")
    assert rows[b["issue_id"]][W.LAST_ANSWER_HEADER] == "无法核实（2026-07期）"     # not last month's
    assert rows[c["issue_id"]][W.LAST_ANSWER_HEADER] is None
    for r in rows.values():                         # never pre-filled into the answer the village gives
        assert r[W.ANSWER_HEADER] is None and r[W.NOTE_HEADER] is None
    ws = openpyxl.load_workbook(path)[W.LIST_SHEET]
    hdr = [c.value for c in ws[1]]
    ro = [openpyxl.utils.get_column_letter(hdr.index(h) + 1) for h in W.READ_ONLY]
    fill_in = openpyxl.utils.get_column_letter(hdr.index(W.ANSWER_HEADER) + 1)
    # visibly separate: their own header colour, grey italic cells
    assert ws[f"{ro[0]}1"].fill.fgColor.rgb != ws[f"{fill_in}1"].fill.fgColor.rgb
    assert ws[f"{ro[0]}2"].font.i
    # read-only: a validation that refuses any entry
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for col in ro:
        dv = next(dv for ref, dv in dvs.items() if f"{col}2:{col}4" in ref)
        assert dv.type == "textLength" and dv.operator == "lessThan" and dv.formula1 == "0"


def test_workbook_id_registry_and_progress(tmp_path):
    issues = [issue("HH-02", "H1"), issue("ID-01", "H1", id_number=pid(7)), issue("HH-02", "H9", township=T2,
                                                                                   village=V2)]
    con = issues_db(issues, [("H1", "已脱贫", "无", 1.0), ("H9", "已脱贫", "无", 1.0)])
    calls = []
    paths = W.write_all(con, tmp_path, "2026-10", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    reg = con.execute("SELECT workbook_id, period, township, village, file, issue_id FROM workbook_issues "
                      "ORDER BY file, issue_id").fetchall()
    by_file = {}
    for wbid, period, t, v, f, iid in reg:
        by_file.setdefault(f, (wbid, period, t, v, set()))[4].add(iid)
    assert set(by_file) == {p.relative_to(tmp_path).as_posix() for p in paths}
    assert by_file[f"villages/{T1}/{V1}.xlsx"][1:] == ("2026-10", T1, V1, {issues[0]["issue_id"], issues[1]["issue_id"]})
    ids = set()
    for path in paths:
        f = path.relative_to(tmp_path).as_posix()
        wbid = by_file[f][0]
        ids.add(wbid)
        assert len(wbid) >= 20 and re.fullmatch(r"[A-Za-z0-9_-]+", wbid)
        assert {r["issue_id"] for r in list_rows(path)} == by_file[f][4]
        wb = openpyxl.load_workbook(path)
        assert wb[W.INFO_SHEET][f"B{W.WORKBOOK_ID_ROW}"].value == wbid
        assert wb[W.INFO_SHEET][f"A{W.WORKBOOK_ID_ROW}"].value == W.WORKBOOK_ID_LABEL
        props = {p.name: p.value for p in wb.custom_doc_props}
        assert props == {W.WORKBOOK_ID_PROPERTY: wbid}
    assert len(ids) == 2
    # a second run writes new ids
    W.write_all(con, tmp_path / "again", "2026-10")
    again = {r[0] for r in con.execute("SELECT DISTINCT workbook_id FROM workbook_issues").fetchall()}
    assert len(again) == 2 and not again & ids


def test_registry_table_exists_without_workbooks(tmp_path):
    con = issues_db([issue("PRJ-01", None, township=None, village=None)], [])
    assert W.write_all(con, tmp_path, "2026-10") == []
    assert con.execute("SELECT count(*) FROM workbook_issues").fetchone()[0] == 0


def test_persist_registry_appends_once(tmp_path):
    con = issues_db([issue("HH-02", "H1")], [("H1", "已脱贫", "无", 1.0)])
    con.execute("ATTACH ':memory:' AS store")
    from pipeline.cycle import history

    history.ensure(con, "store")
    W.write_all(con, tmp_path, "2026-10")
    assert W.persist_registry(con, "store") == 1
    assert W.persist_registry(con, "store") == 0          # the same workbooks are not added twice
    W.write_all(con, tmp_path / "rerun", "2026-10")
    assert W.persist_registry(con, "store") == 1          # a re-run adds its new workbook id
    rows = con.execute("SELECT count(DISTINCT workbook_id), count(*), min(created_at) IS NOT NULL "
                       "FROM store.workbook_issues").fetchone()
    assert rows == (2, 2, True)


# ---------------------------------------------------------------------------
# leaks (issue K items 9 and 11)

def test_ids_masked_after_normalising_width_spaces_and_case(tmp_path):
    hid = pid(8)                                              # a household registered under its head's ID
    a, b, c, d = pid(9), pid(10), pid(11, male=False), pid(12)
    fw = a.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    spaced = f"{b[:6]} {b[6:14]} {b[14:]}"
    lower = c[:17] + "x" if c.endswith("X") else c
    issues = [
        issue("ID-07", hid, person_name=f"张三{fw}", head_name=f"李四{spaced}", id_number=d,
              message=f"户{hid}的成员{lower}与{d[:6]}\u3000{d[6:]}", value="4.3E+17", field="id_number",
              evidence=f'{{"name":"张三{fw}"}}'),
    ]
    con = issues_db(issues, [(hid, "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    wb = openpyxl.load_workbook(path)
    texts = [str(cell.value) for ws in wb for row in ws.iter_rows() for cell in row if cell.value is not None]
    blob = "\n".join(texts)
    norm = W.normalise_id(blob)
    for full in (hid, a, b, c, d):
        assert full not in norm, full
    assert "4.3E+17" not in blob
    (row,) = list_rows(path)
    assert row["户编号"] == hid[:6] + "********" + hid[-4:]
    assert row["成员姓名"] == "张三" + a[:6] + "********" + a[-4:]
    summary = list(wb[W.SUMMARY_SHEET].iter_rows(min_row=2, values_only=True))
    assert summary[0][0] == hid[:6] + "********" + hid[-4:]
    # 15-digit household codes stay keys (not IDs): readable
    assert W.mask_text("户430624101010001", W.keep_keys({"430624101010001"})) == "户430624101010001"


def test_bel_and_esc_in_names_keep_the_workbook_openable(tmp_path):
    """K-5: a BEL or ESC in a township or village name went raw into docProps/core.xml."""
    t, v = "城\x07西镇", "新\x1b泉村\u202e"
    con = issues_db([issue("HH-02", "H1", township=t, village=v, person_name="王\u202e五\u200b", head_name="赵\x1b六")],
                    [("H1", "已脱贫", "无", 1.0)])
    (path,) = W.write_all(con, tmp_path, "2026-10")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                ET.fromstring(z.read(name))                    # every part is well-formed XML
                text = z.read(name).decode("utf-8")
                assert "\x07" not in text and "\x1b" not in text and "\u202e" not in text, name
    wb = openpyxl.load_workbook(path)
    assert wb.properties.title.startswith("城␇西镇新␛泉村〔U+202E〕")
    info = wb[W.INFO_SHEET]
    assert (info["B4"].value, info["B5"].value) == ("城␇西镇", "新␛泉村〔U+202E〕")
    (row,) = list_rows(path)
    assert row["成员姓名"] == "王〔U+202E〕五〔U+200B〕" and row["户主姓名"] == "赵␛六"
    assert vocab.visible("a\u202eb\u2066c\u00add\x7f") == "a〔U+202E〕b〔U+2066〕c〔U+00AD〕d\u2421"


def test_evidence_says_medical_data_only_when_loaded(tmp_path):
    e = '{"basic_medical":false,"medical_statuses":[],"year":2026}'
    no = _evidence_of(tmp_path / "a", [issue("MED-01", "H1", evidence=e, person_name="甲")])
    con = issues_db([issue("MED-01", "H1", evidence=e, person_name="甲")], [("H1", "已脱贫", "无", 1.0)])
    con.execute("CREATE TABLE medical_insurance (id_number VARCHAR)")
    con.execute("INSERT INTO medical_insurance VALUES ('x')")
    (path,) = W.write_all(con, tmp_path / "b", "2026-10")
    (yes,) = [r["比对依据"] for r in list_rows(path)]
    (no,) = no.values()
    assert "未提供医保数据" in no and "无参保记录" not in no
    assert "2026年度无参保记录" in yes


def test_info_sheet_counts_only_fixed_but_still_there_as_not_fixed(tmp_path):
    """整改未见效 on the 说明 sheet counts issues answered fixed that are still there, not waivers
    the county overturned (抽查复核未通过), which carry a flag too."""
    import openpyxl

    from pipeline.outputs import workbooks as W
    from pipeline.outputs.vocab import FLAG_AUDIT_OVERTURNED, FLAG_NOT_FIXED

    issues = [{"issue_id": "a", "status": "persisting", "flag": FLAG_NOT_FIXED, "rule_id": "HH-01"},
              {"issue_id": "b", "status": "reopened", "flag": FLAG_AUDIT_OVERTURNED, "rule_id": "HH-01"},
              {"issue_id": "c", "status": "new", "flag": None, "rule_id": "HH-01"}]
    path = tmp_path / "w.xlsx"
    book = W.Book(path)
    W.write_info_sheet(W.Sheet(book, W.INFO_SHEET), {"period": "2026-10", "workbook_id": "x", "township": "东镇",
                                                     "village": "新村", "generated": "2026-10-31"},
                       issues, mask=True, keep=frozenset(), monitoring_line=None)
    book.wb.close()
    wb = openpyxl.load_workbook(path, read_only=True)
    counts = {r[0]: r[1] for r in wb[W.INFO_SHEET].iter_rows(max_col=2, values_only=True) if r[0]}
    assert counts[FLAG_NOT_FIXED] == 1
    assert counts["再次出现"] == 1
