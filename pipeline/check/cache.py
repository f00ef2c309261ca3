"""What the rule stage found last time, for a re-run whose inputs did not change (issue J).

A county re-runs a period after every correction; when no file changed since the last run of the
period (same bytes, same names, same parameters, same reference date, same code), the rules would
find exactly what they found then. The stage's results — `issues_current` as the rules left it
(before the period's history is applied), each rule's result, the townships lacking a table and
the reconciliation figures — are kept in the data folder under a key of all of that, and used
instead of running the rules again.

    key = stage_key(reports, params, ref_date, period)
    hit = RuleCache(folder).get(key, con)        # None, or (results, lacking, recon) and issues_current made
    RuleCache(folder).put(key, con, results, lacking, recon)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from checks.engine import RuleResult
from pipeline.store.codehash import code_hash
from schemas.sql import lit

FORMAT = 1
KEEP = 24                 # entries kept (a county's last two years of periods, a few re-runs each)

def code_fingerprint() -> str:
    """A hash of every module whose change could change what the rule stage finds."""
    return code_hash(f"rules-{FORMAT}", ("checks", "checks/rules", "schemas", "pipeline/ingest",
                                         "pipeline/check", "pipeline/reconcile"))


def stage_key(reports, params: dict, ref_date, period: str) -> str:
    """Of every file of the drop (name and sha256, in drop order) and everything else the rules see."""
    files = sorted({(r.path, r.sha256 or "") for r in reports})
    doc = json.dumps({"files": files, "params": params, "R": str(ref_date), "period": period,
                      "code": code_fingerprint()}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()[:32]


class RuleCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def get(self, key: str, con) -> tuple[list[RuleResult], list[dict], dict] | None:
        d = self.folder / key
        try:
            meta = json.loads((d / "stage.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or not (d / "issues.parquet").is_file():
                return None
            con.execute(f"CREATE OR REPLACE TEMP TABLE issues_current AS "
                        f"SELECT * FROM read_parquet({lit(str(d / 'issues.parquet'))})")
        except (OSError, ValueError):
            return None
        except Exception:        # noqa: BLE001 — a damaged parquet file: the rules run again
            return None
        try:
            os.utime(d / "stage.json")
        except OSError:
            pass
        return [RuleResult(**r) for r in meta["results"]], meta["lacking"], meta["recon"]

    def put(self, key: str, con, results: list[RuleResult], lacking: list[dict], recon: dict) -> None:
        """Keep the stage's results (best effort: a cache that cannot be written is only slower)."""
        staging = self.folder / f".staging-{key}-{os.getpid()}"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            con.execute(f"COPY issues_current TO {lit(str(staging / 'issues.parquet'))} (FORMAT parquet)")
            (staging / "stage.json").write_text(json.dumps(
                {"format": FORMAT, "results": [asdict(r) for r in results], "lacking": lacking, "recon": recon},
                ensure_ascii=False), encoding="utf-8")
            final = self.folder / key
            shutil.rmtree(final, ignore_errors=True)
            os.replace(staging, final)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            return
        self._prune()

    # results of later checks over the same inputs (the contract, the batch expectations), kept in
    # the entry beside the rules' findings: name -> JSON value, and optionally a folder

    @staticmethod
    def subkey(*parts) -> str:
        doc = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]

    def get_extra(self, key: str, name: str, folder_to: Path | None = None):
        """The value kept under `name` (and its folder copied to `folder_to`), or None."""
        d = self.folder / key
        try:
            value = json.loads((d / f"{name}.json").read_text(encoding="utf-8"))
            if folder_to is not None:
                src = d / f"{name}.files"
                if not src.is_dir():
                    return None
                shutil.copytree(src, folder_to, dirs_exist_ok=True)
        except (OSError, ValueError):
            return None
        return value

    def put_extra(self, key: str, name: str, value, folder_from: Path | None = None) -> None:
        d = self.folder / key
        if not d.is_dir():
            return
        try:
            if folder_from is not None:
                if not Path(folder_from).is_dir():
                    return
                shutil.rmtree(d / f"{name}.files", ignore_errors=True)
                shutil.copytree(folder_from, d / f"{name}.files")
            tmp = d / f".{name}.json.{os.getpid()}"
            tmp.write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")
            os.replace(tmp, d / f"{name}.json")
        except OSError:
            return

    def _prune(self) -> None:
        entries = []
        for d in self.folder.iterdir():
            if d.is_dir() and not d.name.startswith("."):
                try:
                    entries.append(((d / "stage.json").stat().st_mtime, d))
                except OSError:
                    entries.append((0.0, d))
        entries.sort(reverse=True)
        for _, d in entries[KEEP:]:
            shutil.rmtree(d, ignore_errors=True)
        for d in self.folder.glob(".staging-*"):
            try:
                if d.stat().st_mtime < time.time() - 3600:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass
