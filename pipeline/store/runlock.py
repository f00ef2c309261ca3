"""One writer at a time, and nothing half-done left behind.

    with RunLock(lock_path, "run 2026-10"):        # who is running, for everyone else
        recover(state_dir)                          # finish or roll back an interrupted swap
        remove_leftovers(out_dir)                   # temp folders of dead runs (they hold full IDs)

The lock is an OS file lock (filelock: fcntl on POSIX, msvcrt on Windows), released by the OS when
its process dies, so a killed run never blocks the next one. Beside it a small JSON file says who
holds it (pid, command, start time) so a second command can say who is running.

A run publishes in two steps: the database transaction, then the swap of its output folder into
place. A journal written before the commit names both; a run killed between them leaves the
journal, and the next command (under the lock) finishes the swap when the database has that run,
or removes the new folder when it has not.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from pipeline.store.clock import local_now

SPILL_PREFIX = "cardcheck-spill-"
_TMP_RE = re.compile(r"^\.(\d{4}-\d{2})\.(?:(\d+)\.)?")


class Busy(Exception):
    """Another process holds the run lock; str(exc) says who."""


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        import psutil

        return psutil.pid_exists(pid)
    except ImportError:           # pragma: no cover — psutil is a dependency
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class RunLock:
    """The data folder's run lock (shared by the CLI and the portal)."""

    def __init__(self, path: Path, what: str, timeout: float = 0.0):
        from filelock import FileLock

        self.path = Path(path)
        self.info = self.path.with_name(self.path.name + ".json")
        self.what = what
        self.timeout = timeout
        self._lock = FileLock(str(self.path))

    def holder(self) -> str:
        try:
            d = json.loads(self.info.read_text(encoding="utf-8"))
            return f"{d.get('what', '?')} (pid {d.get('pid', '?')}, started {d.get('started', '?')})"
        except (OSError, ValueError):
            return "another cardcheck process"

    def __enter__(self) -> RunLock:
        from filelock import Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=self.timeout)
        except Timeout:
            raise Busy(f"another cardcheck command is using this data folder: {self.holder()}; "
                       f"wait until it has finished") from None
        tmp = self.info.with_name(self.info.name + f".{os.getpid()}")
        tmp.write_text(json.dumps({"pid": os.getpid(), "what": self.what,
                                   "started": local_now().isoformat(timespec="seconds")},
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.info)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.info.unlink(missing_ok=True)
        finally:
            self._lock.release()


# ---------------------------------------------------------------------------- output swap journal

def journal_path(state: Path, period: str) -> Path:
    return Path(state) / f"swap-{period}.json"


def write_journal(state: Path, period: str, *, run_id: str, db: Path, tmp: Path, final: Path) -> Path:
    """Before the database commit: what the swap will do, durable on disk."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    path = journal_path(state, period)
    data = {"run_id": run_id, "period": period, "db": str(Path(db).resolve()),
            "tmp": str(Path(tmp).resolve()), "final": str(Path(final).resolve()),
            "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    part.replace(path)
    return path


def swap_in(tmp: Path, final: Path) -> None:
    """Put the new output folder in place of the old one (each step a rename)."""
    tmp, final = Path(tmp), Path(final)
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _committed(db: Path, run_id: str) -> bool:
    import duckdb

    if not Path(db).is_file():
        return False
    try:
        con = duckdb.connect(str(db), read_only=True, config={"autoinstall_known_extensions": False,
                                                               "autoload_known_extensions": False})
    except duckdb.Error:
        return False
    try:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchone()[0]:
            return False
        return con.execute("SELECT count(*) FROM runs WHERE status = 'completed' AND "
                           "json_extract_string(manifest, '$.run_id') = ?", [run_id]).fetchone()[0] > 0
    finally:
        con.close()


def recover(state: Path) -> list[str]:
    """Finish or roll back the output swaps of interrupted runs (call under the run lock).
    Returns one sentence per journal handled."""
    said = []
    state = Path(state)
    if not state.is_dir():
        return said
    for path in sorted(state.glob("swap-*.json")):
        try:
            j = json.loads(path.read_text(encoding="utf-8"))
            tmp, final, db, run_id = Path(j["tmp"]), Path(j["final"]), Path(j["db"]), j["run_id"]
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        old = final.with_name(f".{final.name}.old")
        if _committed(db, run_id):
            if tmp.is_dir():
                swap_in(tmp, final)
                said.append(f"finished publishing the outputs of {j.get('period')} in {final} "
                            f"(the run had been interrupted after saving the database)")
            elif not final.exists() and old.is_dir():
                old.rename(final)
        else:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
            if not final.exists() and old.is_dir():
                old.rename(final)
            said.append(f"removed the unfinished outputs of an interrupted run of {j.get('period')}; "
                        f"{final} and the database are as before it")
        shutil.rmtree(old, ignore_errors=True)
        path.unlink(missing_ok=True)
    return said


# ---------------------------------------------------------------------------- leftovers of dead runs

def tmp_output_dir(out: Path, period: str) -> Path:
    """A new temporary output folder, named with the owner's pid (so a later run can tell whether
    its owner is still alive)."""
    return Path(tempfile.mkdtemp(prefix=f".{period}.{os.getpid()}.", dir=out))


def spill_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-"))


def remove_leftovers(out: Path | None) -> list[str]:
    """Temporary output folders (`.<period>.<pid>.*`, `.<period>.old`) in `out` and DuckDB spill
    folders in the system temp folder whose owner process is gone. Call under the run lock."""
    removed = []
    if out is not None and Path(out).is_dir():
        for p in Path(out).iterdir():
            m = _TMP_RE.match(p.name)
            if not m or not p.is_dir():
                continue
            pid = int(m.group(2)) if m.group(2) else 0
            if p.name.endswith(".old") or not pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(str(p))
    tmp = Path(tempfile.gettempdir())
    for p in tmp.glob(f"{SPILL_PREFIX}*"):
        m = re.match(re.escape(SPILL_PREFIX) + r"(\d+)-", p.name)
        pid = int(m.group(1)) if m else 0
        if p.is_dir() and not pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(str(p))
    return removed
