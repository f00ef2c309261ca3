"""Village feedback round trip: write workbooks, fill them in like a village, import, apply."""
from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import openpyxl
import pytest

from checks.engine import ISSUE_COLUMNS
from pipeline import history
from pipeline import workbooks as W
from pipeline.feedback import import_feedback, normalise_answer
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
    no_info = tmp / "no_info.xlsx"
    wb = openpyxl.load_workbook(v1)
    del wb[W.INFO_SHEET]
    wb.save(no_info)
    good = tmp / "good.xlsx"
    shutil.copy(v1, good)
    fill(good, {ids[("HH-02", HH2)]: ("属实-整改中", None, None, None)})
    res = import_feedback([not_xlsx, no_list, no_id, no_info, tmp / "missing.xlsx", good], db)
    assert res.exit_code == 2
    problems = dict(res.problems)
    assert set(problems) == {str(p) for p in (not_xlsx, no_list, no_id, no_info, tmp / "missing.xlsx")}
    assert all("\n" not in p for p in problems.values())
    assert "issue_id" in problems[str(no_id)] and W.LIST_SHEET in problems[str(no_list)]
    assert [r.issue_id for r in res.accepted] == [ids[("HH-02", HH2)]]     # the good file still counts


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
