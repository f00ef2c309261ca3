"""What every page shares: who may see it (decided from the account, never from the request),
the navigation, periods, and the pages for errors."""
from __future__ import annotations

import functools

from django.http import Http404
from django.shortcuts import render

from portal import areas, services
from portal.models import COUNTY_ROLES, Role

ALL_ROLES = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE)
SUBMITTERS = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP)

NAV = [  # (url name, label, roles)
    ("portal:issues", "问题清单", ALL_ROLES),
    ("portal:verify", "村级核实", ALL_ROLES),
    ("portal:progress", "回收进度", SUBMITTERS),
    ("portal:rules", "规则可信度", SUBMITTERS),
    ("portal:audit_sample", "抽查复核", (Role.ADMIN, Role.COUNTY)),
    ("portal:uploads", "上传校验", ALL_ROLES),
    ("portal:submit", "提交本月数据", SUBMITTERS),
    ("portal:month", "月度运行", (Role.ADMIN,)),
    ("portal:accounts", "账号管理", (Role.ADMIN,)),
    ("portal:audit", "审计日志", (Role.ADMIN,)),
]


def account_of(request):
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    return getattr(user, "account", None)


def allow(*roles):
    """The view is for these roles; anyone else gets 404 (areas and pages cannot be probed)."""
    def deco(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            acc = account_of(request)
            if acc is None:
                from django.contrib.auth.views import redirect_to_login

                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                raise Http404()
            if acc.role not in roles:
                raise Http404()
            request.account = acc
            areas.refresh()
            return view(request, *args, **kwargs)
        return wrapper
    return deco


def nav(request):
    acc = account_of(request) if hasattr(request, "user") else None
    if acc is None:
        return {"nav": [], "account": None}
    return {"nav": [(name, label) for name, label, roles in NAV if acc.role in roles], "account": acc,
            "role_label": Role(acc.role).label}


def period_choices() -> list[str]:
    """The periods one may upload or submit for: the month after the latest run, this month and
    the two before it."""
    now = services.this_period()
    out = {now, services.shift_period(now, -1), services.shift_period(now, -2)}
    latest = areas.latest_period()
    if latest:
        out.add(services.shift_period(latest, 1))
        out.add(latest)
    return sorted(out, reverse=True)


def default_period() -> str:
    latest = areas.latest_period()
    if latest:
        return services.shift_period(latest, 1)
    return services.shift_period(services.this_period(), -1)


def chosen_period(value, fallback: str | None = None) -> str:
    choices = period_choices()
    try:
        p = services.normalise_period(value) if value else None
    except services.PeriodError:
        p = None
    if p in choices:
        return p
    return fallback or default_period()


def csrf_failure(request, reason=""):
    return render(request, "portal/error.html", {"title": "请求已过期",
                                                 "text": "页面已过期或来源不明（跨站请求保护）。请返回上一页，刷新后再试。"},
                  status=403)


def not_found(request, exception=None):
    return render(request, "portal/error.html", {"title": "未找到", "text": "没有这个页面，或者您无权查看。"},
                  status=404)


def server_error(request):
    return render(request, "portal/error.html", {"title": "出错了", "text": "服务器处理请求时出错，请稍后再试。"},
                  status=500)


def mask_for(acc, owner_id=None, user_id=None) -> bool:
    """Township and village accounts see IDs masked, except in their own upload."""
    if acc.role in COUNTY_ROLES:
        return False
    return not (owner_id is not None and owner_id == user_id)
