"""The writers: a period's tables laid out as sheets (FilePlan, with the messy layout or the plain
one), written as xlsx, xls or csv, and the drop's truth manifest beside it (write_drop)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from schemas.tables import TABLES, Col, Table

from demo.model import TABLE_ORDER, County
from demo.tables import _live
from demo.mess import Style, _cell, _label, _mess_rows, _messy_specs, _num_text, _plain_text, _rounded


@dataclass
class FilePlan:
    name: str
    kind: str
    fmt: str                 # xlsx | xls | csv
    encoding: str = "utf-8"
    sheets: list = field(default_factory=list)   # [(sheet name, grid, merges)]
    data_rows: int = 0
    skipped: int = 0
    unattributable: int = 0
    sigs: list = field(default_factory=list)
    not_loaded: bool = False
    sheet: str = ""


def _sig(table: Table, cols, row, flags):
    out = []
    raw = row.get("__raw__") or {}
    for c in cols:
        if c in raw:
            out.append(("raw", raw[c]))
        else:
            out.append(row.get(c))
    if flags.get(id(row), {}).get("round"):
        out.append("ROUNDED")
    return tuple(out)


def _build_sheet(plan: FilePlan, table: Table, rows, st: Style, rng, messy, flags, fmtk, cols=None):
    cols = list(cols or table.names)
    if st.shuffle and not st.group:
        rng.shuffle(cols)
    order: list = []       # entries: canonical name or ("x", extra)
    if st.group:
        for _, gcols in st.group:
            gc = list(gcols)
            if st.shuffle:
                rng.shuffle(gc)
            order.extend(gc)
    else:
        order = cols
    order = list(order)
    for e in st.extras:
        if e == "序号":
            order.insert(0, ("x", e))
        else:
            order.insert(rng.randrange(len(order) + 1), ("x", e))
    ncol = len(order)
    colobj = {c.name: c for c in table.columns}
    labels = [e[1] if isinstance(e, tuple) else _label(colobj[e], st, rng) for e in order]
    grid: list = []
    merges: list = []
    skipped = 0
    for t in st.titles:
        r = len(grid)
        grid.append([None] * ncol)
        if fmtk == "csv":
            grid[r][0] = ("s", t)
        else:
            merges.append((r, 0, r, ncol - 1, t))
        skipped += 1
    if st.group:
        r = len(grid)
        upper = [None] * ncol
        lower = [("s", lab) for lab in labels]
        gmap = {}
        for g, gcols in st.group:
            for c in gcols:
                gmap[c] = g
        i = 0
        while i < ncol:
            e = order[i]
            g = gmap.get(e) if not isinstance(e, tuple) else None
            if g is None:     # vertical header: name in the upper cell, lower empty
                if fmtk == "csv":
                    upper[i] = ("s", labels[i])
                else:
                    merges.append((r, i, r + 1, i, labels[i]))
                lower[i] = None
                i += 1
                continue
            j = i
            while j + 1 < ncol and not isinstance(order[j + 1], tuple) and gmap.get(order[j + 1]) == g:
                j += 1
            if fmtk == "csv" or j == i:
                upper[i] = ("s", g)
            else:
                merges.append((r, i, r, j, g))
            i = j + 1
        grid.append(upper)
        grid.append(lower)
        skipped += 2
        header = lower
    else:
        header = [("s", lab) for lab in labels]
        grid.append(header)
        skipped += 1
    n = len(rows)
    empties = set(rng.sample(range(1, n), min(st.empty_rows, max(0, n - 1)))) if n > 2 else set()
    rep_at = rng.randrange(n // 3, 2 * n // 3) if st.repeat_header and n > 6 else -1
    inorder = set(e for e in order if not isinstance(e, tuple))
    canon = [c for c in table.names if c in inorder]
    data = 0
    for i, row in enumerate(rows):
        if i in empties:
            grid.append([None] * ncol)
            skipped += 1
        if i == rep_at:
            grid.append(list(header) if not st.group else [("s", lab) for lab in labels])
            skipped += 1
        raw = row.get("__raw__") or {}
        fl = flags.get(id(row), {})
        out = []
        for k, e in enumerate(order):
            if isinstance(e, tuple):
                if e[1] == "序号":
                    out.append(("n", i + 1) if fmtk != "csv" else ("s", str(i + 1)))
                elif rng.random() < 0.05:
                    out.append(("s", rng.choice(("已核实", "外出务工", "新增", "待核查"))))
                else:
                    out.append(None)
                continue
            if e in raw:
                out.append(("s", raw[e]))
                continue
            v = row.get(e)
            if fl.get("round") and e == "id_number":
                f, s = _rounded(v)
                out.append(("n", f) if fmtk != "csv" else ("s", s))
                continue
            out.append(_cell(colobj[e], v, st, rng, fmtk, messy))
        grid.append(out)
        data += 1
        key_empty = all(row.get(kc) in (None, "") for kc in table.keys)
        plan.sigs.append((_sig(table, canon, row, flags), key_empty))
        if key_empty:
            plan.unattributable += 1
    for t in st.totals:
        r = [None] * ncol
        if t == "合计":
            r[0] = ("s", "合计")
            r[-1] = ("s", f"共{n}条")
        else:
            r[0] = ("s", t)
        grid.append(r)
        skipped += 1
    plan.data_rows += data
    plan.skipped += skipped
    return grid, merges


def _build_plain(plan: FilePlan, table: Table, rows, fmtk: str, cols=None):
    """Fast path without mess: header in row 1, canonical headers, plain values."""
    cols = list(cols or table.names)
    colobj = [table.col(c) for c in cols]
    csvm = fmtk == "csv"

    def fmt_for(c: Col):
        if c.type == "date":
            return lambda v: v.isoformat()
        if c.type == "bool":
            return lambda v: "是" if v else "否"
        if c.type in ("num", "int"):
            if csvm:
                return _num_text
            return lambda v: v
        return str
    fmts = [fmt_for(c) for c in colobj]
    kinds = ["n" if (c.type in ("num", "int") and not csvm) else "s" for c in colobj]
    keyidx = [cols.index(k) for k in table.keys if k in cols]
    grid = [[c.header for c in colobj] if csvm else [("s", c.header) for c in colobj]]
    sigs = plan.sigs
    unattr = 0
    for row in rows:
        vals = [row[c] for c in cols]
        raw = row.get("__raw__")
        out = []
        for i, v in enumerate(vals):
            if raw and cols[i] in raw:
                vals[i] = ("raw", raw[cols[i]])
                out.append(raw[cols[i]] if csvm else ("s", raw[cols[i]]))
            elif v is None or v == "":
                out.append("" if csvm else None)
            elif csvm:
                out.append(fmts[i](v))
            elif kinds[i] == "n" and isinstance(v, (int, float)):
                out.append(("n", v))
            else:
                out.append(("s", _plain_text(colobj[i], v)))
        grid.append(out)
        ke = all(vals[k] in (None, "") for k in keyidx)
        unattr += ke
        sigs.append((tuple(vals), ke))
    plan.data_rows += len(rows)
    plan.skipped += 1
    plan.unattributable += unattr
    return grid, []


def _write_plan(plan: FilePlan, out_dir: Path):
    path = out_dir / plan.name
    if plan.fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        for _, grid, _ in plan.sheets:
            for r in grid:
                w.writerow(["" if c is None else c if c.__class__ is str else
                            (c[1] if c[0] == "s" else _num_text(c[1]) if c[0] == "n" else c[1].isoformat())
                            for c in r])
        data = buf.getvalue()
        enc = plan.encoding
        path.write_bytes(data.encode("utf-8-sig" if enc == "utf-8-sig" else enc))
        return
    if plan.fmt == "xls":
        import xlwt
        wb = xlwt.Workbook(encoding="utf-8")
        dstyle = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        for name, grid, merges in plan.sheets:
            ws = wb.add_sheet(name)
            covered = set()
            for r1, c1, r2, c2, text in merges:
                ws.write_merge(r1, r2, c1, c2, text)
                covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
            for ri, r in enumerate(grid):
                for ci, c in enumerate(r):
                    if c is None or (ri, ci) in covered:
                        continue
                    if c[0] == "d":
                        ws.write(ri, ci, dt.datetime(c[1].year, c[1].month, c[1].day), dstyle)
                    else:
                        ws.write(ri, ci, c[1])
        wb.save(str(path))
        return
    import xlsxwriter
    # constant_memory is much faster for big sheets but flushes rows early: not with vertical merges
    cm = not any(m[2] > m[0] for _, _, merges in plan.sheets for m in merges)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "constant_memory": cm})
    wb.set_properties({"created": dt.datetime(2026, 10, 3, 9, 0, 0), "author": "湘阴县乡村振兴局"})
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    mfmt = wb.add_format({"align": "center", "bold": True})
    for name, grid, merges in plan.sheets:
        ws = wb.add_worksheet(name)
        covered = set()
        for r1, c1, r2, c2, text in sorted(merges):
            if (r1, c1) == (r2, c2):
                ws.write_string(r1, c1, text)
            else:
                ws.merge_range(r1, c1, r2, c2, text, mfmt)
            covered.add((r1, c1))
        ws_s, ws_n, ws_d = ws.write_string, ws.write_number, ws.write_datetime
        for ri, r in enumerate(grid):
            for ci, c in enumerate(r):
                if c is None or (ri, ci) in covered:
                    continue
                k = c[0]
                if k == "s":
                    ws_s(ri, ci, c[1])
                elif k == "n":
                    ws_n(ri, ci, c[1])
                else:
                    ws_d(ri, ci, dt.datetime(c[1].year, c[1].month, c[1].day), dfmt)
    wb.close()


def _plan_from_spec(spec, county, pd, rng, flags, messy):
    name, kind, fmt, enc, st, rows = spec[:6]
    cols = spec[6] if len(spec) > 6 else None
    plan = FilePlan(name, kind, fmt, enc)
    table = TABLES[kind]
    fmtk = fmt
    if messy:
        grid, merges = _build_sheet(plan, table, rows, st, rng, messy, flags, fmtk, cols)
    else:
        grid, merges = _build_plain(plan, table, rows, fmtk, cols if cols else None)
    if st.sheet_index == 1 and fmt != "csv":
        if st.first_sheet == "notes":
            notes = [[("s", "填表说明")], [("s", "1. 本表由系统导出，请勿修改表头。")],
                     [("s", "2. 数据截至" + pd.R.isoformat() + "。")], [("s", "3. 数据见第二个工作表。")]]
            plan.sheets.append(("填表说明", notes, []))
        else:
            plan.sheets.append(("Sheet1", [], []))
    plan.sheets.append((st.sheet_name, grid, merges))
    plan.sheet = st.sheet_name
    return plan


def write_drop(county: County, period: str, out_dir: Path, *, messy: bool = True, fmt: str = "excel") -> dict:
    """Write one period's files into out_dir; returns (and writes to truth_path(out_dir)) the manifest."""
    pd = county.periods[period]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{county.seed}|{period}|mess|{messy}|{fmt}")
    flags: dict = {}
    mess_defects: list = []
    if fmt == "csv" or not messy:
        ext = "csv" if fmt == "csv" else "xlsx"
        specs = [[f"{t}.{ext}", t, ext, "utf-8", Style(), _live(pd.tables[t])] for t in TABLE_ORDER]
        messy_cells = False
    else:
        specs = _messy_specs(county, pd, rng)
        _mess_rows(county, pd, specs, rng, flags, mess_defects)
        messy_cells = True
    extra = []
    for base, kind, cols, rows in pd.extra_files:
        if fmt == "csv" or not messy:
            extra.append([f"{kind}_补充_缺列.{'csv' if fmt == 'csv' else 'xlsx'}", kind,
                          "csv" if fmt == "csv" else "xlsx", "utf-8", Style(), rows, cols])
        else:
            extra.append([f"{base}.{'xlsx' if kind == 'loans' else 'csv'}", kind,
                          "xlsx" if kind == "loans" else "csv", "utf-8", Style(titles=("补录数据",)), rows, cols])
    plans = [_plan_from_spec(s, county, pd, rng, flags, messy_cells) for s in specs]
    xplans = [_plan_from_spec(s, county, pd, rng, flags, messy_cells) for s in extra]
    for p in xplans:
        p.not_loaded = True
    # duplicates across files of a kind, in path order
    files: dict = {}
    seen: dict = {}
    for p in sorted(plans, key=lambda p: p.name):
        dups = 0
        s = seen.setdefault(p.kind, set())
        for sig, unattr in p.sigs:
            if unattr:
                continue
            if sig in s:
                dups += 1
            else:
                s.add(sig)
        files[p.name] = {"kind": p.kind, "sheet": p.sheet, "data_rows": p.data_rows, "duplicate_rows": dups,
                         "rejected_rows": p.unattributable + dups, "skipped_rows": p.skipped}
    for p in xplans:
        files[p.name] = {"kind": p.kind, "sheet": p.sheet, "data_rows": p.data_rows, "duplicate_rows": 0,
                         "rejected_rows": p.data_rows, "skipped_rows": p.skipped, "not_loaded": "SCH-01"}
    for p in plans + xplans:
        _write_plan(p, out_dir)
    defects = [dict(d) for d in pd.defects] + mess_defects
    sch01_names = {p.name for p in xplans}
    for d in defects:
        if d["rule_id"] == "SCH-01" and d.get("file"):
            d["file"] = next((n for n in sch01_names if d["file"] in n or d.get("table") in n), d["file"])
    bad = {d["household_id"] for d in defects if d["household_id"]}
    hh_ids = sorted(r["household_id"] for r in pd.tables["households"] if not r.get("_del"))
    truth = {"period": period, "reference_date": pd.R.isoformat(), "seed": county.seed,
             "n_households": county.n_households, "messy": messy, "fmt": fmt,
             "defects": defects,
             "clean_households": [h for h in hh_ids if h not in bad],
             "near_miss_households": sorted(pd.protected & set(hh_ids)),
             "files": files}
    target = truth_path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False), encoding="utf-8")
    return truth


def truth_path(drop: Path) -> Path:
    """Where the ground truth of a generated drop is kept: beside the drop, not inside it (a run
    lists every file of its drop, and the truth is not a spreadsheet of the county)."""
    drop = Path(drop)
    return drop.parent / "truth" / f"{drop.name}.json"
