"""make bench-province: the full monthly run on a province-sized drop.

    python -m bench.province --households 1000000 [--base 20000] [--keep]

1. Generates a base county once with demo.generate.generate_demo(fmt="csv") (cached under
   bench/out/province_base_<base>_s<seed>/).
2. Tiles it to the target size in DuckDB SQL: k = ceil(households / base households) copies
   of every table, each copy with its own household IDs (township code of the 户编号
   shifted), person numbers, person IDs (region and birth date kept, the 3-digit sequence
   varied with its gender parity, the GB 11643 check digit recomputed — a wrong check digit
   stays wrong by the same offset, 15- and 17-character IDs follow the same person), disability
   card numbers, project IDs (and their notice URLs), phone numbers, and county/township
   names (so every copy has its own villages). The mapping is a function of the value, applied
   to every column of its kind in every table and both periods, so matches, duplicates and
   defects of the base county survive in every copy. One CSV file per table.
3. Runs `cardcheck run` on it in a subprocess and measures wall time, CPU time, peak RSS
   (the largest single process's own high-water mark, and the sampled sum over the process tree) and the
   time of each stage (from the progress lines on stderr; --quiet passes -q and loses them).
4. Optionally (default) runs the base county too and compares issue counts per rule: at
   scale every rule should report about k times the base count.

--profile (or --profile-only) then runs pipeline.run.run() once more inside a process with
the stage functions wrapped in timers and every SQL statement timed by label (rule id, view
name), with RSS and DuckDB buffer memory after each stage and each materialised view.

Prints a table and writes bench/out/province.json. The tiled drop is deleted after the run
unless --keep (a kept drop is reused by the next run with the same parameters).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from schemas.sql import ident as _q
from schemas.sql import lit as _lit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PERIODS = ("2026-09", "2026-10")
PAGE = os.sysconf("SC_PAGE_SIZE")

# ISO 7064 MOD 11-2 (GB 11643): weights of the 17 body digits, check character by sum mod 11.
_WEIGHTS = "[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]"
_MACROS = [
    f"""CREATE OR REPLACE TEMP MACRO cc_cd(b) AS substr('10X98765432', CAST(list_sum(list_transform(
            range(1, 18), lambda i: CAST(substr(b, i, 1) AS INTEGER) * ({_WEIGHTS})[i])) % 11 AS INTEGER) + 1, 1)""",
    "CREATE OR REPLACE TEMP MACRO cc_ci(ch) AS CASE ch WHEN 'X' THEN 10 ELSE CAST(ch AS INTEGER) END",
]


# ---------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------

def base_county(base: int, seed: int) -> tuple[Path, float | None]:
    """The base county drop (both periods), generated once; (root, seconds or None if cached)."""
    from demo.generate import generate_demo

    root = OUT / f"province_base_{base}_s{seed}"
    done = root / ".complete"
    if done.exists():
        return root, None
    if root.exists():
        shutil.rmtree(root)
    t = time.perf_counter()
    generate_demo(root, seed=seed, n_households=base, fmt="csv")
    dt = time.perf_counter() - t
    done.write_text(json.dumps({"seconds": round(dt, 1)}))
    return root, dt


def _kind(path: Path) -> str:
    return path.stem.split("_补充")[0]


class Tiler:
    """Reads the base csvs into DuckDB, builds the value maps, writes k copies of each table."""

    def __init__(self, base_root: Path, k: int, periods: tuple[str, ...], tmp: Path):
        import duckdb

        from schemas.tables import TABLES

        self.k = k
        self.w = max(2, len(str(k)))
        self.periods = periods
        self.con = con = duckdb.connect()
        tmp.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {_lit(str(tmp))}")
        con.execute("SET memory_limit = '6GB'")
        con.execute("SET preserve_insertion_order = true")
        for m in _MACROS:
            con.execute(m)
        # base tables: b_<period index>_<n>, with their header -> Col of the kind
        self.files: list[dict] = []
        for pi, p in enumerate(PERIODS):
            for n, path in enumerate(sorted((base_root / p).glob("*.csv"))):
                kind = _kind(path)
                table = TABLES[kind]
                name = f"b_{pi}_{n}"
                con.execute(f"""CREATE TABLE {name} AS SELECT * FROM read_csv({_lit(str(path))},
                    all_varchar = true, header = true, delim = ',', quote = '"', escape = '"')""")
                cols = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
                by_header = {c.header: c for c in table.columns}
                self.files.append({"period": p, "path": path, "table": name, "kind": kind,
                                   "cols": [(h, by_header.get(h)) for h in cols],
                                   "base_rows": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]})

    def _values(self, pred, expr="{c}") -> str:
        """UNION of the values of every column (in every base table) whose Col satisfies pred."""
        parts = []
        for f in self.files:
            for h, c in f["cols"]:
                if c is not None and pred(c):
                    parts.append(f"SELECT {expr.format(c=_q(h))} AS v FROM {f['table']}")
        return "\nUNION ".join(parts) if parts else "SELECT NULL::VARCHAR AS v WHERE false"

    def build_maps(self) -> dict:
        con, k = self.con, self.k
        con.execute(f"CREATE TEMP TABLE copies AS SELECT range::INTEGER AS k FROM range({k})")
        # --- person IDs -----------------------------------------------------
        ids = self._values(lambda c: c.type == "id")
        cards = self._values(lambda c: c.name == "card_number", "substr({c}, 1, 18)")
        con.execute(f"""
            CREATE TEMP TABLE idparse AS
            WITH v AS (SELECT v FROM ({ids} UNION {cards}) WHERE v IS NOT NULL)
            SELECT v,
                   CASE WHEN regexp_full_match(v, '[0-9]{{17}}[0-9Xx]?') THEN 'L'
                        WHEN regexp_full_match(v, '[0-9]{{15}}') THEN 'S' END AS form,
                   substr(v, 1, 6) AS r,
                   CASE form WHEN 'L' THEN substr(v, 7, 8) WHEN 'S' THEN '19' || substr(v, 7, 6) END AS b8,
                   CASE form WHEN 'L' THEN substr(v, 15, 3) WHEN 'S' THEN substr(v, 13, 3) END AS s3,
                   CASE WHEN form = 'L' AND length(v) = 18 THEN upper(substr(v, 18, 1)) END AS c
            FROM v""")
        # A mistyped ID (XA-10's near-misses): an 18-char ID with a wrong check digit whose
        # sequence differs in one digit from a valid ID of the same region and birth date with the
        # same check character. Its key follows the parent's key (same one-digit edit), so the
        # copies stay one digit apart; every other key gets its own sequence.
        con.execute("""
            CREATE TEMP TABLE idderived AS
            WITH l AS (SELECT DISTINCT r, b8, s3, c, c = cc_cd(r || b8 || s3) AS ok
                       FROM idparse WHERE form = 'L' AND c IS NOT NULL)
            SELECT v.r, v.b8, v.s3, min(u.s3) AS ps3
            FROM l v JOIN l u ON u.r = v.r AND u.b8 = v.b8 AND u.ok AND NOT v.ok AND u.c = v.c
                AND CAST(substr(u.s3, 1, 1) <> substr(v.s3, 1, 1) AS INTEGER)
                  + CAST(substr(u.s3, 2, 1) <> substr(v.s3, 2, 1) AS INTEGER)
                  + CAST(substr(u.s3, 3, 1) <> substr(v.s3, 3, 1) AS INTEGER) = 1
            GROUP BY ALL""")
        while True:   # a parent must get its own sequence: a child of a child keeps its own
            n = con.execute("""DELETE FROM idderived d WHERE EXISTS (
                SELECT 1 FROM idderived p WHERE p.r = d.r AND p.b8 = d.b8 AND p.s3 = d.ps3)""").fetchone()[0]
            if not n:
                break
        # one slot per (person, copy) within (region, birth date, gender parity): 500 sequences;
        # a group that needs more (k large, many base people born that day) spills into the next day
        con.execute("""
            CREATE TEMP TABLE idslots0 AS
            WITH keys AS (SELECT DISTINCT r, b8, s3 FROM idparse WHERE form IS NOT NULL
                          EXCEPT SELECT r, b8, s3 FROM idderived)
            SELECT r, b8, s3, k, CAST(substr(s3, 3, 1) AS INTEGER) % 2 AS par,
                   row_number() OVER (PARTITION BY r, b8, CAST(substr(s3, 3, 1) AS INTEGER) % 2
                                      ORDER BY k, s3) - 1 AS slot
            FROM keys CROSS JOIN copies""")
        con.execute("""
            CREATE TEMP TABLE idslots AS
            WITH d AS (SELECT r, b8, par, count(*) AS n FROM idslots0 GROUP BY ALL),
            sp AS (
                SELECT s.*, strftime(try_strptime(b8, '%Y%m%d') + to_days(CAST(slot // 500 AS INTEGER)),
                                     '%Y%m%d') AS nb8
                FROM idslots0 s WHERE slot >= 500
            ), sp2 AS (
                SELECT sp.r, sp.b8, sp.s3, sp.k, sp.par, sp.nb8,
                       coalesce(d.n, 0) + row_number() OVER (PARTITION BY sp.r, sp.nb8, sp.par
                                                             ORDER BY sp.b8, sp.k, sp.s3) - 1 AS slot
                FROM sp LEFT JOIN d ON d.r = sp.r AND d.b8 = sp.nb8 AND d.par = sp.par
            )
            SELECT r, b8, s3, k, par, b8 AS nb8, slot FROM idslots0 WHERE slot < 500
            UNION ALL SELECT r, b8, s3, k, par, nb8, slot FROM sp2""")
        max_slot, bad, spilled = con.execute(
            "SELECT coalesce(max(slot), 0), count(*) FILTER (WHERE nb8 IS NULL), count(*) FILTER (WHERE nb8 <> b8) "
            "FROM idslots").fetchone()
        if max_slot >= 500 or bad:
            raise SystemExit(f"too many copies ({k}) for the ID sequence space (500 per region, birth date "
                             f"and gender); use a larger --base")
        con.execute("""
            CREATE TEMP TABLE idkeys AS
            WITH n AS (
                SELECT r, b8, s3, k, nb8,
                       lpad(CAST(slot // 5 AS VARCHAR), 2, '0') || CAST((slot % 5) * 2 + par AS VARCHAR) AS ns,
                       NULL::VARCHAR AS ps3, NULL::VARCHAR AS pns
                FROM idslots
            ), e AS (          -- derived: the parent's new sequence with the same digit changed
                SELECT d.r, d.b8, d.s3, d.ps3, p.k, p.nb8, p.ns AS pns,
                       CASE WHEN substr(d.s3, 1, 1) <> substr(d.ps3, 1, 1) THEN 1
                            WHEN substr(d.s3, 2, 1) <> substr(d.ps3, 2, 1) THEN 2 ELSE 3 END AS pos
                FROM idderived d JOIN n p ON p.r = d.r AND p.b8 = d.b8 AND p.s3 = d.ps3
            ), cand AS (       -- the same edit first, then other digits and positions, avoiding taken sequences
                SELECT e.*, t.i, q.p,
                       substr(e.pns, 1, q.p - 1)
                         || CAST((CAST(substr(e.pns, q.p, 1) AS INTEGER)
                                  + CASE WHEN q.p = e.pos THEN CAST(substr(e.s3, e.pos, 1) AS INTEGER)
                                                             - CAST(substr(e.ps3, e.pos, 1) AS INTEGER) + 10 ELSE 1 END
                                  + t.i) % 10 AS VARCHAR)
                         || substr(e.pns, q.p + 1) AS ns
                FROM e CROSS JOIN range(9) t(i) CROSS JOIN (VALUES (1), (2), (3)) q(p)
            ), ok AS (
                SELECT c.* FROM cand c
                WHERE c.ns <> c.pns
                  AND NOT EXISTS (SELECT 1 FROM n WHERE n.r = c.r AND n.nb8 = c.nb8 AND n.ns = c.ns)
                QUALIFY row_number() OVER (PARTITION BY c.r, c.b8, c.s3, c.k
                                           ORDER BY c.p <> c.pos, c.p = 3, c.p, c.i) = 1
            )
            SELECT * FROM n
            UNION ALL SELECT r, b8, s3, k, nb8, ns, ps3, pns FROM ok""")
        con.execute("""
            CREATE TEMP TABLE idmap AS
            WITH s AS (
                SELECT p.v, p.form, p.r, p.b8, p.s3, p.c, s.k, s.nb8, s.ns, s.ps3, s.pns
                FROM idparse p JOIN idkeys s USING (r, b8, s3)
            )
            SELECT v, k,
                   CASE form
                     WHEN 'S' THEN r || substr(nb8, 3) || ns
                     WHEN 'L' THEN r || nb8 || ns ||
                        CASE WHEN c IS NULL THEN ''
                             WHEN c = cc_cd(r || b8 || s3) THEN cc_cd(r || nb8 || ns)
                             WHEN ps3 IS NOT NULL AND c = cc_cd(r || b8 || ps3) THEN cc_cd(r || nb8 || pns)
                             ELSE substr('0123456789X', (((cc_ci(cc_cd(r || nb8 || ns)) + cc_ci(c)
                                                          - cc_ci(cc_cd(r || b8 || s3))) % 11 + 11) % 11) + 1, 1)
                        END
                   END AS nv
            FROM s""")
        n_derived = con.execute("SELECT count(*) FROM idderived").fetchone()[0]
        # --- household IDs: shift the township code (digits 7-9) per copy --------
        hids = self._values(lambda c: c.name == "household_id")
        pnos = self._values(lambda c: c.name == "person_no", "substr({c}, 1, 15)")
        con.execute(f"""CREATE TEMP TABLE hidvals AS
            SELECT v FROM ({hids} UNION {pnos}) WHERE v IS NOT NULL""")
        con.execute("""CREATE TEMP TABLE twn AS
            SELECT t, row_number() OVER (ORDER BY t) - 1 AS i FROM (
                SELECT DISTINCT substr(v, 7, 3) AS t FROM hidvals WHERE regexp_full_match(v, '[0-9]{15}'))""")
        n_twn = con.execute("SELECT count(*) FROM twn").fetchone()[0]
        shift = n_twn * k <= 899
        sfx = f"lpad(CAST(c.k + 1 AS VARCHAR), {self.w}, '0')"
        con.execute(f"""
            CREATE TEMP TABLE hidmap AS
            SELECT h.v, c.k,
                   CASE WHEN {'true' if shift else 'false'} AND t.t IS NOT NULL
                        THEN substr(h.v, 1, 6) || lpad(CAST(100 + c.k * {n_twn} + t.i AS VARCHAR), 3, '0') || substr(h.v, 10)
                        ELSE h.v || {sfx} END AS nv
            FROM hidvals h CROSS JOIN copies c
            LEFT JOIN twn t ON regexp_full_match(h.v, '[0-9]{{15}}') AND t.t = substr(h.v, 7, 3)""")
        # --- phones: the last 7 digits become a slot unique per (normalised phone, copy) ------
        phones = self._values(lambda c: c.name == "phone")
        con.execute(f"""
            CREATE TEMP TABLE phoneparse AS
            WITH v AS (SELECT v, regexp_replace(v, '[^0-9]', '', 'g') AS d
                       FROM ({phones}) WHERE v IS NOT NULL AND regexp_matches(v, '[0-9]{{7}}$'))
            SELECT v, CASE WHEN length(d) = 13 AND starts_with(d, '86') THEN substr(d, 3) ELSE d END AS norm FROM v""")
        n_ph = con.execute("SELECT count(DISTINCT norm) FROM phoneparse").fetchone()[0]
        if n_ph * k > 10**7:
            raise SystemExit(f"too many copies ({k}) for the phone slots ({n_ph} phones)")
        con.execute(f"""
            CREATE TEMP TABLE phonemap AS
            WITH p AS (SELECT v, dense_rank() OVER (ORDER BY norm) - 1 AS i FROM phoneparse)
            SELECT p.v, c.k, regexp_replace(p.v, '[0-9]{{7}}$',
                                            lpad(CAST(c.k * {n_ph} + p.i AS VARCHAR), 7, '0')) AS nv
            FROM p CROSS JOIN copies c""")
        return {"ids": con.execute("SELECT count(*) FROM idparse").fetchone()[0],
                "ids_not_id_shaped": con.execute("SELECT count(*) FROM idparse WHERE form IS NULL").fetchone()[0],
                "max_id_slot": max_slot, "ids_spilled_to_next_day": spilled,
                "mistyped_ids_following_their_parent": n_derived, "townships": n_twn, "household_id_scheme":
                "township code shifted" if shift else "copy suffix", "phones": n_ph}

    def check_digits_ok(self, n: int = 20000) -> None:
        """The SQL check digit agrees with python-stdnum (schemas.ids.check_digit)."""
        from schemas.ids import check_digit

        rows = self.con.execute(f"""SELECT r || b8 || s3, cc_cd(r || b8 || s3) FROM idparse
                                    WHERE form = 'L' LIMIT {n}""").fetchall()
        bad = [(b, c) for b, c in rows if check_digit(b) != c]
        if bad:
            raise SystemExit(f"SQL check digit disagrees with stdnum: {bad[:3]}")
        # the maps are injective and keep check-digit validity
        problems = self.con.execute("""
            SELECT
              (SELECT count(*) FROM (SELECT r, b8, s3, k FROM idparse JOIN idkeys USING (r, b8, s3)
                                     WHERE form IS NOT NULL GROUP BY ALL))
                - (SELECT count(DISTINCT (r, nb8, ns)) FROM idkeys) AS id_collisions,
              (SELECT count(DISTINCT (r, b8, s3)) FROM idparse WHERE form IS NOT NULL) * (SELECT count(*) FROM copies)
                - (SELECT count(*) FROM idkeys) AS id_keys_missing,
              (SELECT count(*) FROM idmap m JOIN idparse p USING (v)
               WHERE CASE WHEN p.c IS NOT NULL AND length(m.nv) = 18
                          THEN (p.c = cc_cd(substr(p.v, 1, 17))) <> (substr(m.nv, 18, 1) = cc_cd(substr(m.nv, 1, 17)))
                          ELSE p.c IS NOT NULL END)
                AS check_changed,
              (SELECT count(*) - count(DISTINCT nv) FROM hidmap) AS hid_collisions,
              (SELECT count(DISTINCT (v, k)) - count(DISTINCT nv) FROM phonemap) AS phone_collisions
        """).fetchone()
        if any(problems):
            raise SystemExit(f"tiling maps broken (id collisions, missing, check, household, phone): {problems}")

    def write(self, period: str, out_dir: Path) -> dict[str, int]:
        """k copies of every base table of the period → out_dir/<file>.csv; rows per file."""
        con = self.con
        out_dir.mkdir(parents=True, exist_ok=True)
        sfx = f"lpad(CAST(c.k + 1 AS VARCHAR), {self.w}, '0')"
        rows = {}
        for f in self.files:
            if f["period"] != period:
                continue
            sel, joins = [], []
            pid_col = next((h for h, c in f["cols"] if c is not None and c.name == "project_id"), None)

            def join(mapname, on_expr, alias, joins=joins):
                joins.append(f"LEFT JOIN {mapname} {alias} ON {alias}.v = {on_expr} AND {alias}.k = c.k")

            def pid_expr(col):
                return (f"CASE WHEN regexp_full_match({col}, 'XM[0-9]{{14}}') "
                        f"THEN substr({col}, 1, 12) || {sfx} || substr({col}, 13) ELSE {col} || {sfx} END")

            for j, (h, col) in enumerate(f["cols"]):
                b = f"b.{_q(h)}"
                a = f"m{j}"
                name = col.name if col is not None else None
                if col is not None and col.type == "id":
                    join("idmap", b, a)
                    e = f"coalesce({a}.nv, {b})"
                elif name == "card_number":
                    join("idmap", f"substr({b}, 1, 18)", a)
                    e = f"CASE WHEN {a}.nv IS NOT NULL THEN {a}.nv || substr({b}, 19) ELSE {b} END"
                elif name == "household_id":
                    join("hidmap", b, a)
                    e = f"coalesce({a}.nv, {b})"
                elif name == "person_no":
                    join("hidmap", f"substr({b}, 1, 15)", a)
                    e = (f"CASE WHEN regexp_full_match({b}, '[0-9]{{17}}') AND {a}.nv IS NOT NULL "
                         f"THEN {a}.nv || substr({b}, 16) ELSE {b} || {sfx} END")
                elif name == "project_id":
                    e = pid_expr(b)
                elif name == "notice_url" and pid_col:
                    p = f"b.{_q(pid_col)}"
                    e = f"CASE WHEN {p} IS NULL THEN {b} ELSE replace({b}, {p}, {pid_expr(p)}) END"
                elif name == "phone":
                    join("phonemap", b, a)
                    e = f"coalesce({a}.nv, {b})"
                elif name in ("county", "township"):
                    e = f"{b} || {sfx}"
                else:
                    e = b
                sel.append(f"{e} AS {_q(h)}")
            target = out_dir / f["path"].name
            sql = (f"SELECT {', '.join(sel)} FROM {f['table']} b CROSS JOIN copies c "
                   f"{' '.join(joins)} ORDER BY c.k, b.rowid")
            n = con.execute(f"COPY ({sql}) TO {_lit(str(target))} (FORMAT csv, HEADER true)").fetchone()[0]
            rows[f["path"].name] = n
        return rows

    def close(self):
        self.con.close()


def tile(base_root: Path, k: int, drop_root: Path, periods: tuple[str, ...]) -> dict:
    t0 = time.perf_counter()
    tiler = Tiler(base_root, k, periods, OUT / ".province_tmp")
    t1 = time.perf_counter()
    maps = tiler.build_maps()
    tiler.check_digits_ok()
    t2 = time.perf_counter()
    rows = {}
    for p in periods:
        rows[p] = tiler.write(p, drop_root / p)
    t3 = time.perf_counter()
    tiler.close()
    shutil.rmtree(OUT / ".province_tmp", ignore_errors=True)
    size = sum(f.stat().st_size for f in drop_root.rglob("*.csv"))
    return {"copies": k, "maps": maps, "rows": rows, "bytes": size,
            "read_base_s": round(t1 - t0, 2), "maps_s": round(t2 - t1, 2), "write_s": round(t3 - t2, 2),
            "seconds": round(t3 - t0, 2)}


# ---------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------

def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                s = fh.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree_rss(pid: int) -> tuple[int, int, int]:
    """(sum of RSS over pid and its descendants in bytes, number of processes, the largest
    high-water RSS of any of them in bytes). The high-water mark is each process's own (VmHWM):
    wait4's ru_maxrss is not — a child forked from this bench after it tiled the drop in DuckDB
    inherits the bench's ~5 GB as its maxrss at exec, although it never holds it."""
    kids = _children_map()
    total, n, hwm, todo = 0, 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
            n += 1
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]) * 1024)
                        break
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(kids.get(p, []))
    return total, n, hwm


def _loadavg() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine (all containers of the VM included)."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def _mem_available_mib() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return -1


# stage boundaries: the status lines of pipeline.run (cli progress on stderr)
STAGE_MARKS = [("规则检查", "ingest (read + stage + normalise/dedupe + validate_loaded)"),
               ("部门比对", "rules (views + evaluate + finish)"),
               ("写出结果", "reconcile + history + manifest"),
               ("村级问题清单", "issue/resolved/rejected files"),
               ("整表期望检查", "village workbooks"),
               (None, "expectations + summary + run.json + database")]


DATA = OUT / "province_data"      # the runs' data folder (its cache of readings is emptied before the measured run)
ABORT_MIB = 20 * 1024    # the machine has 24 GiB: stop a run before it takes the rest


def run_measured(drop: Path, period: str, out: Path, db: Path, quiet: bool) -> dict:
    """`cardcheck run` in a subprocess: wall, CPU, peak RSS (wait4 and sampled tree), stage times."""
    cmd = [str(ROOT / ".venv" / "bin" / "cardcheck"), "run", str(drop), "--period", period,
           "--out", str(out), "--db", str(db), "--data", str(DATA)] + (["-q"] if quiet else [])
    env = dict(os.environ, COLUMNS="200")
    events: list[tuple[float, str]] = []
    samples = {"peak_tree": 0, "peak_tree_t": 0.0, "max_procs": 0, "min_avail": 10**9, "load": []}
    t0 = time.perf_counter()
    cpu0 = _cpu_times()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    stderr_tail: list[str] = []

    def read_err():
        for line in proc.stderr:
            events.append((time.perf_counter() - t0, line.rstrip("\n")))
            stderr_tail.append(line)
            del stderr_tail[:-200]

    done = threading.Event()

    def sample():
        i = 0
        while not done.is_set():
            rss, n, hwm = tree_rss(proc.pid)
            samples["peak_single"] = max(samples.get("peak_single", 0), hwm)
            if rss > samples["peak_tree"]:
                samples["peak_tree"], samples["peak_tree_t"] = rss, time.perf_counter() - t0
            samples["max_procs"] = max(samples["max_procs"], n)
            if rss > ABORT_MIB * 2**20 and not samples.get("aborted"):
                samples["aborted"] = f"process tree RSS {rss / 2**30:.1f} GiB > {ABORT_MIB / 1024:.0f} GiB at " \
                                     f"{time.perf_counter() - t0:.0f} s; stopped"
                import signal
                os.killpg(proc.pid, signal.SIGKILL)   # the session started for this run only
            samples["min_avail"] = min(samples["min_avail"], _mem_available_mib())
            if i % 20 == 0:
                samples["load"].append(round(_loadavg(), 2))
            i += 1
            done.wait(0.25)

    th_err = threading.Thread(target=read_err, daemon=True)
    th_mem = threading.Thread(target=sample, daemon=True)
    th_err.start()
    th_mem.start()
    stdout = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    cpu1 = _cpu_times()
    ticks = os.sysconf("SC_CLK_TCK")
    machine_busy_cores = (cpu1[0] - cpu0[0]) / ticks / wall
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    th_err.join(5)
    th_mem.join(5)
    if samples.get("aborted"):
        return {"aborted": samples["aborted"], "wall_s": round(wall, 1),
                "peak_rss_tree_mib": round(samples["peak_tree"] / 2**20), "events": events[-50:]}
    if proc.returncode not in (0, 1):       # 1: completed, with files not loaded (the base county has some)
        raise SystemExit(f"cardcheck run failed ({proc.returncode}):\n{''.join(stderr_tail)[-3000:]}\n{stdout}")
    # stages
    stages = []
    if not quiet:
        marks = {}
        files = []
        for t, line in events:
            s = line.strip()
            if s.startswith("✓"):
                files.append((round(t, 1), s[1:].strip()))
            for m, _ in STAGE_MARKS:
                if m and m in s and m not in marks:
                    marks[m] = t
        start = 0.0
        for m, label in STAGE_MARKS:
            end = marks.get(m, wall) if m else wall
            stages.append({"stage": label, "seconds": round(end - start, 1), "ends_at": round(end, 1)})
            start = end
        if files:
            stages[0]["files_read_by"] = round(files[-1][0], 1)
            stages[0]["file_done_at"] = files
    manifest = json.loads((out / period / "run.json").read_text(encoding="utf-8"))
    return {
        "cmd": " ".join(cmd), "wall_s": round(wall, 1),
        "cpu_user_s": round(ru.ru_utime, 1), "cpu_sys_s": round(ru.ru_stime, 1),
        "cpu_per_wall": round((ru.ru_utime + ru.ru_stime) / wall, 2),
        "machine_busy_cores": round(machine_busy_cores, 2),
        "other_work_cores": round(max(0.0, machine_busy_cores - (ru.ru_utime + ru.ru_stime) / wall), 2),
        "peak_rss_single_mib": round(samples.get("peak_single", 0) / 2**20),
        "peak_rss_tree_mib": round(samples["peak_tree"] / 2**20), "peak_rss_tree_at_s": round(samples["peak_tree_t"], 1),
        "max_processes": samples["max_procs"], "min_mem_available_mib": samples["min_avail"],
        "loadavg_samples": samples["load"], "stages": stages,
        "stdout": stdout.strip(), "totals": manifest["totals"],
        "rules": {r: v.get("issues", 0) for r, v in manifest["rules"].items()},
        "rows_read": sum(f["rows_read"] for f in manifest["files"]),
        "rows_loaded": sum(f["rows_loaded"] for f in manifest["files"]),
    }


# ---------------------------------------------------------------------------
# profile: the stages of pipeline.run.run() one by one, in this process, with finer timers
# ---------------------------------------------------------------------------

def _rss_mib(pid: int | None = None) -> int:
    with open(f"/proc/{pid or 'self'}/statm") as fh:
        return int(fh.read().split()[1]) * PAGE // 2**20


class _TimedConnection:
    """A DuckDB connection that times every execute()/executemany() by a label of its SQL."""

    def __init__(self, con, sink: dict):
        object.__setattr__(self, "_con", con)
        object.__setattr__(self, "_sink", sink)

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __setattr__(self, name, value):
        setattr(self._con, name, value)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._con.__exit__(*exc)

    def _timed(self, fn, sql, *args, **kw):
        t = time.perf_counter()
        try:
            return fn(sql, *args, **kw)
        finally:
            lab = _sql_label(sql if isinstance(sql, str) else str(sql))
            d = self._sink.setdefault(lab, [0.0, 0])
            d[0] += time.perf_counter() - t
            d[1] += 1
            if lab.startswith("view "):    # materialised view: its rows and DuckDB memory after it
                try:
                    d.append(self._con.execute(f'SELECT count(*) FROM "{lab[5:]}"').fetchall()[0][0])
                    d.append(self._con.cursor().execute(
                        "SELECT sum(memory_usage_bytes) // 1048576 FROM duckdb_memory()").fetchall()[0][0])
                except Exception as exc:  # noqa: BLE001 — diagnostics only
                    d.append(f"{type(exc).__name__}")

    def execute(self, sql, *args, **kw):
        self._timed(self._con.execute, sql, *args, **kw)
        return self._con

    def executemany(self, sql, *args, **kw):
        self._timed(self._con.executemany, sql, *args, **kw)
        return self._con


def _sql_label(sql: str) -> str:
    import re

    m = re.search(r"SELECT '([A-Z]+-[0-9]+)' AS rule_id", sql)
    if m:
        return f"rule {m.group(1)}"
    m = re.search(r'CREATE OR REPLACE TEMP TABLE "(v_\w+)"', sql)
    if m:
        return f"view {m.group(1)}"
    m = re.search(r"_stage_(\w+)", sql)
    if m:
        return f"sql on _stage_{m.group(1)}: " + " ".join(sql.split())[:50]
    return "sql: " + " ".join(sql.split())[:70]


def profile_run(drop: Path, period: str, out: Path, db: Path) -> dict:
    """pipeline.run.run() in this process with timers: the stage functions it calls are wrapped
    (module attributes, so the code under test is unchanged) and every SQL statement on its
    connection is timed by label (rule id, view name, statement head)."""
    import importlib
    import resource

    import duckdb

    steps: list[dict] = []
    sql_times: dict = {}
    t_start = time.perf_counter()
    depth = [0]

    def wrap(modname: str, attr: str, label: str):
        mod = importlib.import_module(modname)
        fn = getattr(mod, attr, None)
        if fn is None:
            return

        def timed(*a, **kw):
            t0 = time.perf_counter()
            depth[0] += 1
            try:
                return fn(*a, **kw)
            finally:
                depth[0] -= 1
                dt_ = time.perf_counter() - t0
                name = label + "".join(f" {x.name}" for x in a[1:2] if type(x).__name__ == "Table")
                ddb = None
                if a and isinstance(a[0], _TimedConnection):   # DuckDB's buffer-managed memory, all tags
                    ddb = a[0]._con.cursor().execute(
                        "SELECT sum(memory_usage_bytes) // 1048576 FROM duckdb_memory()").fetchall()[0][0]
                steps.append({"step": name, "seconds": round(dt_, 2), "depth": depth[0],
                              "at_s": round(time.perf_counter() - t_start, 1), "rss_mib": _rss_mib(),
                              "duckdb_mib": ddb,
                              "peak_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024})
                print(f"[{time.perf_counter() - t_start:8.1f}] {'  ' * depth[0]}{name:<44}{dt_:9.2f} s  "
                      f"rss {_rss_mib():>6} MiB  duckdb {ddb} MiB", file=sys.stderr, flush=True)
        setattr(mod, attr, timed)

    for modname, attr, label in [
            ("pipeline.run", "ingest", "ingest"),
            ("pipeline.ingest.load", "finalize_kind", "ingest: finalize_kind"),
            ("schemas.models", "validate_loaded", "validate_loaded"),
            ("checks.engine", "prepare", "engine.prepare (views)"),
            ("checks.engine", "evaluate", "engine.evaluate (rules)"),
            ("checks.engine", "finish", "engine.finish"),
            ("pipeline.run", "reconciliation_stats", "reconciliation_stats"),
            ("pipeline.cycle.history", "apply", "history.apply"),
            ("pipeline.run", "village_stats", "village_stats"),
            ("pipeline.run", "totals", "totals"),
            ("pipeline.outputs.report", "write_issues", "report.write_issues"),
            ("pipeline.outputs.report", "write_resolved", "report.write_resolved"),
            ("pipeline.outputs.report", "write_rejected", "report.write_rejected"),
            ("pipeline.outputs.workbooks", "write_all", "workbooks.write_all"),
            ("pipeline.outputs.expectations", "run_expectations", "expectations.run_expectations"),
            ("pipeline.outputs.summary", "write_summary", "summary.write_summary"),
            ("pipeline.cycle.history", "persist", "history.persist")]:
        wrap(modname, attr, label)
    real_connect = duckdb.connect
    duckdb.connect = lambda *a, **kw: _TimedConnection(real_connect(*a, **kw), sql_times)
    import pipeline.run as prun

    file_done: list = []
    marks: list = []
    res = prun.run(drop, period, out=out, db=db,
                   progress=lambda rel: file_done.append((round(time.perf_counter() - t_start, 1), rel)),
                   status=lambda msg: marks.append((round(time.perf_counter() - t_start, 1), msg)))
    duckdb.connect = real_connect
    sql = sorted(([k, round(v[0], 2), *v[1:]] for k, v in sql_times.items()), key=lambda r: -r[1])
    views = [[k, round(v[0], 2), *v[1:]] for k, v in sql_times.items() if k.startswith("view ") and len(v) == 4]
    return {"total_s": round(time.perf_counter() - t_start, 1),
            "peak_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "peak_workers_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
            "issues": res.manifest["totals"]["issues"], "steps": steps, "status_marks": marks,
            "file_done_at": file_done, "sql": sql, "views": views}


def profile_measured(drop: Path, period: str) -> dict:
    out, db = OUT / "province_profile_reports", OUT / "province_profile.duckdb"
    db.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.province", "--profile-child", str(drop), "--period", period]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid)[0])
            done.wait(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout = proc.stdout.read()
    proc.wait()
    done.set()
    th.join(5)
    if proc.returncode != 0:
        raise SystemExit(f"profile child failed ({proc.returncode})")
    res = json.loads(stdout.strip().splitlines()[-1])
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    res["peak_rss_tree_mib"] = round(peak[0] / 2**20)
    shutil.rmtree(out, ignore_errors=True)
    db.unlink(missing_ok=True)
    return res


def print_profile(p: dict, top: int = 25) -> None:
    print(f"\nprofile (pipeline.run.run in one process, stage functions and SQL statements timed): "
          f"total {p['total_s']} s, peak tree {p['peak_rss_tree_mib']:,} MiB, main process {p['peak_self_mib']:,} MiB, "
          f"largest reader worker {p['peak_workers_mib']:,} MiB")
    agg: dict[str, list] = {}
    for s in p["steps"]:
        a = agg.setdefault(s["step"], [0.0, 0, 0, 0])
        a[0] += s["seconds"]
        a[1] += 1
        a[2] = max(a[2], s["rss_mib"])
        a[3] = max(a[3], s.get("duckdb_mib") or 0)
    print("  stage functions (nested ones are part of their caller):")
    for name, (sec, n, rss, ddb) in agg.items():
        print(f"    {name:<44}{sec:>9.1f} s{'' if n == 1 else f' in {n} calls':<14} rss after {rss:>6,} MiB"
              f" (duckdb {ddb:,} MiB)")
    if p["file_done_at"]:
        print(f"  last file read and staged at {p['file_done_at'][-1][0]} s")
    print(f"  slowest {top} SQL statements (by label; rules and views by id):")
    for lab, sec, n, *more in p["sql"][:top]:
        print(f"    {sec:>8.1f} s {'' if n == 1 else f'({n}x)':<7} {lab}")
    if p.get("views"):
        print("  views (materialised as TEMP tables, declaration order): rows, seconds, DuckDB memory after")
        for lab, sec, _n, rows, mib in p["views"]:
            print(f"    {lab:<24}{rows:>12,} rows {sec:>7.1f} s  duckdb {mib:>6,} MiB")


# ---------------------------------------------------------------------------

def _git() -> dict:
    def g(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False).stdout.rstrip("\n")
    return {"head": g("rev-parse", "--short", "HEAD").strip(),
            "dirty": [line[3:] for line in g("status", "--porcelain", "--untracked-files=no").splitlines()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--base", type=int, default=20000, help="households of the generated base county")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--period", default="2026-10", choices=PERIODS)
    ap.add_argument("--two-periods", action="store_true",
                    help="also tile 2026-09 and run it first (unmeasured history for 2026-10)")
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the tiled drop")
    ap.add_argument("--quiet", action="store_true", help="pass -q to cardcheck (no stage timings)")
    ap.add_argument("--no-base-run", action="store_true", help="skip the base-county run (per-rule scaling check)")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="after the measured run, run the stages one by one in a process with timers")
    ap.add_argument("--profile-only", action="store_true", help="only the profile, no measured run")
    ap.add_argument("--profile-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.profile_child:
        res = profile_run(Path(args.profile_child), args.period, OUT / "province_profile_reports",
                          OUT / "province_profile.duckdb")
        print(json.dumps(res, ensure_ascii=False))
        return

    OUT.mkdir(parents=True, exist_ok=True)
    load_start = _loadavg()
    git = _git()
    base_root, base_s = base_county(args.base, args.seed)
    with open(base_root / args.period / "households.csv", encoding="utf-8") as fh:
        base_hh = sum(1 for _ in fh) - 1
    k = max(1, math.ceil(args.households / args.base))
    periods = ("2026-09", "2026-10") if args.two_periods else (args.period,)
    drop_root = OUT / f"province_drop_{args.households}_b{args.base}_s{args.seed}"
    marker = drop_root / ".complete.json"
    if marker.exists() and json.loads(marker.read_text()).get("periods") == list(periods):
        gen = json.loads(marker.read_text())
        gen["reused"] = True
        print(f"reusing the tiled drop {drop_root}", file=sys.stderr)
    else:
        shutil.rmtree(drop_root, ignore_errors=True)
        print(f"tiling {k} copies of the {args.base}-household base county …", file=sys.stderr)
        gen = tile(base_root, k, drop_root, periods)
        gen["periods"] = list(periods)
        marker.write_text(json.dumps(gen))
        gen["reused"] = False
    gen["base_generate_s"] = round(base_s, 1) if base_s is not None else "cached"
    print(f"drop {drop_root}: {gen['bytes'] / 2**20:,.0f} MiB, tiled in {gen['seconds']} s", file=sys.stderr)
    if args.generate_only:
        print(json.dumps(gen, indent=1, ensure_ascii=False))
        return

    reports, db = OUT / "province_reports", OUT / "province.duckdb"
    shutil.rmtree(reports, ignore_errors=True)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    if args.profile_only:
        prof = profile_measured(drop_root / args.period, args.period)
        (OUT / "province_profile.json").write_text(json.dumps(
            {"households": base_hh * k, "git": git, "loadavg_start": load_start, "profile": prof},
            indent=2, ensure_ascii=False))
        print_profile(prof)
        print(f"wrote {OUT / 'province_profile.json'}")
        if not args.keep:
            shutil.rmtree(drop_root, ignore_errors=True)
        return
    prior = None
    if args.two_periods:
        print("running 2026-09 first (history) …", file=sys.stderr)
        prior = run_measured(drop_root / "2026-09", "2026-09", reports, db, args.quiet)
    print(f"running cardcheck on {args.period} …", file=sys.stderr)
    # a first run: nothing of this period read before (the cache of readings and of the rules'
    # findings would otherwise make it a re-run)
    shutil.rmtree(DATA / "cache", ignore_errors=True)
    run = run_measured(drop_root / args.period, args.period, reports, db, args.quiet)

    if run.get("aborted"):
        result = {"households": base_hh * k, "git": git, "generation": gen, "run": run}
        (OUT / "province.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        if not args.keep:
            shutil.rmtree(drop_root, ignore_errors=True)
        raise SystemExit(f"run aborted: {run['aborted']}; see {OUT / 'province.json'}")
    base_run = None
    if not args.no_base_run:
        print("running the base county for the per-rule scaling check …", file=sys.stderr)
        bdb = OUT / "province_base.duckdb"
        bdb.unlink(missing_ok=True)
        base_run = run_measured(base_root / args.period, args.period, OUT / "province_base_reports", bdb, True)
    prof = None
    if args.profile:
        print("profiling the stages …", file=sys.stderr)
        prof = profile_measured(drop_root / args.period, args.period)
    if not args.keep:
        shutil.rmtree(drop_root, ignore_errors=True)

    result = {"households_target": args.households, "base_households": base_hh, "copies": k,
              "households": base_hh * k, "cpu": os.cpu_count(), "loadavg_start": load_start, "git": git,
              "mem_total_mib": os.sysconf("SC_PHYS_PAGES") * PAGE // 2**20,
              "generation": gen, "run": run, "prior_period_run": prior, "base_run": base_run, "profile": prof,
              "targets": {"wall_s": 600, "peak_mib": 8192}}
    if base_run:
        scale = {}
        for r, n in run["rules"].items():
            b = base_run["rules"].get(r, 0)
            if n != b * k:
                scale[r] = {"base": b, "province": n, "ratio": round(n / b, 2) if b else None}
        result["rules_not_k_times_base"] = scale
    (OUT / "province.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))

    # --- table ---------------------------------------------------------------
    rows = gen["rows"][args.period]
    print(f"\nprovince bench: {base_hh * k:,} households = {k} x {base_hh:,} (base county of --base {args.base}), "
          f"{os.cpu_count()} CPUs, load average {load_start} at start")
    print(f"{'file':<28}{'rows':>12}")
    for name, n in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"{name:<28}{n:>12,}")
    print(f"{'total':<28}{sum(rows.values()):>12,}   ({gen['bytes'] / 2**20:,.0f} MiB of csv)")
    print(f"generation: base county {gen['base_generate_s']} s, tiling {gen['seconds']} s"
          f"{' (reused)' if gen['reused'] else ''}")
    if prior:
        print(f"2026-09 run (history): {prior['wall_s']} s, peak {prior['peak_rss_tree_mib']:,} MiB")
    ok_t = run["wall_s"] < 300              # issue J's targets
    ok_m = run["peak_rss_tree_mib"] < 4096
    print(f"cardcheck run {args.period}: wall {run['wall_s']} s ({run['wall_s'] / 60:.1f} min; target < 300 s: "
          f"{'ok' if ok_t else 'MISSED'}), CPU {run['cpu_user_s']}+{run['cpu_sys_s']} s "
          f"({run['cpu_per_wall']} cores busy on average)")
    print(f"peak memory: {run['peak_rss_tree_mib']:,} MiB summed over the process tree at {run['peak_rss_tree_at_s']} s "
          f"(target < 4 GiB: {'ok' if ok_m else 'MISSED'}); largest single process {run['peak_rss_single_mib']:,} MiB")
    print(f"machine: {run['machine_busy_cores']} of {os.cpu_count()} cores busy during the run, "
          f"{run['other_work_cores']} of them other work; load average samples {run['loadavg_samples']}")
    for s in run["stages"]:
        print(f"  {s['stage']:<58}{s['seconds']:>9} s")
    t = run["totals"]
    print(f"issues {t['issues']:,} (error {t['by_severity']['error']:,}, suspect {t['by_severity']['suspect']:,}, "
          f"notice {t['by_severity']['notice']:,}); rows read {run['rows_read']:,}, loaded {run['rows_loaded']:,}")
    if base_run:
        off = result["rules_not_k_times_base"]
        print(f"base county run: {base_run['wall_s']} s, {base_run['totals']['issues']:,} issues; "
              f"rules not exactly {k} x base: {len(off)}"
              + (": " + ", ".join(f"{r} {v['base']}->{v['province']}" for r, v in list(off.items())[:12]) if off else ""))
    if prof:
        print_profile(prof)
    print(f"wrote {OUT / 'province.json'}")


if __name__ == "__main__":
    main()
