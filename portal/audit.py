"""The audit log: who, when, from which address, what. Append-only from the portal.

The client address is REMOTE_ADDR. Behind a reverse proxy, waitress (`trusted_proxy`) replaces
it with the address from X-Forwarded-For only when the request comes from that proxy, and drops
those headers from anyone else — so nothing here reads X-Forwarded-For itself.
"""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.models import AuditEvent


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "")[:64] if request is not None else ""


def record(request, action: str, target: str = "", detail: str = "", user=None) -> AuditEvent:
    user = user if user is not None else getattr(request, "user", None)
    username, role = "", ""
    if user is not None and getattr(user, "is_authenticated", False):
        username = user.get_username()
        acc = getattr(user, "account", None)
        role = acc.role if acc is not None else ""
    return AuditEvent.objects.create(username=username, role=role, address=client_ip(request),
                                     action=action, target=str(target)[:255], detail=str(detail)[:4000])


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(request, "login", user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials=None, request=None, **kwargs):
    name = str((credentials or {}).get("username") or "")[:150]
    AuditEvent.objects.create(username=name, address=client_ip(request), action="login_failed",
                              target=name, detail="用户名或密码错误")


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(request, "logout", user=user)


try:
    from axes.signals import user_locked_out
except ImportError:     # pragma: no cover
    user_locked_out = None

if user_locked_out is not None:
    @receiver(user_locked_out)
    def _locked(sender, request, username=None, ip_address=None, **kwargs):
        AuditEvent.objects.create(username=(username or "")[:150], address=client_ip(request),
                                  action="locked_out", target=(username or "")[:255],
                                  detail="连续登录失败，账号已锁定")
