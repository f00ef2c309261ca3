"""pandera models of the 17 canonical tables, generated from schemas.tables.

They are the post-load contract: after normalisation every loaded table must
conform (types, enum domains, ranges, ID characters). A violation is a defect of
cardcheck itself, never of the input (bad input values become SCH-02 and NULL).
"""
from __future__ import annotations

import sys
from functools import lru_cache

from schemas.sql import WS, ZW
from schemas.tables import CONTRACT_SAMPLE_ROWS, TABLES, Col, Table, contract_rows_sql

# pandera loads its pyspark backend when pyspark is installed (cardcheck's spark extra): importing
# it then prints warnings and, without grpc, can exit the process. The contract is pandas only.
_BLOCK_SPARK = "pyspark" not in sys.modules
if _BLOCK_SPARK:
    sys.modules["pyspark"] = None                # ImportError for pandera: no Spark backend
try:
    import pandera.pandas as pa
finally:
    if _BLOCK_SPARK and sys.modules.get("pyspark", 0) is None:
        del sys.modules["pyspark"]

_DTYPES = {"text": str, "id": str, "code": str, "enum": str,
           "int": "Int64", "num": "Float64", "bool": "boolean", "date": "datetime64[us]"}


def _column(c: Col) -> pa.Column:
    checks = []
    if c.type == "enum":
        checks.append(pa.Check.isin(list(c.domain)))
    if c.lo is not None:
        checks.append(pa.Check.ge(c.lo))
    if c.hi is not None:
        checks.append(pa.Check.le(c.hi))
    # what the loader guarantees, with its own notion of whitespace (schemas.sql.WS, ZW): a value
    # with some other space character is data, not a breach. Characters spelled out mean the same
    # in Python's re and in pyarrow's RE2 (pandas matches Arrow-backed strings with RE2).
    if c.type == "id":
        # normalised IDs: no whitespace or zero-width character inside
        checks.append(pa.Check.str_matches(f"^[^{WS}{ZW}]+$"))
    if c.type in ("text", "code", "id"):
        # a search, not str.match: match anchors every alternative at the start, so a trailing
        # space went unnoticed
        checks.append(pa.Check(lambda s: ~s.str.contains(f"^[{WS}{ZW}]|[{WS}{ZW}]$", regex=True),
                               element_wise=False, error="not trimmed"))
    return pa.Column(_DTYPES[c.type], checks=checks, nullable=True, coerce=True, required=True)


@lru_cache(maxsize=None)
def model(name: str) -> pa.DataFrameSchema:
    t: Table = TABLES[name]
    return pa.DataFrameSchema({c.name: _column(c) for c in t.columns}, name=name, strict=False)


SAMPLE_ROWS = CONTRACT_SAMPLE_ROWS     # larger tables are checked on a reproducible sample (memory, time)


def validate_loaded(con, tables=None, sample_rows: int = SAMPLE_ROWS) -> None:
    """Validate the loaded canonical tables; raises pandera's SchemaErrors on a contract breach.

    The SQL normalisers enforce types and domains by construction; this is the assertion that
    they did. Tables above `sample_rows` rows are checked on a fixed sample (contract_rows_sql), so
    a province-sized table does not have to be copied into pandas whole."""
    for name in tables or TABLES:
        df = con.execute(contract_rows_sql(con, name, sample_rows)).df()
        model(name).validate(df, lazy=True)
