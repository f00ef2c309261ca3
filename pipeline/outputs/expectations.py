"""Batch-level expectations (Great Expectations) over whole tables — what row rules cannot see.

Checked per run, against the previous completed period where one exists:

* row counts of `members` and `households` within ±20 % of the previous run's loaded rows
  (from the previous manifest's `files`; skipped with a note without a previous period);
* the share of empty values in key columns (`mostly` ≥ 0.99 non-empty);
* households per village: every village (including one that had households last period)
  has ≥ 1 household, and none has more than 3× its previous count;
* the share of 已脱贫 among households with a status: within 0.2 of the previous period's.

`run_expectations` returns a JSON-able summary for run.json (`expectations`) and builds
Great Expectations Data Docs into `out_dir/data_docs/` (static HTML, rewritten to work
offline: the CDN stylesheets and scripts GX links are removed and a small inline
stylesheet stands in for them).

`great_expectations` takes seconds to import: it is imported inside `run_expectations`
only, never at module import (the `validate` command must stay fast).
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from schemas.sql import PY_WHITESPACE

ROW_TOLERANCE = 0.20          # ± share of the previous period's rows
NOT_NULL_MOSTLY = 0.99        # share of non-empty values required in key columns
VILLAGE_GROWTH_MAX = 3.0      # households of a village vs the previous period
SHARE_SHIFT_MAX = 0.20        # absolute change of the 已脱贫 share

KEY_COLUMNS = {
    "members": [("household_id", "户编号"), ("id_number", "证件号码"), ("name", "姓名"),
                ("relation", "与户主关系")],
    "households": [("household_id", "户编号"), ("head_name", "户主姓名"), ("status", "脱贫属性"),
                   ("category", "贫困户属性"), ("size", "家庭人口数")],
}
TABLE_TITLE = {"members": "家庭成员", "households": "家庭情况", "villages": "村户数"}
DOCS_DIR = "data_docs"


@dataclass
class Check:
    """One expectation (or a skipped one) of the plan."""
    name: str                      # stable id, e.g. members.row_count
    table: str                     # batch: members | households | villages
    title: str                     # Chinese description for the report
    expectation: str               # GX class name
    kwargs: dict = field(default_factory=dict)
    expected: str = ""             # human-readable expected range
    note: str | None = None        # why skipped (then not run)
    extra: dict = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.note is not None


# ---------------------------------------------------------------- data & plan (no GX)

def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name IN ('memory', 'temp')").fetchall()}


# a value made only of whitespace (as str.strip() sees it) counts as empty, as it would in pandas
PY_SPACE = f"[{PY_WHITESPACE}]"
KEEP_TEXT = {"status"}      # read as text (its shares); other key columns only as present / empty


def _present_sql(col: str, typ: str) -> str:
    """1 when the value is present (not NULL, and for text not only whitespace), else NULL."""
    if typ.upper() in ("VARCHAR", "TEXT", "STRING"):
        cond = f"NOT regexp_full_match(\"{col}\", '{PY_SPACE}*')"
    else:
        cond = f'"{col}" IS NOT NULL'
    if col in KEEP_TEXT:
        return f'CASE WHEN {cond} THEN "{col}" END AS "{col}"'
    return f'CAST(CASE WHEN {cond} THEN 1 END AS UTINYINT) AS "{col}"'


def _frame_sql(con, table: str, wanted: list[str]) -> str:
    """The rows of `table` as the expectations need them: per key column only whether it is
    present (1 / NULL) — what the not-null expectations count — and the text of `status`. A
    province's millions of member rows then cost a few bytes a value in pandas, not a string."""
    have = {r[0]: r[1] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
    cols = list(dict.fromkeys(c for c in wanted if c in have))
    sel = ", ".join(_present_sql(c, have[c]) for c in cols) if cols else "1 AS _row"
    return f'SELECT {sel} FROM "{table}"'


def _frame(con, table: str, wanted: list[str]):
    return con.execute(_frame_sql(con, table, wanted)).df()


VILLAGES_SQL_HH = """SELECT v.township, v.village, count(DISTINCT h.household_id) AS households
                      FROM households h JOIN v_hh v USING (household_id) GROUP BY ALL"""
VILLAGES_SQL = """SELECT township, village, count(DISTINCT household_id) AS households
                   FROM households GROUP BY ALL"""


def _village_frame(con, tables: set[str]):
    """Households per village, as village_stats (households joined to v_hh) counts them."""
    if "_villages" in tables:            # exported by the run (evaluate_exported)
        return con.execute("SELECT township, village, households FROM _villages").df()
    if "v_hh" in tables:
        sql = """SELECT v.township, v.village, count(DISTINCT h.household_id) AS households
                 FROM households h JOIN v_hh v USING (household_id)
                 GROUP BY ALL"""
    else:
        sql = """SELECT township, village, count(DISTINCT household_id) AS households
                 FROM households GROUP BY ALL"""
    return con.execute(sql).df()


def _loaded_rows(manifest: dict | None, kind: str) -> int | None:
    if not manifest:
        return None
    files = [f for f in manifest.get("files") or [] if f.get("kind") == kind]
    if files:
        return sum(int(f.get("rows_loaded") or 0) for f in files)
    base = ((manifest.get("expectations") or {}).get("baseline") or {}).get(kind) or {}
    return base.get("rows")


def _vkey(township, village) -> str:
    return f"{township or ''}\u0000{village or ''}"


def _vname(township, village) -> str:
    return f"{township or '（无乡镇）'}/{village or '（无行政村）'}"


def _store_status_share(con, prev_period: str, schema: str = "store") -> dict | None:
    """The 脱贫属性 shares of the store's households when they are the previous period's
    (the store keeps the canonical tables of its latest completed period)."""
    try:
        latest = con.execute(f"SELECT max(period) FROM {schema}.runs WHERE status = 'completed'").fetchone()[0]
        if latest != prev_period:
            return None
        rows = con.execute(f"""SELECT status, count(*) FROM {schema}.households
                               WHERE status IS NOT NULL AND trim(status) <> '' GROUP BY ALL""").fetchall()
    except Exception:   # noqa: BLE001 — no store attached, or no households table in it
        return None
    total = sum(n for _, n in rows)
    return {str(k): round(n / total, 4) for k, n in rows} if total else None


def previous_manifest(con, period: str | None, schema: str = "store") -> dict | None:
    """The manifest (run.json) of a completed period in the store, or None."""
    if not period:
        return None
    row = con.execute(f"SELECT manifest FROM {schema}.runs WHERE period = ? AND status = 'completed' "
                      "ORDER BY finished_at DESC LIMIT 1", [period]).fetchone()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


_UNSET = object()


def plan(con, manifest: dict, prev_manifest: dict | None, store_share=_UNSET):
    """The batches (name → DataFrame), the checks, and this period's baseline. `store_share`: the
    previous period's 脱贫属性 shares when already known (else read from the store)."""
    import pandas as pd

    tables = _tables(con)
    prev_period = (prev_manifest or {}).get("period")
    batches: dict = {}
    checks: list[Check] = []
    baseline: dict = {}
    no_prev = "无上期运行记录，本期不比较" if not prev_manifest else None

    for table in ("members", "households"):
        if table not in tables:
            checks.append(Check(f"{table}.present", table, f"{TABLE_TITLE[table]}表已载入",
                                "ExpectTableRowCountToBeBetween", note="本期未载入该表"))
            continue
        wanted = [c for c, _ in KEY_COLUMNS[table]] + (["status"] if table == "households" else [])
        df = _frame(con, table, wanted)
        baseline[table] = {"rows": int(len(df))}
        # row count vs the previous period
        prev_rows = _loaded_rows(prev_manifest, table)
        name = f"{table}.row_count"
        title = f"{TABLE_TITLE[table]}表行数与上期相比变化不超过±{ROW_TOLERANCE:.0%}"
        if prev_rows is None or prev_rows <= 0:
            checks.append(Check(name, table, title, "ExpectTableRowCountToBeBetween",
                                note=no_prev or "上期未载入该表"))
        else:
            lo, hi = math.ceil(prev_rows * (1 - ROW_TOLERANCE)), math.floor(prev_rows * (1 + ROW_TOLERANCE))
            checks.append(Check(name, table, title, "ExpectTableRowCountToBeBetween",
                                {"min_value": lo, "max_value": hi},
                                expected=f"{lo}–{hi} 行（上期 {prev_rows} 行）",
                                extra={"previous": prev_rows}))
        # empty values in key columns
        for col, label in KEY_COLUMNS[table]:
            name = f"{table}.{col}.not_null"
            title = f"{TABLE_TITLE[table]}表“{label}”非空比例 ≥ {NOT_NULL_MOSTLY:.0%}"
            if col not in df.columns:
                checks.append(Check(name, table, title, "ExpectColumnValuesToNotBeNull",
                                    note=f"表中没有“{label}”列"))
                continue
            checks.append(Check(name, table, title, "ExpectColumnValuesToNotBeNull",
                                {"column": col, "mostly": NOT_NULL_MOSTLY},
                                expected=f"非空 ≥ {NOT_NULL_MOSTLY:.0%}"))
        if table == "households" and "status" in df.columns:
            with_status = df["status"].dropna()
            shares = (with_status.value_counts(normalize=True).round(4).to_dict()
                      if len(with_status) else {})
            baseline[table]["status_share"] = {str(k): float(v) for k, v in shares.items()}
            df["is_exited"] = df["status"].map(lambda s: None if s is None else float(s == "已脱贫"))
            df["is_exited"] = pd.to_numeric(df["is_exited"])
            prev_share = (((prev_manifest or {}).get("expectations") or {}).get("baseline") or {}) \
                .get("households", {}).get("status_share")
            if prev_share is None and prev_period:
                prev_share = _store_status_share(con, prev_period) if store_share is _UNSET else store_share
            name = "households.status.share_exited"
            title = f"“已脱贫”户占比与上期相比变化不超过 {SHARE_SHIFT_MAX:.0%}"
            if prev_share is None:
                checks.append(Check(name, "households", title, "ExpectColumnMeanToBeBetween",
                                    note=no_prev or "上期运行记录中没有脱贫属性分布"))
            else:
                p = float(prev_share.get("已脱贫", 0.0))
                lo, hi = max(0.0, round(p - SHARE_SHIFT_MAX, 4)), min(1.0, round(p + SHARE_SHIFT_MAX, 4))
                checks.append(Check(name, "households", title, "ExpectColumnMeanToBeBetween",
                                    {"column": "is_exited", "min_value": lo, "max_value": hi},
                                    expected=f"{lo:.1%}–{hi:.1%}（上期 {p:.1%}）", extra={"previous": p}))
        batches[table] = df

    # households per village
    if "households" in tables:
        vdf = _village_frame(con, tables)
        now = {_vkey(t, v): n for t, v, n in vdf[["township", "village", "households"]].itertuples(index=False)}
        prev = {}
        for v in (prev_manifest or {}).get("villages") or []:
            prev[_vkey(v.get("township"), v.get("village"))] = (v.get("township"), v.get("village"),
                                                                 int(v.get("households") or 0))
        rows = [{"township": t, "village": v, "households": int(n),
                 "previous": prev.get(_vkey(t, v), (None, None, None))[2]}
                for t, v, n in vdf[["township", "village", "households"]].itertuples(index=False)]
        rows += [{"township": t, "village": v, "households": 0, "previous": n}
                 for k, (t, v, n) in prev.items() if k not in now]
        vframe = pd.DataFrame(rows, columns=["township", "village", "households", "previous"])
        vframe["previous"] = pd.to_numeric(vframe["previous"])
        vframe["ratio_to_previous"] = vframe["households"] / vframe["previous"].where(vframe["previous"] > 0)
        vframe["name"] = [_vname(t, v) for t, v in zip(vframe["township"], vframe["village"])]
        batches["villages"] = vframe
        baseline["villages"] = {"count": int((vframe["households"] > 0).sum())}
        checks.append(Check("villages.households_min", "villages",
                            "每个村至少有 1 户（含上期有户、本期没有户的村）",
                            "ExpectColumnValuesToBeBetween", {"column": "households", "min_value": 1},
                            expected="每村 ≥ 1 户"))
        title = f"各村户数不超过上期的 {VILLAGE_GROWTH_MAX:g} 倍"
        if not prev_manifest or not prev:
            checks.append(Check("villages.growth", "villages", title, "ExpectColumnValuesToBeBetween",
                                note=no_prev or "上期运行记录中没有村级户数"))
        else:
            checks.append(Check("villages.growth", "villages", title, "ExpectColumnValuesToBeBetween",
                                {"column": "ratio_to_previous", "max_value": VILLAGE_GROWTH_MAX},
                                expected=f"本期户数 ≤ 上期 × {VILLAGE_GROWTH_MAX:g}"))
    return batches, checks, baseline, prev_period


# ---------------------------------------------------------------- GX

def _num(v):
    """JSON-able number (numpy scalars, NaN → None)."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if f.is_integer() and not isinstance(v, float) else round(f, 4)


def _observed(check: Check, result: dict, frame) -> tuple:
    """(observed value, readable text, details) of one GX result."""
    if check.expectation == "ExpectTableRowCountToBeBetween":
        n = _num(result.get("observed_value"))
        prev = check.extra.get("previous")
        text = f"{n} 行" + (f"（{(n - prev) / prev:+.1%}）" if prev and n is not None else "")
        return n, text, {}
    if check.expectation == "ExpectColumnValuesToNotBeNull":
        total = int(result.get("element_count") or 0)
        empty = int(result.get("unexpected_count") or 0)
        share = round(1 - empty / total, 4) if total else 1.0
        return share, f"非空 {share:.2%}（空 {empty} / {total}）", {"empty": empty, "rows": total}
    if check.expectation == "ExpectColumnMeanToBeBetween":
        v = _num(result.get("observed_value"))
        return v, ("—" if v is None else f"{v:.1%}"), {}
    if check.expectation == "ExpectColumnValuesToBeBetween":
        col = check.kwargs["column"]
        lo, hi = check.kwargs.get("min_value"), check.kwargs.get("max_value")
        s = frame[col]
        bad = s.notna() & (((s < lo) if lo is not None else False) | ((s > hi) if hi is not None else False))
        names = [f"{n}（本期 {h} 户，上期 {'—' if p != p else int(p)} 户）"
                 for n, h, p in frame.loc[bad, ["name", "households", "previous"]].itertuples(index=False)]
        count = int(result.get("unexpected_count") or 0)
        return count, (f"{count} 个村不符合" if count else "全部符合"), {"villages": names[:50]}
    return _num(result.get("observed_value")), str(result.get("observed_value")), {}


def import_gx_without_spark() -> None:
    """Import great_expectations without its Spark support: with cardcheck's spark extra installed it
    would import pyspark (warnings on the console, seconds of start-up); the batch checks are pandas."""
    import sys

    if "great_expectations" in sys.modules:
        return
    blocked = "pyspark" not in sys.modules
    if blocked:
        sys.modules["pyspark"] = None          # an ImportError for GX: Spark unavailable to it
    try:
        import great_expectations  # noqa: F401
    finally:
        if blocked and sys.modules.get("pyspark", 0) is None:
            del sys.modules["pyspark"]


def _run_gx(batches: dict, checks: list[Check], docs_dir: Path, period: str) -> dict[str, tuple]:
    """Validate every non-skipped check; build Data Docs. Returns name → (success, result dict)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import_gx_without_spark()
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    try:
        context.enable_analytics(False)
    except Exception:   # noqa: BLE001 — older/ephemeral contexts may refuse to save variables
        pass
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.list_data_docs_sites()):   # the default site points into /tmp: only ours
        context.delete_data_docs_site(site)
    context.add_data_docs_site(site_name="cardcheck", site_config={
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(docs_dir.resolve())},
    })
    source = context.data_sources.add_pandas(name="cardcheck")
    run_id = RunIdentifier(run_name=f"cardcheck-{period}")
    out: dict[str, tuple] = {}
    outcome: dict[str, bool] = {}
    for table, frame in batches.items():
        todo = [c for c in checks if c.table == table and not c.skipped]
        if not todo:
            continue
        batch_def = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(f"{table}_whole")
        suite = context.suites.add(gx.ExpectationSuite(name=f"cardcheck_{table}"))
        for c in todo:
            cls = getattr(gx.expectations, c.expectation)
            suite.add_expectation(cls(**c.kwargs, meta={"name": c.name, "notes": c.title}))
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{period}_{table}", data=batch_def, suite=suite))
        res = vd.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY", run_id=run_id)
        outcome[table] = bool(res.success)
        for r in res.results:
            out[r.expectation_config.meta.get("name")] = (bool(r.success), dict(r.result or {}),
                                                          r.exception_info)
    context.build_data_docs(site_names=["cardcheck"])
    make_offline(docs_dir, outcome)
    return out


# ---------------------------------------------------------------- Data Docs offline

_OFFLINE_CSS = """<style id="cardcheck-offline">
/* cardcheck: stands in for the CDN Bootstrap stylesheets GX links (removed: the docs work offline) */
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",Arial,sans-serif;margin:0;color:#222;
 line-height:1.45;font-size:14px}
.container,.container-fluid{max-width:1200px;margin:0 auto;padding:60px 16px 16px}
.row{display:flex;flex-wrap:wrap;margin:0 -8px}
[class*="col-"]{padding:0 8px;box-sizing:border-box;flex:1 1 0;min-width:0}
.col-md-2,.col-lg-2,.col-xl-2{flex:0 0 20%;max-width:20%}
.col-md-10,.col-lg-10,.col-xl-10{flex:0 0 80%;max-width:80%}
.col-12{flex:0 0 100%;max-width:100%}
@media (max-width:900px){[class*="col-"]{flex:0 0 100%!important;max-width:100%!important}}
.navbar{position:fixed;top:0;left:0;right:0;height:44px;background:#f6f7f9;border-bottom:1px solid #ddd;
 display:flex;align-items:center;padding:0 16px;z-index:10}
.navbar img{height:28px}
.navbar .collapse,.navbar-toggler{display:none}
.card{border:1px solid #ddd;border-radius:4px;margin-bottom:16px;background:#fff}
.card-header{background:#f6f7f9;padding:8px 12px;border-bottom:1px solid #ddd}
.card-body{padding:8px 12px}
.table{border-collapse:collapse;width:100%;margin-bottom:12px}
.table td,.table th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.table thead th,.table th{background:#f2f4f7}
.table-striped tbody tr:nth-of-type(odd){background:#fafbfc}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;font-size:12px;background:#eee}
.badge-success,.alert-success{background:#d4edda;color:#155724}
.badge-danger,.alert-danger{background:#f8d7da;color:#721c24}
.badge-info,.alert-info{background:#d1ecf1;color:#0c5460}
.badge-secondary{background:#e2e3e5}
.alert{padding:8px 12px;border-radius:4px;margin:8px 0}
.text-danger{color:#c0392b}.text-success{color:#1e8449}.text-muted{color:#777}
.d-none,.modal,.fade:not(.show),[data-toggle="tooltip"] + .tooltip{display:none}
.list-group{padding:0;list-style:none}.list-group-item{padding:4px 8px;border:1px solid #eee;display:block}
.sticky{position:sticky;top:60px}
a{color:#1a5fb4}
.fa,.fas,.far,.fab{display:none}
.fa-check-circle,.fa-times{display:inline;font-style:normal;font-weight:bold}
.fa-check-circle::before{content:"\\2713"}.fa-times::before{content:"\\2717"}
#cardcheck-index{max-width:1200px;margin:76px auto 0;padding:0 16px}
#cardcheck-index li{margin:2px 0}
img.img-fluid{max-width:100%}
</style>"""

_EXT_LINK = re.compile(r'<link\b[^>]*\bhref\s*=\s*"(?:https?:)?//[^"]*"[^>]*>\s*', re.I)
_EXT_SCRIPT = re.compile(r'<script\b[^>]*\bsrc\s*=\s*"(?:https?:)?//[^"]*"[^>]*>\s*</script>\s*', re.I)
_EXT_IMG = re.compile(r'(<img\b[^>]*\bsrc\s*=\s*")(?:https?:)?//[^"]*?(logo[^"/?]*\.png)[^"]*(")', re.I)
_EXT_SRC = re.compile(r'\s(src)\s*=\s*"(?:https?:)?//[^"]*"', re.I)
_FOOTER = re.compile(r"<footer\b.*?</footer>\s*", re.I | re.S)   # GX newsletter / call-to-action


def _index_block(docs_dir: Path, outcome: dict[str, bool]) -> str:
    """A plain list of the pages: GX fills its own index tables with JavaScript from a CDN."""
    import html as H
    items = []
    for page in sorted(docs_dir.glob("validations/*/**/*.html")):
        suite = page.relative_to(docs_dir).parts[1]
        table = suite.removeprefix("cardcheck_")
        ok = outcome.get(table)
        mark = "" if ok is None else (' <b class="text-success">通过</b>' if ok else ' <b class="text-danger">未通过</b>')
        items.append(f'<li>校验结果：<a href="{H.escape(page.relative_to(docs_dir).as_posix())}">'
                     f'{H.escape(TABLE_TITLE.get(table, table))}（{H.escape(suite)}）</a>{mark}</li>')
    for page in sorted(docs_dir.glob("expectations/*.html")):
        items.append(f'<li>期望集：<a href="{H.escape(page.relative_to(docs_dir).as_posix())}">'
                     f'{H.escape(page.stem)}</a></li>')
    return ('<section id="cardcheck-index"><h2>cardcheck 批量期望检查</h2><ul>' + "".join(items)
            + "</ul></section>")


def make_offline(docs_dir: Path, outcome: dict[str, bool] | None = None) -> None:
    """Rewrite the built Data Docs so that no page loads anything from the network."""
    index = _index_block(docs_dir, outcome or {})
    for page in docs_dir.rglob("*.html"):
        depth = len(page.relative_to(docs_dir).parts) - 1
        static = "../" * depth + "static/images/"
        html = page.read_text(encoding="utf-8")
        html = _EXT_LINK.sub("", html)
        html = _EXT_SCRIPT.sub("", html)
        html = _EXT_IMG.sub(lambda m: f"{m.group(1)}{static}{m.group(2)}{m.group(3)}", html)
        html = _EXT_SRC.sub(' data-removed-src=""', html)
        html = _FOOTER.sub("", html)
        html = html.replace("</head>", _OFFLINE_CSS + "\n</head>", 1)
        if depth == 0 and page.name == "index.html":
            html = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + index, html, count=1)
        page.write_text(html, encoding="utf-8")


# ---------------------------------------------------------------- entry point

def export_inputs(con, folder: Path, out_dir: Path, manifest: dict, prev_manifest: dict | None) -> dict:
    """What the expectations need from the run, as parquet files and plain values, so that a
    second process can evaluate them (pipeline.outputs.sidecar): the key columns of members and
    households, households per village, the previous period's 脱贫属性 shares."""
    from schemas.sql import lit

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = _tables(con)
    files = {}
    for table in ("members", "households"):
        if table not in tables:
            continue
        wanted = [c for c, _ in KEY_COLUMNS[table]] + (["status"] if table == "households" else [])
        files[table] = str(folder / f"expect_{table}.parquet")
        con.execute(f'COPY ({_frame_sql(con, table, wanted)}) TO {lit(files[table])} (FORMAT parquet)')
    if "households" in tables:
        files["_villages"] = str(folder / "expect_villages.parquet")
        sql = VILLAGES_SQL_HH if "v_hh" in tables else VILLAGES_SQL
        con.execute(f"COPY ({sql}) TO {lit(files['_villages'])} (FORMAT parquet)")
    prev_period = (prev_manifest or {}).get("period")
    share = _store_status_share(con, prev_period) if prev_period else None
    return {"files": files, "store_share": share, "out_dir": str(out_dir),
            "manifest": {k: manifest.get(k) for k in ("period", "files", "villages")},
            "prev_manifest": prev_manifest}


def inputs_identity(con, manifest: dict, prev_manifest: dict | None) -> list:
    """What the expectations' result depends on besides the canonical tables (for a re-run's
    cache: with the same tables and these, the result is the same)."""
    prev_period = (prev_manifest or {}).get("period")
    share = _store_status_share(con, prev_period) if prev_period else None
    return [share, {k: manifest.get(k) for k in ("period", "files", "villages")}, prev_manifest]


def evaluate_exported(files: dict, store_share, out_dir: str, manifest: dict, prev_manifest: dict | None) -> dict:
    """run_expectations over what export_inputs wrote (in whichever process runs it)."""
    import duckdb

    from schemas.sql import lit

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for table, path in files.items():
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet({lit(path)})')
        return run_expectations(con, Path(out_dir), manifest, prev_manifest, store_share=store_share)
    finally:
        con.close()


def run_expectations(con, out_dir: Path, manifest: dict, prev_manifest: dict | None, store_share=_UNSET) -> dict:
    """Run the batch expectations; build `out_dir/data_docs/`; return the run.json summary."""
    out_dir = Path(out_dir)
    period = str(manifest.get("period") or "")
    batches, checks, baseline, prev_period = plan(con, manifest, prev_manifest, store_share)
    summary: dict = {"status": "evaluated", "previous_period": prev_period,
                     "data_docs": f"{DOCS_DIR}/index.html", "baseline": baseline}
    try:
        results = _run_gx(batches, checks, out_dir / DOCS_DIR, period)
    except Exception as exc:   # noqa: BLE001 — the batch checks must not sink the run
        summary.update(status="error", reason=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                       data_docs=None)
        results = {}
    rows = []
    for c in checks:
        row = {"name": c.name, "table": c.table, "title": c.title,
               "expectation": _snake(c.expectation), "expected": c.expected}
        if c.skipped:
            row.update(success=None, skipped=True, observed=None, observed_text="—", note=c.note)
        elif c.name in results:
            ok, result, exc_info = results[c.name]
            value, text, details = _observed(c, result, batches.get(c.table))
            row.update(success=ok, skipped=False, observed=value, observed_text=text)
            if details:
                row["details"] = details
            if exc_info and not ok:
                msgs = [e.get("exception_message") for e in (exc_info.values() if isinstance(exc_info, dict) else [])
                        if isinstance(e, dict) and e.get("raised_exception")]
                if msgs:
                    row["note"] = str(msgs[0])[:200]
        else:
            row.update(success=None, skipped=True, observed=None, observed_text="—",
                       note="未能执行" + (f"：{summary.get('reason')}" if summary.get("reason") else ""))
        rows.append(row)
    summary["results"] = rows
    summary["evaluated"] = sum(1 for r in rows if not r["skipped"])
    summary["failed"] = sum(1 for r in rows if r["success"] is False)
    summary["skipped"] = sum(1 for r in rows if r["skipped"])
    summary["success"] = summary["failed"] == 0 and summary["status"] == "evaluated"
    return summary


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
