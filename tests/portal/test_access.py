"""Who sees what: every page for every role, and the authorisation matrix — every URL pattern,
every role, objects of its own area and of another area: 200 (or the redirect of a form) for
its own, 404 for another's (portal.md "Roles and areas")."""
from __future__ import annotations

import json

import pytest
from conftest import PERIOD, T_A, T_B, V_A, V_B, member_rows, members_xlsx, pid

from portal import store
from portal.models import Account, RunRecord, Submission, Upload

ROLES = ("admin", "county", "town_a", "vil_a")


def fake_upload(user, tmp_path, name: str) -> Upload:
    """An upload with its check result, made without running the check (fast)."""
    acc = user.account
    f = members_xlsx(tmp_path / f"{name}.xlsx", member_rows(acc.township or T_A, 2))
    up = Upload.objects.create(owner=user, role=acc.role, township=acc.township, village=acc.village,
                               original_name=f"{name}.xlsx", stored=f"uploads/test/{name}.xlsx", size=1,
                               period=PERIOD, status="checked", kind="members", usable=True, rows_read=2,
                               rows_loaded=2, n_error=1)
    path = store.upload_path(up)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f.read_bytes())
    idn = pid(1)
    result = {"usable": True, "kind": "members", "sheet": "人员", "header_row": 2, "rows_read": 2,
              "rows_loaded": 2, "rows_rejected": 0, "facts": {},
              "findings": [{"file": up.original_name, "sheet": "人员", "row": 3, "column": "证件号码",
                            "value": idn, "rule_id": "ID-01", "rule_name": "证件号码校验位错误",
                            "severity": "error", "message": f"张伟证件号码{idn}校验位错误"}]}
    store.result_path(up).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return up


@pytest.fixture
def objects(world, tmp_path, other_data):
    ups = {name: fake_upload(world[name], tmp_path, f"up_{name}")
           for name in ("admin", "county", "town_a", "town_b", "vil_a", "vil_b")}
    subs = {}
    for name, scope in (("town_a", T_A), ("town_b", T_B)):
        up = ups[name]
        sub = Submission.objects.create(upload=up, period=PERIOD, kind="members", scope=scope,
                                        submitted_by=world[name], kept=up.stored, drop_name=f"x_{scope}.xlsx",
                                        placed=True)
        subs[name] = sub
    run = RunRecord.objects.create(period="2026-10", started_by=world["admin"], status="completed", stage="done")
    summary = other_data / "reports" / "2026-10" / "summary.html"
    summary.parent.mkdir(parents=True)
    summary.write_text("<html><body>summary</body></html>", encoding="utf-8")
    # issue I: the latest run's village workbooks and issues of two villages in two townships
    from portal.models import HouseholdPart, IssueRow, WorkbookRef

    period_dir = other_data / "reports" / "2026-10"
    for n, (t, v, h) in enumerate(((T_A, V_A, "4306241010000001"), (T_B, V_B, "4306241010000100"))):
        rel = f"villages/{t}/v{n}.xlsx"
        (period_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (period_dir / rel).write_bytes(b"PK-not-really-a-workbook")
        WorkbookRef.objects.create(workbook_id=f"wb{n}" * 6, period="2026-10", township=t, village=v, file=rel, issued=1)
        HouseholdPart.objects.create(household_id=h, kind="household", data={"township": t, "village": v,
                                                                              "head_name": "张伟"})
        IssueRow.objects.create(period="2026-10", issue_id=f"{n}" * 16, rule_id="ID-01", rule_name="证件号码校验位错误",
                                severity="error", status="new", township=t, village=v, household_id=h,
                                workbook_id=f"wb{n}" * 6, message="<b>张伟</b>证件号码有误")
    (period_dir / "抽查复核.xlsx").write_bytes(b"PK")
    return {"uploads": ups, "subs": subs, "run": run}


def _own_other(role: str, what: str, objs, world):
    """(own object key, another area's object key) for a role."""
    ups, subs = objs["uploads"], objs["subs"]
    if what == "upload":
        own = {"admin": "admin", "county": "county", "town_a": "vil_a", "vil_a": "vil_a"}[role]
        other = {"admin": None, "county": None, "town_a": "town_b", "vil_a": "vil_b"}[role]   # the county is every area
        return ups[own].key, ups[other].key if other else None
    if what == "annotated":
        own = {"admin": "vil_b", "county": "town_b", "town_a": "town_a", "vil_a": "vil_a"}[role]
        other = {"admin": None, "county": None, "town_a": "vil_a", "vil_a": "town_a"}[role]
        return ups[own].key, ups[other].key if other else None
    if what == "submission":
        return subs["town_a"].key, (subs["town_b"].key if role in ("town_a", "vil_a") else None)
    raise AssertionError(what)


def test_authorisation_matrix(objects, world, login):
    """Every URL pattern × every role × own/other object: the status portal.md gives."""
    from portal.urls import urlpatterns


    covered = set()
    run_key = objects["run"].key
    acct_other = Account.objects.get(user=world["vil_b"]).key
    for role in ROLES:
        c = login(world[role])
        admin = role == "admin"
        county = role in ("admin", "county")
        submitter = role != "vil_a"

        def check(name, url, want, method="get", data=None):
            covered.add(name)
            r = getattr(c, method)(url, data or {})
            r.close()                                       # file responses hold their file open
            assert r.status_code == want, f"{role} {method.upper()} {url}: {r.status_code}, wanted {want}"

        check("home", "/", 302)
        check("login", "/login/", 302)                 # already logged in: on to the portal
        check("password", "/password/", 200)
        check("uploads", "/uploads/", 200)
        own, other = _own_other(role, "upload", objects, world)
        for name, suffix in (("upload", ""), ("upload_findings", "findings.xlsx")):
            check(name, f"/uploads/{own}/{suffix}", 200)
            if other:
                check(name, f"/uploads/{other}/{suffix}", 404)
            check(name, f"/uploads/no-such-key/{suffix}", 404)
        own, other = _own_other(role, "annotated", objects, world)
        check("upload_annotated", f"/uploads/{own}/annotated.xlsx", 200)
        if other:
            check("upload_annotated", f"/uploads/{other}/annotated.xlsx", 404)
        check("submit", "/submit/", 200 if submitter else 404)
        own, other = _own_other(role, "submission", objects, world)
        check("submission_file", f"/submissions/{own}/file", 200 if (county or role == "town_a") else 404)
        if other:
            check("submission_file", f"/submissions/{other}/file", 404)
        check("month", "/runs/", 200 if admin else 404)
        check("run", f"/runs/{run_key}/", 200 if admin else 404)
        check("run_status", f"/runs/{run_key}/status.json", 200 if admin else 404)
        check("run_start", "/runs/start/", 302 if admin else 404, "post", {"period": PERIOD})
        check("summary", "/reports/2026-10/summary/", 200 if county else 404)
        check("summary", "/reports/2026-09/summary/", 404)
        check("accounts", "/accounts/", 200 if admin else 404)
        check("accounts_bulk", "/accounts/bulk/", 302 if admin else 404, "post", {})
        check("accounts_export", "/accounts/export/not-mine.xlsx", 404)
        check("account_action", f"/accounts/{acct_other}/disable/", 302 if admin else 404, "post")
        check("account_action", f"/accounts/{acct_other}/enable/", 302 if admin else 404, "post")
        check("account_action", f"/accounts/{acct_other}/nonsense/", 404, "post")
        check("audit", "/audit/", 200 if admin else 404)
        # issue I: answers, progress, households, rule precision, the county's spot check
        township = role == "town_a"
        village = role == "vil_a"
        check("issues", "/issues/", 200)
        check("verify", "/verify/", 200)
        check("verify", f"/verify/?township={T_B}&village={V_B}", 404 if township else 200)
        check("verify", f"/verify/?township={T_A}&village={V_A}", 200)
        check("verify", "/verify/", 404, "post", {"a:" + "1" * 16: "无法核实"})     # another village's issue
        check("verify", "/verify/", 302 if village else 404, "post", {"a:" + "0" * 16: "无法核实"})
        check("verify_workbook", "/verify/workbook.xlsx", 200 if village else 404)
        check("verify_workbook", f"/verify/workbook.xlsx?township={T_A}&village={V_A}", 200)
        check("verify_workbook", f"/verify/workbook.xlsx?township={T_B}&village={V_B}", 404 if township else 200)
        check("verify_return", "/verify/return/", 302, "post")
        check("progress", "/progress/", 404 if village else 200)
        check("progress_zip", f"/progress/workbooks.zip?township={T_A}", 404 if village else 200)
        check("progress_zip", f"/progress/workbooks.zip?township={T_B}", 404 if village or not county else 200)
        check("household", "/households/k1/", 200)
        check("household", "/households/k100/", 200 if county else 404)
        check("household", "/households/no-such-key/", 404)
        check("rules", "/rules/", 404 if village else 200)
        check("audit_sample", "/spot-check/", 200 if county else 404)
        check("audit_sample", "/spot-check/", 404, "post", {"issue": "0" * 16, "result": "overturned"})  # not sampled
        check("audit_workbook", "/spot-check/workbook.xlsx", 200 if county else 404)
        check("logout", "/logout/", 302, "post")
    names = {p.name for p in urlpatterns}
    assert names <= covered, f"URL patterns without a matrix entry: {sorted(names - covered)}"


def test_every_page_for_every_role(objects, world, login):
    pages = {"admin": ["/uploads/", "/submit/", "/runs/", "/accounts/", "/audit/", "/password/",
                       f"/runs/{objects['run'].key}/"],
             "county": ["/uploads/", "/submit/", "/password/"],
             "town_a": ["/uploads/", "/submit/", "/password/"],
             "town_b": ["/uploads/", "/submit/", "/password/"],
             "vil_a": ["/uploads/", "/password/"],
             "vil_b": ["/uploads/", "/password/"]}
    for role, urls in pages.items():
        c = login(world[role])
        for url in urls + [f"/uploads/{objects['uploads'][role].key}/"]:
            r = c.get(url)
            assert r.status_code == 200, (role, url)
            text = r.content.decode()
            assert "建档立卡数据校验门户" in text and 'lang="zh-Hans"' in text
            assert "http://" not in text.replace("http://testserver", "") and "https://" not in text   # no asset from elsewhere
        c.logout()
    r = c.get("/login/")
    assert r.status_code == 200 and "登录" in r.content.decode()
    assert c.get("/uploads/").status_code == 302          # not logged in: to the login page


def test_masking_per_role(objects, world, login):
    """Township and village accounts see IDs masked as in village workbooks; county roles and the
    uploader see them in full."""
    from portal.services import mask_text

    idn = pid(1)
    masked = mask_text(idn)
    assert masked != idn and "*" in masked
    key = objects["uploads"]["vil_a"].key
    for role, full in (("admin", True), ("county", True), ("vil_a", True), ("town_a", False)):
        text = login(world[role]).get(f"/uploads/{key}/").content.decode()
        assert (idn in text) is full, role
        assert (masked in text) is (not full), role
    # the findings sheet a township downloads is masked too
    import io

    from openpyxl import load_workbook

    data = login(world["town_a"]).get(f"/uploads/{key}/findings.xlsx")
    wb = load_workbook(io.BytesIO(b"".join(data.streaming_content)))
    cells = [str(c.value) for row in wb.active.iter_rows() for c in row if c.value]
    assert not any(idn in v for v in cells) and any(masked in v for v in cells)


def test_village_name_is_escaped(objects, world, login):
    for role in ("vil_a", "admin"):
        url = "/uploads/" if role == "vil_a" else "/accounts/"
        text = login(world[role]).get(url).content.decode()
        assert V_A not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_area_comes_from_the_account_not_the_request(objects, world, login):
    """A village account cannot widen its area with parameters or form fields."""
    c = login(world["vil_a"])
    other = objects["uploads"]["vil_b"].key
    for url in (f"/uploads/{other}/?township={T_B}&village={V_B}", f"/uploads/{other}/findings.xlsx?role=admin"):
        assert c.get(url).status_code == 404
    r = c.post("/submit/", {"upload": objects["uploads"]["vil_a"].key, "period": PERIOD, "role": "county"})
    assert r.status_code == 404


def test_issue_pages_escape_text_and_mask_ids_for_villages(objects, world, login):
    from portal.models import IssueRow

    IssueRow.objects.filter(village=V_A).update(id_number=pid(7), message=f"<b>张伟</b>证件号码{pid(7)}有误")
    for role, masked in (("vil_a", True), ("town_a", True), ("county", False)):
        c = login(world[role])
        for url in ("/issues/", f"/verify/?township={T_A}&village={V_A}"):
            page = c.get(url).content.decode()
            assert "<b>张伟</b>" not in page and "&lt;b&gt;张伟&lt;/b&gt;" in page, (role, url)
            assert "&lt;script&gt;" in page or url == "/issues/"          # the village's own name, escaped
            assert (pid(7) in page) is not masked, (role, url)


def test_return_form_redirects_only_within_the_portal(world, login):
    c = login(world["vil_a"])
    for bad in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        r = c.post("/verify/return/", {"next": bad})
        assert r.status_code == 302 and r["Location"] == "/verify/", (bad, r["Location"])
    r = c.post("/verify/return/", {"next": "/spot-check/"})
    assert r["Location"] == "/spot-check/"


def test_issue_filters_offer_all_and_no_empty_area(objects, world, login):
    from portal.models import IssueRow

    IssueRow.objects.create(period="2026-10", issue_id="c" * 16, rule_id="PRJ-01", rule_name="项目", severity="notice",
                            status="new", township="", village="", message="县级问题")
    page = login(world["county"]).get("/issues/").content.decode()
    assert "<option selected></option>" not in page and '<option value="" selected' not in page
    assert f"<option>{T_A}</option>" in page and "县级问题" in page
