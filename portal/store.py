"""Uploads, checks and submissions: the files the portal keeps and the period's drop.

Paths: every file the portal writes is under the store folder (<data>/portal/) or the period's
drop (<raw>/<period>/), under a name the portal makes — never the name that came with the
upload. The drop holds only the current version of each (kind, area): the file the CLI and the
portal's run read as they are; every version is kept under <data>/portal/versions/.

Files submitted while a run holds the data folder wait (`placed = False`) and are put into the
drop by `place_pending()` when the lock is free (after the run, or at the next submission).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from portal import services
from portal.checkpool import CheckCrashed, CheckPool, CheckTimeout
from portal.conf import portal_settings
from portal.models import Household, Role, Submission, Upload

_pool: CheckPool | None = None
_pool_lock = threading.Lock()
_waiting: threading.BoundedSemaphore | None = None


class Refused(Exception):
    """A submission that cannot be accepted; str(exc) is the sentence shown."""


class TooLarge(Exception):
    pass


def store() -> Path:
    return Path(settings.PORTAL["store"])


def inside(base: Path, rel: str) -> Path:
    p = (base / rel).resolve()
    if not p.is_relative_to(base.resolve()):
        raise ValueError(f"path outside {base}: {rel}")
    return p


def pool() -> CheckPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = CheckPool(settings.PORTAL["check_workers"], settings.PORTAL["check_timeout"])
        return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


# ---------------------------------------------------------------------------- uploads

def _write_limited(f, path: Path, limit: int, h=None) -> int:
    """Write an uploaded file's chunks to `path` (and into hash `h`); past `limit` bytes the file
    is removed and TooLarge raised. Returns the size."""
    size = 0
    with open(path, "wb") as out:
        for chunk in f.chunks():
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise TooLarge()
            if h is not None:
                h.update(chunk)
            out.write(chunk)
    return size


def save_upload(user, f, period: str, kind: str = "") -> Upload:
    """Store an uploaded file under a generated name inside the store folder."""
    acc = user.account
    limit = settings.PORTAL["upload_limit"]
    if f.size is not None and f.size > limit:
        raise TooLarge()
    ext = Path(f.name or "").suffix.lower()
    if ext not in services.DATA_SUFFIXES:
        ext = ".bin"
    up = Upload(owner=user, role=acc.role, township=acc.township, village=acc.village,
                original_name=(Path(str(f.name or "")).name or "未命名")[:255], period=period,
                kind_requested=kind or "")
    month = time.strftime("%Y-%m")
    rel = f"uploads/{month}/{up.key}{ext}"
    path = inside(store(), rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = _write_limited(f, path, limit, h)
    up.stored, up.size, up.sha256 = rel, size, h.hexdigest()
    up.save()
    return up


def save_returned(f) -> tuple[str, str]:
    """A returned workbook (村级核实 / 抽查复核) stored under a generated name inside the store
    folder: (relative path, the name it came with). Not an upload for checking."""
    limit = settings.PORTAL["upload_limit"]
    if f.size is not None and f.size > limit:
        raise TooLarge()
    from portal.models import new_key

    rel = f"returns/{time.strftime('%Y-%m')}/{new_key()}.xlsx"
    path = inside(store(), rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_limited(f, path, limit)
    return rel, (Path(str(f.name or "")).name or "未命名.xlsx")[:255]


def upload_path(up: Upload) -> Path:
    return inside(store(), up.stored)


def result_path(up: Upload) -> Path:
    return inside(store(), up.stored + ".json")


def _slots() -> threading.BoundedSemaphore:
    """Checks running or waiting for a worker: at most half the server's threads, so that pages
    stay served while many large files are being checked."""
    global _waiting
    with _pool_lock:
        if _waiting is None:
            _waiting = threading.BoundedSemaphore(max(1, settings.PORTAL["threads"] // 2))
        return _waiting


def check_upload(up: Upload) -> Upload:
    """Check the stored file exactly as `cardcheck validate` does (in a check worker)."""
    t0 = time.monotonic()
    slots = _slots()
    if not slots.acquire(timeout=30):
        result = {"usable": False, "problem": "服务器正在校验其他文件，请稍后重新上传", "findings": [], "facts": {}}
    else:
        try:
            result = pool().check(upload_path(up), up.kind_requested or None, up.period)
        except (CheckTimeout, CheckCrashed) as exc:
            result = {"usable": False, "problem": str(exc), "findings": [], "facts": {}}
        finally:
            slots.release()
    result["file"] = up.original_name
    stored = upload_path(up)

    def plain(text):        # the stored name is the portal's business: people see their own name
        return text.replace(str(stored), up.original_name).replace(stored.name, up.original_name) \
            if isinstance(text, str) else text

    result["problem"] = plain(result.get("problem"))
    for f in result.get("findings") or []:
        f["file"] = up.original_name
        f["message"] = plain(f.get("message"))
    kinds = services.kinds()
    result["kind_title"] = kinds.get(result.get("kind") or "", {}).get("title", "")
    result_path(up).write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    sev = {"error": 0, "suspect": 0, "notice": 0}
    for f in result.get("findings") or []:
        if f.get("severity") in sev:
            sev[f["severity"]] += 1
    up.usable = bool(result.get("usable"))
    up.status = "checked" if up.usable else "unusable"
    up.kind = result.get("kind") or ""
    up.problem = result.get("problem") or ""
    up.rows_read, up.rows_loaded, up.rows_rejected = (int(result.get(k) or 0) for k in
                                                      ("rows_read", "rows_loaded", "rows_rejected"))
    up.n_error, up.n_suspect, up.n_notice = sev["error"], sev["suspect"], sev["notice"]
    up.seconds = round(time.monotonic() - t0, 3)
    up.save()
    return up


def load_result(up: Upload) -> dict:
    try:
        return json.loads(result_path(up).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"usable": False, "problem": "校验结果不存在", "findings": [], "facts": {}}


# ---------------------------------------------------------------------------- submissions

def others_in_file(acc, facts: dict) -> tuple[int, int, int]:
    """(rows of another township, of which with an empty 乡镇, of which of an unknown household)."""
    counts = facts.get("counts") or {}
    if facts.get("by") == "township":
        other = sum(n for t, n in counts.items() if t != acc.township)
        return other, int(counts.get("", 0)), 0
    homes = dict(Household.objects.filter(household_id__in=list(counts)).values_list("household_id", "township"))
    other = sum(n for h, n in counts.items() if homes.get(h) != acc.township)
    unknown = sum(n for h, n in counts.items() if h not in homes)
    return other, 0, unknown


def submit(user, up: Upload, period: str, reason: str = "") -> Submission:
    acc = user.account
    kinds = services.kinds()
    if acc.role == Role.VILLAGE:
        raise Refused("村级账号只能上传校验，不能提交本月数据。")
    if up.owner_id != user.pk:
        raise Refused("只能提交自己上传的文件。")
    if not up.usable:
        raise Refused(f"该文件无法使用，不能提交：{up.problem}")
    result = load_result(up)
    facts = result.get("facts") or {}
    kind = up.kind
    title = kinds.get(kind, {}).get("title", kind)
    if len(facts.get("kinds") or []) > 1:
        names = "、".join(kinds.get(k, {}).get("title", k) for k in facts["kinds"])
        raise Refused(f"该文件包含多种表（{names}），请每种表单独存为一个文件再提交。")
    scope = "" if acc.is_county else acc.township
    if acc.role == Role.TOWNSHIP:
        if kinds.get(kind, {}).get("family") != "registry" or facts.get("by") is None:
            raise Refused(f"「{title}」文件没有乡镇列，也无法通过户编号判断所属乡镇，只能由县级提交。")
        other, empty, unknown = others_in_file(acc, facts)
        if other:
            extra = []
            if empty:
                extra.append(f"其中乡镇为空 {empty} 行")
            if unknown:
                extra.append(f"其中户编号不在最近一次运行的户名单中 {unknown} 行")
            more = f"（{'，'.join(extra)}）" if extra else ""
            raise Refused(f"文件中有 {other} 行不属于{acc.township}{more}。乡镇账号只能提交本乡镇的数据，"
                          f"请删除这些行后重新上传。")
    ext = Path(up.stored).suffix
    with transaction.atomic():
        current = Submission.objects.filter(period=period, kind=kind, current=True)
        if scope and current.filter(scope="").exists():
            raise Refused(f"本期「{title}」已由县级提交全县文件，乡镇不能再单独提交（两份文件的行会重复）。")
        if not scope:
            towns = sorted(set(current.exclude(scope="").values_list("scope", flat=True)))
            if towns:
                raise Refused(f"本期「{title}」已由{'、'.join(towns)}按乡镇提交，县级不能再提交全县文件"
                              f"（两份文件的行会重复）。")
        if up.n_error and not reason.strip():
            raise Refused(f"该文件有 {up.n_error} 条错误。如确需提交，请填写提交理由。")
        same = Submission.objects.filter(period=period, kind=kind, scope=scope)
        version = (same.aggregate(m=Max("version"))["m"] or 0) + 1
        same.filter(current=True).update(current=False)
        sub = Submission(upload=up, period=period, kind=kind, scope=scope, submitted_by=user,
                         reason=reason.strip(), version=version,
                         drop_name=f"{services.safe_name(title)}_{services.safe_name(scope or '全县')}{ext}")
        sub.kept = f"versions/{period}/{services.safe_name(kind)}/{sub.key}{ext}"
        kept = inside(store(), sub.kept)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(upload_path(up), kept)
        sub.save()
    place_pending()
    return sub


def remove_old_exports(max_age: float = 3600.0) -> None:
    """One-time password sheets nobody downloaded are not kept longer than an hour."""
    now = time.time()
    for f in (store() / "exports").glob("*.xlsx"):
        try:
            if now - f.stat().st_mtime > max_age:
                f.unlink()
        except OSError:
            pass


def place_pending(timeout: float = 0.5) -> bool:
    """Put every current, not yet placed submission into its period's drop, under the run lock
    (a run never sees a drop half-changed). False when the lock is busy: they stay pending."""
    pending = list(Submission.objects.filter(current=True, placed=False).order_by("submitted_at"))
    if not pending:
        return True
    s = portal_settings()
    try:
        with services.run_lock(s, "cardcheck serve: placing submitted files", timeout=timeout):
            for sub in pending:
                drop = services.drop_dir(s, sub.period)
                drop.mkdir(parents=True, exist_ok=True)
                for old in (Submission.objects.filter(period=sub.period, kind=sub.kind, scope=sub.scope)
                            .exclude(pk=sub.pk).exclude(drop_name=sub.drop_name)
                            .values_list("drop_name", flat=True).distinct()):
                    inside(drop, old).unlink(missing_ok=True)
                final = inside(drop, sub.drop_name)
                part = drop / f".{sub.key}.part"
                shutil.copyfile(inside(store(), sub.kept), part)
                os.replace(part, final)
                Submission.objects.filter(pk=sub.pk).update(placed=True)
    except services.Busy:
        return False
    return True
