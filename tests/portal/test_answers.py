"""Issue I in the portal: villages answer in the browser or return the workbook (one feedback
record, latest wins, both kept), nobody answers another village's issue, answers made while a
run holds the database are written once after it, and the next runs reflect the answers
(waived, 整改未见效, an overturned waiver reopened)."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from portal import areas, outbox, runner, services
from portal.conf import portal_settings
from portal.models import Account, Answer, Household, IssueRow, Role, WorkbookRef, WorkbookReturn

P1, P2, P3 = "2026-09", "2026-10", "2026-11"


@pytest.fixture(scope="module")
def base_data(tmp_path_factory):
    """A data folder after the run of P1 on a small generated county (made once per module)."""
    from demo.generate import generate_demo
    from pipeline.run import run

    root = tmp_path_factory.mktemp("answers")
    drop = generate_demo(root / "gen", seed=5, n_households=60)[0]
    data = root / "data"
    shutil.copytree(drop, data / "raw" / P1)
    run(data / "raw" / P1, P1, out=data / "reports", db=data / "clean" / "cardcheck.duckdb", data_dir=data)
    return data


@pytest.fixture
def ran(settings, tmp_path, base_data, db):
    data = tmp_path / "data"
    shutil.copytree(base_data, data)
    settings.PORTAL = {**settings.PORTAL, "data": data, "raw": data / "raw", "reports": data / "reports",
                       "database": data / "clean" / "cardcheck.duckdb"}
    areas.refresh(force=True)
    books = list(WorkbookRef.objects.order_by("township", "village"))
    assert len(books) >= 3
    b1 = max(books, key=lambda b: b.issued)                              # the village with most issues
    b2 = next(b for b in books if b.township == b1.township and b.village != b1.village)
    b3 = next(b for b in books if b.township != b1.township)
    users = {}
    from django.contrib.auth import get_user_model

    for name, role, t, v in (("vil1", Role.VILLAGE, b1.township, b1.village),
                             ("vil2", Role.VILLAGE, b2.township, b2.village),
                             ("town1", Role.TOWNSHIP, b1.township, ""), ("town3", Role.TOWNSHIP, b3.township, ""),
                             ("admin1", Role.ADMIN, "", "")):
        u = get_user_model().objects.create_user(username=name)
        Account.objects.create(user=u, role=role, township=t, village=v, must_change_password=False)
        users[name] = u
    return {"data": data, "b1": b1, "b2": b2, "b3": b3, "users": users}


def issues_of(b: WorkbookRef) -> list[str]:
    return list(IssueRow.objects.filter(workbook_id=b.workbook_id).values_list("issue_id", flat=True))


def feedback_rows(data: Path, sql: str = "SELECT issue_id, answer, how, account FROM feedback ORDER BY imported_at"):
    con = duckdb.connect(str(data / "clean" / "cardcheck.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def answer(client, answers: dict[str, str], **extra):
    form = {f"a:{i}": a for i, a in answers.items()}
    form.update({f"n:{i}": f"说明{n}" for n, i in enumerate(answers)})
    form.update(extra)
    return client.post("/verify/", form)


def fill_workbook(path: Path, answers: dict[str, str]) -> None:
    import openpyxl

    from pipeline.outputs import workbooks as W

    wb = openpyxl.load_workbook(path)
    ws = wb[W.LIST_SHEET]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        iid = row[header.index(W.ID_HEADER)].value
        if iid in answers:
            row[header.index(W.ANSWER_HEADER)].value = answers[iid]
            row[header.index(W.WHO_HEADER)].value = "王会计"
    wb.save(path)


def download(client, url: str, dest: Path) -> Path:
    r = client.get(url)
    assert r.status_code == 200
    dest.write_bytes(b"".join(r.streaming_content))
    return dest


def return_workbook(client, path: Path, name: str = "交回.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/verify/return/", {"file": SimpleUploadedFile(name, path.read_bytes())}, follow=True)


def issues_csv(data: Path, period: str) -> dict[str, dict]:
    with open(data / "reports" / period / "issues.csv", encoding="utf-8-sig") as f:
        return {r["issue_id"]: r for r in csv.DictReader(f)}


def run_next(client, data: Path, period: str, monkeypatch) -> None:
    """The same drop again as the next period (every issue persists, evidence unchanged), run
    from the portal's 月度运行 page."""
    monkeypatch.setattr(runner, "start_thread", lambda t, pk: runner.work(pk, close_db=False))
    shutil.copytree(data / "raw" / P1, data / "raw" / period)
    r = client.post("/runs/start/", {"period": period})
    assert r.status_code == 302
    from portal.models import RunRecord

    rec = RunRecord.objects.filter(period=period).first()
    assert rec.status == "completed", rec.message


def test_browser_and_workbook_end_in_one_record_and_the_next_runs_reflect_them(ran, client, tmp_path, monkeypatch):
    data, b1 = ran["data"], ran["b1"]
    ids = issues_of(b1)
    assert len(ids) >= 5
    i1, i2, i3, i4, i5 = ids[:5]
    client.force_login(ran["users"]["vil1"])
    page = client.get("/verify/").content.decode()
    assert b1.village in page and all(i in page for i in ids)
    # three issues answered in the browser
    r = answer(client, {i1: "属实-已整改", i2: "不属实-数据无误", i3: "属实-整改中"})
    assert r.status_code == 302
    assert sorted(feedback_rows(data)) == sorted([(i1, "属实-已整改", "browser", "vil1"),
                                                   (i2, "不属实-数据无误", "browser", "vil1"),
                                                   (i3, "属实-整改中", "browser", "vil1")])
    # saving the page again without changes records nothing new
    answer(client, {i1: "属实-已整改", i2: "不属实-数据无误", i3: "属实-整改中"})
    assert len(feedback_rows(data)) == 3
    # the workbook, downloaded and returned with two other issues and a later answer for i1
    book = download(client, "/verify/workbook.xlsx", tmp_path / "wb.xlsx")
    fill_workbook(book, {i4: "属实-已整改", i5: "不属实-数据无误", i1: "无法核实"})
    text = return_workbook(client, book).content.decode()
    assert "接收 3 条，拒收 0 条" in text
    rows = feedback_rows(data)
    assert len(rows) == 6 and [r[1] for r in rows if r[0] == i1] == ["属实-已整改", "无法核实"]   # both kept
    assert {r[2] for r in rows if r[0] in (i4, i5)} == {"workbook"}
    # the village's page shows the latest answer of each; the township sees the village's progress
    page = client.get("/verify/").content.decode()
    assert page.count("selected>无法核实") == 1
    client.force_login(ran["users"]["town1"])
    prog = client.get("/progress/").content.decode()
    row = prog[prog.index(f">{b1.village}</a>"):]
    row = row[:row.index("</tr>")]
    cells = [c.split("<")[0] for c in row.split('<td class="num">')[1:4]]
    assert cells == [str(len(ids)), "5", str(len(ids) - 5)]
    assert "vil1" in row                     # downloaded first by the village account
    zipped = client.get("/progress/workbooks.zip")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"

    # the next period: latest answer wins; 不属实 → waived; 属实-已整改 still present → 整改未见效
    client.force_login(ran["users"]["admin1"])
    run_next(client, data, P2, monkeypatch)
    now = issues_csv(data, P2)
    assert now[i2]["status"] == "waived" and now[i5]["status"] == "waived"
    assert now[i1]["status"] == "persisting"           # its latest answer is 无法核实, not 已整改
    assert now[i3]["status"] == "persisting"
    con = duckdb.connect(str(data / "clean" / "cardcheck.duckdb"), read_only=True)
    flags = dict(con.execute("SELECT issue_id, flag FROM issue_history WHERE period = ?", [P2]).fetchall())
    con.close()
    assert flags[i4] == "整改未见效" and flags[i1] is None
    manifest = services.run_manifest(portal_settings(), P2)
    sampled = {x["issue_id"] for x in manifest["waiver_audit"]["issues"]}
    assert {i2, i5} <= sampled                         # ≤ 5 waived in the township: all of them
    assert (data / "reports" / P2 / "抽查复核.xlsx").is_file()
    rf = {r["rule_id"]: r for r in manifest["rule_feedback"]["rules"]}
    assert sum(r["answers"] for r in rf.values()) == 4 and sum(r["unverifiable"] for r in rf.values()) == 1
    summary = (data / "reports" / P2 / "summary.html").read_text(encoding="utf-8")
    assert "回收与核实" in summary and "规则可信度" in summary
    ret = manifest["returns"]
    assert ret["period"] == P1
    mine = next(v for v in ret["villages"] if (v["township"], v["village"]) == (b1.township, b1.village))
    assert (mine["issued"], mine["answered"], mine["unanswered"]) == (len(ids), 5, len(ids) - 5)
    assert mine["returned_at"] and not mine["overdue"]           # returned; the deadline is 15 days off
    others = [v for v in ret["villages"] if v["village"] != b1.village]
    assert others and all(v["answered"] == 0 and v["returned_at"] is None for v in others)

    # the county overturns one waiver: it is reopened at the next run, and the village sees why —
    # also when the outbox's writer has not run yet when the run starts (the run writes it first)
    monkeypatch.setattr(outbox, "kick", lambda: None)
    r = client.post("/spot-check/", {"issue": i2, "result": "overturned", "note": "入户核查属实"})
    assert r.status_code == 302
    r = client.post("/spot-check/", {"issue": i5, "result": "confirmed"})
    run_next(client, data, P3, monkeypatch)
    now = issues_csv(data, P3)
    assert now[i2]["status"] == "reopened" and now[i5]["status"] == "waived"
    client.force_login(ran["users"]["vil1"])
    page = client.get("/verify/").content.decode()
    assert "再次出现（抽查复核未通过）" in page
    # 户档案 (the record of `cardcheck history`, copied after the run): every period, every answer
    hid = IssueRow.objects.get(issue_id=i1).household_id
    h = Household.objects.get(household_id=hid)
    page = client.get(f"/households/{h.key}/").content.decode()
    for p in (P1, P2, P3):
        assert f"<h3>{p}（" in page
    assert "属实-已整改" in page and "网页填报" in page and "交回清单" in page and "无法核实" in page
    assert hid not in page                                               # masked for the village


def test_a_village_cannot_answer_another_villages_issue(ran, client, tmp_path):
    data, b1, b2 = ran["data"], ran["b1"], ran["b2"]
    other, mine = issues_of(b1), issues_of(b2)
    client.force_login(ran["users"]["vil2"])
    for form in ({f"a:{other[0]}": "不属实-数据无误"},
                 {f"a:{mine[0]}": "属实-整改中", f"a:{other[0]}": "不属实-数据无误"},       # one of them another's
                 {f"a:{other[0]}": "不属实-数据无误", "township": b1.township, "village": b1.village},
                 {f"n:{other[0]}": "只写说明"},
                 {"a:ffffffffffffffff": "无法核实"}):
        assert client.post("/verify/", form).status_code == 404
        assert client.post(f"/verify/?township={b1.township}&village={b1.village}", form).status_code == 404
    assert not Answer.objects.exists() and feedback_rows(data) == []
    # query parameters do not move a village account to another village
    page = client.get("/verify/", {"township": b1.township, "village": b1.village}).content.decode()
    assert other[0] not in page and mine[0] in page
    book = download(client, f"/verify/workbook.xlsx?township={b1.township}&village={b1.village}", tmp_path / "x.xlsx")
    from pipeline.cycle.feedback import read_workbook

    assert read_workbook(book).workbook_id == b2.workbook_id
    # another village's workbook returned: refused whole, nothing recorded
    client.force_login(ran["users"]["vil1"])
    theirs = download(client, "/verify/workbook.xlsx", tmp_path / "theirs.xlsx")
    fill_workbook(theirs, {other[0]: "不属实-数据无误"})
    client.force_login(ran["users"]["vil2"])
    text = return_workbook(client, theirs).content.decode()
    assert "不是本村本期下发的问题清单" in text
    assert not WorkbookReturn.objects.exists() and feedback_rows(data) == []
    # township accounts: another township's village and household answer 404
    client.force_login(ran["users"]["town3"])
    assert client.get("/verify/", {"township": b1.township, "village": b1.village}).status_code == 404
    assert client.get(f"/verify/workbook.xlsx?village={b1.village}").status_code == 404
    assert client.post("/verify/", {f"a:{other[0]}": "无法核实", "village": b1.village}).status_code == 404
    h = Household.objects.filter(township=b1.township, village=b1.village).first()
    assert client.get(f"/households/{h.key}/").status_code == 404
    client.force_login(ran["users"]["vil2"])
    assert client.get(f"/households/{h.key}/").status_code == 404
    client.force_login(ran["users"]["vil1"])
    page = client.get(f"/households/{h.key}/")
    assert page.status_code == 200 and h.household_id not in page.content.decode()     # masked for a village
    # the store checks again: an answer that reached the outbox for another village is refused there
    Answer.objects.create(answer_id="forged", issue_id=other[0], period=P1, township=b2.township, village=b2.village,
                          workbook_id=b1.workbook_id, answer="不属实-数据无误", how="browser",
                          made_at=__import__("django.utils.timezone", fromlist=["now"]).now())
    assert outbox.sync()
    assert feedback_rows(data) == [] and Answer.objects.get(answer_id="forged").origin == "refused"


def test_answers_made_while_a_run_holds_the_database_are_written_once_after_it(ran, client, monkeypatch):
    data, b1 = ran["data"], ran["b1"]
    ids = issues_of(b1)[:3]
    client.force_login(ran["users"]["vil1"])
    answered = {}

    real = services.run_period

    def run_with_answers(s, period, on_step):
        def step(d):
            if d["stage"] == "check" and not answered:       # the run holds the lock now
                answered["r"] = answer(client, {i: "属实-整改中" for i in ids})
                answered["pending"] = outbox.pending()
            on_step(d)
        return real(s, period, step)

    monkeypatch.setattr(services, "run_period", run_with_answers)
    monkeypatch.setattr(runner, "start_thread", lambda t, pk: runner.work(pk, close_db=False))
    shutil.copytree(data / "raw" / P1, data / "raw" / P2)
    from portal.models import RunRecord

    rec = runner.start(ran["users"]["admin1"], P2)
    rec.refresh_from_db()
    assert rec.status == "completed", rec.message
    assert answered["r"].status_code == 302 and answered["pending"] == 3
    rows = feedback_rows(data, "SELECT issue_id, period, how FROM feedback")
    assert sorted(rows) == sorted((i, P1, "browser") for i in ids)            # written after the run, once
    assert outbox.pending() == 0
    # written again (as if the portal stopped between the two stores): still once
    Answer.objects.filter(origin="portal").update(written_at=None)
    assert outbox.sync()
    assert len(feedback_rows(data)) == 3
    assert RunRecord.objects.count() == 1
