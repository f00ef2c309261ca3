"""Times: shown to people in the county's local time (Asia/Shanghai), stored for ordering in UTC.

`zoneinfo` needs a time-zone database; Windows has none, so `tzdata` is a pinned dependency.
"""
from __future__ import annotations

import datetime as dt

COUNTY_TZ_NAME = "Asia/Shanghai"
_TZ = None


def county_tz() -> dt.tzinfo:
    global _TZ
    if _TZ is None:
        try:
            from zoneinfo import ZoneInfo

            _TZ = ZoneInfo(COUNTY_TZ_NAME)
        except Exception:       # no tz database at all: China has had no DST since 1991
            _TZ = dt.timezone(dt.timedelta(hours=8), COUNTY_TZ_NAME)
    return _TZ


def local_now() -> dt.datetime:
    """Now, in the county's local time (for people and for run.json)."""
    return dt.datetime.now(county_tz())


def utc_now() -> dt.datetime:
    """Now in UTC (for stored times that order events)."""
    return dt.datetime.now(dt.timezone.utc)


def local_text(when: dt.datetime | str | None) -> str:
    """A time as people read it: `2026-11-05 14:03（北京时间）`."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        try:
            when = dt.datetime.fromisoformat(when)
        except ValueError:
            return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(county_tz()).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
