"""提交本月数据: submit a checked upload for a period (the township check, the reason for a
file with errors, versions), and download a kept version."""
from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from portal import audit, services, store
from portal.models import COUNTY_ROLES, Role, Submission, Upload
from portal.views.common import SUBMITTERS, allow, chosen_period, default_period, period_choices


def visible_submissions(request):
    acc = request.account
    qs = Submission.objects.select_related("upload", "submitted_by")
    if acc.role in COUNTY_ROLES:
        return qs
    if acc.role == Role.TOWNSHIP:
        return qs.filter(scope=acc.township)
    return qs.none()


@allow(*SUBMITTERS)
def submit_view(request):
    period = chosen_period(request.GET.get("period") or request.POST.get("period"))
    kinds = services.kinds()
    if request.method == "POST":
        up = Upload.objects.filter(key=request.POST.get("upload") or "", owner=request.user).first()
        if up is None:
            raise Http404()
        try:
            sub = store.submit(request.user, up, period, request.POST.get("reason") or "")
        except store.Refused as exc:
            audit.record(request, "submit_refused", target=up.key, detail=str(exc))
            messages.error(request, str(exc))
            return redirect(f"{request.path}?period={period}&upload={up.key}")
        audit.record(request, "submit", target=sub.key,
                     detail=f"{period} {kinds.get(sub.kind, {}).get('title', sub.kind)} {sub.scope_text} 第{sub.version}版 "
                            f"{up.original_name}" + (f"；理由：{sub.reason}" if sub.reason else ""))
        msg = f"已提交 {period}「{kinds.get(sub.kind, {}).get('title', sub.kind)}」（{sub.scope_text}，第 {sub.version} 版）。"
        if not sub.placed:
            sub.refresh_from_db()
        if not sub.placed:
            msg += "正在运行中，文件将在运行结束后放入本期数据目录。"
        messages.success(request, msg)
        return redirect(f"{request.path}?period={period}")
    mine = (Upload.objects.filter(owner=request.user, usable=True).order_by("-created_at")[:30])
    chosen = request.GET.get("upload") or ""
    subs = visible_submissions(request).filter(period=period).order_by("kind", "scope", "-version")
    return render(request, "portal/submit.html", {
        "period": period, "periods": period_choices(), "uploads": mine, "chosen": chosen, "subs": subs,
        "kind_titles": {k: v["title"] for k, v in kinds.items()}, "default_period": default_period()})


@allow(*SUBMITTERS)
def submission_file(request, key: str):
    sub = visible_submissions(request).filter(key=key).first()
    if sub is None:
        raise Http404()
    path = store.inside(store.store(), sub.kept)
    if not path.is_file():
        raise Http404()
    audit.record(request, "download", target=sub.key, detail=f"提交文件 {sub.period} {sub.kind} {sub.scope_text} 第{sub.version}版")
    ext = path.suffix
    title = services.kinds().get(sub.kind, {}).get("title", sub.kind)
    return FileResponse(open(path, "rb"), as_attachment=True,
                        filename=f"{sub.period}_{services.safe_name(title)}_{services.safe_name(sub.scope_text)}_v{sub.version}{ext}")

