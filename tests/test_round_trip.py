"""Full two-period round trip on generated demo data (outputs.md "status", "Village
workbooks", "Feedback"):

    run 2026-09 → fill two village workbooks like villages do → import_feedback →
    run 2026-10 → check every status, the workbooks and resolved.csv → run 2026-10 again.

Workbook A (answered in place): one issue 不属实-数据无误 (unchanged in period 2 → waived),
one 属实-已整改 still present in period 2 (→ 整改未见效), one 属实-整改中; the rest empty.
Workbook B (reworked by the village): rows sorted by 户编号 descending, issue_id moved to
the first column, a column hidden; a LAB-02 issue answered 不属实-数据无误 whose evidence
we then change in the period-2 drop copy (→ reopened), one answer 无法核实, and three rows
that must be refused: a row copied from workbook A (another village), an unknown issue_id,
an answer that is not one of the four choices.

Which issues persist into period 2 unchanged is learnt from a dry period-2 run into a
scratch copy of the database and a scratch output folder.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest

from demo.generate import generate_demo
from pipeline.outputs import workbooks as W
from pipeline.cycle.feedback import FeedbackResult, import_feedback
from pipeline.run import run

P1, P2 = "2026-09", "2026-10"
N_HOUSEHOLDS = 300
SEED = 5
UNKNOWN_ID = "0123456789abcdef"
BAD_ANSWER = "属实"                       # not one of the four choices
ID18_RE = re.compile(r"[0-9]{17}[0-9Xx]")
MASKED_RE = re.compile(r"^[0-9]{6}\*+[0-9]{3}[0-9Xx]$")


# ---------------------------------------------------------------------------
# helpers

def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def list_rows(path: Path) -> list[dict]:
    """问题清单 rows of a workbook as dicts by header."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb[W.LIST_SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(c is not None for c in r)]


def info_of(path: Path) -> dict:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = wb[W.INFO_SHEET]
        return {k: ws.cell(row=r, column=2).value for k, r in W.INFO_ROWS.items()}
    finally:
        wb.close()


def all_cells(path: Path):
    """(sheet, coordinate-ish, value) of every non-empty cell of a workbook."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        for ws in wb:
            for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
                for c, v in enumerate(row, start=1):
                    if v is not None:
                        yield ws.title, (r, c), v
    finally:
        wb.close()


def village_workbooks(period_dir: Path) -> dict[tuple[str, str], Path]:
    """(township, village) as the 说明 sheet names them → workbook path."""
    out = {}
    for p in sorted((period_dir / "villages").rglob("*.xlsx")):
        i = info_of(p)
        key = (i["township"] or "", i["village"] or "")
        assert key not in out, f"two workbooks for {key}"
        out[key] = p
    return out


def _norm(v) -> str:
    s = unicodedata.normalize("NFKC", "" if v is None else str(v))
    return re.sub(r"[\s\u200b'\"]", "", s)


def edit_drop_cell(drop: Path, key: str, old: str, new: str) -> Path | None:
    """In the drop file holding a row with a cell equal to `key`, set that row's cell equal
    to `old` to `new`. Only .xlsx files are edited (the member files of the township being
    used are xlsx for this seed). Returns the file edited, or None."""
    for path in sorted(drop.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        for ws in wb:
            for row in ws.iter_rows():
                if not any(_norm(c.value) == key for c in row):
                    continue
                hits = [c for c in row if _norm(c.value) == old]
                if len(hits) == 1:
                    hits[0].value = new
                    wb.save(path)
                    return path
        wb.close()
    return None


def fill_in_place(src: Path, dst: Path, answers: dict[str, tuple]) -> None:
    """Workbook A: answer rows where they are. answers: issue_id → (核实结果, 核实说明, 核实人, 核实日期)."""
    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst)
    ws = wb[W.LIST_SHEET]
    col = {c.value: c.column for c in ws[1]}
    found = set()
    for r in range(2, ws.max_row + 1):
        iid = ws.cell(row=r, column=col[W.ID_HEADER]).value
        if iid in answers:
            found.add(iid)
            for h, v in zip(W.FILL_IN, answers[iid]):
                ws.cell(row=r, column=col[h]).value = v
    assert found == set(answers), "every answered issue is a row of the workbook"
    wb.save(dst)


def rework(src: Path, dst: Path, answers: dict[str, tuple], extra_rows: list[dict]) -> None:
    """Workbook B: sort rows by 户编号 descending, move issue_id to the first column, hide a
    column, answer some rows, append extra rows (dicts by header)."""
    shutil.copy(src, dst)
    wb = openpyxl.load_workbook(dst)
    ws = wb[W.LIST_SHEET]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header, data = rows[0], [r for r in rows[1:] if any(c is not None for c in r)]
    order = [header.index(W.ID_HEADER)] + [i for i, h in enumerate(header) if h != W.ID_HEADER]
    new_header = [header[i] for i in order]
    col = {h: n for n, h in enumerate(new_header)}
    hh = header.index("户编号")
    data.sort(key=lambda r: str(r[hh] or ""), reverse=True)
    ws.delete_rows(1, ws.max_row)
    ws.auto_filter.ref = None
    ws.data_validations.dataValidation = []     # the dropdown's column moved
    ws.append(new_header)
    found = set()
    for r in data:
        r = [r[i] for i in order]
        iid = r[col[W.ID_HEADER]]
        if iid in answers:
            found.add(iid)
            for h, v in zip(W.FILL_IN, answers[iid]):
                r[col[h]] = v
        ws.append(r)
    assert found == set(answers)
    for extra in extra_rows:
        r = [None] * len(new_header)
        for h, v in extra.items():
            r[col[h]] = v
        ws.append(r)
    hidden = openpyxl.utils.get_column_letter(col["证件号码"] + 1)
    ws.column_dimensions[hidden].hidden = True
    wb.save(dst)


def store_query(db: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------------------
# the round trip, once for the module

@dataclass
class Trip:
    root: Path
    out: Path
    db: Path
    p1: dict                 # issue_id → period-1 row of issues.csv
    dry: dict                # issue_id → dry period-2 row
    a_key: tuple
    b_key: tuple
    waived: str              # A: 不属实-数据无误, unchanged evidence
    fixed: str               # A: 属实-已整改, still present
    doing: str               # A: 属实-整改中
    reopen: str              # B: 不属实-数据无误, evidence changed in the period-2 drop
    cannot: str              # B: 无法核实
    bad: str                 # B: answer not one of the four (refused)
    a_rows: int
    b_rows: int
    a_file: Path
    b_file: Path
    fb: FeedbackResult
    r2: object               # first period-2 run
    r2b: object              # the re-run
    first: dict              # snapshot of the first period-2 run's outputs and store
    second: dict


def snapshot(out: Path, db: Path) -> dict:
    folder = out / P2
    return {
        "issues_text": (folder / "issues.csv").read_text(encoding="utf-8-sig"),
        "resolved_text": (folder / "resolved.csv").read_text(encoding="utf-8-sig"),
        "issues": read_csv(folder / "issues.csv"),
        "resolved": read_csv(folder / "resolved.csv"),
        "history": sorted(store_query(db, "SELECT issue_id, status, first_seen, flag, evidence "
                                          "FROM issue_history WHERE period = ?", [P2])),
        "workbooks": {k: list_rows(p) for k, p in village_workbooks(folder).items()},
    }


@pytest.fixture(scope="module")
def trip(tmp_path_factory) -> Trip:
    root = tmp_path_factory.mktemp("round_trip")
    drops = generate_demo(root / "raw", seed=SEED, n_households=N_HOUSEHOLDS)
    assert [d.name for d in drops] == [P1, P2]
    out, db = root / "reports", root / "cc.duckdb"

    run(drops[0], P1, out=out, db=db)
    p1 = {r["issue_id"]: r for r in read_csv(out / P1 / "issues.csv")}
    wb1 = village_workbooks(out / P1)

    # dry period 2 into scratch copies: which issues does the generator keep unchanged?
    scratch_db = root / "scratch.duckdb"
    shutil.copy(db, scratch_db)
    run(drops[1], P2, out=root / "scratch_reports", db=scratch_db)
    dry = {r["issue_id"]: r for r in read_csv(root / "scratch_reports" / P2 / "issues.csv")}
    stable = {i for i in p1 if i in dry and dry[i]["evidence"] == p1[i]["evidence"]}

    listed1 = {k: [r[W.ID_HEADER] for r in list_rows(p)] for k, p in wb1.items()}

    # B: the village of a LAB-02 issue (labor 普通劳动力 at 65+) we can edit in a copy of the
    # period-2 drop (普通劳动力 → 技能劳动力: the rule still fires, its evidence changes)
    drop2 = root / "drop2"
    shutil.copytree(drops[1], drop2)
    reopen = b_key = None
    for iid in sorted(stable):
        i = p1[iid]
        key = (i["township"], i["village"])
        if (i["rule_id"] != "LAB-02" or json.loads(i["evidence"]).get("labor") != "普通劳动力"
                or key not in wb1 or iid not in listed1[key] or len(listed1[key]) < 4):
            continue
        if edit_drop_cell(drop2, i["id_number"], "普通劳动力", "技能劳动力"):
            reopen, b_key = iid, key
            break
    assert reopen, "a LAB-02 issue persisting into period 2 whose drop row can be edited"
    b_stable = sorted(i for i in listed1[b_key] if i in stable and i != reopen)
    cannot = b_stable[0]
    bad = next(i for i in listed1[b_key] if i not in (reopen, cannot))

    # A: another village with at least three unchanged issues and one more left empty
    cands = [(len([i for i in ids if i in stable]), k) for k, ids in listed1.items()
             if k != b_key and k[0] and k[1] and len(ids) >= 4]
    n, a_key = max(cands)
    assert n >= 3, "a village with three issues that persist unchanged"
    a_stable = [i for i in listed1[a_key] if i in stable]     # workbook order
    waived, fixed, doing = a_stable[:3]

    ret = root / "returned"
    ret.mkdir()
    a_file = ret / f"A_{a_key[1]}_已填.xlsx"
    b_file = ret / f"B_{b_key[1]}_已填.xlsx"
    when = dt.datetime(2026, 10, 12)
    fill_in_place(wb1[a_key], a_file, {
        waived: ("不属实-数据无误", "已核对原件，数据无误", "王会计", when),
        fixed: ("属实-已整改", "已在系统中更正", "王会计", when),
        doing: ("属实-整改中", "正在办理", "王会计", "2026/10/13"),
    })
    a_rows = list_rows(wb1[a_key])
    copied = dict(next(r for r in a_rows if r[W.ID_HEADER] == waived))
    copied[W.ANSWER_HEADER] = "属实-整改中"      # would override A's waiver if it were accepted
    rework(wb1[b_key], b_file, {
        reopen: ("不属实-数据无误", "该户主仍务农", "李主任", dt.date(2026, 10, 15)),
        cannot: ("无法核实", "户主外出务工", "李主任", None),
        bad: (BAD_ANSWER, None, "李主任", None),
    }, extra_rows=[
        copied,
        {W.ID_HEADER: UNKNOWN_ID, W.ANSWER_HEADER: "无法核实", "户编号": "430624999999999"},
    ])

    fb = import_feedback([a_file, b_file], db)

    r2 = run(drop2, P2, out=out, db=db)
    first = snapshot(out, db)
    r2b = run(drop2, P2, out=out, db=db)
    second = snapshot(out, db)
    return Trip(root, out, db, p1, dry, a_key, b_key, waived, fixed, doing, reopen, cannot, bad,
                len(listed1[a_key]), len(listed1[b_key]), a_file, b_file, fb, r2, r2b, first, second)


# ---------------------------------------------------------------------------
# feedback import

def test_feedback_counts_and_exit_code(trip):
    fb = trip.fb
    assert not fb.problems
    assert fb.exit_code == 1
    assert sorted((r.issue_id, r.answer) for r in fb.accepted) == sorted([
        (trip.waived, "不属实-数据无误"), (trip.fixed, "属实-已整改"), (trip.doing, "属实-整改中"),
        (trip.reopen, "不属实-数据无误"), (trip.cannot, "无法核实")])
    assert len(fb.refused) == 3
    refused = {r.issue_id: r for r in fb.refused}
    assert set(refused) == {trip.waived, UNKNOWN_ID, trip.bad}
    assert all(r.file == str(trip.b_file) for r in fb.refused)
    assert "其他村" in refused[trip.waived].reason
    assert "未知" in refused[UNKNOWN_ID].reason
    assert "四个选项" in refused[trip.bad].reason and refused[trip.bad].answer == BAD_ANSWER
    # rows left empty are ignored: all of A but three, all of B but three
    assert fb.ignored == (trip.a_rows - 3) + (trip.b_rows - 3)
    # the refused rows are listed with the Excel row the village sees (B: header + sorted rows + extras)
    assert refused[trip.waived].row == trip.b_rows + 2 and refused[UNKNOWN_ID].row == trip.b_rows + 3
    assert sum("拒收" in line for line in fb.report_lines()) >= 3


def test_feedback_stored_with_who_when_and_file(trip):
    got = {r[0]: r[1:] for r in store_query(
        trip.db, "SELECT issue_id, township, village, period, answer, who, answered_on, file, evidence "
                 "FROM feedback")}
    assert set(got) == {trip.waived, trip.fixed, trip.doing, trip.reopen, trip.cannot}
    for iid, f, who in ((trip.waived, trip.a_file, "王会计"), (trip.fixed, trip.a_file, "王会计"),
                        (trip.reopen, trip.b_file, "李主任")):
        t, v, period, _, w, _, file, evidence = got[iid]
        key = trip.a_key if f == trip.a_file else trip.b_key
        assert (t, v, period, w, file) == (*key, P1, who, str(f.resolve()))
        assert evidence == trip.p1[iid]["evidence"]
    assert got[trip.waived][5] == "2026-10-12"
    assert got[trip.doing][5] == "2026-10-13"
    assert got[trip.reopen][5] == "2026-10-15"


# ---------------------------------------------------------------------------
# period 2 statuses

def _cur(trip) -> dict:
    return {r["issue_id"]: r for r in trip.first["issues"]}


def test_same_issue_set_as_the_dry_run(trip):
    # the edit of the drop copy changed one issue's evidence and nothing else
    cur = _cur(trip)
    assert set(cur) == set(trip.dry)
    changed = {i for i in cur if cur[i]["evidence"] != trip.dry[i]["evidence"]}
    assert changed == {trip.reopen}


def test_waived(trip):
    cur = _cur(trip)
    w = cur[trip.waived]                                   # still in issues.csv
    assert w["status"] == "waived"
    assert w["evidence"] == trip.p1[trip.waived]["evidence"]
    assert w["first_seen"] == P1
    listed = {r[W.ID_HEADER] for rows in trip.first["workbooks"].values() for r in rows}
    assert trip.waived not in listed                       # not sent back to the village
    assert trip.r2.manifest["totals"]["by_status"]["waived"] == 1


def test_fixed_but_still_present_is_flagged(trip):
    cur = _cur(trip)
    assert cur[trip.fixed]["status"] == "persisting"
    rows = {r[W.ID_HEADER]: r for r in trip.first["workbooks"][trip.a_key]}
    assert rows[trip.fixed]["状态"] == f"{W.STATUS_CN['persisting']}（{W.FLAG_NOT_FIXED}）"
    assert rows[trip.doing]["状态"] == W.STATUS_CN["persisting"]
    flags = {r[0]: r[3] for r in trip.first["history"]}
    assert {i for i, f in flags.items() if f} == {trip.fixed}
    assert flags[trip.fixed] == W.FLAG_NOT_FIXED
    assert W.FLAG_NOT_FIXED in (trip.out / P2 / "summary.html").read_text(encoding="utf-8")
    # and counted on the 说明 sheet of A's period-2 workbook
    wb = openpyxl.load_workbook(village_workbooks(trip.out / P2)[trip.a_key], read_only=True)
    counts = {r[0]: r[1] for r in wb[W.INFO_SHEET].iter_rows(max_col=2, values_only=True) if r[0]}
    wb.close()
    assert counts[W.FLAG_NOT_FIXED] == 1


def test_in_progress_and_cannot_verify_just_persist(trip):
    cur = _cur(trip)
    for iid in (trip.doing, trip.cannot, trip.bad):
        assert cur[iid]["status"] == "persisting", iid
    rows = {r[W.ID_HEADER]: r for r in trip.first["workbooks"][trip.b_key]}
    assert rows[trip.cannot]["状态"] == W.STATUS_CN["persisting"]


def test_waiver_with_changed_evidence_is_reopened(trip):
    cur = _cur(trip)
    r = cur[trip.reopen]
    assert r["status"] == "reopened"
    assert r["first_seen"] == P1
    assert json.loads(r["evidence"])["labor"] == "技能劳动力"
    assert json.loads(trip.p1[trip.reopen]["evidence"])["labor"] == "普通劳动力"
    rows = {x[W.ID_HEADER]: x for x in trip.first["workbooks"][trip.b_key]}
    assert rows[trip.reopen]["状态"] == W.STATUS_CN["reopened"]       # listed again
    assert trip.r2.manifest["totals"]["by_status"]["reopened"] == 1


def test_every_other_status(trip):
    cur = _cur(trip)
    special = {trip.waived: "waived", trip.reopen: "reopened"}
    for iid, r in cur.items():
        assert r["period"] == P2
        if iid in special:
            assert r["status"] == special[iid]
        elif iid in trip.p1:
            assert r["status"] == "persisting", r
            assert r["first_seen"] == P1, r
            old = trip.p1[iid]
            assert (r["rule_id"], r["household_id"], r["id_number"], r["project_id"]) == \
                (old["rule_id"], old["household_id"], old["id_number"], old["project_id"])
        else:
            assert r["status"] == "new", r
            assert r["first_seen"] == P2, r
    st = Counter(r["status"] for r in cur.values())
    assert st["new"] > 0 and st["persisting"] > 0
    totals = trip.r2.manifest["totals"]
    assert totals["issues"] == len(cur)
    assert totals["by_status"] == {k: st.get(k, 0) for k in ("new", "persisting", "reopened", "waived")}
    assert trip.r2.manifest["previous_period"] == P1
    # the store's history says the same
    hist = {r[0]: r[1:3] for r in trip.first["history"]}
    assert hist == {i: (r["status"], r["first_seen"]) for i, r in cur.items()}


def test_resolved(trip):
    cur = _cur(trip)
    resolved = trip.first["resolved"]
    gone = set(trip.p1) - set(cur)
    assert gone, "the generator fixes some defects in period 2"
    assert {r["issue_id"] for r in resolved} == gone
    assert len(resolved) == len(gone)
    for r in resolved:
        assert r["status"] == "resolved"
        assert r["first_seen"] == P1
        assert r["rule_id"] == trip.p1[r["issue_id"]]["rule_id"]
    assert trip.r2.manifest["totals"]["resolved"] == len(resolved)


# ---------------------------------------------------------------------------
# period-2 village workbooks

def test_workbooks_list_exactly_the_villages_issues(trip):
    cur = _cur(trip)
    # where each household lives: the households table, else its members' rows
    hh_village = {r[0]: (r[1], r[2]) for r in store_query(
        trip.db, "SELECT DISTINCT household_id, township, village FROM households")}
    for hid, t, v in store_query(trip.db, """
            SELECT household_id, any_value(township), any_value(village) FROM members
            WHERE household_id IS NOT NULL GROUP BY household_id
            HAVING count(DISTINCT (township, village)) = 1"""):
        hh_village.setdefault(hid, (t, v))
    summary_sheets = {}
    listed = set()
    for key, path in village_workbooks(trip.out / P2).items():
        rows = trip.second["workbooks"][key]
        assert rows, path
        for r in rows:
            iid = r[W.ID_HEADER]
            assert iid in cur and iid not in listed, iid
            listed.add(iid)
            assert (cur[iid]["township"], cur[iid]["village"]) == key, (path, r)
            hid = r["户编号"]
            if hid in hh_village:
                assert hh_village[hid] == key, (path, hid)
            assert r["状态"].startswith(W.STATUS_CN[cur[iid]["status"]])
            assert r["首次发现"] == cur[iid]["first_seen"]
        wb = openpyxl.load_workbook(path, read_only=True)
        summary_sheets[key] = [r[0] for r in wb[W.SUMMARY_SHEET].iter_rows(min_row=2, values_only=True)
                               if r[0] is not None]
        wb.close()
        for hid in summary_sheets[key]:
            assert hid in hh_village and hh_village[hid] == key, (path, hid)
            assert hid in {r["户编号"] for r in rows}
    expected = {i for i, r in cur.items() if r["status"] != "waived" and r["township"] and r["village"]}
    assert listed == expected


def test_workbook_ids_are_masked(trip):
    paths = list(village_workbooks(trip.out / P2).values())
    assert paths
    masked = 0
    for path in paths:
        for sheet, rc, v in all_cells(path):
            s = str(v)
            assert not ID18_RE.search(s), f"{path.name}:{sheet}{rc}: unmasked ID in {s!r}"
        for r in list_rows(path):
            if r["证件号码"]:
                s = str(r["证件号码"])
                if len(s) == 18:
                    assert MASKED_RE.match(s), (path.name, s)
                    masked += 1
    assert masked > 0
    # while issues.csv keeps them unmasked (county office)
    assert any(ID18_RE.fullmatch(r["id_number"] or "") for r in trip.second["issues"])


# ---------------------------------------------------------------------------
# re-running period 2

def test_rerun_is_idempotent(trip):
    a, b = trip.first, trip.second
    assert b["issues_text"] == a["issues_text"]
    assert b["resolved_text"] == a["resolved_text"]
    assert b["history"] == a["history"]
    assert b["workbooks"] == a["workbooks"]
    m1, m2 = trip.r2.manifest, trip.r2b.manifest
    assert m2["totals"] == m1["totals"] and m2["rules"] == m1["rules"]
    assert m2["previous_period"] == P1
    dup = store_query(trip.db, "SELECT period, issue_id, count(*) FROM issue_history "
                               "GROUP BY ALL HAVING count(*) > 1")
    assert dup == []
    per = dict(store_query(trip.db, "SELECT period, count(*) FROM issue_history GROUP BY period"))
    assert per == {P1: len(trip.p1), P2: len(b["issues"])}
    runs = store_query(trip.db, "SELECT period, count(*), min(status) FROM runs GROUP BY period ORDER BY period")
    assert runs == [(P1, 1, "completed"), (P2, 1, "completed")]
    assert store_query(trip.db, "SELECT count(*) FROM feedback")[0][0] == 5


# ---------------------------------------------------------------------------
# texts the village reads

def test_last_answer_beside_persisting_issues(trip):
    rows = {r[W.ID_HEADER]: r for r in trip.first["workbooks"][trip.a_key]}
    assert rows[trip.fixed][W.LAST_ANSWER_HEADER] == "属实-已整改"
    assert rows[trip.fixed][W.LAST_NOTE_HEADER] == "已在系统中更正"
    assert rows[trip.doing][W.LAST_ANSWER_HEADER] == "属实-整改中"
    assert all(r[W.ANSWER_HEADER] is None for r in rows.values())          # never pre-filled
    unanswered = [r for i, r in rows.items() if i not in (trip.fixed, trip.doing)]
    assert unanswered and all(r[W.LAST_ANSWER_HEADER] is None for r in unanswered)


_RULE_ID = re.compile(r"\b(?:SCH|ID|HH|LAB|EDU|MED|HOU|WAT|INC|PAIR|PRJ|LOAN|XA)-\d{2}\b")
_MASKED = re.compile(r"[0-9]{6}\*+[0-9]{3}[0-9X]|[0-9]\.[0-9*]+E\+[0-9]{2}"
                     r"|(?<=应为)X|(?<=登记为)X")       # a check digit X is printed on the ID card


def _data_values(db: Path) -> list[str]:
    """Every text of the store's tables (the data of the period) that holds an ASCII letter,
    longest first."""
    from schemas.tables import TABLES

    con = duckdb.connect(str(db), read_only=True)
    try:
        out: set[str] = set()
        for t in [*TABLES, "schema_findings"]:          # values nulled by SCH-02 are data too
            cols = [r[0] for r in con.execute(f'DESCRIBE "{t}"').fetchall() if r[1] == "VARCHAR"]
            for c in cols:
                out.update(r[0] for r in con.execute(f'SELECT DISTINCT "{c}" FROM "{t}" '
                                                     f"WHERE regexp_matches(\"{c}\", '[A-Za-z]')").fetchall())
    finally:
        con.close()
    return sorted(out, key=len, reverse=True)


def test_village_workbooks_speak_plain_chinese(trip):
    """Issue F: a village workbook holds no ASCII letters outside the issue_id and ID columns
    (and the workbook id), except rule IDs (HH-01) and values copied from the data (names, URLs,
    codes such as house grades)."""
    data = _data_values(trip.db)
    checked = 0
    for path in village_workbooks(trip.out / P2).values():
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            for ws in wb:
                rows = list(ws.iter_rows(values_only=True))
                skip = {rows[0].index(h) for h in (W.ID_HEADER, "证件号码")} if ws.title == W.LIST_SHEET else set()
                for r, row in enumerate(rows, start=1):
                    for c, v in enumerate(row):
                        if not isinstance(v, str) or c in skip:
                            continue
                        if ws.title == W.INFO_SHEET and (r, c) == (W.WORKBOOK_ID_ROW, 1):
                            continue
                        text = _MASKED.sub("", _RULE_ID.sub("", v))
                        for d in data:
                            if d in text:
                                text = text.replace(d, "")
                        assert not re.search(r"[A-Za-z]", text), f"{path.name}:{ws.title}!{r},{c + 1}: {v!r}"
                        checked += 1
        finally:
            wb.close()
    assert checked > 500
