"""Quoting for SQL text built in Python (DuckDB): the one place that escapes literals and names."""


def lit(s: str) -> str:
    """A SQL string literal: 'it''s'."""
    return "'" + s.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier: "col ""x""."""
    return '"' + name.replace('"', '""') + '"'
