"""Quoting for SQL text built in Python (DuckDB): the one place that escapes literals and names."""


def lit(s: str) -> str:
    """A SQL string literal: 'it''s'."""
    return "'" + s.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier: "col ""x""."""
    return '"' + name.replace('"', '""') + '"'


# the characters Python's str.isspace() / str.strip() / re's \s take as whitespace, spelled out: a
# character class made of them means the same in Python's re, in DuckDB (RE2) and in pyarrow,
# whose \s is ASCII only (test: tests/test_expectations.py)
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                 "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

# what the loader trims around values (and removes inside IDs): whitespace, and the zero-width
# characters it removes everywhere (pipeline.ingest.normalise); the post-load contract checks
# exactly these (schemas.models)
ZW = "\u200b\u200c\u200d\u2060\ufeff"
WS = " \t\r\n\u3000\u00a0\u000b\u000c\u0085\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
