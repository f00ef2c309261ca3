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


def is_known(cell: str) -> bool:
    n = norm_header(cell)
    if not n:
        return False
    ix = index()
    return n in ix.exact or strip_unit(n) in ix.unitless


def map_columns(table: Table, headers: list[str]) -> dict[str, int]:
    """Canonical column -> index of the file column holding it (first match; exact names first)."""
    normed = [norm_header(h) for h in headers]
    result: dict[str, int] = {}
    used: set[int] = set()
    # pass 1: exact names (canonical header first, then aliases); pass 2: unit-stripped
    for strip in (False, True):
        for c in table.columns:
            if c.name in result:
                continue
            for h in c.headers:
                target = norm_header(h)
                if strip:
                    target = strip_unit(target)
                for i, n in enumerate(normed):
                    if i in used or not n:
                        continue
                    if (strip_unit(n) if strip else n) == target:
                        result[c.name] = i
                        used.add(i)
                        break
                if c.name in result:
                    break
    return result
