"""The monthly run started from the portal: a thread calling the same run as `cardcheck run`.

One run at a time: the portal starts none while its own is alive, and the data folder's run
lock (taken by the run itself) keeps the CLI and the portal from running together. Each stage
the run reports (pipeline.progress) is written to the RunRecord, which the page polls.
"""
from __future__ import annotations

import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone

from portal import areas, outbox, services, store
from portal.conf import portal_settings
from portal.models import RunRecord

_active: dict[str, threading.Thread] = {}
_lock = threading.Lock()


class Busy(Exception):
    pass


def running() -> RunRecord | None:
    mark_stale()
    return RunRecord.objects.filter(status="running").first()


def mark_stale() -> None:
    """Runs recorded as running with no thread in this process (the portal was restarted)."""
    with _lock:
        alive = {k for k, t in _active.items() if t.is_alive()}
    for rec in RunRecord.objects.filter(status="running"):
        if rec.key not in alive:
            RunRecord.objects.filter(pk=rec.pk, status="running").update(
                status="failed", finished_at=timezone.now(),
                message="门户在运行过程中重新启动，本次运行没有完成；上一次成功运行的结果保留不变。")


def start(user, period: str) -> RunRecord:
    with _lock:
        alive = [k for k, t in _active.items() if t.is_alive()]
        if alive:
            raise Busy("已有一个运行正在进行，请等它结束。")
        holder = services.lock_holder(portal_settings())
        if holder:
            raise Busy(f"数据目录正被其他命令使用：{holder}")
        rec = RunRecord.objects.create(period=period, started_by=user, stage="queued", label="等待开始",
                                       stages=[{"stage": "queued", "label": "等待开始",
                                                "at": timezone.now().isoformat()}])
        t = threading.Thread(target=work, args=(rec.pk,), daemon=True, name=f"cardcheck-run-{period}")
        _active[rec.key] = t
    start_thread(t, rec.pk)
    return rec


def start_thread(t: threading.Thread, pk: int) -> None:
    """Starts the run's thread (the tests replace it to run the work inline)."""
    t.start()


def work(pk: int, close_db: bool = True) -> None:
    rec = RunRecord.objects.get(pk=pk)
    last_save = {"at": 0.0}

    def on_step(d: dict) -> None:
        if d["stage"] == "files":
            bad = [f for f in d.get("files") or [] if f.get("status") in ("rejected", "unreadable")]
            rec.result = {**rec.result, "files_not_loaded": [
                {"file": f.get("path"), "reason": "; ".join(f.get("problems") or []) or f.get("status")}
                for f in bad]}
            RunRecord.objects.filter(pk=pk).update(result=rec.result)
            return
        changed = d["stage"] != rec.stage
        rec.stage, rec.label = d["stage"], d["label"] or d["stage"]
        rec.done, rec.total, rec.item = d.get("done"), d.get("total"), (d.get("item") or "")[:255]
        if changed:
            rec.stages = [*rec.stages, {"stage": rec.stage, "label": rec.label, "at": timezone.now().isoformat()}]
        now = time.monotonic()
        if changed or now - last_save["at"] > 0.3 or (rec.done is not None and rec.done == rec.total):
            last_save["at"] = now
            RunRecord.objects.filter(pk=pk).update(stage=rec.stage, label=rec.label, done=rec.done,
                                                   total=rec.total, item=rec.item, stages=rec.stages)

    try:
        store.place_pending(timeout=30)
        try:
            outbox.sync(timeout=30)       # answers saved before the run count in it
        except Exception:                 # noqa: BLE001 — they stay pending and are written after it
            outbox.log.exception("writing the answers before the run failed")
        result = services.run_period(portal_settings(), rec.period, on_step)
        RunRecord.objects.filter(pk=pk).update(
            status="completed", finished_at=timezone.now(), result={**rec.result, **result},
            stage="done", label="完成", stages=[*rec.stages, {"stage": "done", "label": "完成",
                                                                "at": timezone.now().isoformat()}])
    except services.RunFailed as exc:
        RunRecord.objects.filter(pk=pk).update(status="failed", finished_at=timezone.now(), message=str(exc))
    except BaseException as exc:      # noqa: BLE001 — the page says why, the thread ends cleanly
        first = str(exc).splitlines()[0] if str(exc) else ""
        RunRecord.objects.filter(pk=pk).update(status="failed", finished_at=timezone.now(),
                                               message=f"内部错误：{type(exc).__name__}: {first[:300]}")
    finally:
        from portal import audit

        rec.refresh_from_db()
        said = "完成" if rec.status == "completed" else f"失败：{rec.message}"
        audit.AuditEvent.objects.create(username=rec.started_by.get_username(), role="admin", action="run_end",
                                        target=rec.period, detail=said[:4000])
        try:
            store.place_pending()
            try:
                outbox.sync(timeout=30)   # answers made while the run held the database
            except Exception:             # noqa: BLE001 — they stay pending; the outbox thread retries
                outbox.log.exception("writing the answers after the run failed")
            areas.refresh(force=True)
        finally:
            with _lock:
                _active.pop(rec.key, None)
            if close_db:
                close_old_connections()
                connection.close()
