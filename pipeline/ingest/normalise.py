"""Stage 2 — normalise: raw cell text → typed canonical values, as inputs.md prescribes.

Every normaliser is a DuckDB SQL macro, applied set-based to a staged table of
raw text (one VARCHAR column per canonical column). A value that cannot be
parsed becomes NULL and is reported as SCH-02 by comparing raw and parsed.

    install(con)                       create the macros on a connection
    select_list(table, date1904)       the SELECT expressions turning raw columns into typed ones
    sch02_sql(table, src)              the SCH-02 findings of a staged relation
"""
from __future__ import annotations

from schemas.sql import WS, ZW      # whitespace trimmed around values, zero-width characters
from schemas.sql import lit as _q
from schemas.tables import Col, Table

FW_DIGITS = "０１２３４５６７８９"
# full-width ASCII block FF01..FF5E -> 21..7E (NFKC for the characters that matter here)
FW_ASCII = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
ASCII = "".join(chr(c) for c in range(0x21, 0x7F))

MACROS = [
    # text: strip zero-width characters everywhere, trim surrounding whitespace (U+3000 included)
    # Fast paths: almost every cell is already clean; one DFA match (~0.1 µs) is much cheaper
    # than the cleaning (~0.5 µs; trim with a character list ~1 µs), so the slow path runs only
    # for the few that are not. The slow path is one regexp_replace: leading and trailing runs of
    # whitespace/zero-width characters, and every other zero-width character.
    # Macros are expanded textually and every regexp in the expanded tree is compiled on each
    # query: a macro must not repeat an argument that itself holds a regexp (the loader computes
    # such arguments in a layer beneath: see prep_expr).
    f"""CREATE OR REPLACE MACRO cc_text_slow(s) AS
        nullif(regexp_replace(CAST(s AS VARCHAR), '^[{WS}{ZW}]+|[{WS}{ZW}]+$|[{ZW}]', '', 'g'), '')""",
    f"""CREATE OR REPLACE MACRO cc_text(s) AS
        CASE WHEN regexp_full_match(CAST(s AS VARCHAR), '[^{ZW}{WS}]*') THEN nullif(CAST(s AS VARCHAR), '')
             ELSE cc_text_slow(s) END""",
    # full-width ASCII -> ASCII, on cleaned text (enum values, numbers, dates, codes)
    # (full-width digits, ．and ／ are most of what occurs: a short map for them first)
    f"""CREATE OR REPLACE MACRO cc_fold(t) AS
        CASE WHEN NOT regexp_matches(t, '[\uFF01-\uFF5E]') THEN t
             WHEN NOT regexp_matches(t, '[\uFF01-\uFF0D\uFF1A-\uFF5E]')
             THEN translate(t, '{FW_DIGITS}．／', '0123456789./')
             ELSE translate(t, '{FW_ASCII.replace("'", "''")}', '{ASCII.replace("'", "''")}') END""",
    f"""CREATE OR REPLACE MACRO cc_ascii(s) AS
        CASE WHEN regexp_full_match(CAST(s AS VARCHAR), '[^{ZW}{WS}\uFF01-\uFF5E]*')
             THEN nullif(CAST(s AS VARCHAR), '')
             ELSE cc_fold(cc_text_slow(s)) END""",
    # The *_a macros take cleaned, folded text `a` (= cc_ascii of the raw value), so that the
    # loader cleans every cell once; cc_id(s), cc_num(s)… are the same on raw text.
    # ID numbers: also inner spaces, a leading apostrophe, full-width digits, lower-case x.
    # Scientific notation (a rounded numeric ID) is kept as Excel displays it (upper-case E).
    f"""CREATE OR REPLACE MACRO cc_id_a(a) AS
        CASE WHEN regexp_full_match(a, '[0-9]{{17}}[0-9X]') THEN a ELSE nullif(
        regexp_replace(upper(regexp_replace(regexp_replace(a, '[{WS}]', '', 'g'), '^[''‘’`]+', '')),
                       'E\\+?([0-9]+)$', 'E+\\1'), '') END""",
    "CREATE OR REPLACE MACRO cc_id(s) AS cc_id_a(cc_ascii(s))",
    # code columns (户编号, phone): digits from numeric cells arrive without '.0' from the reader;
    # a CSV written from a numeric cell may still carry '.0'
    f"""CREATE OR REPLACE MACRO cc_code_a(a) AS
        CASE WHEN regexp_full_match(a, '[0-9]+') THEN a
             ELSE nullif(regexp_replace(regexp_replace(a, '^[{WS}''‘’`]+', ''), '^([0-9]+)\\.0+$', '\\1'), '') END""",
    "CREATE OR REPLACE MACRO cc_code(s) AS cc_code_a(cc_ascii(s))",
    # numbers: thousands separators, ¥/￥/元 removed
    """CREATE OR REPLACE MACRO cc_numtext_a(a) AS
        regexp_replace(regexp_replace(a, '[,，¥￥元\\s]', '', 'g'), '^\\+', '')""",
    """CREATE OR REPLACE MACRO cc_num_n(n) AS
        CASE WHEN regexp_full_match(n, '-?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?')
                  AND isfinite(TRY_CAST(n AS DOUBLE))
             THEN TRY_CAST(n AS DOUBLE) END""",
    """CREATE OR REPLACE MACRO cc_num_a(a) AS
        CASE WHEN regexp_full_match(a, '-?[0-9]{1,15}(\\.[0-9]{1,15})?') THEN TRY_CAST(a AS DOUBLE)
             ELSE cc_num_n(cc_numtext_a(a)) END""",
    "CREATE OR REPLACE MACRO cc_num(s) AS cc_num_a(cc_ascii(s))",
    # integers: also a trailing 人, 户, 个月, 月 or 年; must be a whole number
    """CREATE OR REPLACE MACRO cc_int_n(n) AS
        CASE WHEN regexp_full_match(n, '-?[0-9]+(\\.0+)?') THEN TRY_CAST(TRY_CAST(n AS DOUBLE) AS BIGINT) END""",
    """CREATE OR REPLACE MACRO cc_int_a(a) AS
        CASE WHEN regexp_full_match(a, '-?[0-9]{1,15}') THEN TRY_CAST(a AS BIGINT)
             ELSE cc_int_n(regexp_replace(cc_numtext_a(a), '(人|户|个月|月|年)$', '')) END""",
    "CREATE OR REPLACE MACRO cc_int(s) AS cc_int_a(cc_ascii(s))",
    # yes/no
    """CREATE OR REPLACE MACRO cc_bool_u(u) AS
        CASE WHEN u IN ('是', 'Y', '√', '1', '有', 'TRUE') THEN true
             WHEN u IN ('否', 'N', '×', '0', '无', 'FALSE') THEN false END""",
    "CREATE OR REPLACE MACRO cc_bool_a(a) AS cc_bool_u(upper(a))",
    "CREATE OR REPLACE MACRO cc_bool(s) AS cc_bool_a(cc_ascii(s))",
    # dates (inputs.md "Dates"): yyyymmdd, Excel serials (1900 or 1904 system), y-m-d with - / . ,
    # 年月日, month precision (YYYY年M月, YYYY-MM) = first day; a trailing 00:00:00 is ignored
    """CREATE OR REPLACE MACRO cc_datetext_a(a) AS
        regexp_replace(a, '[ T]00:00(:00(\\.0+)?)?$', '')""",
    "CREATE OR REPLACE MACRO cc_datetext(s) AS cc_datetext_a(cc_ascii(s))",
    # cc_date_t(t): t is date text without a midnight time; one try_strptime per form (no regexp
    # extraction); year 0000 does not exist (DuckDB would read it as 1 BC)
    """CREATE OR REPLACE MACRO cc_date_t(t, is1904) AS
        CASE
            WHEN t IS NULL THEN NULL
            WHEN regexp_full_match(t, '[0-9]{8}') AND TRY_CAST(t AS BIGINT) BETWEEN 19000101 AND 29991231
                THEN try_strptime(t, '%Y%m%d')::DATE
            WHEN regexp_full_match(t, '[0-9]+(\\.0+)?') AND TRY_CAST(TRY_CAST(t AS DOUBLE) AS BIGINT) BETWEEN 1 AND 2958465
                THEN CASE
                    WHEN is1904 THEN CASE WHEN TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) <= 2957003
                                          THEN DATE '1904-01-01' + TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) END
                    WHEN TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) < 60 THEN DATE '1899-12-31' + TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER)
                    WHEN TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) = 60 THEN NULL
                    ELSE DATE '1899-12-30' + TRY_CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) END
            WHEN starts_with(t, '0000') THEN NULL
            WHEN regexp_full_match(t, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}|[0-9]{4}\\.[0-9]{1,2}\\.[0-9]{1,2}')
                THEN try_strptime(translate(t, '/.', '--'), '%Y-%m-%d')::DATE
            WHEN regexp_full_match(t, '[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日')
                THEN try_strptime(t, '%Y年%m月%d日')::DATE
            WHEN regexp_full_match(t, '[0-9]{4}年[0-9]{1,2}月')
                THEN try_strptime(t || '1日', '%Y年%m月%d日')::DATE
            WHEN regexp_full_match(t, '[0-9]{4}-[0-9]{1,2}')
                THEN try_strptime(t || '-1', '%Y-%m-%d')::DATE
            END""",
    # cc_date_p(d): d = cc_datetext_a of cleaned text (the loader computes it in its prep layer)
    """CREATE OR REPLACE MACRO cc_date_p(d, is1904) AS
        CASE WHEN regexp_full_match(d, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND d >= '1000'
             THEN TRY_CAST(d AS DATE)
             ELSE cc_date_t(d, is1904) END""",
    "CREATE OR REPLACE MACRO cc_date_a(a, is1904) AS cc_date_p(cc_datetext_a(a), is1904)",
    "CREATE OR REPLACE MACRO cc_date(s, is1904) AS cc_date_a(cc_ascii(s), is1904)",
]


def install(con) -> None:
    for m in MACROS:
        con.execute(m)


def prep_expr(c: Col, raw: str) -> str:
    """First layer: clean the raw text once (text columns), fold full-width ASCII (others) and
    drop a midnight time (dates)."""
    if c.type == "text":
        return f"cc_text({raw})"
    if c.type == "date":
        return f"cc_datetext_a(cc_ascii({raw}))"
    return f"cc_ascii({raw})"


def typed_expr(c: Col, raw: str, date1904: str = "false", *, prepared: bool = False) -> str:
    """SQL expression turning the text column `raw` into the canonical value of `c`.

    With prepared=True, `raw` already holds prep_expr() of the cell (cleaned once)."""
    a = raw if prepared else (f"cc_text({raw})" if c.type == "text" else f"cc_ascii({raw})")
    if c.type == "text":
        return a
    if c.type == "id":
        return f"cc_id_a({a})"
    if c.type == "code":
        return f"cc_code_a({a})"
    if c.type == "bool":
        return f"cc_bool_a({a})"
    if c.type == "date":
        return f"cc_date_p({a}, {date1904})" if prepared else f"cc_date_a({a}, {date1904})"
    if c.type == "enum":
        dom = ", ".join(_q(v) for v in c.domain)
        e = f"CASE WHEN {a} IN ({dom}) THEN {a} END"
        if c.empty_as:
            e = f"CASE WHEN {a} IS NULL THEN {_q(c.empty_as)} ELSE {e} END"
        return e
    if c.type == "num":
        e = f"cc_num_a({a})"
    elif c.type == "int":
        e = f"cc_int_a({a})"
    else:
        raise ValueError(c.type)
    conds = []
    if c.lo is not None:
        conds.append(f"{e} >= {c.lo}")
    if c.hi is not None:
        conds.append(f"{e} <= {c.hi}")
    if conds:
        e = f"CASE WHEN {' AND '.join(conds)} THEN {e} END"
    return e


def parse_fails(c: Col, raw: str, date1904: str = "false") -> str | None:
    """SQL condition: the raw value is present but does not parse (SCH-02). None for text types."""
    if c.type in ("text", "id", "code"):
        return None
    return f"(cc_text({raw}) IS NOT NULL AND ({typed_expr(c, raw, date1904)}) IS NULL)"


def raw_present_typed_null(c: Col, raw: str, typed: str) -> str | None:
    """SQL condition for SCH-02 given the raw text and the already typed value."""
    if c.type in ("text", "id", "code"):
        return None
    return f"({typed} IS NULL AND cc_text({raw}) IS NOT NULL)"


def select_list(table: Table, date1904: str = "false", prefix: str = "") -> str:
    """Typed SELECT expressions over a relation whose columns already hold prep_expr() values."""
    return ",\n       ".join(
        f'{typed_expr(c, prefix + chr(34) + c.name + chr(34), date1904, prepared=True)} AS "{c.name}"'
        for c in table.columns)


def prep_list(table: Table, prefix: str = "") -> str:
    return ",\n       ".join(
        f'{prep_expr(c, prefix + chr(34) + c.name + chr(34))} AS "{c.name}"' for c in table.columns)
