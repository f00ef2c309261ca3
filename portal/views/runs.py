"""月度运行 (admin): the period's submissions, what is missing, the run button, the run's
progress by stage (polled), and the summary when done. 审计日志 (admin)."""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal import areas, audit, runner, services
from portal.conf import portal_settings
from portal.models import COUNTY_ROLES, AuditEvent, Role, RunRecord, Submission
from portal.views.common import allow, chosen_period, period_choices

CORE = ("members", "households")


def missing_for(period: str, subs: list[Submission]) -> list[dict]:
    """Kinds without a file, and for kinds submitted per township the townships without one.
    Expected kinds: members and households always, and every kind the latest run loaded."""
    kinds = services.kinds()
    expected = list(CORE)
    latest = services.latest_run(portal_settings())
    if latest:
        for f in latest[1].get("files") or []:
            k = f.get("kind")
            if f.get("status") == "loaded" and k in kinds and k not in expected:
                expected.append(k)
    towns = areas.townships()
    out = []
    for k in expected:
        mine = [s for s in subs if s.kind == k]
        title = kinds[k]["title"]
        if not mine:
            out.append({"kind": k, "title": title, "what": "本期尚无文件"})
        elif all(s.scope for s in mine):
            have = {s.scope for s in mine}
            lack = [t for t in towns if t not in have]
            if lack:
                out.append({"kind": k, "title": title, "what": "未提交的乡镇：" + "、".join(lack)})
    return out


@allow(Role.ADMIN)
def month_view(request):
    period = chosen_period(request.GET.get("period"))
    subs = list(Submission.objects.filter(period=period, current=True).select_related("upload", "submitted_by")
                .order_by("kind", "scope"))
    s = portal_settings()
    drop = services.drop_dir(s, period)
    ours = {x.drop_name for x in subs}
    others = [p.name for p in services.drop_files(drop) if p.name not in ours]
    active = runner.running()
    runs = RunRecord.objects.filter(period=period)[:10]
    latest = services.latest_run(s)
    return render(request, "portal/month.html", {
        "period": period, "periods": period_choices(), "subs": subs, "missing": missing_for(period, subs),
        "others": others, "drop": drop, "active": active, "runs": runs,
        "kind_titles": {k: v["title"] for k, v in services.kinds().items()},
        "pending": [x for x in subs if not x.placed], "busy": None if active else services.lock_holder(s),
        "summary_period": latest[0] if latest else None,
        "has_summary": bool(services.summary_path(s, period))})


@allow(Role.ADMIN)
@require_POST
def run_start(request):
    period = chosen_period(request.POST.get("period"))
    drop = services.drop_dir(portal_settings(), period)
    if not services.drop_files(drop):
        messages.error(request, f"{period} 的数据目录中还没有文件，无法运行。")
        return redirect(f"{reverse('portal:month')}?period={period}")
    try:
        rec = runner.start(request.user, period)
    except runner.Busy as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('portal:month')}?period={period}")
    audit.record(request, "run_start", target=period, detail=f"运行 {rec.key}")
    return redirect("portal:run", key=rec.key)


def _get_run(key: str) -> RunRecord:
    runner.mark_stale()
    rec = RunRecord.objects.filter(key=key).first()
    if rec is None:
        raise Http404()
    return rec


def run_state(rec: RunRecord) -> dict:
    return {"status": rec.status, "stage": rec.stage, "label": rec.label, "done": rec.done, "total": rec.total,
            "item": rec.item, "stages": [x.get("label") for x in rec.stages], "message": rec.message,
            "period": rec.period, "summary": reverse("portal:summary", args=[rec.period]) if rec.status == "completed" else None,
            "issues": (rec.result or {}).get("issues")}


@allow(Role.ADMIN)
def run_view(request, key: str):
    rec = _get_run(key)
    return render(request, "portal/run.html", {"rec": rec, "state": run_state(rec)})


@allow(Role.ADMIN)
def run_status(request, key: str):
    return JsonResponse(run_state(_get_run(key)))


@allow(Role.ADMIN, Role.COUNTY)
def summary_view(request, period: str):
    try:
        period = services.normalise_period(period)
    except services.PeriodError:
        raise Http404() from None
    path = services.summary_path(portal_settings(), period)
    if path is None:
        raise Http404()
    audit.record(request, "download", target=period, detail="summary.html")
    resp = FileResponse(open(path, "rb"), content_type="text/html; charset=utf-8")
    # the summary is a self-contained page of its own (inline styles and SVG): it may use inline
    # styles, and nothing else from anywhere
    resp["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    resp.cardcheck_own_csp = True
    return resp


@allow(Role.ADMIN)
def audit_view(request):
    qs = AuditEvent.objects.all()
    action = request.GET.get("action") or ""
    who = (request.GET.get("who") or "").strip()
    if action:
        qs = qs.filter(action=action)
    if who:
        qs = qs.filter(username=who)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    actions = list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
    return render(request, "portal/audit.html", {"page": page, "action": action, "who": who, "actions": actions,
                                                 "county_roles": COUNTY_ROLES})
