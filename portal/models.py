"""The portal's store (SQLite in <data>/portal/): accounts' roles and areas, uploads, submissions,
runs started from the portal, the audit log, and a copy of the latest run's areas.

Rule data stays in DuckDB; the DuckDB `feedback` table stays the one record of answers. Every
object a URL names is addressed by an opaque random `key`, never by a database id or an ID
number.

Answers made in the browser wait in `Answer` (an outbox): an answer is stored with its `answer_id`
(uuid) and `written_at = NULL`; portal.outbox writes pending answers to DuckDB `feedback`
under the run lock (idempotent by answer_id) and sets `written_at` — the same pattern as
`Submission.placed` for files that wait while a run holds the drop.
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_key() -> str:
    return secrets.token_urlsafe(16)


class Role(models.TextChoices):
    ADMIN = "admin", "县级管理员"
    COUNTY = "county", "县级业务员"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村"


COUNTY_ROLES = (Role.ADMIN, Role.COUNTY)


class Account(models.Model):
    """One account's role and area (the county; a township; a township and village)."""
    key = models.CharField(max_length=32, unique=True, default=new_key)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    role = models.CharField(max_length=16, choices=Role.choices)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    must_change_password = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def is_county(self) -> bool:
        return self.role in COUNTY_ROLES

    @property
    def masks_ids(self) -> bool:
        return self.role in (Role.TOWNSHIP, Role.VILLAGE)

    def area_text(self) -> str:
        if self.is_county:
            return "全县"
        if self.role == Role.TOWNSHIP:
            return self.township
        return f"{self.township} {self.village}"


class Upload(models.Model):
    """A file uploaded for checking, stored in <data>/portal/uploads/ under a generated name."""
    key = models.CharField(max_length=32, unique=True, default=new_key)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads")
    role = models.CharField(max_length=16, choices=Role.choices)
    township = models.CharField(max_length=200, blank=True, default="")   # the owner's area then
    village = models.CharField(max_length=200, blank=True, default="")
    original_name = models.CharField(max_length=255)
    stored = models.CharField(max_length=255)           # path relative to the store folder
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    period = models.CharField(max_length=7)
    kind_requested = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=16, default="checking")   # checking | checked | unusable | failed
    kind = models.CharField(max_length=40, blank=True, default="")
    usable = models.BooleanField(default=False)
    problem = models.TextField(blank=True, default="")
    rows_read = models.IntegerField(default=0)
    rows_loaded = models.IntegerField(default=0)
    rows_rejected = models.IntegerField(default=0)
    n_error = models.IntegerField(default=0)
    n_suspect = models.IntegerField(default=0)
    n_notice = models.IntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def n_findings(self) -> int:
        return self.n_error + self.n_suspect + self.n_notice


class Submission(models.Model):
    """A checked upload submitted for a period: one version of (period, kind, scope).
    scope is '' for county-wide, else the township. `current` marks the version the period's
    drop holds; `placed` is False while it waits for a run to release the drop."""
    key = models.CharField(max_length=32, unique=True, default=new_key)
    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, related_name="submissions")
    period = models.CharField(max_length=7)
    kind = models.CharField(max_length=40)
    scope = models.CharField(max_length=200, blank=True, default="")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    submitted_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True, default="")     # why a file with errors was submitted
    version = models.IntegerField(default=1)
    kept = models.CharField(max_length=255)                 # the kept copy, relative to the store
    drop_name = models.CharField(max_length=255)            # its name in <raw>/<period>/
    current = models.BooleanField(default=True)
    placed = models.BooleanField(default=False)

    class Meta:
        ordering = ["period", "kind", "scope", "-version"]
        indexes = [models.Index(fields=["period", "kind", "scope"])]

    @property
    def scope_text(self) -> str:
        return self.scope or "全县"


class RunRecord(models.Model):
    """A run started from the portal, with the stage it is in."""
    key = models.CharField(max_length=32, unique=True, default=new_key)
    period = models.CharField(max_length=7)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, default="running")   # running | completed | failed
    stage = models.CharField(max_length=20, blank=True, default="")
    label = models.CharField(max_length=100, blank=True, default="")
    done = models.IntegerField(null=True, blank=True)
    total = models.IntegerField(null=True, blank=True)
    item = models.CharField(max_length=255, blank=True, default="")
    stages = models.JSONField(default=list)        # [{"stage", "label", "at"}] in order
    message = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]


class AuditEvent(models.Model):
    """Append-only: the portal only ever inserts (an UPDATE is refused by a trigger)."""
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=16, blank=True, default="")
    address = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=40, db_index=True)
    target = models.CharField(max_length=255, blank=True, default="")
    detail = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("the audit log is append-only")


class AreaSnapshot(models.Model):
    """Which run the area tables below were copied from."""
    run_id = models.CharField(max_length=64, unique=True)
    period = models.CharField(max_length=7)
    taken_at = models.DateTimeField(auto_now_add=True)
    complete = models.BooleanField(default=False)        # households copied too


class Village(models.Model):
    township = models.CharField(max_length=200)
    village = models.CharField(max_length=200)
    households = models.IntegerField(default=0)

    class Meta:
        ordering = ["township", "village"]
        unique_together = [("township", "village")]


class Household(models.Model):
    """The latest run's households: township and village of each household id (for judging
    the township of a file's rows); `key` is the opaque name of the household in URLs."""
    key = models.CharField(max_length=32, unique=True)
    household_id = models.CharField(max_length=64, unique=True)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")


# ---------------------------------------------------------------------------- issue I: answers

class IssueRow(models.Model):
    """The latest run's issues (copied from the store's issue_history with the areas), with the
    village workbook that listed each (empty: not listed — waived or county-level)."""
    period = models.CharField(max_length=7)
    issue_id = models.CharField(max_length=64)
    rule_id = models.CharField(max_length=20)
    rule_name = models.CharField(max_length=200, blank=True, default="")
    severity = models.CharField(max_length=10)
    status = models.CharField(max_length=12)
    flag = models.CharField(max_length=40, blank=True, default="")
    first_seen = models.CharField(max_length=7, blank=True, default="")
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    household_id = models.CharField(max_length=64, blank=True, default="")
    head_name = models.CharField(max_length=200, blank=True, default="")
    person_name = models.CharField(max_length=200, blank=True, default="")
    id_number = models.CharField(max_length=64, blank=True, default="")
    message = models.TextField(blank=True, default="")
    responsible_unit = models.CharField(max_length=100, blank=True, default="")
    workbook_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    seq = models.IntegerField(default=0)            # the row order of issues.csv

    class Meta:
        ordering = ["seq"]
        unique_together = [("period", "issue_id")]
        indexes = [models.Index(fields=["township", "village"]), models.Index(fields=["household_id"])]


class WorkbookRef(models.Model):
    """A village workbook of the latest run: its id, area and file (relative to the period's
    report folder)."""
    workbook_id = models.CharField(max_length=64, unique=True)
    period = models.CharField(max_length=7)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    file = models.CharField(max_length=500, blank=True, default="")
    issued = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["township", "village"])]


class Answer(models.Model):
    """Every answer the portal knows: made in the browser here (origin 'portal', written_at NULL
    until the outbox has written it to the DuckDB `feedback` table, the one record), or copied
    from that table (origin 'store': returned workbooks, answers recorded by the CLI)."""
    answer_id = models.CharField(max_length=80, unique=True)
    issue_id = models.CharField(max_length=64, db_index=True)
    period = models.CharField(max_length=7)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    workbook_id = models.CharField(max_length=64, blank=True, default="")
    answer = models.CharField(max_length=20)
    note = models.TextField(blank=True, default="")
    who = models.CharField(max_length=200, blank=True, default="")
    answered_on = models.CharField(max_length=40, blank=True, default="")
    how = models.CharField(max_length=10)                     # browser | workbook
    account = models.CharField(max_length=150, blank=True, default="")
    made_at = models.DateTimeField(db_index=True)
    file = models.CharField(max_length=255, blank=True, default="")
    origin = models.CharField(max_length=10, default="portal")
    written_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["made_at", "id"]
        indexes = [models.Index(fields=["township", "village", "period"])]


class WorkbookReturn(models.Model):
    """A filled-in workbook returned through the portal (a village's list, or the county's
    抽查复核.xlsx). Recorded by the outbox with the CLI's own code (processed_at NULL until then)."""
    key = models.CharField(max_length=32, unique=True, default=new_key)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    role = models.CharField(max_length=16, choices=Role.choices)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    original_name = models.CharField(max_length=255)
    stored = models.CharField(max_length=255)
    workbook_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    accepted = models.IntegerField(default=0)
    refused = models.IntegerField(default=0)
    ignored = models.IntegerField(default=0)
    problem = models.TextField(blank=True, default="")
    lines = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]


class AuditDecision(models.Model):
    """The county's spot check of a waived issue (confirmed / overturned): made here (origin
    'portal', written_at NULL until written to the DuckDB `waiver_audits`) or copied from it."""
    answer_id = models.CharField(max_length=80, unique=True)
    issue_id = models.CharField(max_length=64, db_index=True)
    period = models.CharField(max_length=7)
    workbook_id = models.CharField(max_length=64, blank=True, default="")
    result = models.CharField(max_length=12)                  # confirmed | overturned
    note = models.TextField(blank=True, default="")
    who = models.CharField(max_length=200, blank=True, default="")
    how = models.CharField(max_length=10, default="browser")
    made_at = models.DateTimeField()
    origin = models.CharField(max_length=10, default="portal")
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["made_at", "id"]


class WorkbookDownload(models.Model):
    """A village workbook downloaded through the portal (回收进度: first download, by whom)."""
    workbook_id = models.CharField(max_length=64, db_index=True)
    period = models.CharField(max_length=7)
    township = models.CharField(max_length=200, blank=True, default="")
    village = models.CharField(max_length=200, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class SyncMark(models.Model):
    """How far the copy of the store's answers has got (imported_at of the last row copied)."""
    name = models.CharField(max_length=40, unique=True)
    value = models.CharField(max_length=80, blank=True, default="")


class HouseholdPart(models.Model):
    """The latest run's household records for 户档案 (pipeline.cycle.household.queries, copied
    after each run): kind 'member' | 'household' | 'file' | 'issue', one row each, in order."""
    household_id = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=10)
    seq = models.IntegerField(default=0)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["household_id", "kind", "seq"]
