"""make load-portal: a bounded load test of `cardcheck serve` on this machine (loopback only).

A demo county, 30 accounts (admins, county clerks, townships, villages), the portal started with
waitress on a free local port, then locust headless in one process: N users for S seconds, 5–15 s
between actions, one action in ten an upload of a 2,000-row members workbook (checked as
`cardcheck validate` checks it), the rest browsing. It stops by itself; prints locust's table
and the verdict: zero errors, p95 of ordinary pages < 500 ms, p95 of the 2,000-row check < 5 s.
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
    """n accounts across the roles and areas of the demo's latest run (one shared test password,
    hashed once)."""
    code = f"""
import json
from pathlib import Path
from portal import conf, services
conf.setup(services.resolve_settings(data=Path({str(data)!r})))
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from portal import areas
from portal.models import Account, Village
areas.refresh(force=True)
villages = list(Village.objects.all()[:200])
towns = areas.townships()
h = make_password("Load-test-2026")
User = get_user_model()
acc = []
for i in range({n}):
    role = ["admin", "county", "county", "township", "township", "township", "village", "village", "village", "village"][i % 10]
    t = v = ""
    if role == "township":
        t = towns[i % len(towns)]
    elif role == "village":
        x = villages[i % len(villages)]
        t, v = x.township, x.village
    name = f"load{{i:02d}}"
    u, _ = User.objects.update_or_create(username=name, defaults={{"password": h, "is_active": True}})
    Account.objects.update_or_create(user=u, defaults={{"role": role, "township": t, "village": v,
                                                      "must_change_password": False}})
    acc.append({{"username": name, "password": "Load-test-2026", "role": role, "period": "{PERIOD}"}})
Path({str(out)!r}).write_text(json.dumps(acc, ensure_ascii=False), encoding="utf-8")
"""
    subprocess.run([sys.executable, "-c", code], check=True)


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
    ap.add_argument("--users", type=int, default=30)
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
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        env = {**os.environ, "LOAD_ACCOUNTS": str(work / "accounts.json"), "LOAD_FILE": str(upload)}
        prefix = work / "stats"
        cmd = [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(a.users),
               "-r", "1", "-t", f"{a.seconds}s", "--stop-timeout", "20", "--host", f"http://127.0.0.1:{port}",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
        print(f"locust: {a.users} users for {a.seconds} s against http://127.0.0.1:{port} …", flush=True)
        proc = subprocess.run(cmd, env=env, timeout=a.seconds + 180, capture_output=True, text=True)
        print(proc.stdout[-6000:])
        if proc.returncode not in (0, 1):
            print(proc.stderr[-3000:])
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
        print(f"{name:<32} {n:>6} {fail:>5} {s['Median Response Time']:>7} {p95:>7.0f} {float(s['Max Response Time']):>7.0f}")
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
    print("load-portal: " + ("OK — zero errors, p95 within limits" if not bad else "FAILED: " + "; ".join(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
