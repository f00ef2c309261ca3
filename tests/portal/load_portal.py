"""make load-portal: a bounded load test of `cardcheck serve` on this machine (loopback only).

A demo county (its latest run's village workbooks), 60 accounts — 40 villages answering their
issues in the browser, 15 townships following up, 5 county (one in ten of their actions an upload
of a 2,000-row members workbook, checked as `cardcheck validate` checks it) — the portal started
with waitress on a free local port, then locust headless in one process: N users for S seconds,
5–15 s between actions (tests/portal/locustfile.py). It stops by itself, waits for the portal's
outbox to be written, then counts the answers in the store's feedback table. Verdict: zero
errors, p95 of ordinary pages < 500 ms, p95 of the 2,000-row check < 5 s, every answer made is
recorded exactly once.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
UPLOAD_NAME = "upload + check (2,000 rows)"
PERIOD = "2026-11"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_accounts(data: Path, n: int, out: Path) -> None:
    """n accounts in the shape of issue I (of 60: 40 villages answering, 15 townships, 5 county),
    in the areas of the demo's latest run — villages with the most issues in their workbooks
    first (one shared test password, hashed once)."""
    n_village, n_town = round(n * 40 / 60), round(n * 15 / 60)
    n_county = n - n_village - n_town
    code = f"""
import json
from pathlib import Path
from portal import conf, services
conf.setup(services.resolve_settings(data=Path({str(data)!r})))
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from portal import areas
from portal.models import Account, WorkbookRef
areas.refresh(force=True)
books = list(WorkbookRef.objects.order_by("-issued", "township", "village"))
towns = areas.townships()
h = make_password("Load-test-2026")
User = get_user_model()
acc = []
plan = ([("village", i) for i in range({n_village})] + [("township", i) for i in range({n_town})]
        + [("county", i) for i in range({n_county})])
for k, (group, i) in enumerate(plan):
    t = v = ""
    role = group
    if group == "village":
        b = books[i % len(books)]
        t, v = b.township, b.village
    elif group == "township":
        t = towns[i % len(towns)]
    else:
        role = "admin" if i % 3 == 0 else "county"
    name = f"load{{k:02d}}"
    u, _ = User.objects.update_or_create(username=name, defaults={{"password": h, "is_active": True}})
    Account.objects.update_or_create(user=u, defaults={{"role": role, "township": t, "village": v,
                                                      "must_change_password": False}})
    acc.append({{"username": name, "password": "Load-test-2026", "role": role, "group": group,
                 "period": "{PERIOD}"}})
Path({str(out)!r}).write_text(json.dumps(acc, ensure_ascii=False), encoding="utf-8")
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def wait_written(data: Path, seconds: float = 90.0) -> int:
    """Wait until the portal's outbox is empty (answers written to the store); pending left."""
    import sqlite3

    t0 = time.monotonic()
    while True:
        con = sqlite3.connect(data / "portal" / "portal.sqlite3", timeout=10)
        try:
            left = con.execute("SELECT count(*) FROM portal_answer WHERE origin = 'portal' "
                               "AND written_at IS NULL").fetchone()[0]
        finally:
            con.close()
        if not left or time.monotonic() - t0 > seconds:
            return left
        time.sleep(1)


def count_answers(data: Path, made: list[dict]) -> list[str]:
    """Every answer the load made is in the store exactly once (and nothing else was recorded)."""
    from collections import Counter

    import duckdb

    con = duckdb.connect(str(data / "clean" / "cardcheck.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT account, issue_id, answer, note FROM feedback WHERE how = 'browser' "
                           "AND account LIKE 'load%'").fetchall()
    finally:
        con.close()
    got = Counter(rows)
    want = Counter((m["account"], m["issue_id"], m["answer"], m["note"]) for m in made)
    print(f"answers: {sum(want.values())} made and accepted by the server, {sum(got.values())} in the store's "
          f"feedback table ({len(set(got))} distinct)")
    bad = []
    missing = want - got
    doubled = {k: n for k, n in got.items() if n > 1}
    extra = got - want
    if missing:
        bad.append(f"{sum(missing.values())} answer(s) not recorded")
    if doubled:
        bad.append(f"{len(doubled)} answer(s) recorded more than once")
    if extra:
        bad.append(f"{sum(extra.values())} answer(s) recorded that the load did not make")
    if not made:
        bad.append("no answer was made")
    return bad


def members_2000(drop: Path, dest: Path) -> Path:
    """A 2,000-row members workbook made of the demo's members rows (title row, header)."""
    from openpyxl import Workbook, load_workbook

    header, rows = None, []
    for f in sorted(drop.glob("家庭成员_*.xlsx")):
        wb = load_workbook(f, read_only=True)
        for ws in wb.worksheets:
            it = ws.iter_rows(values_only=True)
            for r in it:
                if r and "证件号码" in [str(x) for x in r if x is not None]:
                    header = header or list(r)
                    rows += [list(x) for x in it if any(v is not None for v in x)]
                    break
        if len(rows) >= 2000:
            break
    out = Workbook()
    ws = out.active
    ws.title = "成员明细"
    ws.append(["XX县2026年11月家庭成员明细表"])
    ws.append(header)
    for r in rows[:2000]:
        ws.append(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in r])
    out.save(dest)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=60)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--households", type=int, default=3000)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cardcheck-load-"))
    data = work / "data"
    print(f"demo county ({a.households} households) in {data} …", flush=True)
    subprocess.run([str(BIN / "cardcheck"), "demo", "--data", str(data), "--households", str(a.households),
                    "--quiet"], check=True, capture_output=True)
    make_accounts(data, a.users, work / "accounts.json")
    upload = members_2000(data / "raw" / "demo" / "2026-10", work / "成员_2000行.xlsx")
    port = free_port()
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([str(BIN / "cardcheck"), "serve", "--data", str(data), "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    left = 0
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        env = {**os.environ, "LOAD_ACCOUNTS": str(work / "accounts.json"), "LOAD_FILE": str(upload),
               "LOAD_MADE": str(work / "made.json")}
        prefix = work / "stats"
        cmd = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(a.users),
               "-r", "1", "-t", f"{a.seconds}s", "--stop-timeout", "20", "--host", f"http://127.0.0.1:{port}",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
        print(f"locust: {a.users} users for {a.seconds} s against http://127.0.0.1:{port} …", flush=True)
        proc = subprocess.run(cmd, env=env, timeout=a.seconds + 180, capture_output=True, text=True)
        print(proc.stdout[-6000:])
        if proc.returncode not in (0, 1):
            print(proc.stderr[-3000:])
        left = wait_written(data)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    stats = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    bad = []
    print(f"{'request':<32} {'count':>6} {'fail':>5} {'median':>7} {'p95':>7} {'max':>7}  (ms)")
    total_fail = 0
    for s in stats:
        name = s["Name"]
        n, fail = int(s["Request Count"]), int(s["Failure Count"])
        p95 = float(s["95%"]) if s["95%"] not in ("N/A", "") else 0.0
        med = float(s["Median Response Time"]) if s["Median Response Time"] not in ("N/A", "") else 0.0
        print(f"{name:<32} {n:>6} {fail:>5} {med:>7.0f} {p95:>7.0f} {float(s['Max Response Time']):>7.0f}")
        if name == "Aggregated":
            continue
        total_fail += fail
        limit = 5000 if name == UPLOAD_NAME else 500
        if n and p95 >= limit:
            bad.append(f"{name}: p95 {p95:.0f} ms ≥ {limit} ms")
    if total_fail:
        bad.append(f"{total_fail} failed request(s)")
        fails = work / "stats_failures.csv"
        if fails.exists():
            print(fails.read_text(encoding="utf-8")[:3000])
    if not any(s["Name"] == UPLOAD_NAME and int(s["Request Count"]) > 0 for s in stats):
        bad.append("no upload was made")
    if left:
        bad.append(f"{left} answer(s) still waiting in the portal's outbox after 90 s")
    made = json.loads((work / "made.json").read_text(encoding="utf-8")) if (work / "made.json").exists() else []
    bad += count_answers(data, made)
    print("load-portal: " + ("OK — zero errors, p95 within limits" if not bad else "FAILED: " + "; ".join(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
