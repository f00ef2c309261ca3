"""make check-portal: the portal driven in headless Chromium (Debian's, through Playwright), as
people use it: a month of the demo county in the browser.

  log in (a wrong password, a first login with a one-time password) · two townships upload
  their members files, see the findings with Excel row numbers, download the annotated
  workbook, submit · a township is refused another township's rows · the county uploads the
  rest (several files at once) and submits them · a village checks a file (and on a phone-width
  screen) · the admin looks at the month, starts the run, watches the stages advance to the
  summary, the audit log, bulk accounts.
  Issue I: the busiest village answers three issues in the browser and returns its workbook for
  two others; its township's 回收进度 shows them (and the zip); the county filters 问题清单 and
  opens a 户档案; after the run the answers show as waived / 整改未见效, the county overturns a
  waiver in 抽查复核, and the next period's run reopens it (the village sees why).

Screenshots: reports/portal-check/*.png (look at them). Exits non-zero when a step fails.
"""
from __future__ import annotations

import argparse
import io
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PERIOD = "2026-11"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cardcheck(*args) -> str:
    p = subprocess.run([str(BIN / "cardcheck"), *map(str, args)], capture_output=True, text=True, timeout=600)
    if p.returncode not in (0, 1):
        raise SystemExit(f"cardcheck {' '.join(map(str, args))} failed: {p.stderr[-2000:]}")
    return p.stdout


def start_server(data: Path, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([str(BIN / "cardcheck"), "serve", "--data", str(data), "--port", str(port)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit(f"cardcheck serve stopped: {log.read_text()[-2000:]}")
    raise SystemExit("cardcheck serve did not answer in 60 s")


class Check:
    def __init__(self, browser, base: str, out: Path):
        self.browser, self.base, self.out = browser, base, out
        self.n = 0
        self.notes: list[str] = []

    def shot(self, page, name: str, full: bool = False) -> None:
        self.n += 1
        path = self.out / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full)
        self.notes.append(f"{path.name}")

    def session(self, width=1366, height=900):
        ctx = self.browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                       accept_downloads=True)
        ctx.set_default_timeout(180_000)        # ten files checked in one upload on a busy 2-core machine
        return ctx, ctx.new_page()

    def login(self, page, user: str, password: str) -> None:
        page.goto(f"{self.base}/login/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    def upload(self, page, files: list[Path]) -> None:
        page.goto(f"{self.base}/uploads/")
        page.set_input_files("#files", [str(f) for f in files])
        page.select_option("select[name=period]", PERIOD)
        page.click("#upload-button")
        page.wait_for_load_state()

    def submit_all(self, page, reason: str) -> list[str]:
        """Submit every checked upload offered on the submit page; the messages shown."""
        said = []
        page.goto(f"{self.base}/submit/?period={PERIOD}")
        values = page.eval_on_selector_all("select[name=upload] option", "els => els.map(e => e.value)")
        for v in values:
            page.goto(f"{self.base}/submit/?period={PERIOD}&upload={v}")
            page.fill("textarea[name=reason]", reason)
            page.click("form.submit-form button[type=submit]")
            page.wait_for_load_state()
            said.append(page.inner_text("ul.messages"))
        return said


def first_login(c: "Check", page, name: str, one_time: str, new: str) -> None:
    c.login(page, name, one_time)
    assert page.url.endswith("/password/"), page.url
    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password1]", new)
    page.fill("input[name=new_password2]", new)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def busiest_village(reports: Path, period: str) -> tuple[str, str, int]:
    """The village with the most issues in its workbook (not waived) — the one that answers."""
    import csv
    from collections import Counter

    with open(reports / period / "issues.csv", encoding="utf-8-sig") as f:
        n = Counter((r["township"], r["village"]) for r in csv.DictReader(f)
                    if r["village"] and r["status"] != "waived")
    (t, v), k = n.most_common(1)[0]
    return t, v, k


def issues_csv(reports: Path, period: str) -> dict[str, dict]:
    import csv

    with open(reports / period / "issues.csv", encoding="utf-8-sig") as f:
        return {r["issue_id"]: r for r in csv.DictReader(f)}


def fill_workbook(path: Path, answers: dict[str, str]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["问题清单"]
    header = [x.value for x in ws[1]]
    for row in ws.iter_rows(min_row=2):
        iid = row[header.index("issue_id")].value
        if iid in answers:
            row[header.index("核实结果")].value = answers[iid]
            row[header.index("核实说明")].value = "入户核实"
            row[header.index("核实人")].value = "村会计"
    wb.save(path)


def run_from_page(c: "Check", page, base: str, period: str, tag: str) -> list[str]:
    page.goto(f"{base}/runs/?period={period}")
    page.click("#start-run")
    page.wait_for_load_state()
    seen = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 600:
        now = page.inner_text("#now").strip()
        if not seen or seen[-1] != now:
            seen.append(now)
            if tag and len(seen) in (1, 3, 6):
                c.shot(page, f"{tag}-{len(seen)}")
        if page.is_visible("#done-link") or "运行失败" in now:
            break
        time.sleep(0.4)
    assert page.is_visible("#done-link"), seen[-1]
    return seen


def keep_township(src: Path, township: str, dest: Path) -> Path:
    """What the clerk does after a refusal: delete the rows of other townships (as a person would,
    in a copy of the file)."""
    import csv

    if src.suffix == ".csv":
        raw = src.read_bytes()
        enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            enc, text = "gb18030", raw.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        h = next(i for i, r in enumerate(rows) if "乡镇" in r)
        col = rows[h].index("乡镇")
        kept = rows[:h + 1] + [r for r in rows[h + 1:] if len(r) <= col or r[col].strip() == township]
        with open(dest, "w", encoding=enc, newline="") as f:
            csv.writer(f).writerows(kept)
        return dest
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws, h, col = next((ws, c.row, c.column) for ws in wb.worksheets for row in ws.iter_rows(max_row=10)
                      for c in row if c.value == "乡镇")
    for r in range(ws.max_row, h, -1):
        v = ws.cell(row=r, column=col).value
        if v is not None and str(v).strip() != township or v is None and any(
                ws.cell(row=r, column=j).value for j in range(1, 6)):
            ws.delete_rows(r)
    wb.save(dest)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "portal-check")
    ap.add_argument("--households", type=int, default=800)
    a = ap.parse_args()
    from openpyxl import load_workbook
    from playwright.sync_api import sync_playwright

    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="cardcheck-portal-check-"))
    data = work / "data"
    print(f"demo county in {data} …", flush=True)
    cardcheck("demo", "--data", data, "--households", a.households, "--quiet")
    subprocess.run([sys.executable, "-m", "portal.demo", "--data", str(data), "--json", str(work / "acc.json")],
                   check=True, capture_output=True)
    acc = {x["username"]: x for x in json.loads((work / "acc.json").read_text(encoding="utf-8"))}
    first_pw = cardcheck("user", "add", "clerk", "--role", "county", "--data", data).split("password: ")[1].split()[0]
    vt, vv, n_issues = busiest_village(data / "reports", "2026-10")
    village_pw = cardcheck("user", "add", "村核实员", "--role", "village", "--area", f"{vt}/{vv}",
                           "--data", data).split("password: ")[1].split()[0]
    town_pw = cardcheck("user", "add", "乡镇核查员", "--role", "township", "--area", vt,
                        "--data", data).split("password: ")[1].split()[0]
    drop = data / "raw" / "demo" / "2026-10"
    port = free_port()
    server = start_server(data, port, work / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            c = Check(browser, base, out)

            # 登录: a wrong password, then a first login with a one-time password
            ctx, page = c.session()
            page.goto(f"{base}/login/")
            c.shot(page, "login")
            c.login(page, "clerk", "wrong-password")
            assert "用户名或密码错误" in page.content()
            c.shot(page, "login-wrong-password")
            c.login(page, "clerk", first_pw)
            assert page.url.endswith("/password/"), page.url
            c.shot(page, "first-login-change-password")
            page.fill("input[name=old_password]", first_pw)
            page.fill("input[name=new_password1]", "Xianji-clerk-2026")
            page.fill("input[name=new_password2]", "Xianji-clerk-2026")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            assert page.url.endswith("/uploads/"), page.url
            ctx.close()

            # two townships: upload, findings with Excel rows, annotated workbook, submit
            for name in ("demo_township", "demo_township2"):
                t = acc[name]
                ctx, page = c.session()
                c.login(page, name, t["password"])
                f = next(drop.glob(f"家庭成员_*{t['township']}.*"))
                c.upload(page, [f])
                assert "/uploads/" in page.url and "校验结果" in page.content()
                rows = page.eval_on_selector_all("table.findings tbody tr td.num",
                                                 "els => els.map(e => e.textContent.trim())")
                assert rows and all(r.isdigit() or r == "—" for r in rows), rows[:5]
                c.notes.append(f"{name} {f.name}: findings at Excel rows {', '.join(rows[:8])} …")
                c.shot(page, f"{name}-findings")
                if page.query_selector("text=下载批注后的原文件"):
                    with page.expect_download() as dl:
                        page.click("text=下载批注后的原文件")
                    target = out / f"annotated-{name}.xlsx"
                    dl.value.save_as(str(target))
                    wb = load_workbook(target)
                    comments = sum(1 for ws in wb.worksheets for row in ws.iter_rows() for x in row if x.comment)
                    assert wb.sheetnames[0] == "校验结果" and comments > 0
                    c.notes.append(f"{target.name}: {comments} commented cells, sheets {wb.sheetnames}")
                page.click("text=提交为本月数据")
                page.wait_for_load_state()
                page.fill("textarea[name=reason]", "乡镇已核对，个别问题待村里核实")
                page.click("form.submit-form button[type=submit]")
                page.wait_for_load_state()
                msg = page.inner_text("ul.messages")
                if "行不属于" in msg:          # the file holds rows of another township: fix, upload again
                    c.notes.append(f"{name} refused: {msg}")
                    c.shot(page, f"{name}-refused-other-townships-rows")
                    fixed = keep_township(f, t["township"], work / f"{f.stem}_修正{f.suffix}")
                    c.upload(page, [fixed])
                    page.click("text=提交为本月数据")
                    page.wait_for_load_state()
                    page.fill("textarea[name=reason]", "已删除外乡镇的行")
                    page.click("form.submit-form button[type=submit]")
                    page.wait_for_load_state()
                    msg = page.inner_text("ul.messages")
                assert "已提交" in msg, msg
                c.shot(page, f"{name}-submitted")
                if name == "demo_township":
                    c.upload(page, [drop / "家庭情况表.xlsx"])
                    page.click("text=提交为本月数据")
                    page.wait_for_load_state()
                    page.fill("textarea[name=reason]", "试一下")
                    page.click("form.submit-form button[type=submit]")
                    page.wait_for_load_state()
                    msg = page.inner_text("ul.messages")
                    assert "行不属于" in msg, msg
                    c.notes.append(f"refused: {msg}")
                    c.shot(page, "township-refused-other-townships-rows")
                ctx.close()

            # the county: every other file of the month, several at once
            ctx, page = c.session()
            c.login(page, "demo_county", acc["demo_county"]["password"])
            rest = sorted(f for f in drop.iterdir() if f.suffix in (".xlsx", ".xls", ".csv")
                          and not f.name.startswith("家庭成员"))
            for i in range(0, len(rest), 10):
                c.upload(page, rest[i:i + 10])
            c.shot(page, "county-uploads", full=True)
            said = c.submit_all(page, "县级汇总各部门数据")
            ok = [s for s in said if "已提交" in s]
            c.notes.append(f"county: {len(ok)} of {len(said)} files submitted; refused: "
                           + " | ".join(s for s in said if "已提交" not in s))
            assert len(ok) >= len(rest) - 3, said
            c.shot(page, "county-submitted", full=True)
            ctx.close()

            # a village: a check of a file, and on a phone
            v = acc["demo_village"]
            ctx, page = c.session()
            c.login(page, "demo_village", v["password"])
            c.upload(page, [drop / "扶贫小额信贷台账.csv"])
            c.shot(page, "village-upload-check")
            ctx.close()
            ctx, page = c.session(390, 844)
            c.login(page, "demo_village", v["password"])
            page.goto(f"{base}/uploads/")
            c.shot(page, "village-phone-width", full=True)
            ctx.close()

            # issue I: the busiest village answers three issues in the browser and returns its
            # workbook for two others; its township follows up; the county looks at issues
            ctx, page = c.session()
            first_login(c, page, "村核实员", village_pw, "Cun-hesh-2026")
            page.goto(f"{base}/verify/")
            ids = page.eval_on_selector_all("select[name^='a:']", "els => els.map(e => e.name.slice(2))")
            assert len(ids) >= 5, ids
            browser_answers = {ids[0]: "属实-已整改", ids[1]: "不属实-数据无误", ids[2]: "属实-整改中"}
            for iid, ans in browser_answers.items():
                page.select_option(f"select[name='a:{iid}']", ans)
                page.fill(f"input[name='n:{iid}']", "网页核实：已入户")
            c.shot(page, "village-verify-filled")
            page.click("#save-answers")
            page.wait_for_load_state()
            msg = page.inner_text("ul.messages")
            assert "已保存 3 条" in msg, msg
            c.shot(page, "village-verify-saved", full=True)
            with page.expect_download() as dl:
                page.click("#download-workbook")
            book = work / "village-returned.xlsx"
            dl.value.save_as(str(book))
            returned = {ids[3]: "不属实-数据无误", ids[4]: "属实-已整改"}
            fill_workbook(book, returned)
            page.set_input_files("#return-form input[type=file]", str(book))
            page.click("#return-button")
            page.wait_for_load_state()
            msg = page.inner_text("ul.messages")
            assert "接收 2 条" in msg, msg
            c.notes.append(f"village {vt}{vv}: 3 answers in the browser, workbook returned: {msg}")
            c.shot(page, "village-workbook-returned", full=True)
            ctx.close()

            ctx, page = c.session()
            first_login(c, page, "乡镇核查员", town_pw, "Xiang-hesh-2026")
            page.goto(f"{base}/progress/")
            row = page.inner_text(f"#progress tbody tr:has(a:text-is('{vv}'))")
            cells = row.split("\t")
            assert cells[3].strip() == "5", cells
            c.notes.append(f"township progress row: {' | '.join(x.strip() for x in cells)}")
            c.shot(page, "township-progress", full=True)
            with page.expect_download() as dl:
                page.click("#zip")
            import zipfile

            zpath = work / "township.zip"
            dl.value.save_as(str(zpath))
            names = zipfile.ZipFile(zpath).namelist()
            c.notes.append(f"township zip: {len(names)} village workbooks")
            page.goto(f"{base}/verify/?village={vv}")
            c.shot(page, "township-village-read-only", full=True)
            ctx.close()

            ctx, page = c.session()
            c.login(page, "demo_county", acc["demo_county"]["password"])
            page.goto(f"{base}/issues/?severity=error")
            c.shot(page, "county-issues-filtered")
            page.click("#issues tbody tr td a")
            page.wait_for_load_state()
            assert "户档案" in page.content()
            c.shot(page, "county-household", full=True)
            ctx.close()

            # the admin: the month, the run, the summary
            ctx, page = c.session()
            c.login(page, "demo_admin", acc["demo_admin"]["password"])
            page.goto(f"{base}/runs/?period={PERIOD}")
            assert "尚缺" in page.content()
            c.shot(page, "admin-month", full=True)
            seen = run_from_page(c, page, base, PERIOD, "admin-run-progress")
            c.notes.append("run stages seen: " + " → ".join(seen))
            c.shot(page, "admin-run-done")
            page.click("#done-link a")
            page.wait_for_load_state()
            c.shot(page, "admin-summary")
            page.goto(f"{base}/audit/")
            c.shot(page, "admin-audit")
            page.goto(f"{base}/accounts/")
            page.click("form[action$='/accounts/bulk/'] button")
            page.wait_for_selector("a:has-text('下载一次性密码表')", timeout=300_000)
            with page.expect_download() as dl:
                page.click("a:has-text('下载一次性密码表')")
            sheet = out / "one-time-passwords.xlsx"
            dl.value.save_as(str(sheet))
            n = load_workbook(sheet).active.max_row - 1
            c.notes.append(f"bulk accounts: {n} one-time passwords in {sheet.name}")
            c.shot(page, "admin-accounts")

            # the run of PERIOD reflects every answer (outputs.md): 不属实 → waived (evidence
            # unchanged), 属实-已整改 still there → 整改未见效
            now = issues_csv(data / "reports", PERIOD)
            answered = {**browser_answers, **returned}
            kept = {i: now[i]["status"] for i in answered if i in now}
            c.notes.append(f"{PERIOD} statuses of the five answered issues still present: {kept}")
            for i, ans in answered.items():
                if i in now and ans == "不属实-数据无误":
                    assert now[i]["status"] == "waived", (i, now[i]["status"])
            page.goto(f"{base}/reports/{PERIOD}/summary/#returns")
            c.shot(page, "summary-returns-precision", full=True)
            # the county's spot check: overturn the waiver the village gave in the browser
            page.goto(f"{base}/spot-check/")
            c.shot(page, "county-spot-check", full=True)
            waived = [i for i in answered if now.get(i, {}).get("status") == "waived"]
            assert waived, kept
            target = waived[0]
            assert page.query_selector(f"form:has(input[value='{target}'])"), "the waived issue is not in the sample"
            page.fill(f"form:has(input[value='{target}']) input[name=note]", "入户复核：问题属实")
            page.click(f"form:has(input[value='{target}']) button[value=overturned]")
            page.wait_for_load_state()
            assert "推翻" in page.inner_text("ul.messages")
            c.shot(page, "county-spot-check-overturned", full=True)
            page.goto(f"{base}/rules/")
            c.shot(page, "county-rule-precision", full=True)
            # the next period (the same files again): the overturned waiver is reopened
            nxt = "2026-12"
            import shutil

            shutil.copytree(data / "raw" / PERIOD, data / "raw" / nxt)
            run_from_page(c, page, base, nxt, "")
            later = issues_csv(data / "reports", nxt)
            assert later[target]["status"] == "reopened", later[target]["status"]
            c.notes.append(f"{nxt}: the overturned waiver {target} is {later[target]['status']}")
            ctx.close()
            ctx, page = c.session()
            c.login(page, "村核实员", "Cun-hesh-2026")
            page.goto(f"{base}/verify/")
            assert "再次出现（抽查复核未通过）" in page.content()
            c.shot(page, "village-next-period-reopened", full=True)
            ctx.close()
            browser.close()
    finally:
        print("\n".join(c.notes) if "c" in locals() else "")
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"screenshots: {out}")


if __name__ == "__main__":
    main()
