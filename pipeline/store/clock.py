"""Times: shown to people in the county's local time (Asia/Shanghai, labelled 北京时间), stored for
ordering in UTC. `zoneinfo` needs a time-zone database; Windows has none, so `tzdata` is a pinned
dependency (and without it the clock falls back to UTC+8: China has had no DST since 1991).

    local_now() / utc_now()                     now
    local_time(value) / local_text(value)       a moment as people read it: 2026-10-31 14:05（北京时间）
"""
from __future__ import annotations

import datetime as dt

LOCAL_TZ_NAME = "Asia/Shanghai"
LOCAL_TZ_LABEL = "北京时间"


def local_tz() -> dt.tzinfo:
    """The county's time zone. China has kept UTC+8 without daylight saving since 1991, so a
    machine without time-zone data (Windows without tzdata) still gets the right clock."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(LOCAL_TZ_NAME)
    except Exception:   # noqa: BLE001 — ZoneInfoNotFoundError, or no zoneinfo at all
        return dt.timezone(dt.timedelta(hours=8), LOCAL_TZ_LABEL)


def local_time(value: str | dt.datetime | None = None) -> dt.datetime | None:
    """A moment in the county's time zone: now (None), an aware datetime, or an ISO string.
    A naive value is taken as the machine's own local time."""
    if value is None:
        return dt.datetime.now(local_tz())
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(local_tz())


def local_text(value: str | dt.datetime | None = None, *, seconds: bool = False, label: bool = True) -> str:
    """2026-10-31 14:05（北京时间）; a value that is not a time is returned as given."""
    t = local_time(value)
    if t is None:
        return "" if value is None else str(value)
    s = t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{s}（{LOCAL_TZ_LABEL}）" if label else s


def local_date(value: str | dt.datetime | None = None) -> str:
    t = local_time(value)
    return t.date().isoformat() if t else ""


def local_now() -> dt.datetime:
    """Now, in the county's local time (for people and for run.json)."""
    return dt.datetime.now(local_tz())


def utc_now() -> dt.datetime:
    """Now in UTC (for stored times that order events)."""
    return dt.datetime.now(dt.timezone.utc)
