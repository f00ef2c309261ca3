"""What a file contributed last time, kept in the data folder, so that a re-run reads only the
files that changed (issue J).

An entry is keyed by the file's sha256, the reader's own code (a hash of the ingest and schema
modules, so a new cardcheck never reuses an old reading), and the reading options (kind, sheet
cap). It holds the file's reports, its rejected rows and its normalised rows (parquet), exactly
as a reader produced them; a file seen again under another name or at another place in the drop
gets its name and row numbers (_file, _seq) rewritten when it is used.

    cache = IngestCache(folder)
    entry = cache.get(key)            # None, or the stored outcome
    cache.put(key, staging_folder, outcome_dict)
    cache.prune(keep=used_keys)       # entries not used for CACHE_DAYS are removed
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from pipeline.store.codehash import code_hash

FORMAT = 1
CACHE_DAYS = 62          # an entry nobody used for two months (a township's old file) goes


def code_fingerprint() -> str:
    """A hash of the code that reads and normalises files (ingest/, schemas/): any change to it
    makes every cached reading stale."""
    return code_hash(f"ingest-{FORMAT}", ("pipeline/ingest", "schemas"))


def file_key(sha256: str, kind: str | None, max_sheets: int | None, code: str) -> str:
    return hashlib.sha256(f"{sha256}|{kind or ''}|{max_sheets or ''}|{code}".encode()).hexdigest()[:32]


class IngestCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _dir(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> dict | None:
        d = self._dir(key)
        try:
            entry = json.loads((d / "outcome.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        names = [c["file"] for c in entry.get("chunks", [])] + list(entry.get("rejected_files", []))
        if entry.get("format") != FORMAT or not all((d / n).is_file() for n in names):
            return None
        entry["dir"] = str(d)
        try:
            os.utime(d / "outcome.json")        # used now: kept by prune
        except OSError:
            pass
        return entry

    def staging(self, key: str, index: int = 0) -> Path:
        """A fresh folder to read file `index` into (two files of a drop may have the same bytes,
        so the same key: each gets its own)."""
        d = self.folder / ".staging" / f"{key}.{os.getpid()}.{index}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d

    def put(self, key: str, staging: Path, entry: dict) -> Path:
        """Make a staged reading an entry (atomic: a half-written entry is never found)."""
        entry = {**entry, "format": FORMAT}
        (Path(staging) / "outcome.json").write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        final = self._dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            if self.get(key) is not None:       # the same bytes were read just before (a copy in the
                shutil.rmtree(staging, ignore_errors=True)       # drop): keep the entry in use
                return final
            shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)          # on failure the staged files stay where they are
        return final

    def prune(self, keep: set[str], days: int = CACHE_DAYS) -> None:
        if not self.folder.is_dir():
            return
        limit = time.time() - days * 86400
        shutil.rmtree(self.folder / ".staging", ignore_errors=True)
        for sub in self.folder.iterdir():
            if not sub.is_dir() or sub.name.startswith("."):
                continue
            for d in sub.iterdir():
                if d.name in keep:
                    continue
                try:
                    stale = (d / "outcome.json").stat().st_mtime < limit
                except OSError:
                    stale = True
                if stale:
                    shutil.rmtree(d, ignore_errors=True)
