"""提交本月数据: the township check (per row by 乡镇, or through household_id), the reason for a
file with errors, versions kept outside the drop, county-wide or per township never both, and
files submitted while a run holds the data folder."""
from __future__ import annotations

import csv

import pytest
from conftest import PERIOD, T_A, T_B, V_A, member_rows, members_xlsx, submit, upload

from portal import services, store
from portal.conf import portal_settings
from portal.models import AuditEvent, Submission


@pytest.fixture(autouse=True)
def own_drop(other_data):
    """Each test its own raw folder (the drop)."""


def drop() -> list:
    return sorted(p.name for p in services.drop_files(portal_settings().raw / PERIOD))


def test_township_cannot_submit_another_townships_rows(world, login, tmp_path):
    rows = member_rows(T_A, 3, start=1) + member_rows(T_B, 2, start=100)
    empty = member_rows("", 1, start=200)
    f = members_xlsx(tmp_path / "mixed.xlsx", rows + empty)
    c = login(world["town_a"])
    up = upload(c, f)
    assert up.usable
    r = submit(c, up)
    text = r.content.decode()
    assert "文件中有 3 行不属于文星镇（其中乡镇为空 1 行）" in text
    assert not Submission.objects.exists() and drop() == []
    assert AuditEvent.objects.filter(action="submit_refused").exists()


def test_resubmission_keeps_both_versions_and_the_drop_holds_the_latest(world, login, tmp_path):
    c = login(world["town_b"])
    v1 = upload(c, members_xlsx(tmp_path / "v1.xlsx", member_rows(T_B, 2, start=100)))
    assert "已提交" in submit(c, v1).content.decode()
    v2 = upload(c, members_xlsx(tmp_path / "v2.xlsx", member_rows(T_B, 4, start=100)))
    assert "第 2 版" in submit(c, v2).content.decode()
    subs = list(Submission.objects.order_by("version"))
    assert [s.version for s in subs] == [1, 2] and [s.current for s in subs] == [False, True]
    assert drop() == ["家庭成员_鹤龙湖镇.xlsx"]
    in_drop = (portal_settings().raw / PERIOD / "家庭成员_鹤龙湖镇.xlsx").read_bytes()
    assert in_drop == store.upload_path(v2).read_bytes()
    for s in subs:                                      # every version kept, outside the drop
        kept = store.inside(store.store(), s.kept)
        assert kept.is_file() and not kept.is_relative_to(portal_settings().raw)
    assert store.inside(store.store(), subs[0].kept).read_bytes() == store.upload_path(v1).read_bytes()
    # the versions page lists both
    text = c.get(f"/submit/?period={PERIOD}").content.decode()
    assert "已被替换" in text and "当前版本" in text


def test_county_wide_or_per_township_never_both(world, login, tmp_path):
    t = login(world["town_b"])
    submit(t, upload(t, members_xlsx(tmp_path / "t.xlsx", member_rows(T_B, 2, start=100))))
    c = login(world["county"])
    up = upload(c, members_xlsx(tmp_path / "all.xlsx", member_rows(T_A, 2) + member_rows(T_B, 2, start=100)))
    text = submit(c, up).content.decode()
    assert "本期「家庭成员」已由鹤龙湖镇按乡镇提交，县级不能再提交全县文件（两份文件的行会重复）" in text
    # and the other way round, in another period
    other = services.shift_period(PERIOD, -1)
    assert "已提交" in submit(c, up, period=other, reason="县级汇总").content.decode()
    t = login(world["town_b"])
    up2 = upload(t, members_xlsx(tmp_path / "t2.xlsx", member_rows(T_B, 2, start=100)), period=other)
    text = submit(t, up2, period=other).content.decode()
    assert "已由县级提交全县文件，乡镇不能再单独提交" in text


def test_errors_need_a_typed_reason_which_is_kept(world, login, tmp_path):
    c = login(world["town_b"])
    up = upload(c, members_xlsx(tmp_path / "bad.xlsx", member_rows(T_B, 3, start=100, bad=1)))
    assert up.n_error >= 1
    assert "如确需提交，请填写提交理由" in submit(c, up).content.decode()
    assert not Submission.objects.exists()
    submit(c, up, reason="户籍系统尚未更正，先报送")
    sub = Submission.objects.get()
    assert sub.reason == "户籍系统尚未更正，先报送"
    assert "户籍系统尚未更正" in login(world["admin"]).get(f"/runs/?period={PERIOD}").content.decode()


def test_kinds_without_township_are_judged_by_household(world, login, tmp_path):
    """Pairings have no 乡镇 column: the latest run's households say whose rows they are."""
    from schemas.ids import make_id
    import datetime as dt

    def pairings(path, hh_ids):
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["户编号", "帮扶责任人证件号码", "帮扶责任人姓名", "帮扶开始时间"])
            for i, h in enumerate(hh_ids):
                w.writerow([h, make_id("430624", dt.date(1975, 1, 1), 500 + i, True), "王干部", "2025-03-01"])
        return path

    c = login(world["town_b"])
    ok = upload(c, pairings(tmp_path / "p_ok.csv", ["4306241010000100", "4306241010000101"]))
    assert ok.kind == "pairings"
    assert "已提交" in submit(c, ok).content.decode()
    bad = upload(c, pairings(tmp_path / "p_bad.csv", ["4306241010000100", "4306241010000001", "9999"]))
    text = submit(c, bad).content.decode()
    assert "文件中有 2 行不属于鹤龙湖镇（其中户编号不在最近一次运行的户名单中 1 行）" in text


def test_villages_cannot_submit(world, login, tmp_path):
    c = login(world["vil_a"])
    up = upload(c, members_xlsx(tmp_path / "v.xlsx", member_rows(T_A, 2, village=V_A)))
    assert c.get("/submit/").status_code == 404
    assert submit(c, up).status_code == 404
    assert not Submission.objects.exists()
    assert "提交为本月数据" not in c.get(f"/uploads/{up.key}/").content.decode()


def test_a_file_submitted_during_a_run_waits_and_is_placed_once(world, login, tmp_path):
    c = login(world["town_b"])
    up = upload(c, members_xlsx(tmp_path / "w.xlsx", member_rows(T_B, 2, start=100)))
    with services.run_lock(portal_settings(), "a run (test)"):
        text = submit(c, up).content.decode()
        assert "运行结束后放入" in text
        assert drop() == [] and not Submission.objects.get().placed
    assert store.place_pending()
    assert Submission.objects.get().placed and drop() == ["家庭成员_鹤龙湖镇.xlsx"]
    assert store.place_pending()          # nothing left: placing again changes nothing
    assert drop() == ["家庭成员_鹤龙湖镇.xlsx"]
