"""`cardcheck demo` starts from a fresh database, but never at the cost of a real county's history.

The demo runs in the data folder with its default database, so that after `make demo` the
README's `cardcheck feedback …` example works as written. It deletes that database first only when
every run recorded in it was a demo run (its drop lies under the demo folder); otherwise it refuses.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.store.duck import NotADatabase, connect


class DemoRefused(Exception):
    """The database holds runs of real drops; str(exc) says what to do."""


def clear_demo_database(db: Path, demo_root: Path) -> None:
    db, demo_root = Path(db), Path(demo_root).resolve()
    if not db.exists():
        return
    try:
        con = connect(db, read_only=True)
    except NotADatabase as exc:
        raise DemoRefused(str(exc)) from None
    try:
        has_runs = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'").fetchone()[0]
        manifests = con.execute("SELECT manifest FROM runs").fetchall() if has_runs else []
    finally:
        con.close()
    for (m,) in manifests:
        try:
            drop = Path(json.loads(m or "{}").get("drop") or "")
        except ValueError:
            drop = Path("")
        if not drop.is_absolute():
            drop = (Path.cwd() / drop)
        if not drop.resolve().is_relative_to(demo_root):
            raise DemoRefused(f"the database {db} holds runs of real data (e.g. {drop}); the demo will not "
                              f"replace it — give the demo its own data folder: cardcheck demo --data demo-data")
    db.unlink()
    wal = db.with_name(db.name + ".wal")
    wal.unlink(missing_ok=True)
