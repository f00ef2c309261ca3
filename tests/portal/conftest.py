"""The portal under the Django test client: a data folder of its own, accounts of every role in
two townships, files made on the spot. Django is configured when this conftest is imported
(pytest-django then provides the test database)."""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest

from portal import conf, services

ROOT = Path(tempfile.mkdtemp(prefix="cardcheck-portal-tests-"))
DATA = ROOT / "data"
SETTINGS = services.resolve_settings(data=DATA)
conf.setup(SETTINGS, {**conf.DEFAULTS, "upload_limit_mb": 5, "check_timeout_seconds": 120}, migrate=False)

from portal import outbox  # noqa: E402

outbox.INLINE = True        # answers are written in the request (no background thread in tests)

T_A, T_B = "文星镇", "鹤龙湖镇"
V_A, V_B = "<script>alert(1)</script>", "湖滨村"
PERIOD = "2026-11"


def pytest_sessionfinish(session, exitstatus):
    from portal import store

    store.close_pool()
    shutil.rmtree(ROOT, ignore_errors=True)


def pid(seq: int, year: int = 1980) -> str:
    from schemas.ids import make_id

    return make_id("430624", dt.date(year, 6, 15), seq, True)


def wrong(valid: str) -> str:
    last = valid[-1]
    return valid[:-1] + ("0" if last != "0" else "1")


NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴霞", "徐强", "孙丽"]
MEMBER_HEADER = ["乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "性别"]


def members_xlsx(path: Path, rows: list[list], title: bool = True) -> Path:
    """A members workbook with a title row (so Excel row = index + 3)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    if title:
        ws.append(["XX县2026年11月家庭成员明细表"])
    ws.append(MEMBER_HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def member_rows(township: str, n: int, start: int = 1, bad: int = 0, village: str = V_B) -> list[list]:
    rows = []
    for i in range(start, start + n):
        idn = pid(i)
        if bad and i - start < bad:
            idn = wrong(idn)
        rows.append([township, village, f"4306241010{i:06d}", NAMES[i % len(NAMES)], idn, "户主", "男"])
    return rows


_HASH: list[str] = []


@pytest.fixture
def world(db):
    """Areas of the latest run and one account per role (two townships, two villages)."""
    from django.contrib.auth import get_user_model

    from portal.models import Account, AreaSnapshot, Household, Role, Village

    AreaSnapshot.objects.create(run_id="test-run", period="2026-10", complete=True)
    for t, v in ((T_A, V_A), (T_A, "东风村"), (T_B, V_B)):
        Village.objects.create(township=t, village=v, households=3)
    for i in range(1, 6):
        Household.objects.create(key=f"k{i}", household_id=f"4306241010{i:06d}", township=T_A, village=V_A)
    for i in range(100, 106):
        Household.objects.create(key=f"k{i}", household_id=f"4306241010{i:06d}", township=T_B, village=V_B)
    User = get_user_model()
    users = {}
    if not _HASH:            # argon2 is slow on purpose: hash the shared test password once
        from django.contrib.auth.hashers import make_password

        _HASH.append(make_password("Portal-test-1"))
    for name, role, t, v in (("admin", Role.ADMIN, "", ""), ("county", Role.COUNTY, "", ""),
                             ("town_a", Role.TOWNSHIP, T_A, ""), ("town_b", Role.TOWNSHIP, T_B, ""),
                             ("vil_a", Role.VILLAGE, T_A, V_A), ("vil_b", Role.VILLAGE, T_B, V_B)):
        u = User.objects.create_user(username=name)
        u.password = _HASH[0]
        u.save(update_fields=["password"])
        Account.objects.create(user=u, role=role, township=t, village=v, must_change_password=False)
        users[name] = u
    return users


@pytest.fixture
def login(client):
    def as_(user):
        client.logout()
        client.force_login(user)
        return client
    return as_


def upload(client, path: Path, period: str = PERIOD, name: str | None = None):
    """POST one file to 上传校验; returns the Upload made."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.models import Upload

    before = set(Upload.objects.values_list("pk", flat=True))
    f = SimpleUploadedFile(name or path.name, path.read_bytes())
    r = client.post("/uploads/", {"files": f, "period": period})
    assert r.status_code == 302, r.content.decode()[:500]
    new = Upload.objects.exclude(pk__in=before).get()
    return new


def submit(client, up, period: str = PERIOD, reason: str = ""):
    return client.post(f"/submit/?period={period}", {"upload": up.key, "period": period, "reason": reason},
                       follow=True)


@pytest.fixture
def other_data(settings, tmp_path):
    """Point the portal at a data folder of the test's own (runs, summaries)."""
    data = tmp_path / "data"
    settings.PORTAL = {**settings.PORTAL, "data": data, "raw": data / "raw", "reports": data / "reports",
                       "database": data / "clean" / "cardcheck.duckdb"}
    return data

