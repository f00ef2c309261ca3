"""`cardcheck serve` and `cardcheck user add`, called from cli.py (Django is imported only here).

The server is waitress (pure Python, runs on Windows as on Linux; threads, no fork). Behind a
reverse proxy, waitress trusts X-Forwarded-For / X-Forwarded-Proto only from `trusted_proxy`
(portal.toml) and removes those headers from anyone else.
"""
from __future__ import annotations

from portal.services import Settings


class UserError(ValueError):
    """The account cannot be made; str(exc) is the one-line reason."""


def wsgi_application(s: Settings):
    from portal import conf

    conf.setup(s)
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def waitress_options(opts: dict, host: str, port: int, upload_limit: int) -> dict:
    kw = {"host": host, "port": port, "threads": int(opts.get("threads", 8)), "ident": "cardcheck",
          "max_request_body_size": upload_limit * 10 + 2 * 1024 * 1024, "channel_timeout": 300,
          "connection_limit": 200, "clear_untrusted_proxy_headers": True}
    if opts.get("trusted_proxy"):
        kw.update(trusted_proxy=opts["trusted_proxy"], trusted_proxy_count=1,
                  trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"})
    return kw


def serve(s: Settings, host: str = "127.0.0.1", port: int = 8000, echo=print) -> None:
    from waitress import serve as waitress_serve

    app = wsgi_application(s)
    from django.conf import settings

    from portal import areas, runner, store

    from django.core.management import call_command

    call_command("clearsessions")            # sessions that have expired
    store.remove_old_exports()
    runner.mark_stale()
    store.place_pending()
    areas.refresh(force=True)
    store.pool().warm()
    p = settings.PORTAL
    kw = waitress_options({"threads": p["threads"], "trusted_proxy": p["trusted_proxy"]}, host, port,
                          p["upload_limit"])
    where = "localhost only" if host in ("127.0.0.1", "localhost", "::1") else "ALL listed addresses"
    echo(f"cardcheck portal: http://{host if ':' not in host else f'[{host}]'}:{port}/  ({where}; "
         f"store {p['store']}; settings {p['store'] / 'portal.toml'})")
    if p["trusted_proxy"]:
        echo(f"trusting X-Forwarded-For from {p['trusted_proxy']} only")
    try:
        waitress_serve(app, **kw)
    finally:
        store.close_pool()


def add_user(s: Settings, name: str, role: str, area: str | None = None) -> str:
    """Make an account (for the first admin: on the command line); returns its one-time password."""
    from portal import conf

    conf.setup(s)
    from django.contrib.auth import get_user_model

    from portal import areas
    from portal.models import Role
    from portal.views.accounts import _NAME_BAD, make_account

    if role not in Role.values:
        raise UserError(f"--role must be one of {', '.join(Role.values)}, not {role!r}")
    name = name.strip()
    if not name or _NAME_BAD.search(name):
        raise UserError("NAME may hold letters (any script), digits and . @ + - _ only")
    if get_user_model().objects.filter(username__iexact=name).exists():
        raise UserError(f"an account named {name!r} exists already")
    township = village = ""
    if role in (Role.TOWNSHIP, Role.VILLAGE):
        if not area:
            raise UserError("--area is needed: a township (乡镇) or, for a village, 乡镇/村")
        parts = [x.strip() for x in area.replace("／", "/").split("/")]
        if role == Role.TOWNSHIP and len(parts) != 1 or role == Role.VILLAGE and len(parts) != 2:
            raise UserError("--area: a township is given as 乡镇, a village as 乡镇/村")
        township = parts[0]
        village = parts[1] if role == Role.VILLAGE else ""
        areas.refresh(force=True)
        known = areas.townships()
        if known and township not in known:
            raise UserError(f"no township {township!r} in the latest run (known: {'、'.join(known[:20])})")
        if known and role == Role.VILLAGE and village not in areas.villages_of(township):
            raise UserError(f"no village {village!r} in {township} in the latest run")
    elif area:
        raise UserError("--area is for township and village accounts only (county roles cover the county)")
    _, password = make_account(name, role, township, village, "cardcheck user add")
    from portal.models import AuditEvent

    AuditEvent.objects.create(username="(command line)", action="account_create", target=name,
                              detail=f"{Role(role).label} {township} {village}".strip())
    return password
