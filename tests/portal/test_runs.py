"""月度运行: the run started from the page goes through pipeline.run (stages recorded, summary
linked), a failed run says why, one run at a time; `cardcheck user add` and `cardcheck serve`."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PERIOD

from portal import runner, services
from portal.conf import portal_settings
from portal.models import AuditEvent, RunRecord, Village

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_drop(tmp_path_factory):
    from demo.generate import generate_demo

    root = tmp_path_factory.mktemp("demo")
    return generate_demo(root, seed=3, n_households=60)[-1]


@pytest.fixture
def inline(monkeypatch):
    monkeypatch.setattr(runner, "start_thread", lambda t, pk: runner.work(pk, close_db=False))


def test_run_from_the_page(world, login, other_data, demo_drop, inline):
    drop = other_data / "raw" / PERIOD
    shutil.copytree(demo_drop, drop, ignore=shutil.ignore_patterns("*.json"))
    c = login(world["admin"])
    page = c.get(f"/runs/?period={PERIOD}").content.decode()
    assert "开始运行 2026-11" in page and "本期尚无文件" in page          # nothing submitted through the portal
    r = c.post("/runs/start/", {"period": PERIOD})
    assert r.status_code == 302
    rec = RunRecord.objects.get()
    assert rec.status == "completed", rec.message
    labels = [s["label"] for s in rec.stages]
    for want in ("读取文件", "规则检查", "部门比对", "写出结果", "村级问题清单", "保存数据库", "完成"):
        assert want in labels
    state = c.get(f"/runs/{rec.key}/status.json").json()
    assert state["status"] == "completed" and state["summary"] == f"/reports/{PERIOD}/summary/"
    assert "运行完成" in c.get(r["Location"]).content.decode()
    summary = c.get(state["summary"])
    assert summary.status_code == 200 and b"<html" in b"".join(summary.streaming_content).lower()
    assert (other_data / "reports" / PERIOD / "run.json").is_file()
    # the areas of the new run are copied for accounts and township checks
    assert Village.objects.exclude(township__in=["文星镇", "鹤龙湖镇"]).exists()
    assert AuditEvent.objects.filter(action="run_start").exists() and AuditEvent.objects.filter(action="run_end").exists()


def test_failed_run_says_why(world, login, other_data, inline):
    drop = other_data / "raw" / PERIOD
    drop.mkdir(parents=True)
    (drop / "户籍.csv").write_text("公民身份号码,户籍状态\n430624198006150131,正常\n", encoding="utf-8")
    c = login(world["admin"])
    c.post("/runs/start/", {"period": PERIOD})
    rec = RunRecord.objects.get()
    assert rec.status == "failed" and "members" in rec.message
    text = c.get(f"/runs/{rec.key}/").content.decode()
    assert "运行失败" in text and "上一次成功运行的结果保留不变" in text


def test_one_run_at_a_time(world, login, other_data):
    drop = other_data / "raw" / PERIOD
    drop.mkdir(parents=True)
    (drop / "a.csv").write_text("x\n", encoding="utf-8")
    c = login(world["admin"])
    with services.run_lock(portal_settings(), "cardcheck run 2026-11"):
        r = c.post("/runs/start/", {"period": PERIOD}, follow=True)
        assert "数据目录正被其他命令使用" in r.content.decode() and "cardcheck run 2026-11" in r.content.decode()
    assert not RunRecord.objects.exists()
    # a run recorded as running with no thread (the portal restarted) is marked failed
    RunRecord.objects.create(period=PERIOD, started_by=world["admin"], status="running")
    assert runner.running() is None
    assert "重新启动" in RunRecord.objects.get().message


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_user_add_prints_a_one_time_password(tmp_path):
    data = tmp_path / "data"
    p = _cli("user", "add", "局长", "--role", "admin", "--data", data)
    assert p.returncode == 0, p.stderr
    assert "one-time password:" in p.stdout
    con = sqlite3.connect(data / "portal" / "portal.sqlite3")
    (hashed, must), = con.execute("SELECT u.password, a.must_change_password FROM auth_user u "
                                  "JOIN portal_account a ON a.user_id = u.id WHERE u.username = '局长'")
    assert hashed.startswith("argon2$") and must == 1
    assert (data / "portal" / "secret_key").stat().st_mode & 0o077 == 0
    p = _cli("user", "add", "局长", "--role", "admin", "--data", data)
    assert p.returncode == 2 and "exists already" in p.stderr and "Traceback" not in p.stderr
    p = _cli("user", "add", "x", "--role", "township", "--data", data)
    assert p.returncode == 2 and "--area" in p.stderr
