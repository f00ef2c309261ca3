"""Stage 2 — normalise: raw cell text → typed canonical values, as inputs.md prescribes.

Every normaliser is a DuckDB SQL macro, applied set-based to a staged table of
raw text (one VARCHAR column per canonical column). A value that cannot be
parsed becomes NULL and is reported as SCH-02 by comparing raw and parsed.

    install(con)                       create the macros on a connection
    select_list(table, date1904)       the SELECT expressions turning raw columns into typed ones
    sch02_sql(table, src)              the SCH-02 findings of a staged relation
"""
from __future__ import annotations

from schemas.tables import Col, Table

ZW = "\u200b\u200c\u200d\u2060\ufeff"           # zero-width characters
WS = " \t\r\n\u3000\u00a0\u000b\u000c"          # whitespace trimmed around values
FW_DIGITS = "０１２３４５６７８９"
# full-width ASCII block FF01..FF5E -> 21..7E (NFKC for the characters that matter here)
FW_ASCII = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
ASCII = "".join(chr(c) for c in range(0x21, 0x7F))

MACROS = [
    # text: strip zero-width characters everywhere, trim surrounding whitespace (U+3000 included)
    f"""CREATE OR REPLACE MACRO cc_text(s) AS
        nullif(trim(regexp_replace(CAST(s AS VARCHAR), '[{ZW}]', '', 'g'), '{WS}'), '')""",
    # full-width ASCII -> ASCII (enum values, numbers, dates, codes)
    f"""CREATE OR REPLACE MACRO cc_ascii(s) AS
        CASE WHEN regexp_matches(cc_text(s), '[\uFF01-\uFF5E]')
             THEN translate(cc_text(s), '{FW_ASCII.replace("'", "''")}', '{ASCII.replace("'", "''")}')
             ELSE cc_text(s) END""",
    # ID numbers: also inner spaces, a leading apostrophe, full-width digits, lower-case x.
    # Scientific notation (a rounded numeric ID) is kept as Excel displays it (upper-case E).
    f"""CREATE OR REPLACE MACRO cc_id(s) AS nullif(
        regexp_replace(upper(regexp_replace(regexp_replace(cc_ascii(s), '[{WS}]', '', 'g'),
                                            '^[''‘’`]+', '')),
                       'E\\+?([0-9]+)$', 'E+\\1'), '')""",
    # code columns (户编号, phone): digits from numeric cells arrive without '.0' from the reader;
    # a CSV written from a numeric cell may still carry '.0'
    """CREATE OR REPLACE MACRO cc_code(s) AS
        regexp_replace(regexp_replace(cc_ascii(s), '^[''‘’`]+', ''), '^([0-9]+)\\.0+$', '\\1')""",
    # numbers: thousands separators, ¥/￥/元 removed
    """CREATE OR REPLACE MACRO cc_numtext(s) AS
        regexp_replace(regexp_replace(cc_ascii(s), '[,，¥￥元\\s]', '', 'g'), '^\\+', '')""",
    """CREATE OR REPLACE MACRO cc_num(s) AS
        CASE WHEN regexp_full_match(cc_numtext(s), '-?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?')
             THEN TRY_CAST(cc_numtext(s) AS DOUBLE) END""",
    # integers: also a trailing 人, 户, 个月, 月 or 年; must be a whole number
    """CREATE OR REPLACE MACRO cc_int(s) AS
        CASE WHEN regexp_full_match(regexp_replace(cc_numtext(s), '(人|户|个月|月|年)$', ''),
                                    '-?[0-9]+(\\.0+)?')
             THEN TRY_CAST(TRY_CAST(regexp_replace(cc_numtext(s), '(人|户|个月|月|年)$', '') AS DOUBLE) AS BIGINT) END""",
    # yes/no
    """CREATE OR REPLACE MACRO cc_bool(s) AS
        CASE WHEN upper(cc_ascii(s)) IN ('是', 'Y', '√', '1', '有', 'TRUE') THEN true
             WHEN upper(cc_ascii(s)) IN ('否', 'N', '×', '0', '无', 'FALSE') THEN false END""",
    # dates (inputs.md "Dates"): yyyymmdd, Excel serials (1900 or 1904 system), y-m-d with - / . ,
    # 年月日, month precision (YYYY年M月, YYYY-MM) = first day; a trailing 00:00:00 is ignored
    """CREATE OR REPLACE MACRO cc_datetext(s) AS
        regexp_replace(cc_ascii(s), '[ T]00:00(:00(\\.0+)?)?$', '')""",
    """CREATE OR REPLACE MACRO cc_ymd(y, m, d) AS
        CASE WHEN TRY_CAST(y AS INTEGER) BETWEEN 1 AND 9999 AND TRY_CAST(m AS INTEGER) BETWEEN 1 AND 12
                  AND TRY_CAST(d AS INTEGER) BETWEEN 1 AND 31
             THEN try_strptime(lpad(y, 4, '0') || lpad(m, 2, '0') || lpad(d, 2, '0'), '%Y%m%d')::DATE END""",
    """CREATE OR REPLACE MACRO cc_date_t(t, is1904) AS
        CASE
            WHEN t IS NULL THEN NULL
            WHEN regexp_full_match(t, '[0-9]{8}') AND CAST(t AS BIGINT) BETWEEN 19000101 AND 29991231
                THEN cc_ymd(substr(t, 1, 4), substr(t, 5, 2), substr(t, 7, 2))
            WHEN regexp_full_match(t, '[0-9]+(\\.0+)?') AND TRY_CAST(TRY_CAST(t AS DOUBLE) AS BIGINT) BETWEEN 1 AND 2958465
                THEN CASE
                    WHEN is1904 THEN DATE '1904-01-01' + CAST(TRY_CAST(t AS DOUBLE) AS INTEGER)
                    WHEN CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) < 60 THEN DATE '1899-12-31' + CAST(TRY_CAST(t AS DOUBLE) AS INTEGER)
                    WHEN CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) = 60 THEN NULL
                    ELSE DATE '1899-12-30' + CAST(TRY_CAST(t AS DOUBLE) AS INTEGER) END
            WHEN regexp_full_match(t, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}|[0-9]{4}\\.[0-9]{1,2}\\.[0-9]{1,2}')
                THEN cc_ymd(regexp_extract(t, '^([0-9]{4})', 1),
                            regexp_extract(t, '^[0-9]{4}[-/.]([0-9]{1,2})', 1),
                            regexp_extract(t, '([0-9]{1,2})$', 1))
            WHEN regexp_full_match(t, '[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日')
                THEN cc_ymd(regexp_extract(t, '^([0-9]{4})', 1),
                            regexp_extract(t, '年([0-9]{1,2})月', 1),
                            regexp_extract(t, '月([0-9]{1,2})日', 1))
            WHEN regexp_full_match(t, '[0-9]{4}年[0-9]{1,2}月')
                THEN cc_ymd(regexp_extract(t, '^([0-9]{4})', 1), regexp_extract(t, '年([0-9]{1,2})月', 1), '1')
            WHEN regexp_full_match(t, '[0-9]{4}-[0-9]{1,2}')
                THEN cc_ymd(regexp_extract(t, '^([0-9]{4})', 1), regexp_extract(t, '-([0-9]{1,2})$', 1), '1')
            END""",
    "CREATE OR REPLACE MACRO cc_date(s, is1904) AS cc_date_t(cc_datetext(s), is1904)",
]


def install(con) -> None:
    for m in MACROS:
        con.execute(m)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def typed_expr(c: Col, raw: str, date1904: str = "false") -> str:
    """SQL expression turning the raw text column `raw` into the canonical value of `c`."""
    if c.type == "text":
        return f"cc_text({raw})"
    if c.type == "id":
        return f"cc_id({raw})"
    if c.type == "code":
        return f"cc_code({raw})"
    if c.type == "num":
        e = f"cc_num({raw})"
    elif c.type == "int":
        e = f"cc_int({raw})"
    elif c.type == "bool":
        return f"cc_bool({raw})"
    elif c.type == "date":
        return f"cc_date({raw}, {date1904})"
    elif c.type == "enum":
        dom = ", ".join(_q(v) for v in c.domain)
        e = f"CASE WHEN cc_ascii({raw}) IN ({dom}) THEN cc_ascii({raw}) END"
        if c.empty_as:
            e = f"CASE WHEN cc_text({raw}) IS NULL THEN {_q(c.empty_as)} ELSE {e} END"
        return e
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
    return ",\n       ".join(
        f'{typed_expr(c, prefix + chr(34) + c.name + chr(34), date1904)} AS "{c.name}"'
        for c in table.columns)
