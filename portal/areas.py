"""The latest run's townships, villages, households, issues and village workbooks, copied into
the portal's store.

Pages never open DuckDB to list areas: after a run is published (by the portal or the CLI),
the next request copies run.json's village list and the database's household list (DuckDB
opened read-only for a moment, under the run lock; skipped while a run holds it, tried again
later). Household keys are an HMAC of the household id with the portal's secret key: opaque
in URLs, stable from run to run.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time

from django.conf import settings
from django.db import transaction

from portal import services
from portal.conf import portal_settings
from portal.models import AreaSnapshot, Household, HouseholdPart, IssueRow, Village, WorkbookRef

_lock = threading.Lock()
_last = {"at": 0.0}
CHECK_EVERY = 15.0


def household_key(household_id: str) -> str:
    d = hmac.new(settings.SECRET_KEY.encode(), f"household:{household_id}".encode(), hashlib.sha256).digest()
    import base64

    return base64.b32encode(d[:15]).decode().lower()


def refresh(force: bool = False) -> AreaSnapshot | None:
    """Copy the latest published run's areas if they are not the ones the store has."""
    now = time.monotonic()
    if not force and now - _last["at"] < CHECK_EVERY:
        return None
    if not _lock.acquire(blocking=False):
        return None
    from portal import outbox

    outbox.ensure_started()
    try:
        _last["at"] = now
        s = portal_settings()
        latest = services.latest_run(s)
        if latest is None:
            return None
        period, manifest = latest
        run_id = str(manifest.get("run_id") or f"{period}:{manifest.get('finished_at')}")
        snap = AreaSnapshot.objects.filter(run_id=run_id).first()
        if snap is not None and snap.complete:
            return snap
        villages = [(str(v.get("township") or ""), str(v.get("village") or ""), int(v.get("households") or 0))
                    for v in manifest.get("villages") or []]
        snap_data = services.snapshot(s, period)        # None: a run holds the database; try later
        homes = snap_data["households"] if snap_data is not None else None
        with transaction.atomic():
            Village.objects.all().delete()
            seen = set()
            objs = []
            for t, v, n in villages:
                if (t, v) not in seen:
                    seen.add((t, v))
                    objs.append(Village(township=t, village=v, households=n))
            Village.objects.bulk_create(objs, batch_size=500)
            if snap_data is not None:
                Household.objects.all().delete()
                Household.objects.bulk_create(
                    [Household(key=household_key(h), household_id=h, township=t, village=v) for h, t, v in homes],
                    batch_size=1000, ignore_conflicts=True)
                copy_issues(period, snap_data)
            snap, _ = AreaSnapshot.objects.update_or_create(
                run_id=run_id, defaults={"period": period, "complete": homes is not None})
        return snap
    finally:
        _lock.release()


def copy_issues(period: str, data: dict) -> None:
    """The latest run's issues, village workbooks and household records (pages 5–8 read these,
    never DuckDB)."""
    HouseholdPart.objects.all().delete()
    HouseholdPart.objects.bulk_create([HouseholdPart(household_id=h, kind=k, seq=n, data=d)
                                       for h, k, n, d in data.get("parts", [])], batch_size=2000)
    IssueRow.objects.all().delete()
    WorkbookRef.objects.all().delete()
    WorkbookRef.objects.bulk_create([WorkbookRef(workbook_id=w, period=period, township=t, village=v, file=f or "",
                                                 issued=n) for w, t, v, f, n in data["workbooks"]], batch_size=500)
    text = lambda x: "" if x is None else str(x)          # noqa: E731
    IssueRow.objects.bulk_create([IssueRow(
        period=period, seq=n, issue_id=i["issue_id"], rule_id=text(i["rule_id"]), rule_name=text(i["rule_name"])[:200],
        severity=text(i["severity"]), status=text(i["status"]), flag=text(i["flag"]), first_seen=text(i["first_seen"]),
        township=text(i["township"]).strip(), village=text(i["village"]).strip(), household_id=text(i["household_id"]),
        head_name=text(i["head_name"])[:200], person_name=text(i["person_name"])[:200],
        id_number=text(i["id_number"])[:64], message=text(i["message"]),
        responsible_unit=text(i["responsible_unit"])[:100], workbook_id=text(i["workbook_id"]))
        for n, i in enumerate(data["issues"])], batch_size=1000)


def townships() -> list[str]:
    return list(Village.objects.order_by("township").values_list("township", flat=True).distinct())


def villages_of(township: str) -> list[str]:
    return list(Village.objects.filter(township=township).values_list("village", flat=True))


def latest_period() -> str | None:
    snap = AreaSnapshot.objects.order_by("-period", "-taken_at").first()
    return snap.period if snap else None
