"""A hash of cardcheck's own source, for the caches in the data folder (pipeline.ingest.cache,
pipeline.check.cache): a cached result is reused only by the code that made it."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def code_hash(salt: str, folders: tuple[str, ...]) -> str:
    """sha256 (16 hex digits) of `salt` and every .py file of `folders` (relative to the project
    root), names included, in a fixed order."""
    h = hashlib.sha256(salt.encode())
    for folder in folders:
        for p in sorted((ROOT / folder).glob("*.py")):
            h.update(f"{folder}/{p.name}".encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]
