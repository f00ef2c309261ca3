"""登录, change of password, and the admin's accounts (one by one or in bulk from the latest
run's townships and villages, one-time passwords in a downloadable sheet; reset; disable)."""
from __future__ import annotations

import re
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal import areas, audit
from portal.models import Account, Role, new_key
from portal.views.common import ALL_ROLES, allow

_NAME_BAD = re.compile(r"[^\w.@+-]")
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


def make_account(name: str, role: str, township: str = "", village: str = "", created_by: str = ""):
    """Create an account with a one-time password; returns (user, password)."""
    return make_accounts([(name, role, township, village)], created_by)[0]


def make_accounts(specs: list[tuple[str, str, str, str]], created_by: str = "") -> list[tuple]:
    """Accounts (name, role, township, village) with one-time passwords; [(user, password)].
    The argon2 hashes (slow on purpose) are made on every core at once."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    passwords = [one_time_password() for _ in specs]
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as ex:
        hashes = list(ex.map(make_password, passwords))
    out = []
    with transaction.atomic():
        for (name, role, township, village), pw, hashed in zip(specs, passwords, hashes):
            user = User(username=name, password=hashed)
            user.save()
            Account.objects.create(user=user, role=role, township=township, village=village,
                                   must_change_password=True, created_by=created_by)
            out.append((user, pw))
    return out


def username_for(*parts: str) -> str:
    """An account name from area names (letters of any script, digits, . @ + - _)."""
    base = "_".join(_NAME_BAD.sub("_", p.strip()) for p in parts if p is not None)[:140] or "user"
    User = get_user_model()
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}_{n}"
    return name


# ---------------------------------------------------------------------------- login

class LoginForm(AuthenticationForm):
    error_messages = {"invalid_login": "用户名或密码错误。连续 %(limit)s 次错误后账号将被锁定 %(minutes)s 分钟。",
                      "inactive": "该账号已停用，请联系县级管理员。"}

    def get_invalid_login_error(self):
        return forms.ValidationError(self.error_messages["invalid_login"] % {
            "limit": settings.AXES_FAILURE_LIMIT, "minutes": settings.PORTAL["lockout_minutes"]},
            code="invalid_login")


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes: the account is locked (by account, not by address)."""
    return render(request, "portal/login.html", {
        "form": LoginForm(request), "locked": True,
        "minutes": settings.PORTAL["lockout_minutes"], "limit": settings.AXES_FAILURE_LIMIT}, status=429)


@require_POST
def logout_view(request):
    from django.contrib.auth import logout

    logout(request)
    return redirect("portal:login")


def password_view(request):
    if not request.user.is_authenticated:
        return redirect("portal:login")
    acc = getattr(request.user, "account", None)
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        if acc is not None:
            Account.objects.filter(pk=acc.pk).update(must_change_password=False)
        audit.record(request, "password_change", target=request.user.get_username())
        messages.success(request, "密码已修改。")
        return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form, "first": acc is not None and acc.must_change_password})


@allow(*ALL_ROLES)
def home(request):
    acc = getattr(request.user, "account", None) if request.user.is_authenticated else None
    if acc is not None and acc.role == Role.VILLAGE:
        return redirect("portal:verify")
    return redirect("portal:uploads")


# ---------------------------------------------------------------------------- accounts (admin)

class AccountForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    area = forms.ChoiceField(label="区域", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "全县（县级角色）")]
        for t in areas.townships():
            choices.append((f"t|{t}", f"乡镇：{t}"))
            for v in areas.villages_of(t):
                choices.append((f"v|{t}|{v}", f"村：{t} {v}"))
        self.fields["area"].choices = choices

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        if _NAME_BAD.search(name):
            raise forms.ValidationError("用户名只能包含文字、数字和 . @ + - _")
        if get_user_model().objects.filter(username__iexact=name).exists():
            raise forms.ValidationError("该用户名已存在。")
        return name

    def clean(self):
        data = super().clean()
        role, area = data.get("role"), data.get("area") or ""
        if role in (Role.ADMIN, Role.COUNTY):
            data["township"], data["village"] = "", ""
        elif role == Role.TOWNSHIP:
            if not area.startswith("t|"):
                raise forms.ValidationError("乡镇账号请选择一个乡镇。")
            data["township"], data["village"] = area[2:], ""
        elif role == Role.VILLAGE:
            if not area.startswith("v|"):
                raise forms.ValidationError("村账号请选择一个村。")
            _, t, v = area.split("|", 2)
            data["township"], data["village"] = t, v
        return data


@allow(Role.ADMIN)
def accounts_view(request):
    from portal.store import remove_old_exports

    remove_old_exports()
    form = AccountForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user, password = make_account(d["username"], d["role"], d["township"], d["village"],
                                      request.user.get_username())
        audit.record(request, "account_create", target=user.get_username(),
                     detail=f"{Role(d['role']).label} {d['township']} {d['village']}".strip())
        created = {"username": user.get_username(), "password": password}
        form = AccountForm()
    accounts = Account.objects.select_related("user").order_by("role", "township", "village", "user__username")
    towns = areas.townships()
    have = set(Account.objects.filter(role=Role.TOWNSHIP).values_list("township", flat=True))
    have_v = set(Account.objects.filter(role=Role.VILLAGE).values_list("township", "village"))
    from portal.models import Village

    missing_t = [t for t in towns if t not in have]
    missing_v = [(v.township, v.village) for v in Village.objects.all() if (v.township, v.village) not in have_v]
    return render(request, "portal/accounts.html", {
        "form": form, "accounts": accounts, "created": created, "missing_townships": missing_t,
        "missing_villages": missing_v, "latest_period": areas.latest_period()})


def _sheet(rows: list[tuple], dest) -> None:
    from openpyxl import Workbook

    from portal.annotate import _text

    wb = Workbook()
    ws = wb.active
    ws.title = "一次性密码"
    for j, h in enumerate(["用户名", "角色", "乡镇", "村", "一次性密码"], 1):
        ws.cell(row=1, column=j, value=h)
    for i, r in enumerate(rows, 2):
        for j, v in enumerate(r, 1):
            _text(ws, i, j, v)
    for col, w in zip("ABCDE", (28, 10, 16, 16, 18)):
        ws.column_dimensions[col].width = w
    wb.save(dest)


@allow(Role.ADMIN)
@require_POST
def bulk_create(request):
    """Township and village accounts for every area of the latest run that has none."""
    from portal.models import Village

    have = set(Account.objects.filter(role=Role.TOWNSHIP).values_list("township", flat=True))
    have_v = set(Account.objects.filter(role=Role.VILLAGE).values_list("township", "village"))
    specs: list[tuple[str, str, str, str]] = []
    taken: set[str] = set()

    def name_for(*parts):
        n = username_for(*parts)
        base, i = n, 1
        while n.lower() in taken:
            i += 1
            n = f"{base}_{i}"
        taken.add(n.lower())
        return n

    if request.POST.get("townships") == "1":
        specs += [(name_for(t), Role.TOWNSHIP, t, "") for t in areas.townships() if t not in have]
    if request.POST.get("villages") == "1":
        specs += [(name_for(v.township, v.village), Role.VILLAGE, v.township, v.village)
                  for v in Village.objects.all() if (v.township, v.village) not in have_v]
    made = make_accounts(specs, request.user.get_username())
    rows = [(user.get_username(), Role(role).label, t, v, pw) for (user, pw), (_, role, t, v) in zip(made, specs)]
    if not rows:
        messages.info(request, "没有需要新建的账号。")
        return redirect("portal:accounts")
    key = new_key()
    from portal.store import inside, store

    dest = inside(store(), f"exports/{key}.xlsx")
    _sheet(rows, dest)
    request.session["export_key"] = key
    audit.record(request, "account_bulk_create", detail=f"新建 {len(rows)} 个账号（乡镇 {sum(r[1] == '乡镇' for r in rows)}，"
                                                         f"村 {sum(r[1] == '村' for r in rows)}）")
    messages.success(request, f"已新建 {len(rows)} 个账号。请立即下载一次性密码表（只能下载一次）。")
    return redirect("portal:accounts")


@allow(Role.ADMIN)
def export_download(request, key: str):
    """The one-time password sheet: once, by the admin whose session made it."""
    if request.session.get("export_key") != key:
        raise Http404()
    from portal.store import inside, store

    path = inside(store(), f"exports/{key}.xlsx")
    if not path.is_file():
        raise Http404()
    data = path.read_bytes()
    path.unlink(missing_ok=True)
    request.session.pop("export_key", None)
    audit.record(request, "download", target="一次性密码表", detail="账号一次性密码")
    import io

    return FileResponse(io.BytesIO(data), as_attachment=True, filename="一次性密码.xlsx")


@allow(Role.ADMIN)
@require_POST
def account_action(request, key: str, action: str):
    acc = get_object_or_404(Account.objects.select_related("user"), key=key)
    user = acc.user
    if action == "reset":
        pw = one_time_password()
        user.set_password(pw)
        user.is_active = True
        user.save()
        Account.objects.filter(pk=acc.pk).update(must_change_password=True)
        from axes.utils import reset as axes_reset

        axes_reset(username=user.get_username())
        audit.record(request, "account_reset", target=user.get_username())
        messages.success(request, f"账号 {user.get_username()} 的一次性密码：{pw}（请转告本人，首次登录须修改）")
    elif action in ("disable", "enable"):
        if user.pk == request.user.pk:
            messages.error(request, "不能停用自己的账号。")
            return redirect("portal:accounts")
        user.is_active = action == "enable"
        user.save(update_fields=["is_active"])
        audit.record(request, f"account_{action}", target=user.get_username())
        messages.success(request, f"账号 {user.get_username()} 已{'启用' if user.is_active else '停用'}。")
    else:
        raise Http404()
    return redirect("portal:accounts")
