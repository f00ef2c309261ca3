"""Village feedback round trip: write workbooks, fill them in like a village, import, apply."""
from __future__ import annotations

import datetime as dt
import re
import shutil

import duckdb
import openpyxl
import pytest
from openpyxl.packaging.custom import CustomPropertyList

from checks.engine import ISSUE_COLUMNS
from pipeline.cycle import history
from pipeline.outputs import workbooks as W
from pipeline.cycle.feedback import COUNTY_LEVEL, OTHER_VILLAGE, OTHER_WORKBOOK, import_feedback, normalise_answer
from wbutil import T1, T2, V1, V2, issue, issues_db, pid

P1, P2 = "2026-10", "2026-11"
HH1, HH2, HH3, HH9 = "H001", "H002", "H003", "H901"


def period_issues(period: str, evidence_b: str = '{"x":1}') -> list[dict]:
    return [
        issue("ID-01", HH1, id_number=pid(1), person_name="张三", period=period, evidence='{"a":1}'),
        issue("ID-04", HH1, id_number=pid(2), person_name="李四", period=period, evidence=evidence_b),
        issue("HH-02", HH2, period=period, evidence='{"size":3}'),
        issue("INC-02", HH3, period=period, evidence='{"i":2}'),
        issue("HH-02", HH9, township=T2, village=V2, period=period),
        issue("PRJ-01", None, project_id="P9", township=None, village=None, period=period),   # county level
    ]


HOUSEHOLDS = [(HH1, "已脱贫", "无", 9000.0), (HH2, "已脱贫", "无", 9000.0),
              (HH3, "未脱贫", "无", 9000.0), (HH9, "已脱贫", "无", 9000.0)]


def run_period(db, out, period, issues) -> tuple[duckdb.DuckDBPyConnection, list]:
    """What pipeline.run does around the rules: history.apply, workbooks, history.persist."""
    con = issues_db(issues, HOUSEHOLDS)
    con.execute("ALTER TABLE issues_current DROP COLUMN flag")    # apply() adds it
    con.execute(f"ATTACH '{db.as_posix()}' AS store")
    history.ensure(con, "store")
    history.apply(con, "store", period, [])
    paths = W.write_all(con, out / period, period)
    history.persist(con, "store", period, "t0", "t1", "test", "{}")
    W.persist_registry(con, "store")          # what the run does inside its transaction
    return con, paths


def statuses(con) -> dict:
    return {(r[0], r[1]): (r[2], r[3]) for r in con.execute(
        "SELECT rule_id, household_id, status, flag FROM issues_current").fetchall()}


def fill(path, answers: dict[str, tuple], *, extra_rows=(), title_row=True) -> None:
    """Answer like a village: reorder columns (issue_id first) and rows (reversed), add a
    title row and rows of our own, hide a column. answers: issue_id → (answer, note, who, date)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[W.LIST_SHEET]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header, data = rows[0], rows[1:]
    order = [header.index(W.ID_HEADER)] + [i for i in range(len(header)) if header[i] != W.ID_HEADER]
    ws.delete_rows(1, ws.max_row)
    ws.auto_filter.ref = None
    out = []
    if title_row:
        out.append(["新泉村问题核实表（村里加的标题）"])
    out.append([header[i] for i in order])
    col = {h: n for n, h in enumerate(out[-1])}
    for r in reversed(data):
        r = [r[i] for i in order]
        iid = r[col[W.ID_HEADER]]
        if iid in answers:
            for h, v in zip((W.ANSWER_HEADER, W.NOTE_HEADER, W.WHO_HEADER, W.DATE_HEADER), answers[iid]):
                r[col[h]] = v
        out.append(r)
    for extra in extra_rows:
        r = [None] * len(header)
        for h, v in extra.items():
            r[col[h]] = v
        out.append(r)
    for r in out:
        ws.append(r)
    ws.column_dimensions["C"].hidden = True
    wb.save(path)


@pytest.fixture
def first_run(tmp_path):
    db = tmp_path / "cc.duckdb"
    issues = period_issues(P1)
    con, paths = run_period(db, tmp_path, P1, issues)
    con.close()
    ids = {(i["rule_id"], i["household_id"]): i["issue_id"] for i in issues}
    assert len(ids) == len(issues)
    v1 = tmp_path / P1 / "villages" / T1 / f"{V1}.xlsx"
    assert v1 in paths
    return db, tmp_path, ids, v1


def test_round_trip(first_run):
    db, tmp, ids, v1 = first_run
    back = tmp / "returned" / "新泉村-已填.xlsx"
    back.parent.mkdir()
    shutil.copy(v1, back)
    fill(back, {
        ids[("ID-01", HH1)]: ("不属实-数据无误", "已核对身份证原件", "王会计", dt.datetime(2026, 11, 5)),
        ids[("ID-04", HH1)]: ("不属实-数据无误", None, "王会计", "2026/11/06"),
        ids[("HH-02", HH2)]: (" 属实－已整改 ", "已更正人口数", "王会计", None),   # full-width dash, spaces
        ids[("INC-02", HH3)]: ("已整改", None, None, None),                          # not one of the four
    }, extra_rows=[
        {W.ID_HEADER: ids[("HH-02", HH9)], W.ANSWER_HEADER: "属实-已整改"},     # another village
        {W.ID_HEADER: "ffffffffffffffff", W.ANSWER_HEADER: "无法核实"},           # unknown
        {W.NOTE_HEADER: "村里加的备注行"},                                        # no id, no answer
        {W.ANSWER_HEADER: "无法核实"},                                            # answer without id
    ])
    res = import_feedback([back], db)
    assert res.exit_code == 1 and not res.problems
    assert sorted((r.issue_id, r.answer) for r in res.accepted) == sorted([
        (ids[("ID-01", HH1)], "不属实-数据无误"), (ids[("ID-04", HH1)], "不属实-数据无误"),
        (ids[("HH-02", HH2)], "属实-已整改")])
    refused = {r.issue_id: r.reason for r in res.refused}
    assert set(refused) == {ids[("INC-02", HH3)], ids[("HH-02", HH9)], "ffffffffffffffff", None}
    assert "四个选项" in refused[ids[("INC-02", HH3)]]
    assert "其他村" in refused[ids[("HH-02", HH9)]]
    assert "未知" in refused["ffffffffffffffff"]
    assert res.ignored == 1                      # the village's own note row (issue rows answered)
    # refused rows name the Excel row the village sees (title row + header + data)
    rows = {r.issue_id: r.row for r in res.refused}
    assert rows[ids[("HH-02", HH9)]] == 2 + 4 + 1
    assert any("拒收" in line for line in res.report_lines())

    con = duckdb.connect(str(db))
    got = con.execute("""SELECT issue_id, township, village, period, answer, note, who, answered_on, file,
                                sheet_row, evidence FROM feedback ORDER BY sheet_row""").fetchall()
    con.close()
    assert [g[0] for g in got] == [ids[("HH-02", HH2)], ids[("ID-04", HH1)], ids[("ID-01", HH1)]]
    hh2, id04, id01 = got
    assert id01[1:8] == (T1, V1, P1, "不属实-数据无误", "已核对身份证原件", "王会计", "2026-11-05")
    assert id04[7] == "2026-11-06" and id04[5] is None
    assert hh2[4] == "属实-已整改"
    assert id01[8] == str(back.resolve()) and id01[9] == 6
    assert id01[10] == '{"a":1}'                 # the evidence the village saw

    # next period: ID-01 waived (evidence unchanged), ID-04 reopened (evidence changed),
    # HH-02 flagged 整改未见效 (answered fixed, still there); INC-02 persisting
    con, paths = run_period(db, tmp, P2, period_issues(P2, evidence_b='{"x":2}'))
    st = statuses(con)
    assert st[("ID-01", HH1)] == ("waived", None)
    assert st[("ID-04", HH1)] == ("reopened", None)
    assert st[("HH-02", HH2)] == ("persisting", "整改未见效")
    assert st[("INC-02", HH3)] == ("persisting", None)
    rows = {r["issue_id"]: r for r in _list_rows(tmp / P2 / "villages" / T1 / f"{V1}.xlsx")}
    assert ids[("ID-01", HH1)] not in rows                       # waived: not listed
    assert rows[ids[("HH-02", HH2)]]["状态"] == "仍存在（整改未见效）"
    con.close()


def _list_rows(path) -> list[dict]:
    ws = openpyxl.load_workbook(path)[W.LIST_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_latest_import_wins_and_all_answers_kept(first_run):
    db, tmp, ids, v1 = first_run
    iid = ids[("ID-01", HH1)]
    a, b = tmp / "a.xlsx", tmp / "b.xlsx"
    shutil.copy(v1, a)
    shutil.copy(v1, b)
    fill(a, {iid: ("不属实-数据无误", None, "甲", None)}, title_row=False)
    fill(b, {iid: ("属实-整改中", None, "乙", None)}, title_row=False)
    assert import_feedback([a], db).exit_code == 0
    assert import_feedback([b], db).exit_code == 0
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM feedback WHERE issue_id = ?", [iid]).fetchone()[0] == 2
    con.close()
    con, _ = run_period(db, tmp, P2, period_issues(P2))
    assert statuses(con)[("ID-01", HH1)] == ("persisting", None)    # 属实-整改中 is the latest
    con.close()


def test_unusable_files(first_run):
    db, tmp, ids, v1 = first_run
    not_xlsx = tmp / "note.xlsx"
    not_xlsx.write_text("这不是Excel文件", encoding="utf-8")
    no_list = tmp / "no_list.xlsx"
    wb = openpyxl.load_workbook(v1)
    del wb[W.LIST_SHEET]
    del wb[W.SUMMARY_SHEET]
    wb.save(no_list)
    no_id = tmp / "no_id.xlsx"
    wb = openpyxl.load_workbook(v1)
    ws = wb[W.LIST_SHEET]
    ws.cell(row=1, column=W.LIST_HEADERS.index(W.ID_HEADER) + 1).value = "编号"
    wb.save(no_id)
    no_wbid = tmp / "no_wbid.xlsx"            # 说明 and the document property gone: whose is it?
    wb = openpyxl.load_workbook(v1)
    del wb[W.INFO_SHEET]
    wb.custom_doc_props = CustomPropertyList()
    wb.save(no_wbid)
    good = tmp / "good.xlsx"
    shutil.copy(v1, good)
    fill(good, {ids[("HH-02", HH2)]: ("属实-整改中", None, None, None)})
    res = import_feedback([not_xlsx, no_list, no_id, no_wbid, tmp / "missing.xlsx", good], db)
    assert res.exit_code == 2
    problems = dict(res.problems)
    assert set(problems) == {str(p) for p in (not_xlsx, no_list, no_id, no_wbid, tmp / "missing.xlsx")}
    assert all("\n" not in p for p in problems.values())
    assert "issue_id" in problems[str(no_id)] and W.LIST_SHEET in problems[str(no_list)]
    assert "工作簿编号" in problems[str(no_wbid)]
    for p in problems.values():                # one plain sentence, no library message
        assert not re.search(r"[A-Za-z]", p.replace("issue_id", "")), p
    assert [r.issue_id for r in res.accepted] == [ids[("HH-02", HH2)]]     # the good file still counts


def test_info_sheet_alone_is_enough_without_the_property(first_run):
    # a spreadsheet program that drops custom document properties on saving: the 说明 cell still
    # names the workbook
    db, tmp, ids, v1 = first_run
    path = tmp / "no_props.xlsx"
    shutil.copy(v1, path)
    fill(path, {ids[("HH-02", HH2)]: ("无法核实", None, None, None)})
    wb = openpyxl.load_workbook(path)
    wb.custom_doc_props = CustomPropertyList()
    wb.save(path)
    res = import_feedback([path], db)
    assert res.exit_code == 0 and [r.issue_id for r in res.accepted] == [ids[("HH-02", HH2)]]


def _set_info(path, **cells):
    wb = openpyxl.load_workbook(path)
    for ref, v in cells.items():
        wb[W.INFO_SHEET][ref] = v
    wb.save(path)


def test_forged_village_on_info_sheet_counts_for_nothing(first_run):
    """K-6: changing 说明!B5 to another village's name let a village answer that village's issues.
    The registry decides: an answer counts only for an issue issued in that very workbook."""
    db, tmp, ids, v1 = first_run
    forged = tmp / "forged.xlsx"
    shutil.copy(v1, forged)
    fill(forged, {ids[("HH-02", HH2)]: ("属实-已整改", None, "王", None)},
         extra_rows=[{W.ID_HEADER: ids[("HH-02", HH9)], W.ANSWER_HEADER: "不属实-数据无误"}])
    _set_info(forged, B4=T2, B5=V2)            # now claims to be 旧港村's workbook
    res = import_feedback([forged], db)
    assert res.exit_code == 1
    assert [(r.issue_id, r.reason) for r in res.refused] == [(ids[("HH-02", HH9)], OTHER_VILLAGE)]
    con = duckdb.connect(str(db))
    rows = con.execute("SELECT issue_id, township, village, period, how, workbook_id FROM feedback").fetchall()
    con.close()
    (row,) = rows
    assert row[:5] == (ids[("HH-02", HH2)], T1, V1, P1, "workbook")     # from the registry, not from B4/B5
    assert row[5] and row[5] == _workbook_id(v1)


def test_blank_info_cannot_answer_county_level_issues(first_run):
    """K-6: blanking B4/B5 let any workbook waive a county-level issue."""
    db, tmp, ids, v1 = first_run
    county = ids[("PRJ-01", None)]
    path = tmp / "blank.xlsx"
    shutil.copy(v1, path)
    fill(path, {}, extra_rows=[{W.ID_HEADER: county, W.ANSWER_HEADER: "不属实-数据无误"}])
    _set_info(path, B3=None, B4=None, B5=None)
    res = import_feedback([path], db)
    assert res.exit_code == 1 and not res.accepted
    assert [(r.issue_id, r.reason) for r in res.refused] == [(county, COUNTY_LEVEL)]
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
    con.close()


def test_unregistered_or_tampered_workbook_id_is_refused(first_run, tmp_path):
    db, tmp, ids, v1 = first_run
    # a workbook written but never registered (its run did not complete)
    con = issues_db(period_issues(P1), HOUSEHOLDS)
    (stray, *_) = [p for p in W.write_all(con, tmp_path / "stray", P1) if V1 in p.name]
    fill(stray, {ids[("HH-02", HH2)]: ("属实-已整改", None, None, None)})
    # the 说明 cell changed to another id while the document property keeps the real one
    changed = tmp / "changed.xlsx"
    shutil.copy(v1, changed)
    fill(changed, {ids[("HH-02", HH2)]: ("属实-已整改", None, None, None)})
    _set_info(changed, **{f"B{W.WORKBOOK_ID_ROW}": "AAAAAAAAAAAAAAAAAAAAAAAA"})
    res = import_feedback([stray, changed], db)
    assert res.exit_code == 2 and not res.accepted
    problems = dict(res.problems)
    assert "未登记" in problems[str(stray)]
    assert "不一致" in problems[str(changed)]


def test_old_workbook_answers_only_its_own_issues(first_run):
    """Re-runs add workbook ids; a workbook stays answerable for the issues it listed, and only those."""
    db, tmp, ids, v1 = first_run
    later = period_issues(P2) + [issue("HH-02", HH3, period=P2)]          # new in P2, same village
    con, _ = run_period(db, tmp, P2, later)
    con.close()
    new_issue = next(i["issue_id"] for i in later if (i["rule_id"], i["household_id"]) == ("HH-02", HH3))
    path = tmp / "old.xlsx"
    shutil.copy(v1, path)
    fill(path, {ids[("HH-02", HH2)]: ("属实-整改中", None, None, None)},
         extra_rows=[{W.ID_HEADER: new_issue, W.ANSWER_HEADER: "属实-整改中"}])
    res = import_feedback([path], db)
    assert [r.issue_id for r in res.accepted] == [ids[("HH-02", HH2)]]
    assert [(r.issue_id, r.reason) for r in res.refused] == [(new_issue, OTHER_WORKBOOK)]
    con = duckdb.connect(str(db))
    assert con.execute("SELECT period FROM feedback").fetchall() == [(P1,)]
    con.close()


def test_report_is_plain_chinese(first_run):
    db, tmp, ids, v1 = first_run
    path = tmp / "r.xlsx"
    shutil.copy(v1, path)
    fill(path, {ids[("HH-02", HH2)]: ("已整改", None, None, None)},
         extra_rows=[{W.ID_HEADER: "ffffffffffffffff", W.ANSWER_HEADER: "无法核实"}])
    res = import_feedback([path, tmp / "missing.xlsx"], db)
    lines = res.report_lines()
    assert any("拒收" in line and "第" in line for line in lines)
    assert lines[-1].startswith("合计：接收 0 条，拒收 2 条")
    for line in lines:
        for name in (str(path), str(tmp / "missing.xlsx"), "ffffffffffffffff", ids[("HH-02", HH2)]):
            line = line.replace(name, "")
        assert not re.search(r"[A-Za-z]", line), line


def test_returned_workbooks_are_read_with_the_guarded_reader(first_run, monkeypatch):
    """feedback opens files through pipeline.ingest.read.read_excel (zip bombs, huge sheets …), not
    python-calamine directly."""
    from pipeline.ingest import read

    db, tmp, ids, v1 = first_run

    def refuse(path, **kw):
        raise read.ReadError("文件解压后异常巨大，已拒收")

    monkeypatch.setattr(read, "read_excel", refuse)
    res = import_feedback([v1], db)
    assert res.problems == [(str(v1), "文件解压后异常巨大，已拒收")]


def test_old_database_gets_the_new_columns(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("""CREATE TABLE feedback (issue_id VARCHAR, township VARCHAR, village VARCHAR, period VARCHAR,
                   answer VARCHAR, note VARCHAR, who VARCHAR, answered_on VARCHAR, file VARCHAR,
                   sheet_row INTEGER, imported_at VARCHAR, evidence VARCHAR)""")
    con.execute("INSERT INTO feedback (issue_id, answer) VALUES ('a', '无法核实')")
    history.ensure(con, "main")
    history.ensure(con, "main")                # twice: nothing added the second time
    cols = [r[0] for r in con.execute("DESCRIBE feedback").fetchall()]
    assert cols[-5:] == ["workbook_id", "how", "answer_id", "account", "answered_at"]
    assert [r[0] for r in con.execute("DESCRIBE workbook_issues").fetchall()] == [
        "workbook_id", "period", "township", "village", "file", "issue_id", "created_at"]
    assert con.execute("SELECT issue_id, answer, how FROM feedback").fetchall() == [("a", "无法核实", None)]
    con.close()


def _workbook_id(path) -> str:
    return openpyxl.load_workbook(path)[W.INFO_SHEET][f"B{W.WORKBOOK_ID_ROW}"].value


def test_missing_database(tmp_path):
    res = import_feedback([tmp_path / "x.xlsx"], tmp_path / "none.duckdb")
    assert res.exit_code == 2 and not (tmp_path / "none.duckdb").exists()


def test_info_read_by_label_after_rows_inserted(first_run):
    db, tmp, ids, v1 = first_run
    path = tmp / "moved.xlsx"
    shutil.copy(v1, path)
    fill(path, {ids[("HH-02", HH2)]: ("无法核实", "户主外出", "赵", None)})
    wb = openpyxl.load_workbook(path)
    wb[W.INFO_SHEET].insert_rows(2, amount=3)      # the village added lines at the top of 说明
    wb[W.INFO_SHEET].insert_cols(1)                 # and a column in front
    wb.save(path)
    res = import_feedback([path], db)
    assert res.exit_code == 0 and [r.answer for r in res.accepted] == ["无法核实"]


@pytest.mark.parametrize("raw, expected", [
    ("属实-已整改", "属实-已整改"), (" 属实－已整改 ", "属实-已整改"), ("不属实—数据无误", "不属实-数据无误"),
    ("无法 核实", "无法核实"), (None, ""),
])
def test_normalise_answer(raw, expected):
    assert normalise_answer(raw) == expected


def test_issue_columns_unchanged():
    # the feedback lookup relies on issue_history carrying these
    assert {"issue_id", "township", "village", "period", "evidence"} <= set(ISSUE_COLUMNS)
