"""Upload checks in worker processes, with a time limit.

A hostile or huge file must not hold a web thread forever nor take the portal down with it:
each check runs in a worker process (started with `spawn`, which Windows has too — no fork on
the serve path) that is reused from check to check. A check that passes its time limit has its
worker killed and replaced; a worker that dies (a crash in a reader) is replaced too. The
number of workers bounds how many checks run at once (the others wait for a free worker).

    pool = CheckPool(workers=1, timeout=180)
    result = pool.check(path, kind, period)      # dict (portal.services.check_file) or raises
    pool.annotate(src, result, dest, name)       # the annotated workbook (portal.annotate)
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time


class CheckTimeout(Exception):
    pass


class CheckCrashed(Exception):
    pass


def _lower_priority() -> None:
    """Checks are batch work: pages (in the server's threads) come first when the cores are busy."""
    try:
        import psutil

        proc = psutil.Process()
        if hasattr(psutil, "BELOW_NORMAL_PRIORITY_CLASS"):        # Windows
            proc.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        else:
            proc.nice(10)
    except Exception:      # noqa: BLE001 — a priority is a nicety, never a reason to fail
        pass


def _serve(conn) -> None:      # the worker's loop (in the child process)
    from portal import services

    _lower_priority()

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            what, args = job
            if what == "check":
                conn.send(("ok", services.check_file(*args)))
            elif what == "annotate":
                from portal.annotate import annotated_xlsx

                annotated_xlsx(*args[:3], name=args[3])
                conn.send(("ok", {}))
            else:
                conn.send(("error", f"unknown job {what!r}"))
        except BaseException as exc:     # noqa: BLE001 — reported to the portal as one line
            first = str(exc).splitlines()[0] if str(exc) else ""
            conn.send(("error", f"{type(exc).__name__}: {first[:300]}"))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True, name="cardcheck-check")
        self.proc.start()
        child.close()

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(5)
        except (OSError, ValueError, AttributeError):
            pass
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.proc.join(2)
        except (OSError, ValueError, BrokenPipeError):
            pass
        if self.proc.is_alive():
            self.kill()


class CheckPool:
    def __init__(self, workers: int = 1, timeout: float = 180.0):
        self.timeout = timeout
        self.size = max(1, int(workers))
        self._ctx = mp.get_context("spawn")
        self._free: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._started = 0

    def _take(self) -> _Worker:
        with self._lock:
            if self._free.empty() and self._started < self.size:
                self._started += 1
                w = _Worker(self._ctx)
                self._all.append(w)
                return w
        return self._free.get()

    def _give_back(self, w: _Worker) -> None:
        self._free.put(w)

    def _replace(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            if w in self._all:
                self._all.remove(w)
            self._started -= 1

    def warm(self) -> None:
        """Start the workers now (the first check then does not wait for a process to start)."""
        with self._lock:
            while self._started < self.size:
                self._started += 1
                w = _Worker(self._ctx)
                self._all.append(w)
                self._free.put(w)

    def check(self, path, kind: str | None, period: str) -> dict:
        """The check of one file (portal.services.check_file) in a worker."""
        return self._job(("check", (str(path), kind, period)))

    def annotate(self, src, result: dict, dest, name: str) -> None:
        """The annotated copy of an upload (portal.annotate.annotated_xlsx) in a worker: a large
        workbook takes openpyxl a while, which must not hold a web thread without a limit."""
        self._job(("annotate", (str(src), result, str(dest), name)))

    def _job(self, job) -> dict:
        w = self._take()
        deadline = time.monotonic() + self.timeout
        try:
            w.conn.send(job)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._replace(w)
                    raise CheckTimeout(f"校验超过 {int(self.timeout)} 秒仍未完成，已停止（文件过大或结构异常）")
                if w.conn.poll(min(left, 1.0)):
                    status, payload = w.conn.recv()
                    break
                if not w.proc.is_alive():
                    raise EOFError
        except (EOFError, OSError, BrokenPipeError):
            self._replace(w)
            raise CheckCrashed("校验程序读取该文件时意外退出：文件可能已损坏") from None
        self._give_back(w)
        if status != "ok":
            raise CheckCrashed(f"校验该文件时出错：{payload}")
        return payload

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
            self._started = 0
        for w in workers:
            w.stop()
