"""Resident ID facts from python-stdnum: GB 11643 check digits and GB/T 2260 region codes.

We use stdnum's check-digit helper and its region table (current and historical
codes), not its `validate()`, which rejects valid IDs whose region code did not
exist yet in the birth year (see shared/notes/stack.md).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

# stdnum is imported where it is used: importing it loads ssl, socket and pydoc (~30 ms), which
# `cardcheck validate` (whose check digit and region table need none of it) should not pay

# GB 11643 (ISO 7064 MOD 11-2): weights of the 17 body digits, and the check character for
# (weighted sum mod 11)
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
CHECK_CHARS = "10X98765432"

# the same as check_digit(), in SQL (vectorised; NULL unless the first 17 characters are ASCII
# digits): no Python function in DuckDB, so no per-value call and no numpy import for validate
CHECK_DIGIT_MACRO = (
    "CREATE OR REPLACE TEMP MACRO id_check_digit(v) AS "
    "CASE WHEN regexp_matches(v, '^[0-9]{17}') THEN substr('" + CHECK_CHARS + "', ("
    + " + ".join(f"(ascii(substr(v, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS))
    + ") % 11 + 1, 1) END")


def check_digit(id17: str) -> str:
    """Check character (0-9 or X) for the first 17 digits of an ID."""
    from stdnum.cn import ric

    return ric.calc_check_digit(id17 + "0")


def to18(id15: str) -> str:
    """Convert a 15-digit legacy ID to 18 digits: insert '19' after digit 6, append the check digit."""
    body = id15[:6] + "19" + id15[6:]
    return body + check_digit(body)


@lru_cache(maxsize=1)
def region_codes() -> tuple[str, ...]:
    """All 6-digit administrative division codes stdnum knows (current and historical).

    Read straight from stdnum's `cn/loc.dat` (a few ms; stdnum's own parser of it takes a quarter
    of a second, which `cardcheck validate` pays on every start); the same codes as walking
    stdnum's parsed table (`_region_codes_numdb`, compared by a test)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("stdnum")      # where stdnum is, without importing it
        text = (Path(spec.origin).parent / "cn" / "loc.dat").read_text(encoding="utf-8")
    except (OSError, AttributeError, TypeError):
        return _region_codes_numdb()
    codes, stack = set(), []           # stack: (indent, prefix) of the enclosing lines
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        token = line.split()[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        pre = stack[-1][1] if stack else ""
        low, _, high = token.partition("-")
        high = high or low
        for n in range(int(low), int(high) + 1):
            code = pre + str(n).zfill(len(low))
            if len(code) == 6:
                codes.add(code)
        stack.append((indent, pre + low))
    return tuple(sorted(codes))


def _region_codes_numdb() -> tuple[str, ...]:
    from stdnum import numdb

    db = numdb.get("cn/loc")

    def walk(prefixes, pre=""):
        for _length, low, high, _props, children in prefixes:
            for n in range(int(low), int(high) + 1):
                code = pre + str(n).zfill(len(low))
                if children:
                    yield from walk(children, code)
                else:
                    yield code

    return tuple(sorted({c for c in walk(db.prefixes) if len(c) == 6}))


def region_name(code: str) -> str:
    from stdnum import numdb

    parts = numdb.get("cn/loc").info(code)
    return "".join(v for _, p in parts for v in p.values())


def make_id(region: str, birth: dt.date, seq: int, male: bool) -> str:
    """A structurally valid 18-digit ID (for generated data only)."""
    seq = seq % 100
    gender_digit = (seq % 5) * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{seq:02d}{gender_digit}"
    return body + check_digit(body)


def register(con) -> None:
    """Create the `region_codes` table and the `id_check_digit(VARCHAR)` function in a DuckDB connection."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "region_codes" not in tables:
        con.execute("CREATE TABLE region_codes AS SELECT unnest(?::VARCHAR[]) AS code", [list(region_codes())])
    con.execute(CHECK_DIGIT_MACRO)
