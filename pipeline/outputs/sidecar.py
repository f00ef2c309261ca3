"""Work done beside a run, in a second process, off its critical path.

Two checks of a run need slow libraries: the post-load contract (pandera, with pandas) and the
batch expectations (Great Expectations: seconds to import, more to build its Data Docs). A run
starts the sidecar as soon as its files are read; the sidecar imports those libraries while the
run checks the rules, and the run hands it its work as files (parquet) when that work is ready:

    side = Sidecar.start()                       # after ingest
    side.submit("contract", export_contract(con, folder))
    side.submit("expectations", expectations.export_inputs(con, folder, …))
    … village workbooks are written meanwhile …
    problems = side.result("contract")           # before the database commit
    summary = side.result("expectations")

The main process never imports pandas, pandera or Great Expectations. If the sidecar cannot
start or dies, the same functions run in the main process (slower, same results).
"""
from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

from schemas.sql import lit


# ---------------------------------------------------------------------------- the jobs (either process)

def export_contract(con, folder: Path, sample_rows: int | None = None) -> dict[str, str]:
    """Each loaded canonical table (or a fixed sample of it, schemas.tables.contract_rows_sql) as a
    parquet file (uncompressed: it lives for seconds)."""
    from schemas.tables import CONTRACT_SAMPLE_ROWS, TABLES, contract_rows_sql

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in TABLES:
        path = folder / f"contract_{name}.parquet"
        con.execute(f"COPY ({contract_rows_sql(con, name, sample_rows or CONTRACT_SAMPLE_ROWS)}) "
                    f"TO {lit(str(path))} (FORMAT parquet, COMPRESSION uncompressed)")
        out[name] = str(path)
    return out


def run_contract(paths: dict[str, str]) -> list[str]:
    """pandera over the exported tables: one line per breach (empty: the contract holds)."""
    from schemas.models import model        # first: pandera without its Spark backend

    import pandera.errors
    import pyarrow.parquet as pq

    problems = []
    for name, path in paths.items():
        df = pq.read_table(path).to_pandas()        # strings stay in Arrow (a fifth of .df()'s time)
        try:
            model(name).validate(df, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            first = cases.iloc[0].to_dict() if len(cases) else {}
            problems.append(f"{name}: {len(cases)} failure(s), e.g. column {first.get('column')!r} "
                            f"check {first.get('check')!r} value {first.get('failure_case')!r}")
    return problems


def _do(kind: str, payload):
    if kind == "contract":
        return run_contract(payload)
    if kind == "expectations":
        from pipeline.outputs import expectations

        return expectations.evaluate_exported(**payload)
    raise ValueError(kind)


def _warm_up() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import pandas  # noqa: F401

    from pipeline.outputs.expectations import import_gx_without_spark
    from schemas.models import model        # pandera, without its Spark backend

    import_gx_without_spark()
    from schemas.tables import TABLES

    for name in TABLES:
        model(name)


def _serve(conn) -> None:
    """The sidecar process: warm up, then answer (kind, payload) jobs until told to stop."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C is the run's to handle
    try:
        # the lowest priority: on two cores the run's readers and rules keep both busy, and the
        # sidecar's seconds of imports and checks fit in the time they leave idle (nice 5 still
        # took a fifth of the machine from the readers: a 50k run took 2 s longer)
        os.nice(19)
    except (AttributeError, OSError):
        pass
    try:
        _warm_up()
    except Exception:       # noqa: BLE001 — a job will say what is wrong
        pass
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        kind, payload = msg
        try:
            conn.send((kind, True, _do(kind, payload)))
        except Exception as exc:       # noqa: BLE001 — reported to the run, which decides
            conn.send((kind, False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))


# ---------------------------------------------------------------------------- the run's side

class Sidecar:
    """A helper process for the slow checks; falls back to doing the work in-process."""

    def __init__(self, proc=None, conn=None):
        self.proc, self.conn = proc, conn
        self.pending: dict[str, object] = {}     # kind -> payload (sent, or to do in-process)
        self.done: dict[str, tuple[bool, object]] = {}

    @classmethod
    def start(cls, enabled: bool = True) -> Sidecar:
        if not enabled or os.environ.get("CARDCHECK_SIDECAR", "1") == "0":
            return cls()
        try:
            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child,), daemon=True, name="cardcheck-sidecar")
            proc.start()
            child.close()
            return cls(proc, parent)
        except Exception:      # noqa: BLE001 — no second process: do the work here
            return cls()

    def submit(self, kind: str, payload) -> None:
        self.pending[kind] = payload
        if self.conn is not None:
            try:
                self.conn.send((kind, payload))
                return
            except (OSError, EOFError, BrokenPipeError):
                self._lost()

    def known(self, kind: str, value) -> None:
        """A job's result known without doing it (a re-run's cached result)."""
        self.done[kind] = (True, value)

    def stop_if_unused(self) -> None:
        """Nothing was handed to the sidecar (every result was known): stop it now rather than
        let it finish importing its libraries beside the run's own work."""
        if not self.pending:
            self._lost()

    def _lost(self) -> None:
        self.conn = None
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()

    def result(self, kind: str):
        """The job's result; raises RuntimeError with the sidecar's one line when the job failed."""
        while kind not in self.done and self.conn is not None:
            try:
                got_kind, ok, value = self.conn.recv()
            except (OSError, EOFError):
                self._lost()
                break
            self.done[got_kind] = (ok, value)
        if kind not in self.done:          # no sidecar (or it died): do it here
            try:
                self.done[kind] = (True, _do(kind, self.pending[kind]))
            except Exception as exc:       # noqa: BLE001
                self.done[kind] = (False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        ok, value = self.done[kind]
        if not ok:
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.send(None)
            except (OSError, EOFError, BrokenPipeError):
                pass
            self.conn.close()
            self.conn = None
        if self.proc is not None:
            # its results are in (or no longer wanted): no need to wait while an interpreter that
            # loaded pandas and Great Expectations tears itself down at the lowest priority
            # (that took 0.8 s at the end of every run)
            self.proc.join(timeout=0.05)
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(timeout=5)
            if self.proc.is_alive():
                self.proc.kill()
            self.proc = None
