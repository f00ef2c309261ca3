"""Where cardcheck keeps its files: one data folder, found the same way from any working folder.

    resolve(config=None, data=None, cwd=None, environ=None) -> Settings

The data folder holds the raw drops (`raw/`), the run reports (`reports/`), the database
(`clean/cardcheck.duckdb`), the run lock and (later) the portal's store. It is found in this
order, the first that applies winning:

  1. `--config FILE`      a cardcheck.toml named on the command line
  2. `--data DIR`
  3. `$CARDCHECK_DATA`
  4. the nearest `cardcheck.toml` in the working folder or one of its parents
  5. `./data`

A cardcheck.toml (paths relative to the file's own folder; every key optional):

    data = "data"            # the data folder
    reports = "reports"      # default: <data>/reports
    raw = "data/raw"         # default: <data>/raw
    database = "..."         # default: <data>/clean/cardcheck.duckdb

Every command says which data folder it uses (Settings.describe), so running from another
folder never silently starts a second, empty history.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "cardcheck.toml"
ENV_DATA = "CARDCHECK_DATA"
_KEYS = {"data", "reports", "raw", "database"}


class SettingsError(ValueError):
    """The configuration cannot be used; str(exc) is the one-line reason."""


@dataclass(frozen=True)
class Settings:
    data: Path            # the data folder (absolute)
    raw: Path             # raw drops: <raw>/<period>/
    reports: Path         # run outputs: <reports>/<period>/
    database: Path        # the DuckDB file (canonical tables and history)
    source: str           # how the data folder was found, for people

    @property
    def lock(self) -> Path:
        return self.data / "cardcheck.lock"

    @property
    def state(self) -> Path:
        """Small files the tool keeps for itself (journals of output swaps)."""
        return self.data / ".cardcheck"

    def describe(self) -> str:
        return f"数据目录 data folder: {self.data} ({self.source})"


def _read_config(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"configuration file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the configuration file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"configuration file {path} is not valid TOML: {exc}") from None
    table = raw.get("paths", raw) if isinstance(raw.get("paths"), dict) else raw
    unknown = sorted(k for k in table if k not in _KEYS and k != "paths")
    if unknown:
        raise SettingsError(f"configuration file {path}: unknown key {unknown[0]!r} "
                            f"(known: {', '.join(sorted(_KEYS))})")
    out = {}
    for k in _KEYS & set(table):
        v = table[k]
        if not isinstance(v, str) or not v.strip():
            raise SettingsError(f"configuration file {path}: {k} must be a folder path in quotes")
        out[k] = v
    return out


def _from_config(path: Path, how: str) -> Settings:
    path = path.resolve()
    cfg = _read_config(path)
    base = path.parent

    def at(v: str) -> Path:
        return (base / Path(v).expanduser()).resolve()

    data = at(cfg.get("data", "data"))
    return Settings(data=data, raw=at(cfg["raw"]) if "raw" in cfg else data / "raw",
                    reports=at(cfg["reports"]) if "reports" in cfg else data / "reports",
                    database=at(cfg["database"]) if "database" in cfg else data / "clean" / "cardcheck.duckdb",
                    source=f"{how} {path}")


def _plain(data: Path, how: str) -> Settings:
    data = data.expanduser().resolve()
    return Settings(data=data, raw=data / "raw", reports=data / "reports",
                    database=data / "clean" / "cardcheck.duckdb", source=how)


def find_config(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        cand = folder / CONFIG_NAME
        if cand.is_file():
            return cand
    return None


def resolve(config: Path | None = None, data: Path | None = None, cwd: Path | None = None,
            environ: dict | None = None) -> Settings:
    """The settings of this invocation (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    cwd = (cwd or Path.cwd()).resolve()
    if config is not None:
        return _from_config(cwd / Path(config).expanduser(), "--config")
    if data is not None:
        return _plain(cwd / Path(data), "--data")
    if env.get(ENV_DATA):
        return _plain(cwd / Path(env[ENV_DATA]), f"${ENV_DATA}")
    found = find_config(cwd)
    if found is not None:
        return _from_config(found, CONFIG_NAME)
    return _plain(cwd / "data", "default ./data")
