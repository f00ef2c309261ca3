"""Header aliases: matching a file's header cells to canonical columns (inputs.md "Reading details").

Headers are compared after NFKC, removing all whitespace and zero-width
characters, then removing one trailing parenthesised unit; exact names are
tried first.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from schemas.tables import TABLES, Table

_WS = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff]+")
_UNIT = re.compile(r"\([^()]*\)$")


def norm_header(h: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", h or ""))


def strip_unit(h: str) -> str:
    return _UNIT.sub("", h, count=1)


@dataclass(frozen=True)
class HeaderIndex:
    exact: dict[str, list[tuple[str, str]]]      # normalised header -> [(table, column)]
    unitless: dict[str, list[tuple[str, str]]]   # unit-stripped header -> [(table, column)]


@lru_cache(maxsize=1)
def index() -> HeaderIndex:
    exact: dict[str, list] = {}
    unitless: dict[str, list] = {}
    for t in TABLES.values():
        for c in t.columns:
            for h in c.headers:
                n = norm_header(h)
                exact.setdefault(n, []).append((t.name, c.name))
                unitless.setdefault(strip_unit(n), []).append((t.name, c.name))
    return HeaderIndex(exact, unitless)


@lru_cache(maxsize=1)
def _all_cjk() -> bool:
    """Every known header holds a CJK character (so a cell without one is no header)."""
    return all(any(ch >= "\u2e80" for ch in k) for k in index().exact)


@lru_cache(maxsize=1 << 16)
def is_known(cell: str) -> bool:
    if not cell or len(cell) > 64 or (_all_cjk() and max(cell) < "\u2e80"):
        return False
    n = norm_header(cell)
    if not n:
        return False
    ix = index()
    return n in ix.exact or strip_unit(n) in ix.unitless


def map_columns(table: Table, headers: list[str]) -> dict[str, int]:
    """Canonical column -> index of the file column holding it (first match; exact names first)."""
    return map_normed(table, [norm_header(h) for h in headers])


def map_normed(table: Table, normed: list[str]) -> dict[str, int]:
    """map_columns over headers already normalised (work linear in the headers: positions are
    looked up by name, not searched)."""
    result: dict[str, int] = {}
    used: set[int] = set()
    exact: dict[str, list[int]] = {}
    unitless: dict[str, list[int]] = {}
    for i, n in enumerate(normed):
        if n:
            exact.setdefault(n, []).append(i)
            unitless.setdefault(strip_unit(n), []).append(i)
    # pass 1: exact names (canonical header first, then aliases); pass 2: unit-stripped
    for strip, where in ((False, exact), (True, unitless)):
        for c in table.columns:
            if c.name in result:
                continue
            for h in c.headers:
                target = norm_header(h)
                if strip:
                    target = strip_unit(target)
                i = next((i for i in where.get(target, ()) if i not in used), None)
                if i is not None:
                    result[c.name] = i
                    used.add(i)
                    break
    return result
