"""Pages 5–8 of portal.md and the county's spot check:

  问题清单   (all roles)          the latest run's issues of the account's area, filtered
  村级核实   (village answers; township and county read)   the village's workbook issues with
             the four answers, 核实说明, 核实人, last period's answer; download / return the workbook
  回收进度   (township, county)   per village: issued, answered, unanswered, 整改未见效, waived,
             downloaded (first, by whom), returned (when), overdue; a township's zip of workbooks
  户档案     (all roles, own area) one household across periods (`cardcheck history`'s record)
  规则可信度 (county, township)   run.json rule_feedback
  抽查复核   (county)             the waiver audit sample: confirmed / overturned

The area comes from the session's account, never from the request: a village account's
answers count only for issues of its own village's workbook (anything else: 404, nothing
recorded). Answers go into the outbox (portal.outbox) and from there into the one feedback
record of `cardcheck feedback`.
"""
from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Min
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal import areas, audit, outbox, services, store
from portal.conf import portal_settings
from portal.models import (COUNTY_ROLES, Answer, AuditDecision, Household, HouseholdPart, IssueRow, Role, Village, WorkbookDownload,
                           WorkbookRef, WorkbookReturn)
from portal.views.common import ALL_ROLES, allow

READERS = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP)
SEVERITIES = ("error", "suspect", "notice")
STATUSES = ("new", "persisting", "reopened", "waived")
MAX_NOTE = 500


# ---------------------------------------------------------------------------- areas

def issues_in_area(acc):
    qs = IssueRow.objects.all()
    if acc.role == Role.TOWNSHIP:
        qs = qs.filter(township=acc.township)
    elif acc.role == Role.VILLAGE:
        qs = qs.filter(township=acc.township, village=acc.village)
    return qs


def chosen_village(request) -> tuple[str, str] | None:
    """The village a page is about: a village account's own; for township and county accounts
    the one asked for, if it is in their area (else 404)."""
    acc = request.account
    if acc.role == Role.VILLAGE:
        return acc.township, acc.village
    t = request.GET.get("township") or request.POST.get("township") or ""
    v = request.GET.get("village") or request.POST.get("village") or ""
    if acc.role == Role.TOWNSHIP:
        t = acc.township
    if not v:
        return None
    if not (Village.objects.filter(township=t, village=v).exists()
            or WorkbookRef.objects.filter(township=t, village=v).exists()):
        raise Http404()
    return t, v


def latest_period() -> str | None:
    return areas.latest_period()


def masker(acc):
    if acc.masks_ids:
        return lambda v: services.mask_text("" if v is None else str(v))
    return lambda v: "" if v is None else str(v)


def show_issue(i: IssueRow, m) -> dict:
    return {"issue_id": i.issue_id, "rule_id": i.rule_id, "rule_name": i.rule_name, "severity": i.severity,
            "severity_text": services.severity_text(i.severity), "status": i.status,
            "status_text": services.status_text(i.status, i.flag), "flag": i.flag, "first_seen": i.first_seen,
            "township": i.township, "village": i.village, "household_id": m(i.household_id),
            "household_key": areas.household_key(i.household_id) if i.household_id else "",
            "head_name": m(i.head_name), "person_name": m(i.person_name), "id_number": m(i.id_number),
            "message": m(i.message), "unit": i.responsible_unit}


# ---------------------------------------------------------------------------- 5. 问题清单

@allow(*ALL_ROLES)
def issues_view(request):
    acc = request.account
    qs = issues_in_area(acc)
    f = {k: (request.GET.get(k) or "").strip() for k in ("township", "village", "rule", "severity", "status")}
    if acc.is_county and f["township"]:
        qs = qs.filter(township=f["township"])
    if acc.role != Role.VILLAGE and f["village"]:
        qs = qs.filter(village=f["village"])
    if f["rule"]:
        qs = qs.filter(rule_id=f["rule"])
    if f["severity"] in SEVERITIES:
        qs = qs.filter(severity=f["severity"])
    if f["status"] in STATUSES:
        qs = qs.filter(status=f["status"])
    elif f["status"] == "flag":
        qs = qs.exclude(flag="")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    m = masker(acc)
    area = issues_in_area(acc)
    towns = sorted(set(area.values_list("township", flat=True)) - {""}) if acc.is_county else []
    vq = area.filter(township=f["township"]) if acc.is_county and f["township"] else area
    villages = sorted(set(vq.values_list("village", flat=True)) - {""}) if acc.role != Role.VILLAGE else []
    rules = list(area.values("rule_id", "rule_name").distinct().order_by("rule_id"))
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(request, "portal/issues.html", {
        "period": latest_period(), "page": page, "rows": [show_issue(i, m) for i in page.object_list],
        "f": f, "towns": towns, "villages": villages, "rules": rules, "query": query,
        "severities": [(k, services.severity_text(k)) for k in SEVERITIES],
        "statuses": [(k, services.status_text(k)) for k in STATUSES] + [("flag", services.FLAG_NOT_FIXED + "等标记")],
        "total": qs.count()})


# ---------------------------------------------------------------------------- 6. 村级核实

def village_workbook(t: str, v: str) -> WorkbookRef | None:
    return WorkbookRef.objects.filter(township=t, village=v).first()


def latest_answers(ids: list[str]) -> tuple[dict, dict]:
    """(this period's latest answer, the latest answer of an earlier period) per issue id."""
    period = latest_period()
    now, before = {}, {}
    for a in Answer.objects.filter(issue_id__in=ids).exclude(origin="refused").order_by("made_at", "id"):
        (now if a.period == period else before)[a.issue_id] = a
    return now, before


@allow(*ALL_ROLES)
def verify_view(request):
    acc = request.account
    if request.method == "POST" and acc.role != Role.VILLAGE:
        raise Http404()                       # only a village answers, and only its own issues
    place = chosen_village(request)
    if place is None:          # township / county: choose a village
        return render(request, "portal/verify_pick.html", {"period": latest_period(),
                                                            "villages": _villages_of_area(acc)})
    t, v = place
    wb = village_workbook(t, v)
    rows = list(IssueRow.objects.filter(workbook_id=wb.workbook_id, township=t, village=v)) if wb else []
    if request.method == "POST":
        return _save_answers(request, t, v, wb, rows)
    m = masker(acc)
    now, before = latest_answers([i.issue_id for i in rows])
    shown = []
    for n, i in enumerate(rows, start=1):
        d = show_issue(i, m)
        d["n"] = n
        d["answer"] = now.get(i.issue_id)
        d["before"] = before.get(i.issue_id)
        shown.append(d)
    returns = WorkbookReturn.objects.filter(township=t, village=v).select_related("user")[:10]
    return render(request, "portal/verify.html", {
        "period": latest_period(), "township": t, "village": v, "wb": wb, "rows": shown,
        "answers": services.ANSWERS, "can_answer": acc.role == Role.VILLAGE, "returns": returns,
        "answered": sum(1 for d in shown if d["answer"]),
        "query": f"?township={t}&village={v}" if acc.role != Role.VILLAGE else ""})


def _villages_of_area(acc) -> list[tuple[str, str]]:
    qs = WorkbookRef.objects.all()
    if acc.role == Role.TOWNSHIP:
        qs = qs.filter(township=acc.township)
    return sorted(set(qs.values_list("township", "village")))


def _save_answers(request, t: str, v: str, wb: WorkbookRef | None, rows: list[IssueRow]):
    """Fields a:<issue_id> (answer), n:<issue_id> (核实说明), w:<issue_id> (核实人). Every issue
    named must be one of this village's workbook issues — otherwise 404 and nothing recorded."""
    mine = {i.issue_id for i in rows}
    named = {k.split(":", 1)[1] for k in request.POST if k[:2] in ("a:", "n:", "w:")}
    if not named or wb is None or not named <= mine:
        raise Http404()
    current, _ = latest_answers(sorted(named))
    made, bad = [], 0
    now = timezone.now()
    for iid in sorted(named):
        answer = (request.POST.get(f"a:{iid}") or "").strip()
        if not answer:
            continue
        if answer not in services.ANSWERS:
            bad += 1
            continue
        note = (request.POST.get(f"n:{iid}") or "").strip()[:MAX_NOTE]
        who = (request.POST.get(f"w:{iid}") or "").strip()[:100] or request.user.get_username()
        last = current.get(iid)
        if last is not None and (last.answer, last.note, last.who) == (answer, note, who):
            continue            # unchanged: not a new answer
        made.append(Answer(answer_id=uuid.uuid4().hex, issue_id=iid, period=wb.period, township=t, village=v,
                           workbook_id=wb.workbook_id, answer=answer, note=note, who=who,
                           answered_on=timezone.localdate().isoformat(), how="browser",
                           account=request.user.get_username(), made_at=now, file="网页填报", origin="portal"))
    if bad:
        messages.error(request, "核实结果只能从四个选项中选择，本次没有保存。")
        return redirect(reverse("portal:verify"))
    if made:
        Answer.objects.bulk_create(made)
        audit.record(request, "answer", target=f"{t}{v}",
                     detail="；".join(f"{a.issue_id} {a.answer}" for a in made)[:4000])
        outbox.kick()
        messages.success(request, f"已保存 {len(made)} 条核实结果，下次月度运行时生效。")
    else:
        messages.info(request, "没有新的核实结果需要保存。")
    return redirect(reverse("portal:verify"))


def _workbook_file(wb: WorkbookRef) -> Path | None:
    base = services.period_dir(portal_settings(), wb.period)
    try:
        p = store.inside(base, wb.file)
    except ValueError:
        return None
    return p if p.is_file() else None


@allow(*ALL_ROLES)
def workbook_download(request):
    acc = request.account
    place = chosen_village(request)
    if place is None:
        raise Http404()
    wb = village_workbook(*place)
    path = _workbook_file(wb) if wb else None
    if path is None:
        raise Http404()
    WorkbookDownload.objects.create(workbook_id=wb.workbook_id, period=wb.period, township=wb.township,
                                    village=wb.village, user=request.user)
    audit.record(request, "download", target=f"{wb.township}{wb.village}", detail=f"村级问题清单 {wb.period}")
    return FileResponse(open(path, "rb"), as_attachment=True,
                        filename=f"{wb.period}_{services.safe_name(wb.township)}_{services.safe_name(wb.village)}.xlsx")


@allow(*ALL_ROLES)
@require_POST
def return_upload(request):
    """A filled-in workbook returned: a village its own list, a township any of its villages',
    the county any (and 抽查复核.xlsx). Checked against the latest run's registry here; recorded
    by the outbox with `cardcheck feedback`'s code (which checks the registry again)."""
    acc = request.account
    f = request.FILES.get("file")
    back = request.POST.get("next") or ""
    if not (back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = reverse("portal:verify")
    if f is None:
        messages.error(request, "请选择要交回的清单文件。")
        return redirect(back)
    try:
        stored, original = store.save_returned(f)
    except store.TooLarge:
        messages.error(request, "文件太大。")
        return redirect(back)
    path = store.inside(store.store(), stored)
    try:
        wbid = services.workbook_id_of(path)
    except ValueError as exc:
        messages.error(request, f"{original}：无法使用——{exc}")
        audit.record(request, "return_refused", target=original, detail=str(exc))
        path.unlink(missing_ok=True)
        return redirect(back)
    ref = WorkbookRef.objects.filter(workbook_id=wbid).first()
    is_audit = acc.is_county and _audit_workbook_id() == wbid
    if not is_audit:
        ok = ref is not None and (acc.is_county or (acc.role == Role.TOWNSHIP and ref.township == acc.township)
                                  or (acc.role == Role.VILLAGE and (ref.township, ref.village) == (acc.township, acc.village)))
        if not ok:
            why = "这不是本村本期下发的问题清单，请交回本期下发给本村的清单。" if acc.role == Role.VILLAGE else \
                "这不是本期下发的、本辖区的村级问题清单。"
            messages.error(request, f"{original}：{why}")
            audit.record(request, "return_refused", target=original, detail=why)
            path.unlink(missing_ok=True)
            return redirect(back)
    ret = WorkbookReturn.objects.create(user=request.user, role=acc.role, township=ref.township if ref else "",
                                        village=ref.village if ref and acc.role == Role.VILLAGE else "",
                                        original_name=original, stored=stored, workbook_id=wbid)
    if acc.role == Role.TOWNSHIP:
        WorkbookReturn.objects.filter(pk=ret.pk).update(township=acc.township)
    audit.record(request, "return", target=ret.key, detail=f"{original} {'抽查复核' if is_audit else ''}")
    outbox.sync(timeout=2.0)
    ret.refresh_from_db()
    if ret.processed_at is None:
        messages.info(request, f"已收到 {original}。正在进行月度运行，运行结束后自动登记。")
    elif ret.problem:
        messages.error(request, f"{original}：无法使用——{ret.problem}")
    else:
        messages.success(request, f"{original}：接收 {ret.accepted} 条，拒收 {ret.refused} 条，未填写 {ret.ignored} 条。")
        for line in ret.lines[:-1][:20]:
            messages.error(request, line)
    return redirect(back)


# ---------------------------------------------------------------------------- 7. 回收进度

def progress_rows(township: str | None) -> list[dict]:
    period = latest_period()
    books = WorkbookRef.objects.all()
    if township:
        books = books.filter(township=township)
    books = list(books.order_by("township", "village"))
    deadline = _deadline(period)
    listed = IssueRow.objects.exclude(workbook_id="")
    if township:
        listed = listed.filter(township=township)
    done = set(Answer.objects.filter(period=period).exclude(origin="refused").values_list("issue_id", flat=True))
    n_answered: Counter = Counter()
    for iid, t, v in listed.values_list("issue_id", "township", "village"):
        if iid in done:
            n_answered[(t, v)] += 1
    flags = Counter(IssueRow.objects.exclude(flag="").values_list("township", "village"))
    waived = Counter(IssueRow.objects.filter(status="waived").values_list("township", "village"))
    first_dl = {}
    for d in WorkbookDownload.objects.filter(period=period).select_related("user").order_by("at"):
        first_dl.setdefault(d.workbook_id, d)
    ret_at = {}
    for t, v, at in (Answer.objects.filter(period=period, how="workbook").exclude(origin="refused")
                     .values_list("township", "village").annotate(at=Min("made_at"))):
        ret_at[(t, v)] = at
    for r in WorkbookReturn.objects.filter(processed_at=None).exclude(village=""):
        ret_at.setdefault((r.township, r.village), r.created_at)
    now = timezone.now()
    out = []
    for b in books:
        n_ans = n_answered[(b.township, b.village)]
        dl = first_dl.get(b.workbook_id)
        overdue = bool(n_ans == 0 and deadline is not None and now >= deadline)
        out.append({"township": b.township, "village": b.village, "issued": b.issued, "answered": n_ans,
                    "unanswered": b.issued - n_ans, "not_fixed": flags.get((b.township, b.village), 0),
                    "waived": waived.get((b.township, b.village), 0),
                    "downloaded_at": dl.at if dl else None, "downloaded_by": dl.user.get_username() if dl else "",
                    "returned_at": ret_at.get((b.township, b.village)), "overdue": overdue})
    return out


def _deadline_days(period: str | None) -> int:
    man = services.run_manifest(portal_settings(), period) if period else None
    return int(((man or {}).get("parameters") or {}).get("answer_deadline_days", 15))


def _deadline(period: str | None):
    if not period:
        return None
    man = services.run_manifest(portal_settings(), period) or {}
    finished = man.get("finished_at")
    days = int((man.get("parameters") or {}).get("answer_deadline_days", 15))
    try:
        t = dt.datetime.fromisoformat(str(finished))
    except (TypeError, ValueError):
        return None
    if t.tzinfo is None:
        t = timezone.make_aware(t)
    return t + dt.timedelta(days=days)


@allow(*READERS)
def progress_view(request):
    acc = request.account
    township = acc.township if acc.role == Role.TOWNSHIP else (request.GET.get("township") or "").strip() or None
    rows = progress_rows(township)
    totals = {k: sum(r[k] for r in rows) for k in ("issued", "answered", "unanswered", "not_fixed", "waived")}
    totals["overdue"] = sum(1 for r in rows if r["overdue"])
    towns = sorted(set(WorkbookRef.objects.values_list("township", flat=True))) if acc.is_county else []
    return render(request, "portal/progress.html", {
        "period": latest_period(), "rows": rows, "totals": totals, "township": township or "", "towns": towns,
        "deadline": _deadline(latest_period()), "deadline_days": _deadline_days(latest_period())})


@allow(*READERS)
def progress_zip(request):
    """All the township's village workbooks as one zip (a county account: ?township=)."""
    acc = request.account
    township = (request.GET.get("township") or "").strip()
    if acc.role == Role.TOWNSHIP:
        if township and township != acc.township:
            raise Http404()
        township = acc.township
    books = list(WorkbookRef.objects.filter(township=township).order_by("village")) if township else []
    files = [(b, _workbook_file(b)) for b in books]
    files = [(b, p) for b, p in files if p is not None]
    if not files:
        raise Http404()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for b, p in files:
            z.write(p, f"{services.safe_name(b.village)}.xlsx")
    WorkbookDownload.objects.bulk_create([WorkbookDownload(workbook_id=b.workbook_id, period=b.period,
                                                           township=b.township, village=b.village, user=request.user)
                                          for b, _ in files])
    audit.record(request, "download", target=township, detail=f"全乡镇村级问题清单 {len(files)} 个")
    period = files[0][0].period
    resp = HttpResponse(buf.getvalue(), content_type="application/zip")
    from urllib.parse import quote

    name = f"{period}_{services.safe_name(township)}_村级问题清单.zip"
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


# ---------------------------------------------------------------------------- 8. 户档案

def _household(household_id: str) -> dict | None:
    """`cardcheck history`'s record of a household (pipeline.cycle.household.queries) from the
    portal's copy of the latest run; the answers from the portal's copy of the feedback record
    (which also holds answers not yet written)."""
    rec = {"household_id": household_id, "members": [], "household": None, "files": [], "issues": []}
    for p in HouseholdPart.objects.filter(household_id=household_id).order_by("kind", "seq"):
        if p.kind == "household":
            rec["household"] = p.data
        else:
            rec[{"member": "members", "file": "files", "issue": "issues"}[p.kind]].append(p.data)
    rec["periods"] = sorted({i["period"] for i in rec["issues"]})
    if not (rec["members"] or rec["household"] or rec["issues"]):
        return None
    return rec


def _answers_of(ids: list[str]) -> list[dict]:
    return [{"issue_id": a.issue_id, "period": a.period, "answer": a.answer, "note": a.note, "who": a.who,
             "account": a.account, "how": a.how, "at": a.made_at.isoformat()}
            for a in Answer.objects.filter(issue_id__in=ids).exclude(origin="refused").order_by("made_at", "id")]


def _audits_of(ids: list[str]) -> list[dict]:
    return [{"issue_id": d.issue_id, "period": d.period, "result": d.result, "note": d.note, "who": d.who,
             "recorded_at": d.made_at.isoformat()}
            for d in AuditDecision.objects.filter(issue_id__in=ids).exclude(origin="refused").order_by("made_at", "id")]


@allow(*ALL_ROLES)
def household_view(request, key: str):
    acc = request.account
    h = Household.objects.filter(key=key).first()
    if h is None or (acc.role == Role.TOWNSHIP and h.township != acc.township) or \
            (acc.role == Role.VILLAGE and (h.township, h.village) != (acc.township, acc.village)):
        raise Http404()
    rec = _household(h.household_id)
    if rec is None:
        raise Http404()
    m = masker(acc)
    audit.record(request, "download", target=key, detail="户档案")
    ids = sorted({i["issue_id"] for i in rec["issues"]})
    answers = defaultdict(list)
    for a in _answers_of(ids):
        answers[(a["issue_id"], a["period"])].append({**a, "how_text": services.HOW_CN.get(a.get("how") or "", ""),
                                                      "note": m(a.get("note")), "who": m(a.get("who") or a.get("account")),
                                                      "at": services.local_text(a.get("at"))})
    audits = defaultdict(list)
    for a in _audits_of(ids):
        audits[(a["issue_id"], a["period"])].append({**a, "result_text": services.AUDIT_RESULTS.get(a["result"], ""),
                                                     "note": m(a.get("note")),
                                                     "at": services.local_text(a.get("recorded_at"))})
    periods = []
    for p in reversed(rec["periods"]):
        items = []
        for i in rec["issues"]:
            if i["period"] != p:
                continue
            items.append({"rule_id": i["rule_id"], "rule_name": i["rule_name"],
                          "severity_text": services.severity_text(i["severity"]), "severity": i["severity"],
                          "status_text": services.status_text(i["status"], i.get("flag")),
                          "person_name": m(i.get("person_name")), "message": m(i.get("message")),
                          "answers": answers.get((i["issue_id"], p), []), "audits": audits.get((i["issue_id"], p), [])})
        periods.append({"period": p, "issues": items})
    members = [{"name": m(x.get("name")), "relation": x.get("relation") or "", "id_number": m(x.get("id_number")),
                "gender": x.get("gender") or ""} for x in rec["members"]]
    files = [{"kind": f["kind_title"], "file": Path(str(f["file"] or "")).name, "sheet": f["sheet"],
              "first_row": f["first_row"], "rows": f["rows"]} for f in rec["files"]]
    hh = rec.get("household") or {}
    return render(request, "portal/household.html", {
        "h": h, "hid": m(h.household_id), "head": m(hh.get("head_name")), "members": members, "files": files,
        "periods": periods})


# ---------------------------------------------------------------------------- 规则可信度

@allow(*READERS)
def rules_view(request):
    acc = request.account
    period = latest_period()
    man = services.run_manifest(portal_settings(), period) if period else None
    rf = (man or {}).get("rule_feedback") or {}
    rules = []
    for r in rf.get("rules") or []:
        towns = [t for t in r.get("townships") or [] if acc.is_county or t["township"] == acc.township]
        rules.append({**r, "townships": towns})
    rules.sort(key=lambda r: (not r.get("flagged"), -(r.get("answers") or 0), r["rule_id"]))
    return render(request, "portal/rules.html", {"period": period, "rf": rf, "rules": rules})


# ---------------------------------------------------------------------------- 抽查复核 (county)

def _audit_workbook_id() -> str | None:
    period = latest_period()
    man = services.run_manifest(portal_settings(), period) if period else None
    return ((man or {}).get("waiver_audit") or {}).get("workbook_id")


@allow(*COUNTY_ROLES)
def audit_sample_view(request):
    period = latest_period()
    man = services.run_manifest(portal_settings(), period) if period else None
    wa = (man or {}).get("waiver_audit") or {}
    sample = wa.get("issues") or []
    ids = [x["issue_id"] for x in sample]
    if request.method == "POST":
        iid = request.POST.get("issue") or ""
        result = request.POST.get("result") or ""
        if iid not in ids or result not in services.AUDIT_RESULTS:
            raise Http404()
        AuditDecision.objects.create(answer_id=uuid.uuid4().hex, issue_id=iid, period=period,
                                     workbook_id=wa.get("workbook_id") or "", result=result,
                                     note=(request.POST.get("note") or "").strip()[:MAX_NOTE],
                                     who=request.user.get_username(), made_at=timezone.now())
        audit.record(request, "audit_decision", target=iid, detail=services.AUDIT_RESULTS[result])
        outbox.kick()
        messages.success(request, f"已记录复核结果：{services.AUDIT_RESULTS[result]}。下次月度运行时生效。")
        return redirect(reverse("portal:audit_sample"))
    rows = {i.issue_id: i for i in IssueRow.objects.filter(issue_id__in=ids)}
    decided = {}
    for d in AuditDecision.objects.filter(issue_id__in=ids).exclude(origin="refused").order_by("made_at", "id"):
        decided[d.issue_id] = d
    answers = {}
    for a in Answer.objects.filter(issue_id__in=ids).exclude(origin="refused").order_by("made_at", "id"):
        answers[a.issue_id] = a
    m = masker(request.account)
    shown = []
    for x in sample:
        i = rows.get(x["issue_id"])
        d = show_issue(i, m) if i else {"issue_id": x["issue_id"], "township": x["township"], "village": x["village"],
                                        "rule_id": x["rule_id"], "rule_name": x["rule_name"]}
        d["decision"] = decided.get(x["issue_id"])
        d["decision_text"] = services.AUDIT_RESULTS.get(d["decision"].result, "") if d["decision"] else ""
        d["answer"] = answers.get(x["issue_id"])
        shown.append(d)
    return render(request, "portal/audit_sample.html", {
        "period": period, "wa": wa, "rows": shown, "results": list(services.AUDIT_RESULTS.items()),
        "has_file": bool(period and (services.period_dir(portal_settings(), period) / services.AUDIT_FILE).is_file())})


@allow(*COUNTY_ROLES)
def audit_workbook_download(request):
    period = latest_period()
    if not period:
        raise Http404()
    path = services.period_dir(portal_settings(), period) / services.AUDIT_FILE
    if not path.is_file():
        raise Http404()
    audit.record(request, "download", target=period, detail=services.AUDIT_FILE)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{period}_{services.AUDIT_FILE}")
