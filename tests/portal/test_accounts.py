"""The admin's accounts: bulk creation from the latest run's areas (one-time passwords in a sheet
that downloads once), single accounts, disable."""
from __future__ import annotations

import io

from conftest import V_A
from django.test import Client
from openpyxl import load_workbook

from portal.models import Account, AuditEvent, Role


def test_bulk_accounts_from_the_latest_run(world, login):
    c = login(world["admin"])
    r = c.post("/accounts/bulk/", {"townships": "1", "villages": "1"}, follow=True)
    assert "已新建" in r.content.decode()
    key = c.session["export_key"]
    sheet = c.get(f"/accounts/export/{key}.xlsx")
    assert sheet.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(sheet.streaming_content))).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # world has accounts for 文星镇/<script>…, 鹤龙湖镇 and both townships already: only 东风村 is new
    assert [(r[1], r[2], r[3]) for r in rows] == [("村", "文星镇", "东风村")]
    name, pw = rows[0][0], rows[0][4]
    assert c.get(f"/accounts/export/{key}.xlsx").status_code == 404          # once only
    acc = Account.objects.get(user__username=name)
    assert acc.role == Role.VILLAGE and acc.must_change_password
    new = Client()
    assert new.post("/login/", {"username": name, "password": pw}).status_code == 302
    assert new.get("/uploads/")["Location"] == "/password/"
    assert AuditEvent.objects.filter(action="account_bulk_create").exists()


def test_single_account_and_disable(world, login):
    c = login(world["admin"])
    r = c.post("/accounts/", {"username": "新泉_文书", "role": "village", "area": f"v|文星镇|{V_A}"})
    text = r.content.decode()
    assert "一次性密码" in text and "&lt;script&gt;" in text
    acc = Account.objects.get(user__username="新泉_文书")
    assert (acc.township, acc.village) == ("文星镇", V_A)
    r = c.post("/accounts/", {"username": "坏名字<b>", "role": "county", "area": ""})
    assert "用户名只能包含" in r.content.decode()
    c.post(f"/accounts/{acc.key}/disable/")
    acc.user.refresh_from_db()
    assert not acc.user.is_active
    # a disabled account's session is of no use
    assert login(acc.user).get("/uploads/").status_code in (302, 404)
