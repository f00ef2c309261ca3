"""Locust users of the portal (make load-portal). Each user logs in with its own account and,
every 5–15 s, either browses (9 in 10) or uploads the 2,000-row members file for checking
(1 in 10). Accounts and the file come from tests/portal/load_portal.py (environment)."""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
UPLOAD = Path(os.environ["LOAD_FILE"])
UPLOAD_BYTES = UPLOAD.read_bytes()
_next = itertools.count()
_lock = threading.Lock()
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'href="/uploads/([A-Za-z0-9_-]{16,})/"')


class PortalUser(HttpUser):
    wait_time = between(5, 15)

    def on_start(self):
        with _lock:
            self.account = ACCOUNTS[next(_next) % len(ACCOUNTS)]
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

    def _pages(self) -> list[tuple[str, str]]:
        role = self.account["role"]
        pages = [("/uploads/", "/uploads/"), ("/password/", "/password/")]
        if role != "village":
            pages.append(("/submit/", "/submit/"))
        if role == "admin":
            pages += [("/runs/", "/runs/"), ("/audit/", "/audit/"), ("/accounts/", "/accounts/")]
        pages += [(f"/uploads/{k}/", "/uploads/[key]/") for k in self.keys[-3:]]
        return pages

    @task(9)
    def browse(self):
        url, name = random.choice(self._pages())
        with self.client.get(url, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            elif url == "/uploads/":
                self.keys = list(dict.fromkeys(KEY.findall(r.text)))[:5] or self.keys
                r.success()

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
        key = location.rstrip("/").rsplit("/", 1)[-1]
        self.keys.append(key)
