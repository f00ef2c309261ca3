"""The rule catalogue's SQL on Spark: one query per rule, written in DuckDB SQL, transpiled with
SQLGlot (DuckDB → Spark SQL) at run time, plus the rewrites SQLGlot does not make (or makes wrong).

    to_spark(sql, values) -> str     a view's or rule's query as Spark SQL, $parameters bound as literals
    lint(sql) -> [str]               the constructs outside the portable subset (empty: portable)

The portable subset is DuckDB SQL whose meaning this module carries to Spark exactly:
* json_object(k, v, …) builds evidence: on Spark a `named_struct`, turned into JSON text by `to_json`
  where it is not nested in another json_object or a list (the engine canonicalises evidence either way);
* list(x [ORDER BY …]) / list(DISTINCT x) / list_sort(list(…)) keep NULL elements and DuckDB's order
  (NULLS LAST), and are NULL over no rows — on Spark a collect of structs, sorted, then unwrapped;
  string_agg likewise, NULLs skipped;
* format('…{}…{:.2f}…', …) → format_string with %s / %.2f (NULL when an argument is NULL, as in DuckDB);
* regular expressions are RE2; those features that differ in Java (\\s, \\S, \\p{Script}) are rewritten;
* id_check_digit(x) (the GB 11643 check character, a DuckDB macro) is inlined as SQL;
* strftime/try_strptime with %Y%m%d-style formats, to_years(n) added to a date, concat() skipping NULLs.
Anything else that one engine reads differently is refused by lint(): date subtraction (use date_diff),
range()/generate_series, DISTINCT inside a window function, {:g} and other format specs,
regexp_replace without 'g' on an unanchored pattern, list functions other than those above.

sqlglot is imported only here, and only when the Spark engine or the lint runs.
"""
from __future__ import annotations

import datetime as dt
import re

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

from schemas.ids import CHECK_CHARS as _CHECK_CHARS, ID_WEIGHTS as _WEIGHTS

# functions a portable rule may call (DuckDB names as SQLGlot parses them); anything else is refused
_ALLOWED_FUNCS = {
    "Abs", "AnyValue", "ArgMax", "ArgMin", "ArrayAgg", "ArrayContains", "ArraySort", "ArrayToString",
    "Avg", "Case", "Cast", "Coalesce", "Concat", "ConcatWs", "Count", "Day", "Exists", "Format",
    "Greatest", "GroupConcat", "If", "JSONObject", "Lead", "Lag", "Least", "Length", "LogicalAnd",
    "LogicalOr", "Lower", "Max", "Min", "Month", "Nullif", "RegexpFullMatch", "RegexpLike",
    "RegexpReplace", "Replace", "Round", "RowNumber", "StartsWith", "Substring", "Sum", "TimeToStr",
    "TimeToUnix", "Trim", "Upper", "Year", "DateDiff", "ArraySize", "Sha256",
    "And", "Or", "Not", "Struct", "Array", "Paren",
}
_ALLOWED_ANON = {"ID_CHECK_DIGIT", "TO_YEARS", "TRY_STRPTIME"}
_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


class NotPortable(ValueError):
    """A query uses a construct outside the portable subset."""


def _sqlglot():
    import sqlglot
    from sqlglot import exp

    return sqlglot, exp


def _literal(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"CAST({v!r} AS DOUBLE)"
    return "'" + str(v).replace("'", "''") + "'"


def bind_literals(sql: str, values: dict) -> str:
    """$name → the SQL literal of values[name] (DuckDB binds them as typed parameters)."""
    def one(m):
        if m.group(1) not in values:
            raise KeyError(f"unknown query parameter: {m.group(1)}")
        return _literal(values[m.group(1)])
    return _PARAM_RE.sub(one, sql)


# ---------------------------------------------------------------------------- regular expressions

def re2_to_java(pattern: str) -> str:
    """An RE2 pattern (DuckDB) as a java.util.regex pattern (Spark) with the same meaning for the
    features the catalogue uses: \\s and \\S are ASCII [\\t\\n\\f\\r ] in RE2 (Java adds \\x0B),
    and Unicode scripts are \\p{Latin} in RE2, \\p{IsLatin} in Java."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            if n == "s":
                out.append(r"\t\n\f\r " if in_class else r"[\t\n\f\r ]")
                i += 2
                continue
            if n == "S":
                if in_class:
                    raise NotPortable(r"\S inside a character class")
                out.append(r"[^\t\n\f\r ]")
                i += 2
                continue
            if n in "pP" and pattern[i + 2:i + 3] == "{":
                end = pattern.index("}", i)
                name = pattern[i + 3:end]
                if len(name) > 2 and not name.startswith(("Is", "In")):
                    name = "Is" + name                 # a script (Latin, Han, …), not a category
                out.append(f"\\{n}{{{name}}}")
                i = end + 1
                continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _fmt_to_java(fmt: str) -> tuple[str, int]:
    """A DuckDB format() string ({} and {:.Nf}) as a Java format string; returns (format, n_args)."""
    out, pos, n = [], 0, 0
    for m in re.finditer(r"\{([^{}]*)\}", fmt):
        out.append(fmt[pos:m.start()].replace("%", "%%"))
        spec = m.group(1)
        if spec == "":
            out.append("%s")
        elif re.fullmatch(r":\.[0-9]f", spec):
            out.append("%" + spec[1:])
        else:
            raise NotPortable(f"format spec {{{spec}}} (use {{}} or {{:.Nf}})")
        n += 1
        pos = m.end()
    out.append(fmt[pos:].replace("%", "%%"))
    return "".join(out), n


# ---------------------------------------------------------------------------- the rewrite

def _parse(sql: str):
    sqlglot, _ = _sqlglot()
    return sqlglot.parse_one(sql, read="duckdb")


def _nested_in_value(node, exp) -> bool:
    """True when a json_object sits inside another json_object or a list aggregate (then it is a
    struct on Spark, not JSON text)."""
    p = node.parent
    while p is not None and not isinstance(p, exp.Select):
        if isinstance(p, (exp.JSONObject, exp.ArrayAgg, exp.GroupConcat)):
            return True
        p = p.parent
    return False


def _ordered_collect(exp, value, keys: list, distinct: bool, not_null: bool = False, where=None):
    """Spark: the values of an aggregate in DuckDB's order (keys ASC NULLS LAST), NULL elements kept
    (unless not_null): collect structs (key-is-null flag, key, …, value), sort them, keep the value."""
    fields = []
    for i, (k, desc) in enumerate(keys):
        if desc:
            raise NotPortable("list(… ORDER BY … DESC)")
        fields += [exp.Literal.string(f"n{i}"), exp.Is(this=k.copy(), expression=exp.Null()),
                   exp.Literal.string(f"k{i}"), k.copy()]
    fields += [exp.Literal.string("v"), value.copy()]
    struct = exp.Anonymous(this="named_struct", expressions=fields)
    agg = exp.Anonymous(this="collect_set" if distinct else "collect_list", expressions=[struct])
    cond = None
    if not_null:
        cond = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
    if where is not None:
        cond = where.copy() if cond is None else exp.And(this=where.copy(), expression=cond)
    if cond is not None:
        agg = exp.Filter(this=agg, expression=exp.Where(this=cond))
    sort = exp.Anonymous(this="array_sort", expressions=[agg])
    lam = exp.Lambda(this=exp.Dot(this=exp.column("s_"), expression=exp.to_identifier("v")),
                     expressions=[exp.to_identifier("s_")])
    values = exp.Anonymous(this="transform", expressions=[sort, lam])
    # an aggregate over no rows is NULL in DuckDB, an empty array in Spark (NULL elements are kept
    # inside structs, so an empty array means no rows)
    return exp.If(this=exp.GT(this=exp.Anonymous(this="size", expressions=[values.copy()]),
                              expression=exp.Literal.number(0)),
                  true=values, false=exp.Null())


def _agg_parts(exp, node):
    """(value, [(key, desc)], distinct, filter) of a DuckDB list()/string_agg() argument."""
    this = node.this
    keys = []
    if isinstance(this, exp.Order):
        keys = [(o.this, bool(o.args.get("desc"))) for o in this.expressions]
        this = this.this
    distinct = isinstance(this, exp.Distinct)
    if distinct:
        if len(this.expressions) != 1:
            raise NotPortable("DISTINCT over several columns in a list")
        this = this.expressions[0]
    return this, keys, distinct


def _transform(node, exp):
    sqlglot, _ = _sqlglot()
    if isinstance(node, exp.JSONObject):
        args = []
        for kv in node.expressions:
            args += [kv.this.copy(), kv.expression.copy()]
        struct = exp.Anonymous(this="named_struct", expressions=args)
        if _nested_in_value(node, exp):
            return struct
        return exp.Anonymous(this="to_json", expressions=[struct])
    if isinstance(node, exp.ArrayAgg) and isinstance(node.parent, (exp.Filter, exp.ArraySort)):
        return node                      # the FILTER or list_sort around it rewrites it
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        if isinstance(node.parent, exp.ArraySort):
            return node
        value, keys, distinct = _agg_parts(exp, node.this)
        return _ordered_collect(exp, value, keys, distinct, where=node.expression.this)
    if isinstance(node, exp.ArrayAgg):
        value, keys, distinct = _agg_parts(exp, node)
        return _ordered_collect(exp, value, keys, distinct)
    if isinstance(node, exp.ArraySort):
        inner = node.this
        if node.expression is not None:
            raise NotPortable("list_sort with a sort order")
        filt = None
        if isinstance(inner, exp.Filter) and isinstance(inner.this, exp.ArrayAgg):
            filt, inner = inner.expression.this, inner.this
        if isinstance(inner, exp.ArrayAgg):
            value, keys, distinct = _agg_parts(exp, inner)
            if keys:
                raise NotPortable("list_sort(list(… ORDER BY …))")
            return _ordered_collect(exp, value, [(value, False)], distinct, where=filt)
        raise NotPortable("list_sort of anything but list(…)")
    if isinstance(node, exp.GroupConcat):
        value, keys, distinct = _agg_parts(exp, node)
        arr = _ordered_collect(exp, value, keys, distinct, not_null=True)
        sep = node.args.get("separator") or exp.Literal.string(",")
        joined = exp.Anonymous(this="array_join", expressions=[arr, sep.copy()])
        return exp.If(this=exp.GT(this=exp.Anonymous(this="size", expressions=[arr.copy()]),
                                  expression=exp.Literal.number(0)),
                      true=joined, false=exp.Null())
    if isinstance(node, exp.ArrayToString):
        return exp.Anonymous(this="array_join", expressions=[node.this.copy(), node.expression.copy()])
    if isinstance(node, exp.Format):
        fmt = node.this
        if not isinstance(fmt, exp.Literal) or not fmt.is_string:
            raise NotPortable("format() with a non-literal format string")
        jfmt, n = _fmt_to_java(fmt.this)
        args = [a.copy() for a in node.expressions]
        specs = re.findall(r"%(s|\.[0-9]f)", jfmt.replace("%%", ""))
        # %s of a DATE would print Spark's day number: give format_string text, as DuckDB prints it
        args = [exp.Cast(this=a, to=exp.DataType.build("string")) if sp == "s" else a
                for a, sp in zip(args, specs)] + args[len(specs):]
        if n != len(args):
            raise NotPortable("format(): placeholders and arguments differ in number")
        call = exp.Anonymous(this="format_string", expressions=[exp.Literal.string(jfmt), *args])
        if not args:
            return call
        anynull = None
        for a in args:
            t = exp.Is(this=a.copy(), expression=exp.Null())
            anynull = t if anynull is None else exp.Or(this=anynull, expression=t)
        return exp.Case(ifs=[exp.If(this=anynull, true=exp.Null())], default=call)
    if type(node) is exp.Concat:
        parts = [exp.Coalesce(this=exp.Cast(this=a.copy(), to=exp.DataType.build("string")),
                              expressions=[exp.Literal.string("")]) for a in node.expressions]
        return exp.Anonymous(this="concat", expressions=parts)
    if isinstance(node, (exp.RegexpLike, exp.RegexpFullMatch, exp.RegexpReplace)):
        pat = node.expression
        if not isinstance(pat, exp.Literal) or not pat.is_string:
            raise NotPortable("a regular expression that is not a literal")
        java = re2_to_java(pat.this)
        if isinstance(node, exp.RegexpFullMatch):
            java = f"^(?:{java})$"
        if isinstance(node, exp.RegexpReplace):
            mods = node.args.get("modifiers")
            glob = mods is not None and "g" in mods.name
            if not glob and not (pat.this.startswith("^") or pat.this.endswith("$")):
                raise NotPortable("regexp_replace without 'g' on an unanchored pattern")
            return exp.Anonymous(this="regexp_replace", expressions=[
                node.this.copy(), exp.Literal.string(java), node.args["replacement"].copy()])
        return exp.RegexpLike(this=node.this.copy(), expression=exp.Literal.string(java))
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        if name == "ID_CHECK_DIGIT":
            return _check_digit_sql(node.expressions[0])
        if name == "TRY_STRPTIME":
            fmt = node.expressions[1]
            return exp.Cast(this=exp.Anonymous(this="try_to_timestamp", expressions=[
                node.expressions[0].copy(), exp.Literal.string(_java_datefmt(fmt.this))]),
                to=exp.DataType.build("timestamp"))
    if isinstance(node, exp.Add) and isinstance(node.expression, exp.Anonymous) \
            and node.expression.name.upper() == "TO_YEARS":
        n = node.expression.expressions[0]
        return exp.Anonymous(this="add_months", expressions=[
            node.this.copy(), exp.Mul(this=exp.Literal.number(12), expression=exp.Paren(this=n.copy()))])
    if isinstance(node, exp.TimeToStr):
        return exp.Anonymous(this="date_format", expressions=[
            node.this.copy(), exp.Literal.string(_java_datefmt(node.args["format"].name))])
    if isinstance(node, exp.ArraySize):
        return exp.Anonymous(this="array_size", expressions=[node.this.copy()])   # NULL for NULL, as DuckDB
    if isinstance(node, exp.Subquery) and _grouped_projection(node, exp):
        # a correlated scalar subquery on the group key in a grouped SELECT: constant per group,
        # but Spark wants it inside an aggregate
        return exp.Anonymous(this="first", expressions=[node.copy()])
    if isinstance(node, (exp.ArgMax, exp.ArgMin)) and isinstance(node.expression, exp.Tuple):
        struct = exp.Anonymous(this="struct", expressions=[e.copy() for e in node.expression.expressions])
        return type(node)(this=node.this.copy(), expression=struct)
    return node


def _grouped_projection(node, exp) -> bool:
    """A scalar subquery among the select expressions of a SELECT … GROUP BY, outside any aggregate."""
    p, child = node.parent, node
    while p is not None and not isinstance(p, exp.Select):
        if isinstance(p, exp.AggFunc) or isinstance(p, (exp.From, exp.Join)):
            return False
        p, child = p.parent, p
    return p is not None and p.args.get("group") is not None and child in p.expressions


def _java_datefmt(fmt: str) -> str:
    out = fmt
    for k, v in _STRFTIME.items():
        out = out.replace(k, v)
    if "%" in out:
        raise NotPortable(f"date format {fmt!r}")
    return out


def _check_digit_sql(arg):
    """GB 11643 check character of the first 17 characters (NULL unless they are 17 ASCII digits)."""
    sqlglot, exp = _sqlglot()
    a = arg.sql(dialect="spark")
    terms = " + ".join(f"CAST(substr(x_, {i + 1}, 1) AS INT) * {w}" for i, w in enumerate(_WEIGHTS))
    # a lambda binds the argument once; Spark inlines it
    sql = (f"CASE WHEN {a} RLIKE '^[0-9]{{17}}' THEN "
           f"substr('{_CHECK_CHARS}', pmod({terms.replace('x_', a)}, 11) + 1, 1) END")
    return sqlglot.parse_one(sql, read="spark")


def to_spark(sql: str, values: dict) -> str:
    """A catalogue query (DuckDB SQL with $parameters) as Spark SQL."""
    _, exp = _sqlglot()
    tree = _parse(bind_literals(sql, values))
    # children before parents (reverse pre-order), each node replaced in place
    for node in reversed(list(tree.walk(bfs=False))):
        new = _transform(node, exp)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree.sql(dialect="spark")


# ---------------------------------------------------------------------------- the lint

def lint(sql: str) -> list[str]:
    """The constructs of a query outside the portable subset (an empty list: portable)."""
    _, exp = _sqlglot()
    problems: list[str] = []
    try:
        tree = _parse(_PARAM_RE.sub("1", sql))
    except Exception as e:  # sqlglot.ParseError
        return [f"not parsed by SQLGlot: {str(e).splitlines()[0]}"]
    for n in tree.walk():
        if isinstance(n, exp.Func):
            name = n.name.upper() if isinstance(n, exp.Anonymous) else type(n).__name__
            if isinstance(n, exp.Anonymous):
                if name not in _ALLOWED_ANON:
                    problems.append(f"function {n.name}() has no Spark mapping")
            elif name not in _ALLOWED_FUNCS:
                problems.append(f"function {n.sql(dialect='duckdb')[:40]} ({name}) is outside the portable subset")
        if isinstance(n, exp.Window) and n.this.find(exp.Distinct) is not None:
            problems.append("DISTINCT inside a window function (Spark has none: aggregate and join)")
        if isinstance(n, exp.Sub) and all(_looks_like_date(x) for x in (n.this, n.expression)):
            problems.append(f"date subtraction {n.sql(dialect='duckdb')[:40]} (use date_diff('day', a, b))")
        if isinstance(n, exp.Tuple) and not isinstance(n.parent, (exp.Values, exp.In, exp.ArgMax, exp.ArgMin)):
            problems.append(f"row value {n.sql(dialect='duckdb')[:40]} outside VALUES/arg_min/arg_max")
    try:
        to_spark(sql, _LintValues())
    except NotPortable as e:
        problems.append(str(e))
    return sorted(set(problems))


class _LintValues(dict):
    def __contains__(self, k):
        return True

    def __getitem__(self, k):
        return 1


def _looks_like_date(e) -> bool:
    """A column that holds a date by the catalogue's naming (…_on, birth…, d, s, e, prev_e)."""
    from sqlglot import exp

    if isinstance(e, exp.Column):
        n = e.name
        return n.endswith("_on") or n.startswith("birth") or n in {"d", "s", "e", "prev_e", "gap_from", "gap_to"}
    if isinstance(e, exp.Cast):
        return e.to.is_type("date")
    return False
