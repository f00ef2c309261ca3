"""上传校验: upload one or more files, each checked as `cardcheck validate` checks it; the
findings page (sortable, filterable); downloads of the findings and the annotated workbook."""
from __future__ import annotations

import io
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from portal import annotate, audit, services, store
from portal.checkpool import CheckCrashed, CheckTimeout
from portal.models import COUNTY_ROLES, Role, Upload
from portal.views.common import ALL_ROLES, allow, chosen_period, default_period, mask_for, period_choices

MAX_FILES = 10
PAGE = 500
SORTS = {"row": lambda f: (f.get("sheet") or "", f.get("row") or 0, f.get("rule_id") or ""),
         "severity": lambda f: ({"error": 0, "suspect": 1, "notice": 2}.get(f.get("severity"), 9), f.get("row") or 0),
         "rule": lambda f: (f.get("rule_id") or "", f.get("row") or 0),
         "column": lambda f: (f.get("column") or "", f.get("row") or 0)}


def visible_uploads(request):
    """Uploads the account may see: county roles all; a township its township's; a village its
    village's. Decided from the account only."""
    acc = request.account
    qs = Upload.objects.select_related("owner")
    if acc.role in COUNTY_ROLES:
        return qs
    if acc.role == Role.TOWNSHIP:
        return qs.filter(township=acc.township).exclude(role__in=COUNTY_ROLES)
    return qs.filter(role=Role.VILLAGE, township=acc.township, village=acc.village)


def get_upload(request, key: str) -> Upload:
    up = visible_uploads(request).filter(key=key).first()
    if up is None:
        raise Http404()
    return up


@allow(*ALL_ROLES)
def uploads_view(request):
    acc = request.account
    limit_mb = settings.PORTAL["upload_limit"] // (1024 * 1024)
    if request.method == "POST":
        limit = settings.PORTAL["upload_limit"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit * MAX_FILES + 1024 * 1024:
            messages.error(request, f"上传的文件太大：每个文件不超过 {limit_mb} MB。")
            return redirect("portal:uploads")
        files = request.FILES.getlist("files")
        if not files:
            messages.error(request, "请选择要校验的文件。")
            return redirect("portal:uploads")
        if len(files) > MAX_FILES:
            messages.error(request, f"一次最多上传 {MAX_FILES} 个文件。")
            return redirect("portal:uploads")
        period = chosen_period(request.POST.get("period"))
        kind = request.POST.get("kind") or ""
        if kind and kind not in services.kinds():
            kind = ""
        done = []
        for f in files:
            try:
                up = store.save_upload(request.user, f, period, kind)
            except store.TooLarge:
                messages.error(request, f"{f.name}：文件超过 {limit_mb} MB，未上传。")
                audit.record(request, "upload_refused", target=str(f.name)[:200], detail="文件过大")
                continue
            up = store.check_upload(up)
            audit.record(request, "upload", target=up.key,
                         detail=f"{up.original_name} {up.size} 字节；{up.kind or '未识别'}；错误 {up.n_error}")
            done.append(up)
        if len(done) == 1:
            return redirect("portal:upload", key=done[0].key)
        if done:
            messages.success(request, f"已校验 {len(done)} 个文件。")
        return redirect("portal:uploads")
    uploads = visible_uploads(request)[:50]
    kinds = services.kinds()
    return render(request, "portal/uploads.html", {
        "uploads": uploads, "periods": period_choices(), "period": default_period(), "limit_mb": limit_mb,
        "kinds": sorted(((k, v["title"]) for k, v in kinds.items()), key=lambda x: x[1]),
        "kind_titles": {k: v["title"] for k, v in kinds.items()}, "max_files": MAX_FILES})


def _shown(up: Upload, request) -> tuple[dict, bool]:
    result = store.load_result(up)
    mask = mask_for(request.account, up.owner_id, request.user.pk)
    return result, mask


@allow(*ALL_ROLES)
def upload_view(request, key: str):
    up = get_upload(request, key)
    result, mask = _shown(up, request)
    findings = list(result.get("findings") or [])
    sev = request.GET.get("severity") or ""
    rule = request.GET.get("rule") or ""
    q = (request.GET.get("q") or "").strip()
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "row"
    rules = sorted({(f.get("rule_id"), f.get("rule_name")) for f in findings if f.get("rule_id")})
    if sev:
        findings = [f for f in findings if f.get("severity") == sev]
    if rule:
        findings = [f for f in findings if f.get("rule_id") == rule]
    if q:
        findings = [f for f in findings if q in " ".join(str(f.get(k) or "") for k in
                                                         ("column", "value", "message", "rule_name", "sheet"))]
    findings.sort(key=SORTS[sort])
    if mask:
        findings = [{**f, "value": services.mask_text(str(f["value"])) if f.get("value") else f.get("value"),
                     "message": services.mask_text(str(f.get("message") or ""))} for f in findings]
    for f in findings:
        f["severity_cn"] = services.SEVERITY_CN.get(f.get("severity"), f.get("severity"))
    page = Paginator(findings, PAGE).get_page(request.GET.get("page"))
    params = {k: v for k, v in (("severity", sev), ("rule", rule), ("q", q)) if v}
    acc = request.account
    can_submit = (up.owner_id == request.user.pk and up.usable and acc.role != Role.VILLAGE)
    return render(request, "portal/upload.html", {
        "up": up, "result": result, "page": page, "sev": sev, "rule": rule, "q": q, "sort": sort,
        "rules": rules, "filter_qs": urlencode(params), "sort_qs": urlencode({**params, "sort": sort}),
        "masked": mask, "can_submit": can_submit,
        "can_annotate": up.usable and (up.owner_id == request.user.pk or acc.role in COUNTY_ROLES),
        "kind_title": result.get("kind_title") or up.kind})


@allow(*ALL_ROLES)
def findings_download(request, key: str):
    up = get_upload(request, key)
    result, mask = _shown(up, request)
    buf = io.BytesIO()
    annotate.findings_xlsx(result, buf, mask=mask, name=up.original_name)
    buf.seek(0)
    audit.record(request, "download", target=up.key, detail=f"校验结果 {up.original_name}")
    return FileResponse(buf, as_attachment=True, filename=f"校验结果_{services.safe_name(up.original_name)}.xlsx")


@allow(*ALL_ROLES)
def annotated_download(request, key: str):
    """The uploaded workbook annotated: for its uploader and county roles (it is the whole file)."""
    up = get_upload(request, key)
    acc = request.account
    if not up.usable or not (up.owner_id == request.user.pk or acc.role in COUNTY_ROLES):
        raise Http404()
    result = store.load_result(up)
    target = store.inside(store.store(), up.stored + ".annotated.xlsx")
    if not target.is_file():
        part = target.with_name(target.name + ".part")
        try:
            store.pool().annotate(store.upload_path(up), result, part, up.original_name)
        except (CheckTimeout, CheckCrashed) as exc:
            part.unlink(missing_ok=True)
            messages.error(request, f"无法生成批注文件：{exc}")
            return redirect("portal:upload", key=up.key)
        part.replace(target)
    audit.record(request, "download", target=up.key, detail=f"批注文件 {up.original_name}")
    stem = services.safe_name(up.original_name.rsplit(".", 1)[0])
    return FileResponse(open(target, "rb"), as_attachment=True, filename=f"{stem}_批注.xlsx")
