"""Village workbooks (outputs.md "Village workbooks") on hand-built issue tables."""
from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

from pipeline import workbooks as W
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
    assert ws.auto_filter.ref == "A1:P5"
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
    dvs = ws.data_validations.dataValidation
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
