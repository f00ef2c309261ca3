"""summary.html: one self-contained page for the county office (outputs.md "Run outputs").

No network: no external stylesheet, script, font or image; the charts are inline SVG
generated here. Every value from the data goes through html.escape (names may contain
markup) after control and bidi characters are made visible. Times are the county's (北京时间). Chinese throughout; readable on a laptop screen and printable (A4).

Sources: the run manifest (files, rules, reconciliation, villages, totals, expectations)
and the run's DuckDB connection: `issues_current` (severity per rule, 整改未见效 flags, the
county name) and, when attached, the store's `issue_history` / `runs` for the trend.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from pipeline.outputs.vocab import (FLAG_NOT_FIXED, SEVERITY_CN, STATUS_CN, local_text, problem_text, skip_reason_text,
                            table_title, visible)

SEVERITIES = (("error", SEVERITY_CN["error"], "#c0392b"), ("suspect", SEVERITY_CN["suspect"], "#e67e22"),
              ("notice", SEVERITY_CN["notice"], "#2e86c1"))
SEV_LABEL = {k: v for k, v, _ in SEVERITIES}
SEV_COLOR = {k: c for k, _, c in SEVERITIES}
STATUSES = tuple((k, STATUS_CN[k]) for k in ("new", "persisting", "reopened", "waived"))
RECON_PARTS = (("matched_exact", "证件号码精确匹配", "#27ae60"), ("matched_fuzzy", "姓名近似匹配", "#82c91e"),
               ("unmatched", "未匹配", "#e67e22"), ("unmatched_invalid_id", "证件号码无效", "#c0392b"))
FILE_STATUS = {"loaded": "已载入", "rejected": "整表拒收", "skipped": "跳过", "unreadable": "无法读取"}
LACKS = {"members": "家庭成员表", "households": "家庭情况表"}
MAX_VILLAGE_ROWS = 300


def e(value) -> str:
    """Escaped text of any value (None → empty), control and bidi characters made visible
    (a U+202E in a village name would otherwise turn the rest of the line round)."""
    return "" if value is None else html.escape(visible(str(value)), quote=True)


def _int(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return e(value) if value is not None else "—"


def _pct(value, digits: int = 1) -> str:
    try:
        return f"{float(value) * 100:.{digits}f}%"
    except (TypeError, ValueError):
        return "—"


# ---------------------------------------------------------------- data from the connection

def _has_table(con, name: str, database: str | None = None) -> bool:
    try:
        sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?"
        args = [name]
        if database:
            sql += " AND database_name = ?"
            args.append(database)
        return con.execute(sql, args).fetchone()[0] > 0
    except Exception:   # noqa: BLE001
        return False


def _query(con, sql: str, args=None) -> list[tuple]:
    try:
        return con.execute(sql, args or []).fetchall()
    except Exception:   # noqa: BLE001 — a missing table or column leaves that part empty
        return []


def _county(con) -> str | None:
    for table in ("households", "issues_current", "members"):
        if _has_table(con, table):
            rows = _query(con, f"SELECT county, count(*) n FROM {table} WHERE county IS NOT NULL "
                               "AND trim(county) <> '' GROUP BY 1 ORDER BY n DESC, county LIMIT 1")
            if rows:
                return rows[0][0]
    return None


def _rule_catalogue() -> dict[str, tuple[str, str]]:
    try:
        from checks.catalogue import all_rules
        return {r.id: (r.name, r.severity) for r in all_rules()}
    except Exception:   # noqa: BLE001
        return {}


def _rules_table(con, manifest: dict) -> list[dict]:
    """Rules with issues this period: id, name, severities (counts), total."""
    cat = _rule_catalogue()
    counts: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for rule_id, name, sev, n in _query(con, "SELECT rule_id, any_value(rule_name), severity, count(*) "
                                             "FROM issues_current GROUP BY rule_id, severity"):
        counts.setdefault(rule_id, {})[sev] = int(n)
        names.setdefault(rule_id, name)
    if not counts:   # no connection data: fall back on the manifest's counts
        for rule_id, r in (manifest.get("rules") or {}).items():
            if r.get("issues"):
                sev = cat.get(rule_id, ("", "suspect"))[1]
                counts[rule_id] = {sev: int(r["issues"])}
    rows = []
    for rule_id, by_sev in counts.items():
        name = names.get(rule_id) or cat.get(rule_id, ("",))[0]
        rows.append({"id": rule_id, "name": name, "by_severity": by_sev, "total": sum(by_sev.values())})
    try:
        from checks.catalogue import rule_sort_key
    except Exception:   # noqa: BLE001
        def rule_sort_key(x):
            return (0, x)
    rows.sort(key=lambda r: (-r["total"], rule_sort_key(r["id"])))
    return rows


def _trend(con, manifest: dict) -> list[dict]:
    """Issues per period by severity (+ resolved): the store's periods, this period from the run."""
    period = manifest.get("period")
    data: dict[str, dict] = {}
    store = _has_table(con, "issue_history", "store")
    if store:
        for p, sev, n in _query(con, "SELECT period, severity, count(*) FROM store.issue_history "
                                     "WHERE period IS NOT NULL AND period <> ? GROUP BY ALL", [period]):
            data.setdefault(p, {"period": p, "by_severity": {}, "resolved": None})["by_severity"][sev] = int(n)
        for p, man in _query(con, "SELECT period, manifest FROM store.runs WHERE status = 'completed' "
                                  "AND period <> ?", [period]):
            try:
                m = json.loads(man) if man else {}
            except ValueError:
                m = {}
            row = data.setdefault(p, {"period": p, "by_severity": {}, "resolved": None})
            row["resolved"] = (m.get("totals") or {}).get("resolved")
            if not row["by_severity"] and (m.get("totals") or {}).get("by_severity"):
                row["by_severity"] = {k: int(v) for k, v in m["totals"]["by_severity"].items()}
    totals = manifest.get("totals") or {}
    current = {"period": period, "by_severity": dict(totals.get("by_severity") or {}),
               "resolved": totals.get("resolved"), "current": True}
    if not current["by_severity"]:
        current["by_severity"] = {s: int(n) for s, n in _query(
            con, "SELECT severity, count(*) FROM issues_current GROUP BY ALL")}
    data[period] = current
    return [data[p] for p in sorted(data, key=str)]


def _flag_count(con) -> int:
    rows = _query(con, "SELECT count(*) FROM issues_current WHERE flag = '整改未见效'")
    return int(rows[0][0]) if rows else 0


def _kind_titles() -> dict[str, str]:
    try:
        from schemas.tables import TABLES
        return {name: t.title for name, t in TABLES.items()}
    except Exception:   # noqa: BLE001
        return {}


# ---------------------------------------------------------------- SVG

def _svg_bar(value: float, vmax: float, color: str, width: int = 180, height: int = 12,
             marker: float | None = None) -> str:
    """A small horizontal bar (value of vmax), optionally a threshold marker."""
    w = 0 if not vmax else max(0.0, min(1.0, value / vmax)) * width
    out = [f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-hidden="true">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef0f3"/>',
           f'<rect x="0" y="0" width="{w:.1f}" height="{height}" fill="{color}"/>']
    if marker is not None and vmax:
        x = max(0.0, min(1.0, marker / vmax)) * width
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#222" '
                   f'stroke-width="1.5" stroke-dasharray="2,1"/>')
    out.append("</svg>")
    return "".join(out)


def _svg_stack(parts: list[tuple[float, str, str]], width: int = 260, height: int = 14) -> str:
    """A 100 % stacked horizontal bar: parts = (value, color, title)."""
    total = sum(v for v, _, _ in parts)
    out = [f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef0f3"/>']
    x = 0.0
    for v, color, title in parts:
        if not total or not v:
            continue
        w = v / total * width
        out.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" fill="{color}">'
                   f'<title>{e(title)}</title></rect>')
        x += w
    out.append("</svg>")
    return "".join(out)


def _nice_max(v: float) -> int:
    if v <= 0:
        return 1
    import math
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return int(max(1, m * exp))
    return int(10 * exp)


def _svg_trend(trend: list[dict]) -> str:
    """Stacked bars per period (error/suspect/notice) with a line of resolved issues."""
    W, H = 960, 300
    left, right, top, bottom = 56, 16, 34, 44
    pw, ph = W - left - right, H - top - bottom
    n = max(1, len(trend))
    totals = [sum(t["by_severity"].get(s, 0) for s, _, _ in SEVERITIES) for t in trend]
    vmax = _nice_max(max([*totals, *[(t.get("resolved") or 0) for t in trend], 1]))
    slot = pw / n
    bw = min(64.0, slot * 0.6)
    out = [f'<svg class="chart" width="100%" viewBox="0 0 {W} {H}" role="img" '
           f'aria-label="各期问题数量趋势" preserveAspectRatio="xMinYMin meet">']
    # grid and axis labels
    for i in range(5):
        v = vmax * i / 4
        y = top + ph - ph * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{W - right}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="ax">{int(v):,}</text>')
    # legend
    lx = left
    for key, label, color in SEVERITIES:
        out.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{color}"/>'
                   f'<text x="{lx + 16}" y="18" class="lg">{label}</text>')
        lx += 70
    out.append(f'<line x1="{lx}" y1="14" x2="{lx + 18}" y2="14" stroke="#27ae60" stroke-width="2.5"/>'
               f'<circle cx="{lx + 9}" cy="14" r="3.5" fill="#27ae60"/>'
               f'<text x="{lx + 24}" y="18" class="lg">已销号</text>')
    points = []
    for i, t in enumerate(trend):
        cx = left + slot * (i + 0.5)
        y = top + ph
        for key, label, color in SEVERITIES:   # error at the bottom
            v = t["by_severity"].get(key, 0)
            h = ph * v / vmax
            if h > 0:
                y -= h
                out.append(f'<rect x="{cx - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                           f'fill="{color}"><title>{e(t["period"])} {label} {v}</title></rect>')
        out.append(f'<text x="{cx:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="val">{totals[i]:,}</text>')
        label = e(t["period"]) + ("（本期）" if t.get("current") else "")
        weight = ' font-weight="bold"' if t.get("current") else ""
        out.append(f'<text x="{cx:.1f}" y="{top + ph + 18}" text-anchor="middle" class="ax"{weight}>'
                   f'{label}</text>')
        if t.get("resolved") is not None:
            points.append((cx, top + ph - ph * (t["resolved"] or 0) / vmax, t["resolved"]))
    if points:
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="#27ae60" stroke-width="2.5"/>')
        for x, y, v in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#27ae60"><title>已销号 {v}</title></circle>'
                       f'<text x="{x + 7:.1f}" y="{y + 4:.1f}" class="res">{v}</text>')
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{W - right}" y2="{top + ph}" stroke="#888"/>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- page sections

KEEP_TOGETHER = {"trend"}   # printed on one page (heading with its chart)


def _section(sid: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    cls = ' class="keep"' if sid in KEEP_TOGETHER else ""
    return f'<section id="{sid}"{cls}><h2>{e(title)}</h2>{note_html}{body}</section>'


def _table(head: list[str], rows: list[str], cls: str = "") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    return (f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            if rows else '<p class="empty">（无）</p>')


def _overview(manifest: dict, flags: int) -> str:
    t = manifest.get("totals") or {}
    sev = t.get("by_severity") or {}
    st = t.get("by_status") or {}
    total = t.get("issues", sum(sev.values()))
    cards = [f'<div class="card total"><div class="k">本期问题</div><div class="v">{_int(total)}</div></div>']
    for key, label, color in SEVERITIES:
        cards.append(f'<div class="card" style="border-top-color:{color}"><div class="k">{label}</div>'
                     f'<div class="v" style="color:{color}">{_int(sev.get(key, 0))}</div></div>')
    cards.append(f'<div class="card" style="border-top-color:#27ae60"><div class="k">已销号（上期问题本期消失）</div>'
                 f'<div class="v" style="color:#27ae60">{_int(t.get("resolved", 0))}</div></div>')
    cards.append(f'<div class="card" style="border-top-color:#8e44ad"><div class="k">整改未见效</div>'
                 f'<div class="v" style="color:#8e44ad">{_int(flags)}</div></div>')
    sev_bar = _svg_stack([(sev.get(k, 0), c, f"{lab} {sev.get(k, 0)}") for k, lab, c in SEVERITIES], 420, 16)
    st_rows = "".join(f"<tr><td>{lab}</td><td class=num>{_int(st.get(k, 0))}</td></tr>" for k, lab in STATUSES)
    st_rows += f'<tr><td>{STATUS_CN["resolved"]}</td><td class=num>{_int(t.get("resolved", 0))}</td></tr>'
    st_rows += f'<tr><td>其中标记“{FLAG_NOT_FIXED}”</td><td class=num>{_int(flags)}</td></tr>'
    legend = "".join(f'<span class="lgd"><i style="background:{c}"></i>{lab} {_int(sev.get(k, 0))}</span>'
                     for k, lab, c in SEVERITIES)
    return (f'<div class="cards">{"".join(cards)}</div>'
            f'<div class="two"><div><h3>按严重程度</h3>{sev_bar}<div class="legend">{legend}</div>'
            f'<p class="note">{SEV_LABEL["error"]}：数据确有矛盾，须更正；{SEV_LABEL["suspect"]}：须入户或比对核实；'
            f'{SEV_LABEL["notice"]}：供参考。</p></div>'
            f'<div><h3>按状态</h3><table class="narrow"><tbody>{st_rows}</tbody></table></div></div>')


def _rules_section(rules: list[dict]) -> str:
    vmax = max([r["total"] for r in rules] or [1])
    rows = []
    for r in rules:
        sev = " ".join(f'<span class="sev {k}">{SEV_LABEL.get(k, e(k))}{"" if len(r["by_severity"]) == 1 else " " + str(n)}</span>'
                       for k, n in sorted(r["by_severity"].items(),
                                          key=lambda kv: [s for s, _, _ in SEVERITIES].index(kv[0])
                                          if kv[0] in SEV_LABEL else 9))
        top = max(r["by_severity"], key=lambda k: r["by_severity"][k]) if r["by_severity"] else "notice"
        rows.append(f'<tr><td class="mono">{e(r["id"])}</td><td>{e(r["name"])}</td><td>{sev}</td>'
                    f'<td class=num>{_int(r["total"])}</td>'
                    f'<td>{_svg_bar(r["total"], vmax, SEV_COLOR.get(top, "#888"))}</td></tr>')
    return _table(["规则", "名称", "严重程度", "问题数", ""], rows, "rules")


def _villages_section(manifest: dict) -> tuple[str, str]:
    villages = list(manifest.get("villages") or [])
    limit = float((manifest.get("parameters") or {}).get("village_suspect_rate", 0) or 0)
    villages.sort(key=lambda v: (-(v.get("suspect_rate") or 0), -(v.get("households_with_issues") or 0),
                                 str(v.get("township") or ""), str(v.get("village") or "")))
    flagged = sum(1 for v in villages if v.get("flagged"))
    vmax = max([v.get("suspect_rate") or 0 for v in villages] + [limit * 1.5, 0.0001])
    rows = []
    for i, v in enumerate(villages[:MAX_VILLAGE_ROWS], 1):
        fl = bool(v.get("flagged"))
        mark = '<span class="flag">需全面复核</span>' if fl else ""
        rows.append(f'<tr class="{"flagged" if fl else ""}"><td class=num>{i}</td><td>{e(v.get("township"))}</td>'
                    f'<td>{e(v.get("village"))}</td><td class=num>{_int(v.get("households"))}</td>'
                    f'<td class=num>{_int(v.get("households_with_issues"))}</td>'
                    f'<td class=num>{_pct(v.get("suspect_rate"), 2)}</td>'
                    f'<td>{_svg_bar(v.get("suspect_rate") or 0, vmax, "#c0392b" if fl else "#7f8c8d", 200, 12, limit)}</td>'
                    f'<td>{mark}</td></tr>')
    more = (f'<p class="note">另有 {len(villages) - MAX_VILLAGE_ROWS} 个村疑似率较低，未列出（见 run.json）。</p>'
            if len(villages) > MAX_VILLAGE_ROWS else "")
    note = (f"疑似率 = 有“{SEV_LABEL['error']}”或“{SEV_LABEL['suspect']}”问题（不含{STATUS_CN['waived']}）的户数 ÷ "
            f"全村户数；高于 {_pct(limit, 1)}（参数设定，图中虚线）的村须全面复核。共 {len(villages)} 个村，"
            f"其中 <b>{flagged}</b> 个村超过阈值。")
    return _table(["序号", "乡镇", "行政村", "户数", "有问题户数", "疑似率", "", ""], rows, "villages") + more, note


def _recon_section(manifest: dict, titles: dict[str, str]) -> str:
    recon = manifest.get("reconciliation") or {}
    rows = []
    for agency, r in recon.items():
        n = int(r.get("rows") or 0)
        matched = int(r.get("matched_exact") or 0) + int(r.get("matched_fuzzy") or 0)
        parts = [(int(r.get(k) or 0), c, f"{lab} {int(r.get(k) or 0)}") for k, lab, c in RECON_PARTS]
        cells = "".join(f'<td class=num>{_int(r.get(k, 0))}</td>' for k, _, _ in RECON_PARTS)
        rows.append(f'<tr><td>{e(titles.get(agency, "部门数据"))}</td>'
                    f'<td class=num>{_int(n)}</td>{cells}<td class=num><b>{_pct(matched / n if n else None)}</b></td>'
                    f'<td>{_svg_stack(parts, 220, 14)}</td></tr>')
    legend = "".join(f'<span class="lgd"><i style="background:{c}"></i>{lab}</span>' for _, lab, c in RECON_PARTS)
    head = ["部门数据", "记录数", *[lab for _, lab, _ in RECON_PARTS], "匹配率", ""]
    return _table(head, rows, "recon") + (f'<div class="legend">{legend}</div>' if rows else "")


def _files_section(manifest: dict, titles: dict[str, str]) -> str:
    rows = []
    for f in manifest.get("files") or []:
        problems = [*(f.get("problems") or [])]
        if f.get("missing_columns") and not problems:
            problems.append("缺少列：" + "、".join(map(str, f["missing_columns"])))
        prob = "<br>".join(e(problem_text(p)) for p in problems) or '<span class="muted">—</span>'
        status = f.get("status") or ""
        cls = "" if status in ("loaded", "") else "bad"
        kind = f.get("kind")
        path = str(f.get("path") or "")
        name = Path(path).name
        sub = f'<div class="sub">{e(path)}</div>' if path != name else ""
        rows.append(f'<tr class="{cls}"><td class="path">{e(name)}{sub}</td>'
                    f'<td>{e(titles.get(kind, kind) if kind else "未识别")}</td><td>{e(f.get("sheet"))}</td>'
                    f'<td class=num>{e(f.get("header_row"))}</td><td class=num>{_int(f.get("rows_read"))}</td>'
                    f'<td class=num>{_int(f.get("rows_loaded"))}</td>'
                    f'<td class="num{" warn" if f.get("rows_rejected") else ""}">{_int(f.get("rows_rejected"))}</td>'
                    f'<td class=num>{_int(f.get("rows_skipped"))}</td>'
                    f'<td>{e(FILE_STATUS.get(status, status))}</td><td class="prob">{prob}</td></tr>')
    return _table(["文件", "类别", "工作表", "表头行", "读取行", "载入行", "拒收行", "跳过行", "状态", "问题"],
                  rows, "files")


def _skipped_section(manifest: dict) -> str:
    cat = _rule_catalogue()
    rows = [f'<tr><td class="mono">{e(rid)}</td><td>{e(cat.get(rid, ("",))[0])}</td>'
            f'<td>{e(skip_reason_text(r.get("reason")))}</td></tr>'
            for rid, r in (manifest.get("rules") or {}).items() if r.get("status") == "skipped"]
    return _table(["规则", "名称", "未执行原因"], rows, "skipped")


def _expectations_section(manifest: dict) -> str:
    ex = manifest.get("expectations")
    if not ex:
        return '<p class="empty">本期未执行批量期望检查。</p>'
    head = ""
    if ex.get("status") == "error":
        head += f'<p class="alert">批量期望检查未能完成：{e(ex.get("reason"))}</p>'
    prev = ex.get("previous_period")
    head += (f'<p>共 {_int(ex.get("evaluated", 0))} 项检查，<b class="{"bad" if ex.get("failed") else "ok"}">'
             f'{_int(ex.get("failed", 0))} 项未通过</b>，{_int(ex.get("skipped", 0))} 项跳过；'
             f'比较基期：{e(prev) if prev else "无（首期）"}。')
    if ex.get("data_docs"):
        head += f' 明细见 <a href="{e(ex["data_docs"])}">整表检查明细</a>（离线可看）。'
    head += "</p>"
    rows = []
    for r in ex.get("results") or []:
        if r.get("skipped"):
            badge = '<span class="st skip">跳过</span>'
        elif r.get("success"):
            badge = '<span class="st ok">通过</span>'
        else:
            badge = '<span class="st bad">未通过</span>'
        notes = []
        if r.get("note"):
            notes.append(e(r["note"]))
        villages = (r.get("details") or {}).get("villages") or []
        if villages:
            notes.append("、".join(e(v) for v in villages[:20]) + ("等" if len(villages) > 20 else ""))
        rows.append(f'<tr class="{"" if r.get("success") is not False else "failrow"}"><td>{badge}</td>'
                    f'<td>{e(r.get("title"))}</td>'
                    f'<td>{e(r.get("observed_text"))}</td><td>{e(r.get("expected"))}</td>'
                    f'<td class="prob">{"<br>".join(notes)}</td></tr>')
    return head + _table(["结果", "检查项", "本期观测", "期望", "说明"], rows, "expect")


CSS = """
:root{--ink:#1f2328;--muted:#6b7280;--line:#d9dee5;--bg:#f6f7f9}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.55 "Noto Sans CJK SC","Source Han Sans SC",
 "Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei",sans-serif}
header{background:#22364f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .meta{font-size:13px;opacity:.9}
header .meta span{margin-right:18px;white-space:nowrap}
nav{position:sticky;top:0;z-index:5;background:var(--bg);border-bottom:1px solid var(--line);padding:6px 28px;font-size:13px}
nav a{color:#22364f;margin-right:14px;text-decoration:none;white-space:nowrap}
nav a:hover{text-decoration:underline}
main{max-width:1280px;margin:0 auto;padding:8px 28px 40px}
section{margin-top:22px}
h2{font-size:18px;margin:0 0 8px;padding-bottom:4px;border-bottom:2px solid #22364f}
h3{font-size:14px;margin:8px 0 6px;color:#374151}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:6px 0 12px}
.card{border:1px solid var(--line);border-top:4px solid #22364f;border-radius:4px;padding:8px 12px;background:#fff}
.card .k{font-size:12px;color:var(--muted)}.card .v{font-size:26px;font-weight:600;line-height:1.2}
.two{display:grid;grid-template-columns:1.3fr 1fr;gap:24px}
.legend{margin:6px 0;font-size:12px;color:#374151}
.lgd{margin-right:14px;white-space:nowrap}.lgd i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:13px}
table.narrow{width:auto;min-width:260px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#eef1f5;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.warn{color:#c0392b;font-weight:600}
.mono{font-family:ui-monospace,"DejaVu Sans Mono",Consolas,monospace;white-space:nowrap}
.sub{font-size:11px;color:var(--muted);word-break:break-all}
td.path{max-width:260px;word-break:break-all}
td.prob{font-size:12px;max-width:380px}
tr.bad td{background:#fdecea}
tr.flagged td{background:#fff4f2}
tr.failrow td{background:#fff4f2}
.flag{color:#fff;background:#c0392b;border-radius:3px;padding:0 6px;font-size:12px;white-space:nowrap}
.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;color:#fff;margin-right:3px;white-space:nowrap}
.sev.error{background:#c0392b}.sev.suspect{background:#e67e22}.sev.notice{background:#2e86c1}
.st{display:inline-block;border-radius:3px;padding:0 8px;font-size:12px;white-space:nowrap}
.st.ok{background:#d4edda;color:#155724}.st.bad{background:#f8d7da;color:#721c24}.st.skip{background:#e2e3e5;color:#383d41}
b.bad{color:#c0392b}b.ok{color:#1e8449}
span.bad,p.bad,td.bad{color:#c0392b;font-weight:600}p.ok{color:#1e8449}tr.sub td{color:#555;font-size:12px}
.note{color:var(--muted);font-size:12px;margin:2px 0 8px}
.muted{color:var(--muted)}.empty{color:var(--muted)}
.alert{background:#fdecea;border:1px solid #f5c2c7;padding:6px 10px;border-radius:4px}
.banner{background:#fdecea;border:2px solid #c0392b;border-radius:4px;padding:8px 14px;margin-top:14px}
.banner p{margin:4px 0}.banner ul{margin:4px 0 6px 18px;padding:0}
svg.bar{vertical-align:middle;display:block}
svg.chart{max-width:960px;display:block}
svg text{font-family:inherit}
svg .ax{font-size:12px;fill:#4b5563}svg .lg{font-size:12px;fill:#1f2328}
svg .val{font-size:12px;fill:#1f2328;font-weight:600}svg .res{font-size:11px;fill:#1e8449}
footer{max-width:1280px;margin:0 auto;padding:12px 28px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
@media (max-width:900px){.two{grid-template-columns:1fr}}
@page{size:A4 landscape;margin:12mm}
@media print{
 nav{display:none}
 body{font-size:11px}
 header{padding:8px 0;background:#fff;color:#000;border-bottom:2px solid #000}
 main{max-width:none;padding:0}
 section{break-inside:auto}
 section.keep{break-inside:avoid}
 svg.chart{max-width:760px}
 .two{grid-template-columns:1.3fr 1fr}
 h2{break-after:avoid}
 thead{display:table-header-group}
 tr,.card,svg{break-inside:avoid}
 a{color:inherit;text-decoration:none}
}
"""


def _returns_section(manifest: dict) -> str:
    """回收与核实: the previous period's village workbooks (this period's have just been written),
    and this period's waiver audit sample."""
    ret = manifest.get("returns") or {}
    out = []
    if not ret.get("period"):
        out.append('<p class="empty">没有上一期的村级清单。</p>')
    else:
        days = ret.get("deadline_days")
        due = _when(ret.get("due")) if ret.get("due") else "—"
        out.append(f'<p>上一期（{e(ret["period"])}）的村级清单：答复期限 {_int(days)} 天，截止 {e(due)}。</p>')
        trows = [f'<tr><td>{e(t["township"])}</td><td class=num>{_int(t["villages"])}</td>'
                 f'<td class=num>{_int(t["returned"])}</td><td class=num>{_int(t["answered_villages"])}</td>'
                 f'<td class=num>{_int(t["issued"])}</td><td class=num>{_int(t["answered"])}</td>'
                 f'<td class=num>{_pct(t["answered"] / t["issued"]) if t["issued"] else "—"}</td>'
                 f'<td class="num{" bad" if t["overdue"] else ""}">{_int(t["overdue"])}</td></tr>'
                 for t in ret.get("townships") or []]
        out.append("<h3>按乡镇</h3>" + _table(["乡镇", "下发村数", "交回清单的村", "有答复的村", "下发问题", "已答复",
                                              "答复率", "逾期未答复的村"], trows, "narrow"))
        overdue = ret.get("overdue") or []
        if overdue:
            out.append(f'<h3>逾期未答复的村（{len(overdue)} 个）</h3><p class="bad">'
                       + "、".join(f"{e(v['township'])}{e(v['village'])}" for v in overdue) + "</p>")
        else:
            out.append('<p class="ok">没有逾期未答复的村。</p>')
        vrows = [f'<tr><td>{e(v["township"])}</td><td>{e(v["village"])}</td><td class=num>{_int(v["issued"])}</td>'
                 f'<td class=num>{_int(v["answered"])}</td><td class=num>{_int(v["unanswered"])}</td>'
                 f'<td>{e(_when(v["returned_at"])) if v.get("returned_at") else "—"}</td>'
                 f'<td>{"<span class=bad>逾期</span>" if v.get("overdue") else ""}</td></tr>'
                 for v in (ret.get("villages") or [])[:MAX_VILLAGE_ROWS]]
        out.append("<h3>按村</h3>" + _table(["乡镇", "行政村", "下发问题", "已答复", "未答复", "交回清单时间", ""],
                                            vrows, "narrow"))
    audit = manifest.get("waiver_audit") or {}
    towns = audit.get("townships") or []
    n = len(audit.get("issues") or [])
    if towns:
        out.append(f"<h3>核实无误问题抽查复核（本期 {n} 条，见 抽查复核.xlsx）</h3>" + _table(
            ["乡镇", "核实无误", "抽查"],
            [f'<tr><td>{e(t["township"])}</td><td class=num>{_int(t["waived"])}</td>'
             f'<td class=num>{_int(t["sampled"])}</td></tr>' for t in towns], "narrow"))
    else:
        out.append("<p>本期没有核实无误的问题，无需抽查复核。</p>")
    return "".join(out)


def _precision_section(manifest: dict) -> str:
    """规则可信度: the village answers as evidence about each rule (run.json rule_feedback)."""
    rf = manifest.get("rule_feedback") or {}
    rules = rf.get("rules") or []
    if not rules:
        return '<p class="empty">近 12 期还没有村级答复。</p>'
    rows = []
    for r in sorted(rules, key=lambda r: (not r.get("flagged"), -(r.get("answers") or 0), r.get("rule_id") or "")):
        flag = '<span class="bad">请复查规则</span>' if r.get("flagged") else ""
        rows.append(f'<tr{" class=flagged" if r.get("flagged") else ""}><td class="mono">{e(r["rule_id"])}</td>'
                    f'<td>{e(r.get("rule_name"))}</td><td>全县</td>{_precision_cells(r)}<td>{flag}</td></tr>')
        for t in r.get("townships") or []:
            rows.append(f'<tr class="sub"><td></td><td></td><td>{e(t["township"] or "（未注明乡镇）")}</td>'
                        f'{_precision_cells(t)}<td></td></tr>')
    periods = rf.get("periods") or []
    span = f"{periods[0]} 至 {periods[-1]}" if periods else "—"
    return _table(["规则", "名称", "范围", "答复数", "属实占比", "不属实-数据无误占比", "估计准确率（计数）", "无法核实", ""],
                  rows, "rules") + (f'<p class="note">统计期：{e(span)}。</p>')


def _precision_cells(r: dict) -> str:
    prec = f'{_pct(r["precision"])}（{_int(r["precision_count"])}）' if r.get("precision") is not None else "—"
    return (f'<td class=num>{_int(r["answers"])}</td><td class=num>{_pct(r["share_true"])}</td>'
            f'<td class=num>{_pct(r["share_false"])}</td><td class=num>{prec}</td>'
            f'<td class=num>{_int(r["unverifiable"])}</td>')


def render(con, manifest: dict) -> str:
    """The page as a string."""
    period = manifest.get("period") or ""
    county = _county(con)
    flags = _flag_count(con)
    titles = _kind_titles()
    rules = _rules_table(con, manifest)
    trend = _trend(con, manifest)
    village_html, village_note = _villages_section(manifest)
    rules_meta = manifest.get("rules") or {}
    n_eval = sum(1 for r in rules_meta.values() if r.get("status") == "evaluated")
    n_skip = sum(1 for r in rules_meta.values() if r.get("status") == "skipped")
    title = f"{county or ''}建档立卡数据质量检查报告（{period}）"
    meta = [("统计期", period), ("基准日", manifest.get("reference_date")),
            ("上一期", manifest.get("previous_period") or "无（首期）"),
            ("运行时间", _when(manifest.get("finished_at") or manifest.get("started_at"))),
            ("程序版本", manifest.get("tool_version") or "—")]
    sections = [
        ("overview", "问题概况", _overview(manifest, flags),
         "本期问题按严重程度和状态统计；“已销号”为上期存在、本期已消失的问题；“整改未见效”为村里答复已整改但本期仍存在的问题。"),
        ("trend", "各期趋势", _svg_trend(trend) + _trend_table(trend),
         "各期问题数（柱，按严重程度堆叠）和已销号数（绿线），取自数据库中已完成的各期运行。"),
        ("rules", "按规则统计", _rules_section(rules),
         f"本期执行 {n_eval} 条规则，{len(rules)} 条发现问题，{n_skip} 条未执行（见下文）。按问题数从多到少排列。"),
        ("villages", "各村疑似率", village_html, village_note),
        ("returns", "回收与核实", _returns_section(manifest),
         "上一期下发的村级清单的答复情况（本期清单刚刚生成）：网页填报和交回清单都计入；"
         "一个村在运行后答复期限内没有任何答复即为逾期。"),
        ("precision", "规则可信度", _precision_section(manifest),
         "村级答复是对规则的检验：近 12 期中每个问题每期按最后一次答复计一次，不计“无法核实”。"
         "属实 = 属实-已整改 + 属实-整改中；估计准确率 = 属实 ÷（属实 + 不属实-数据无误），括号内为计数。"
         "全县答复不少于 20 条且估计准确率低于 50% 的规则标为“请复查规则”，由县里复查规则或其数据来源。"),
        ("recon", "部门数据比对", _recon_section(manifest, titles),
         "部门记录按证件号码与家庭成员比对；匹配率 =（精确匹配 + 近似匹配）÷ 记录数。"),
        ("files", "文件读取情况", _files_section(manifest, titles),
         "表头行、行号均为 Excel 中所见行号；拒收行明细见 rejected.csv。"),
        ("skipped", "未执行的规则", _skipped_section(manifest), "缺少所需数据表等原因未执行的规则；这些规则的历史问题保持原状态。"),
        ("expectations", "批量期望检查（整表）", _expectations_section(manifest),
         "对整张表的检查（行数与上期比较、关键列空值比例、各村户数、脱贫属性分布变化），逐行规则无法发现这类问题。"),
    ]
    nav = "".join(f'<a href="#{sid}">{e(t)}</a>' for sid, t, _, _ in sections)
    body = "".join(_section(sid, t, b, n) for sid, t, b, n in sections)
    generated = local_text(seconds=True)
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{e(title)}</h1><div class=\"meta\">"
        + "".join(f"<span>{e(k)}：{e(v)}</span>" for k, v in meta)
        + f"</div></header><nav>{nav}</nav><main>{_banner(manifest)}{body}</main>"
        f"<footer>本页由建档立卡数据核查程序生成于 {e(generated)}。本页不含个人证件号码；"
        f"问题明细见问题清单（issues.xlsx、issues.csv）及各村工作簿。</footer>"
        "</body></html>\n")


def _when(value) -> str:
    """A time of the manifest as the county reads it: 2026-10-31 14:05:03（北京时间）."""
    return local_text(value, seconds=True) if value else "—"


def _banner(manifest: dict) -> str:
    """What was not checked this period, before anything else: files (or sheets holding a table
    of rows) that were not loaded, and townships lacking the members or the households table.
    Older manifests have neither key."""
    not_loaded = list(manifest.get("not_loaded") or [])
    lacking = list(manifest.get("townships_lacking") or [])
    if not not_loaded and not lacking:
        return ""
    parts = ['<section id="banner" class="banner" role="alert">']
    if not_loaded:
        items = []
        for f in not_loaded:
            f = f if isinstance(f, dict) else {"file": f}
            sheet = f"（工作表“{e(f.get('sheet'))}”）" if f.get("sheet") else ""
            reason = problem_text(f.get("reason")) or "原因不明"
            items.append(f"<li><b>{e(f.get('file') or '（文件名不详）')}</b>{sheet}：{e(reason)}</li>")
        parts.append(f"<p><b>注意：有 {len(not_loaded)} 个文件或工作表没有读入，其中的数据本期没有参加检查。</b>"
                     f"请改正后重新上报，再运行一次本月检查。</p><ul>{''.join(items)}</ul>")
    if lacking:
        items = []
        for t in lacking:
            t = t if isinstance(t, dict) else {"township": t}
            what = LACKS.get(t.get("lacks"), table_title(t.get("lacks")) or "所需数据表")
            rules = [str(r) for r in (t.get("rules") or [])]
            shown = "、".join(e(r) for r in rules[:12]) + ("等" if len(rules) > 12 else "")
            rule_txt = f"，{len(rules)} 条规则（{shown}）本期对该乡镇未检查，这些规则以前的问题保持原状态" if rules else ""
            items.append(f"<li><b>{e(t.get('township') or '未填乡镇')}</b>：缺少{e(what)}{rule_txt}</li>")
        parts.append(f"<p><b>以下 {len(lacking)} 个乡镇缺少数据表：</b></p><ul>{''.join(items)}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _trend_table(trend: list[dict]) -> str:
    if len(trend) < 1:
        return ""
    head = "".join(f"<th>{e(t['period'])}</th>" for t in trend)
    rows = []
    for key, label, _ in SEVERITIES:
        rows.append(f"<tr><td>{label}</td>" + "".join(
            f"<td class=num>{_int(t['by_severity'].get(key, 0))}</td>" for t in trend) + "</tr>")
    rows.append("<tr><td><b>合计</b></td>" + "".join(
        f"<td class=num><b>{_int(sum(t['by_severity'].get(k, 0) for k, _, _ in SEVERITIES))}</b></td>"
        for t in trend) + "</tr>")
    rows.append("<tr><td>已销号</td>" + "".join(
        f"<td class=num>{'—' if t.get('resolved') is None else _int(t['resolved'])}</td>" for t in trend) + "</tr>")
    return f'<table class="narrow trend"><thead><tr><th>统计期</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def write_summary(con, out_dir: Path, manifest: dict) -> Path:
    """Write `out_dir/summary.html`; returns its path."""
    path = Path(out_dir) / "summary.html"
    path.write_text(render(con, manifest), encoding="utf-8")
    return path
