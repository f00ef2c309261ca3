"""Locust users of the portal (make load-portal). Each user logs in with its own account and,
every 5–15 s, does what its role does in the monthly round trip:

  village   opens 村级核实 and answers one to three of its issues (each answer with a note of
            its own, so every save is a new answer), now and then looks at 问题清单 or a
            household's 户档案; every answer the server accepted is written to LOAD_MADE
  township  回收进度, a village's 村级核实, 问题清单, 规则可信度, now and then its workbooks' zip
  county    问题清单 filtered, 回收进度, 规则可信度, 抽查复核, 户档案; one action in ten an upload of
            the 2,000-row members file for checking (as `cardcheck validate` checks it)

Accounts and the file come from tests/portal/load_portal.py (environment)."""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
UPLOAD = Path(os.environ["LOAD_FILE"])
UPLOAD_BYTES = UPLOAD.read_bytes()
MADE = Path(os.environ["LOAD_MADE"])
_made: list[dict] = []
_by_role = {r: itertools.count() for r in ("village", "township", "county")}
_lock = threading.Lock()
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'href="/uploads/([A-Za-z0-9_-]{16,})/"')
ISSUE = re.compile(r'<select name="a:([0-9a-f]{8,64})"')
HOUSE = re.compile(r'href="(/households/[A-Za-z0-9_-]+/)"')
VILLAGE_LINK = re.compile(r'href="(/verify/\?township=[^"]+)"')
ANSWERS = ("属实-已整改", "属实-整改中", "不属实-数据无误", "无法核实")


@events.quitting.add_listener
def _write_made(environment, **kw):
    with _lock:
        MADE.write_text(json.dumps(_made, ensure_ascii=False), encoding="utf-8")


class Base(HttpUser):
    abstract = True
    wait_time = between(5, 15)
    role = "county"

    def on_start(self):
        pool = [a for a in ACCOUNTS if a["group"] == self.role]
        with _lock:
            self.account = pool[next(_by_role[self.role]) % len(pool)]
        page = self.client.get("/login/", name="/login/")
        token = TOKEN.search(page.text).group(1)
        with self.client.post("/login/", {"username": self.account["username"], "password": self.account["password"],
                                          "csrfmiddlewaretoken": token}, name="/login/ (POST)",
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login failed: {r.status_code}")
            else:
                r.success()
        self.keys: list[str] = []
        self.houses: list[str] = []
        self.villages: list[str] = []

    def get(self, url: str, name: str):
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
                return None
            r.success()
            self.houses = list(dict.fromkeys(HOUSE.findall(r.text)))[:10] or self.houses
            return r.text

    def household(self):
        if self.houses:
            self.get(random.choice(self.houses), "/households/[key]/")


class VillageUser(Base):
    weight = 40
    role = "village"
    n = itertools.count()

    @task(6)
    def answer(self):
        text = self.get("/verify/", "/verify/")
        if text is None:
            return
        ids = ISSUE.findall(text)
        token = TOKEN.search(text)
        if not ids or not token:
            return
        chosen = random.sample(ids, min(len(ids), random.randint(1, 3)))
        form = {"csrfmiddlewaretoken": token.group(1)}
        made = []
        for iid in chosen:
            a = random.choice(ANSWERS)
            note = f"负载测试 {self.account['username']} {next(self.n)}"
            form[f"a:{iid}"], form[f"n:{iid}"], form[f"w:{iid}"] = a, note, "负载测试员"
            made.append({"account": self.account["username"], "issue_id": iid, "answer": a, "note": note})
        with self.client.post("/verify/", form, name="/verify/ (POST answers)", allow_redirects=False,
                              catch_response=True) as r:
            if r.status_code == 302 and r.headers.get("Location", "").endswith("/verify/"):
                r.success()
                with _lock:
                    _made.extend(made)
            else:
                r.failure(f"answers: {r.status_code}")

    @task(2)
    def issues(self):
        self.get("/issues/", "/issues/")

    @task(1)
    def house(self):
        self.household()


class TownshipUser(Base):
    weight = 15
    role = "township"

    @task(3)
    def progress(self):
        text = self.get("/progress/", "/progress/")
        if text:
            self.villages = VILLAGE_LINK.findall(text)[:20] or self.villages

    @task(3)
    def village(self):
        if self.villages:
            self.get(random.choice(self.villages).replace("&amp;", "&"), "/verify/?village=[v]")

    @task(2)
    def issues(self):
        self.get("/issues/", "/issues/")

    @task(1)
    def rules(self):
        self.get("/rules/", "/rules/")

    @task(1)
    def house(self):
        self.household()

    @task(1)
    def zipped(self):
        with self.client.get("/progress/workbooks.zip", name="/progress/workbooks.zip", catch_response=True) as r:
            if r.status_code != 200 or not r.content.startswith(b"PK"):
                r.failure(f"{r.status_code}")


class CountyUser(Base):
    weight = 5
    role = "county"

    @task(2)
    def issues(self):
        self.get(random.choice(["/issues/", "/issues/?severity=error", "/issues/?status=persisting&page=2"]),
                 "/issues/ (filtered)")

    @task(2)
    def progress(self):
        self.get("/progress/", "/progress/")

    @task(1)
    def rules(self):
        self.get("/rules/", "/rules/")

    @task(1)
    def spot(self):
        self.get("/spot-check/", "/spot-check/")

    @task(2)
    def house(self):
        self.household()

    @task(1)
    def upload(self):
        page = self.client.get("/uploads/", name="/uploads/")
        token = TOKEN.search(page.text).group(1)
        with self.client.post("/uploads/", data={"csrfmiddlewaretoken": token, "period": self.account["period"]},
                              files={"files": (UPLOAD.name, UPLOAD_BYTES,
                                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
                              name="upload + check (2,000 rows)", allow_redirects=False,
                              catch_response=True) as r:
            if r.status_code != 302 or "/uploads/" not in r.headers.get("Location", ""):
                r.failure(f"upload: {r.status_code}")
                return
            r.success()
            location = r.headers["Location"]
        with self.client.get(location, name="/uploads/[key]/", catch_response=True) as res:
            if res.status_code != 200 or "校验结果" not in res.text:
                res.failure(f"no result page: {res.status_code}")
