"""CSRF, lockout by account, session cookie flags, upload names and sizes, the append-only audit
log, one-time passwords, formulas."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import DATA, SETTINGS, T_B, member_rows, members_xlsx, upload
from django.test import Client

from portal import conf
from portal.models import Account, AuditEvent, Upload


def test_csrf_refused_without_token(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world["town_b"])
    f = io.BytesIO(b"x")
    f.name = "a.csv"
    r = c.post("/uploads/", {"files": f})
    assert r.status_code == 403 and "跨站请求" in r.content.decode()
    assert not Upload.objects.exists()
    # with the token of the page, the same form goes through
    page = c.get("/uploads/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    r = c.post("/uploads/", {"files": io.BytesIO(b""), "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    # login and logout are forms too
    c2 = Client(enforce_csrf_checks=True)
    assert c2.post("/login/", {"username": "admin", "password": "Portal-test-1"}).status_code == 403


def test_lockout_after_5_failures_by_account(world):
    bad = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(4):
        r = bad.post("/login/", {"username": "town_a", "password": "wrong"})
        assert r.status_code == 200 and "用户名或密码错误" in r.content.decode()
    r = bad.post("/login/", {"username": "town_a", "password": "wrong"})       # the 5th failure locks
    assert r.status_code == 429 and "已被锁定" in r.content.decode()
    r = bad.post("/login/", {"username": "town_a", "password": "Portal-test-1"})
    assert r.status_code == 429 and "已被锁定" in r.content.decode()
    # locked by account, whatever the address
    other_pc = Client(REMOTE_ADDR="10.0.0.2")
    r = other_pc.post("/login/", {"username": "town_a", "password": "Portal-test-1"})
    assert r.status_code == 429 and "已被锁定" in r.content.decode()
    # another account from the first address is not locked
    r = bad.post("/login/", {"username": "town_b", "password": "Portal-test-1"})
    assert r.status_code == 302
    actions = list(AuditEvent.objects.filter(target="town_a").values_list("action", flat=True))
    assert actions.count("login_failed") >= 5 and "locked_out" in actions
    assert AuditEvent.objects.filter(action="login", username="town_b", address="10.0.0.1").exists()


def test_admin_reset_unlocks(world, login):
    c = Client()
    for _ in range(5):
        c.post("/login/", {"username": "vil_b", "password": "wrong"})
    assert c.post("/login/", {"username": "vil_b", "password": "Portal-test-1"}).status_code == 429
    acc = Account.objects.get(user=world["vil_b"])
    r = login(world["admin"]).post(f"/accounts/{acc.key}/reset/", follow=True)
    pw = re.search(r"一次性密码：(\w+)", r.content.decode()).group(1)
    c = Client()
    r = c.post("/login/", {"username": "vil_b", "password": pw})
    assert r.status_code == 302
    # a one-time password leads to the change of password before anything else
    assert c.get("/uploads/")["Location"] == "/password/"
    r = c.post("/password/", {"old_password": pw, "new_password1": "Qingshui-2026!", "new_password2": "Qingshui-2026!"})
    assert r.status_code == 302
    assert c.get("/uploads/").status_code == 200


def test_session_cookie_flags(world):
    c = Client()
    r = c.post("/login/", {"username": "county", "password": "Portal-test-1"})
    assert r.status_code == 302
    cookie = r.cookies["cardcheck_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert r.cookies["csrftoken"]["samesite"] == "Lax"
    # behind a TLS proxy the cookies are Secure; CSRF trusted origins come from portal.toml
    d = conf.django_settings(SETTINGS, {"behind_tls": True, "csrf_trusted_origins": ["https://portal.county.example"]})
    assert d["SESSION_COOKIE_SECURE"] and d["CSRF_COOKIE_SECURE"] and d["SESSION_COOKIE_HTTPONLY"]
    assert d["CSRF_TRUSTED_ORIGINS"] == ["https://portal.county.example"]
    assert d["PASSWORD_HASHERS"][0].endswith("Argon2PasswordHasher")
    assert d["AXES_LOCKOUT_PARAMETERS"] == ["username"] and d["AXES_FAILURE_LIMIT"] == 5


def test_passwords_are_argon2(world):
    assert world["admin"].password.startswith("argon2$")


@pytest.mark.parametrize("name", ["../../x.xlsx", "CON.xlsx", "..\\..\\evil.csv", "名单.xlsx"])
def test_upload_names_never_leave_the_data_folder(world, login, tmp_path, name):
    f = members_xlsx(tmp_path / "m.xlsx", member_rows(T_B, 2, start=100))
    up = upload(login(world["town_b"]), f, name=name)
    stored = (DATA / "portal" / up.stored).resolve()
    assert stored.is_file() and stored.is_relative_to((DATA / "portal" / "uploads").resolve())
    assert re.fullmatch(r"uploads/\d{4}-\d{2}/[A-Za-z0-9_-]{20,}\.(xlsx|csv)", up.stored)
    assert not (DATA.parent / "x.xlsx").exists() and not (DATA / "x.xlsx").exists()
    assert not list(Path(DATA.parent.parent).glob("evil.csv"))
    assert up.usable or name.endswith(".csv")


def test_upload_size_limit(world, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login(world["town_b"])
    big = SimpleUploadedFile("big.csv", b"a,b\n" * (6 * 1024 * 1024 // 4 + 10))   # over the 5 MB of the tests
    r = c.post("/uploads/", {"files": big}, follow=True)
    assert "超过 5 MB" in r.content.decode()
    assert not Upload.objects.exists()
    assert AuditEvent.objects.filter(action="upload_refused").exists()


def test_unusable_file_says_why_in_one_sentence(world, login, tmp_path):
    p = tmp_path / "not.xlsx"
    p.write_bytes(b"this is not a workbook")
    c = login(world["vil_a"])
    up = upload(c, p)
    assert not up.usable and up.problem
    text = c.get(f"/uploads/{up.key}/").content.decode()
    assert "文件无法使用" in text and "\n" not in up.problem


def test_audit_log_is_append_only(world):
    e = AuditEvent.objects.create(action="test")
    with pytest.raises(ValueError):
        e.save()
    with pytest.raises(ValueError):
        e.delete()
    from django.db import IntegrityError, connection, transaction

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE portal_auditevent SET action = 'x'")


def test_pages_load_nothing_from_elsewhere(world, login):
    r = login(world["admin"]).get("/uploads/")
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY" and r["Cache-Control"] == "no-store"
    static = Path(conf.__file__).parent / "static"
    for f in static.rglob("*"):
        if f.is_file():
            assert "http" not in f.read_text(encoding="utf-8"), f


def test_waitress_trusts_forwarded_for_only_from_the_proxy():
    from portal.serve import waitress_options

    kw = waitress_options({"trusted_proxy": "127.0.0.1"}, "127.0.0.1", 8000, 50 * 2**20)
    assert kw["trusted_proxy"] == "127.0.0.1" and kw["clear_untrusted_proxy_headers"]
    assert kw["trusted_proxy_headers"] == {"x-forwarded-for", "x-forwarded-proto"}
    kw = waitress_options({"trusted_proxy": ""}, "127.0.0.1", 8000, 50 * 2**20)
    assert "trusted_proxy" not in kw and kw["clear_untrusted_proxy_headers"]


def test_waitress_believes_x_forwarded_for_only_from_the_trusted_proxy():
    """waitress with the portal's options: the client address comes from X-Forwarded-For only
    when the request comes from the configured proxy; anyone else's header is dropped."""
    import http.client
    import threading

    from waitress.server import create_server

    from portal.serve import waitress_options

    def app(environ, start_response):
        body = f"{environ.get('REMOTE_ADDR')}|{environ.get('HTTP_X_FORWARDED_FOR', '')}|" \
               f"{environ['wsgi.url_scheme']}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def seen(proxy: str) -> str:
        kw = waitress_options({"trusted_proxy": proxy, "threads": 2}, "127.0.0.1", 0, 2**20)
        server = create_server(app, **kw)
        t = threading.Thread(target=server.run, daemon=True)
        t.start()
        con = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=10)
        try:
            con.request("GET", "/", headers={"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https"})
            return con.getresponse().read().decode()
        finally:
            con.close()
            server.task_dispatcher.shutdown()
            for channel in list(server._map.values()):       # the loop ends when its map is empty
                channel.close()
            t.join(10)

    assert seen("127.0.0.1") == "10.1.2.3|10.1.2.3|https"   # from the proxy: believed
    assert seen("10.9.9.9") == "127.0.0.1||http"            # from anyone else: ignored and removed
    assert seen("") == "127.0.0.1||http"
