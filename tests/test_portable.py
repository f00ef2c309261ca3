"""The catalogue's SQL is portable (issue L): every view and rule is inside the portable subset and
transpiles to Spark SQL; the lint refuses what the Spark engine would read differently. No JVM here:
the rules on Spark themselves are compared in `make check-spark`."""
import datetime as dt
import subprocess
import sys

import pytest

from checks import params as P
from checks import portable
from checks.catalogue import VIEWS, all_rules

VALUES = P.sql_params(P.load_params(), dt.date(2026, 10, 31))
QUERIES = [(v.name, v.sql) for v in VIEWS.values()] + [(r.id, r.sql) for r in all_rules()]


@pytest.mark.parametrize("name,sql", QUERIES, ids=[q[0] for q in QUERIES])
def test_every_query_is_portable_and_transpiles(name, sql):
    assert portable.lint(sql) == []
    import sqlglot

    spark_sql = portable.to_spark(sql, VALUES)
    sqlglot.parse_one(spark_sql, read="spark")          # well-formed Spark SQL
    assert "$" not in portable.bind_literals(sql, VALUES).replace("$'", "").replace("$)", "")


BAD = {
    "date subtraction": "SELECT due_on - issued_on AS d FROM loans",
    "range table function": "SELECT range AS k FROM range(1, 19)",
    "format spec {:g}": "SELECT format('{:g}', area) FROM housing",
    "distinct window": "SELECT count(DISTINCT a) OVER (PARTITION BY b) FROM t",
    "unmapped function": "SELECT list_reverse(list(x)) FROM t",
    "unanchored first-only replace": "SELECT regexp_replace(name, 'a', 'b') FROM members",
    "descending list": "SELECT list(x ORDER BY x DESC) FROM t",
    "row value outside arg_min": "SELECT (a, b) AS pair FROM t",
}


@pytest.mark.parametrize("what", list(BAD))
def test_lint_refuses_a_non_portable_construct(what):
    assert portable.lint(BAD[what]) != [], what


def test_lint_accepts_the_portable_forms_of_the_same():
    for sql in ["SELECT date_diff('day', issued_on, due_on) AS d FROM loans",
                "SELECT k FROM (VALUES (1), (2)) AS t(k)",
                "SELECT format('{}', regexp_replace(format('{:.4f}', area), '\\.?0+$', '')) FROM housing",
                "SELECT regexp_replace(name, 'a', 'b', 'g') FROM members",
                "SELECT list(x ORDER BY x) FROM t"]:
        assert portable.lint(sql) == [], sql


def test_re2_features_are_rewritten_for_java():
    assert portable.re2_to_java(r"[\s\p{Z}]") == r"[\t\n\f\r \p{Z}]"
    assert portable.re2_to_java(r"^\s+") == r"^[\t\n\f\r ]+"
    assert portable.re2_to_java(r"\p{Latin}") == r"\p{IsLatin}"
    assert portable.re2_to_java(r"\p{Nd}\p{P}") == r"\p{Nd}\p{P}"
    assert portable.re2_to_java(r"[^\s/?#]+\S*") == r"[^\t\n\f\r /?#]+[^\t\n\f\r ]*"


def test_evidence_is_json_text_at_the_top_and_structs_inside_lists():
    sql = ("SELECT json_object('rows', list(json_object('a', a) ORDER BY a), 'n', count(*)) AS evidence "
           "FROM t GROUP BY b")
    out = portable.to_spark(sql, {}).upper()
    assert out.count("TO_JSON(") == 1 and "JSON_OBJECT" not in out


def test_the_duckdb_path_imports_neither_sqlglot_nor_pyspark():
    code = ("import sys, cli, pipeline.run, checks.engine; "
            "print(any(m.split('.')[0] in ('sqlglot', 'pyspark') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
