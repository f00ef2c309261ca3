"""The annotated workbook: a comment on each finding's cell, coloured by severity, a 校验结果
sheet, and no formula anywhere; the findings download; the page shows Excel row numbers as
`cardcheck validate` reports them."""
from __future__ import annotations

import io

from conftest import T_B, member_rows, members_xlsx, upload
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from portal import services, store

FORMULA_TEXT = '=HYPERLINK("http://example.invalid","点我")'


def _book(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _no_formula(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"


def test_annotated_workbook_has_a_comment_on_each_findings_cell(world, login, tmp_path):
    rows = member_rows(T_B, 6, start=100, bad=2)
    f = members_xlsx(tmp_path / "成员.xlsx", rows)
    wb = load_workbook(f)
    wb.active["D6"] = FORMULA_TEXT                      # a name that looks like a formula, stored as text
    wb.active["D6"].data_type = "s"
    wb.active["J5"] = "=1+1"                            # a real formula in the upload
    wb.save(f)
    c = login(world["town_b"])
    up = upload(c, f)
    result = store.load_result(up)
    findings = [x for x in result["findings"] if x["row"] is not None]
    assert up.n_error >= 2 and findings
    # the page shows the Excel rows (title row 1, header row 2, data from row 3)
    text = c.get(f"/uploads/{up.key}/").content.decode()
    assert '<td class="num">3</td>' in text and '<td class="num">4</td>' in text and "证件号码" in text

    wb = _book(c.get(f"/uploads/{up.key}/annotated.xlsx"))
    _no_formula(wb)
    assert wb.sheetnames[0] == "校验结果" and "人员" in wb.sheetnames
    ws = wb["人员"]
    header = [cell.value for cell in ws[2]]
    for x in findings:
        col = header.index(x["column"]) + 1 if x["column"] in header else 1
        cell = ws[f"{get_column_letter(col)}{x['row']}"]
        assert cell.comment is not None and x["message"] in cell.comment.text, (x, cell.coordinate)
        assert cell.fill.fgColor.rgb.endswith(services.SEVERITY_FILL[min(
            (y["severity"] for y in findings if y["row"] == x["row"] and
             (header.index(y["column"]) + 1 if y["column"] in header else 1) == col),
            key=lambda s: {"error": 0, "suspect": 1, "notice": 2}[s])])
    id_col = get_column_letter(header.index("证件号码") + 1)
    assert ws[f"{id_col}3"].comment and "校验" in ws[f"{id_col}3"].comment.text
    assert ws["D6"].value == FORMULA_TEXT and ws["D6"].data_type == "s"     # kept as text
    assert ws["J5"].value in (None, 2)
    # the 校验结果 sheet lists every finding, each linked to its cell
    res = wb["校验结果"]
    listed = [r for r in res.iter_rows(min_row=6, values_only=True) if r[0]]
    assert len(listed) == len(result["findings"])

    fw = _book(c.get(f"/uploads/{up.key}/findings.xlsx"))
    _no_formula(fw)
    cells = [cl for row in fw.active.iter_rows() for cl in row if cl.value == FORMULA_TEXT]
    assert all(cl.data_type == "s" for cl in cells)


def test_csv_upload_gets_an_annotated_xlsx_rendition(world, login, tmp_path):
    import csv

    p = tmp_path / "成员.csv"
    with open(p, "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "性别"])
        for r in member_rows(T_B, 4, start=100, bad=1):
            w.writerow(r)
    c = login(world["town_b"])
    up = upload(c, p)
    assert up.usable and up.n_error >= 1
    r = c.get(f"/uploads/{up.key}/annotated.xlsx")
    assert r["Content-Disposition"].endswith(".xlsx\"") or ".xlsx" in r["Content-Disposition"]
    wb = _book(r)
    _no_formula(wb)
    ws = wb["数据"]
    assert ws["E1"].value == "证件号码" and ws["E2"].comment is not None      # csv line 2 = the first row
    assert ws["E2"].value == member_rows(T_B, 1, start=100, bad=1)[0][4]
