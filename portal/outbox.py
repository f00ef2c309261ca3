"""Answers on their way into the store: the portal's outbox (portal.md "What bad input and bad
actors get": an answer made while a run holds the database waits and is written exactly once).

Browser answers (`Answer` with origin 'portal'), returned workbooks (`WorkbookReturn`) and the
county's spot-check results (`AuditDecision`) are saved in the portal's store first. `sync()`
writes every pending one, oldest first, into DuckDB with the code of `cardcheck feedback`
(services.record_pending: one transaction, under the run lock, idempotent by answer_id) and marks
them written; then it copies what the store holds that the portal has not seen (answers
recorded by the CLI, rows of returned workbooks) so that pages show every answer.

A background thread does this after each answer (`kick()`), every SYNC_EVERY seconds, and the
portal's run calls `sync()` when it ends. While a run (or another command) holds the lock
everything stays pending. Tests set INLINE = True to sync in the request.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import close_old_connections, transaction
from django.utils import timezone

from portal import services, store
from portal.conf import portal_settings
from portal.models import Answer, AuditDecision, SyncMark, WorkbookReturn

INLINE = False
SYNC_EVERY = 30.0
BATCH_WAIT = 3.0          # seconds: one write to the store (under the run lock) for the answers of a few seconds
log = logging.getLogger("cardcheck.portal")

_mutex = threading.Lock()
_event = threading.Event()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()


def ensure_started() -> None:
    """The background writer runs (it also copies answers the CLI recorded every SYNC_EVERY s)."""
    global _thread
    if INLINE:
        return
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, daemon=True, name="cardcheck-outbox")
            _thread.start()


def kick() -> None:
    """Something is pending: write it soon (now, in tests)."""
    if INLINE:
        sync()
        return
    ensure_started()
    _event.set()


def _loop() -> None:
    while True:
        if _event.wait(SYNC_EVERY):
            time.sleep(BATCH_WAIT)          # answers saved meanwhile go in the same write
        _event.clear()
        try:
            sync()
        except Exception:       # noqa: BLE001 — keep the thread alive; everything stays pending
            log.exception("outbox sync failed")
        finally:
            close_old_connections()


def pending() -> int:
    return (Answer.objects.filter(origin="portal", written_at=None).count()
            + WorkbookReturn.objects.filter(processed_at=None).count()
            + AuditDecision.objects.filter(origin="portal", written_at=None).count())


def _aware(value) -> dt.datetime:
    try:
        d = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return timezone.now()
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)


def _jobs() -> tuple[list[dict], dict]:
    jobs, objs = [], {}
    for a in Answer.objects.filter(origin="portal", written_at=None):
        jid = f"a{a.pk}"
        objs[jid] = a
        jobs.append({"id": jid, "type": "answer", "at": a.made_at, "answer_id": a.answer_id, "issue_id": a.issue_id,
                     "workbook_id": a.workbook_id, "township": a.township, "village": a.village, "answer": a.answer,
                     "note": a.note, "who": a.who, "answered_on": a.answered_on, "account": a.account,
                     "answered_at": a.made_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")})
    for r in WorkbookReturn.objects.filter(processed_at=None).select_related("user"):
        jid = f"r{r.pk}"
        objs[jid] = r
        area = None if r.role in ("admin", "county") else (r.township, r.village or None)
        jobs.append({"id": jid, "type": "return", "at": r.created_at, "key": r.key,
                     "path": str(store.inside(store.store(), r.stored)), "name": r.original_name, "area": area,
                     "audits": r.role in ("admin", "county"), "account": r.user.get_username()})
    for d in AuditDecision.objects.filter(origin="portal", written_at=None):
        jid = f"d{d.pk}"
        objs[jid] = d
        jobs.append({"id": jid, "type": "audit", "at": d.made_at, "answer_id": d.answer_id, "issue_id": d.issue_id,
                     "workbook_id": d.workbook_id, "result": d.result, "note": d.note, "who": d.who,
                     "account": d.who})
    jobs.sort(key=lambda j: (j["at"], j["id"]))
    return jobs, objs


def sync(timeout: float = 0.0) -> bool:
    """Write what is pending and copy what is new. False when the store is busy (a run)."""
    with _mutex:
        jobs, objs = _jobs()
        marks = dict(SyncMark.objects.values_list("name", "value"))
        try:
            out = services.record_pending(portal_settings(), jobs, marks, timeout=timeout)
        except services.Busy:
            return False
        now = timezone.now()
        with transaction.atomic():
            for jid, res in out["results"].items():
                obj = objs[jid]
                if isinstance(obj, WorkbookReturn):
                    WorkbookReturn.objects.filter(pk=obj.pk).update(
                        processed_at=now, accepted=res["accepted"], refused=res["refused"], ignored=res["ignored"],
                        problem=res["problem"], lines=res["lines"])
                else:
                    model = type(obj)
                    origin = "portal" if res["accepted"] else "refused"
                    model.objects.filter(pk=obj.pk).update(written_at=now, origin=origin)
            seen = set(Answer.objects.filter(answer_id__in=[r["answer_id"] for r in out["feedback"]])
                       .values_list("answer_id", flat=True))
            Answer.objects.bulk_create([Answer(
                answer_id=r["answer_id"], issue_id=r["issue_id"] or "", period=r["period"] or "",
                township=r["township"] or "", village=r["village"] or "", workbook_id=r["workbook_id"] or "",
                answer=r["answer"] or "", note=r["note"] or "", who=r["who"] or "", answered_on=r["answered_on"] or "",
                how=r["how"] or "workbook", account=r["account"] or "", made_at=_aware(r["made_at"]),
                file=(r["file"] or "").replace("\\", "/").rsplit("/", 1)[-1][:255], origin="store", written_at=now)
                for r in out["feedback"] if r["answer_id"] not in seen], batch_size=500, ignore_conflicts=True)
            seen = set(AuditDecision.objects.filter(answer_id__in=[r["answer_id"] for r in out["audits"]])
                       .values_list("answer_id", flat=True))
            AuditDecision.objects.bulk_create([AuditDecision(
                answer_id=r["answer_id"], issue_id=r["issue_id"] or "", period=r["period"] or "",
                workbook_id=r["workbook_id"] or "", result=r["result"] or "", note=r["note"] or "",
                who=r["who"] or "", how=r["how"] or "workbook", made_at=_aware(r["recorded_at"]), origin="store",
                written_at=now) for r in out["audits"] if r["answer_id"] not in seen], ignore_conflicts=True)
            if out["feedback"]:
                SyncMark.objects.update_or_create(name="feedback", defaults={"value": out["feedback"][-1]["imported_at"]})
            if out["audits"]:
                SyncMark.objects.update_or_create(name="audits", defaults={"value": out["audits"][-1]["recorded_at"]})
        return True
