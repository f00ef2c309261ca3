"""抽查复核.xlsx: the period's waiver audit sample for the county's spot check (portal.md,
outputs.md). County office only: full IDs, like issues.xlsx.

    write_audit(con, out_dir, period, sample) -> workbook id

Like a village workbook it carries its own unguessable workbook id (the 工作簿编号 cell of `说明`
and the custom document property), recorded in the TEMP TABLE `audit_workbooks` with the
issue_ids it lists (persisted by pipeline.cycle.evidence.persist_audit inside the run's
commit). Returned with 复核结果 filled in (确认 / 推翻), `cardcheck feedback` or the portal records
the results. No cell is ever a formula (pipeline.outputs.workbooks.Sheet).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.outputs.vocab import AUDIT_RESULTS, FLAG_AUDIT_OVERTURNED, severity_text
from pipeline.outputs.workbooks import (ID_HEADER, INFO_SHEET, LIST_SHEET, WORKBOOK_ID_LABEL, WORKBOOK_ID_PROPERTY,
                                        WORKBOOK_ID_ROW, Book, Sheet, new_workbook_id)

AUDIT_FILE = "抽查复核.xlsx"
AUDIT_HEADER, AUDIT_NOTE_HEADER, AUDIT_WHO_HEADER, AUDIT_DATE_HEADER = "复核结果", "复核说明", "复核人", "复核日期"
HEADERS = ["序号", "乡镇", "行政村", "户编号", "户主姓名", "成员姓名", "证件号码", "问题类别", "严重程度", "问题描述",
           "比对依据", "村级核实结果", "村级核实说明", "村级核实人", "村级核实日期",
           AUDIT_HEADER, AUDIT_NOTE_HEADER, AUDIT_WHO_HEADER, AUDIT_DATE_HEADER, ID_HEADER]
WIDTHS = [6, 12, 12, 20, 10, 10, 21, 22, 8, 40, 30, 14, 24, 10, 12, 12, 24, 10, 12, 18]
FILL_IN = (AUDIT_HEADER, AUDIT_NOTE_HEADER, AUDIT_WHO_HEADER, AUDIT_DATE_HEADER)


def write_audit(con, out_dir: Path, period: str, sample: list[dict]) -> str:
    wbid = new_workbook_id()
    con.execute("CREATE OR REPLACE TEMP TABLE audit_workbooks (workbook_id VARCHAR, period VARCHAR, "
                "township VARCHAR, village VARCHAR, issue_id VARCHAR, created_at VARCHAR)")
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    if sample:
        con.executemany("INSERT INTO audit_workbooks VALUES (?, ?, ?, ?, ?, ?)",
                        [(wbid, period, r["township"], r["village"], r["issue_id"], now) for r in sample])
    path = Path(out_dir) / AUDIT_FILE
    tmp = path.with_name(path.name + ".part")
    book = Book(tmp)
    info = Sheet(book, INFO_SHEET)
    info.widths([16, 60, 4, 40])
    bold = {"bold": True}
    info.put(1, 1, f"{period} 核实无误问题抽查复核", {"bold": True, "font_size": 14})
    towns: dict[str, list[int]] = {}
    for r in sample:
        t = towns.setdefault(r["township"] or "（未注明乡镇）", [int(r.get("township_waived") or 0), 0])
        t[1] += 1
    lines = [
        ("期别", period),
        ("抽查数", f"{len(sample)} 条"),
        ("抽样方法", "每个乡镇从本期“核实无误”（村里答复“不属实-数据无误”）的问题中抽取 n = min(w, max(5, ⌈0.1·w⌉)) 条"
                     "（w 为该乡镇核实无误的问题数），按期别和问题编号确定，同一期别每次抽到的都一样。"),
        ("填写方法", f"逐条复核后在“{AUDIT_HEADER}”列选择“{AUDIT_RESULTS['confirmed']}”（村里的答复属实，问题确实不存在）"
                     f"或“{AUDIT_RESULTS['overturned']}”（问题确实存在）；填写复核说明、复核人、复核日期，"
                     f"交回系统（cardcheck feedback 或门户“抽查复核”页）。"),
        ("推翻的后果", f"被推翻的问题在下次运行时重新列入村级清单，状态为“再次出现（{FLAG_AUDIT_OVERTURNED}）”，"
                       "直到村里重新答复。"),
    ]
    r = 3
    for k, v in lines:
        info.put(r, 1, k, bold)
        info.put(r, 2, v, {"text_wrap": True})
        r += 1
    info.put(WORKBOOK_ID_ROW, 1, WORKBOOK_ID_LABEL, bold)
    info.put(WORKBOOK_ID_ROW, 2, wbid)
    info.put(WORKBOOK_ID_ROW, 4, "本表的编号，交回时据此核对，请勿改动")
    r = WORKBOOK_ID_ROW + 2
    info.put(r, 1, "乡镇", bold)
    info.put(r, 2, "核实无误 / 抽查", bold)
    for t, (w, n) in sorted(towns.items()):
        r += 1
        info.put(r, 1, t)
        info.put(r, 2, f"{w} / {n}")
    if not sample:
        info.put(r + 1, 1, "本期没有核实无误的问题，无需抽查。")

    sh = Sheet(book, LIST_SHEET)
    sh.header(HEADERS, WIDTHS, FILL_IN, ())
    for n, i in enumerate(sample, start=1):
        row = n + 1
        values = [n, i.get("township"), i.get("village"), i.get("household_id"), i.get("head_name"),
                  i.get("person_name"), i.get("id_number"), i.get("rule_name") or i.get("rule_id"),
                  severity_text(i.get("severity")), i.get("message"), i.get("evidence"), "不属实-数据无误",
                  i.get("answer_note"), i.get("answer_who"), i.get("answered_on"), None, None, None, None,
                  i.get("issue_id")]
        for c, v in enumerate(values, start=1):
            sh.put(row, c, v, {"text_wrap": True, "valign": "top"} if HEADERS[c - 1] in ("问题描述", "比对依据") else None)
    if sample:
        c = HEADERS.index(AUDIT_HEADER)
        sh.ws.data_validation(1, c, len(sample), c, {"validate": "list", "source": list(AUDIT_RESULTS.values())})
    sh.ws.autofilter(0, 0, max(1, len(sample)), len(HEADERS) - 1)
    book.wb.set_properties({"title": f"{period} 抽查复核", "author": "建档立卡数据核查"})
    book.wb.set_custom_property(WORKBOOK_ID_PROPERTY, wbid)
    book.wb.close()
    tmp.replace(path)
    return wbid
