"""DuckDB connections made one way: no extension is ever installed or loaded automatically (a
`--db county.sqlite` must not make DuckDB fetch the sqlite extension over the network), and a
file that is not a DuckDB database is refused before DuckDB touches it."""
from __future__ import annotations

from pathlib import Path

SAFE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"


class NotADatabase(ValueError):
    """The file exists and is not a DuckDB database; str(exc) is the one-line reason."""


def connect(path: str | Path = ":memory:", *, read_only: bool = False, config: dict | None = None):
    import duckdb

    if str(path) != ":memory:":
        check_database_file(Path(path))
    return duckdb.connect(str(path), read_only=read_only, config={**SAFE_CONFIG, **(config or {})})


def check_database_file(path: Path) -> None:
    """Refuse a path that exists and is not a DuckDB database file (left untouched)."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_file():
        raise NotADatabase(f"{path} is not a file (a folder?): give --db a DuckDB database file")
    if path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as f:
            head = f.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError as exc:
        raise NotADatabase(f"cannot read {path}: {exc.strerror}") from None
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise NotADatabase(f"{path} is not a DuckDB database (cardcheck left it untouched); "
                           f"give --db a .duckdb file or a new name")


def dicts(cur) -> list[dict]:
    """The rows of an executed query as dicts keyed by column name (for pages and reports)."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
