"""The rule registry: what a rule is (metadata plus one set-based DuckDB query) and how a rule
module declares one. Imports nothing of the project, so rule modules and views import it freely.

A rule module (checks/rules/*.py) declares its rules with `rule(...)` and, if
it needs them, shared derived relations with `view(...)`. Adding a rule means
one `rule(...)` entry with its query, and its tests.

The query of a rule returns one row per issue. Recognised output columns (all
optional; missing ones are NULL):

    household_id, id_number, helper_id_number, project_id   -- the keys
    person_name      -- the person concerned (for the message)
    field, value     -- canonical column name and the value as given
    evidence         -- JSON text (json_object(...)) of the values compared
    disc             -- discriminator, for rules that fire more than once per key
    severity         -- overrides the rule's severity (XA-07, XA-08)
    source           -- 'registry' or an agency table name; default: rule's source
    township, village, county  -- for issues with no registered household
    detail           -- free text the message template can use as {detail}

Queries may reference parameters as $name (see checks.params.sql_params) and the
derived relations declared with view() (v_members, v_hh, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

SEVERITIES = ("error", "suspect", "notice")
KEYS = ("household", "person", "helper", "project", "id_number", "file")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str                 # 名称
    severity: str
    key: str                  # household | person | helper | project | id_number | file
    needs: tuple[str, ...]    # canonical tables that must have rows, else the rule is skipped
    sql: str
    message: str              # Chinese message template, placeholders {column}
    policy: str = ""          # policy source (seed document)
    source: str = "registry"  # 'registry' or the agency table the evidence comes from
    # at least one of these tables must have rows (XA-10: any agency extract)
    needs_any: tuple[str, ...] = ()
    # optional: returns a skip reason (str) or None, given the sql params
    precheck: Callable[[dict], str | None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class View:
    name: str
    sql: str                  # a SELECT; materialised as a TEMP TABLE in declaration order
    needs: tuple[str, ...] = ()


RULES: dict[str, Rule] = {}
VIEWS: dict[str, View] = {}


def rule(id: str, name: str, severity: str, *, key: str, needs, sql: str, message: str,
         policy: str = "", source: str = "registry", precheck=None, needs_any=()) -> Rule:
    if severity not in SEVERITIES:
        raise ValueError(f"{id}: severity {severity!r}")
    if key not in KEYS:
        raise ValueError(f"{id}: key {key!r}")
    if id in RULES:
        raise ValueError(f"rule {id} declared twice")
    r = Rule(id, name, severity, key, tuple(needs), sql, message, policy, source, tuple(needs_any), precheck)
    RULES[id] = r
    return r


def view(name: str, sql: str, needs=()) -> View:
    if name in VIEWS:
        raise ValueError(f"view {name} declared twice")
    v = View(name, sql, tuple(needs))
    VIEWS[name] = v
    return v


def rule_sort_key(rule_id: str) -> tuple:
    prefix, _, num = rule_id.partition("-")
    order = ["SCH", "ID", "HH", "LAB", "EDU", "MED", "HOU", "WAT", "INC", "PAIR", "PRJ", "LOAN", "XA"]
    return (order.index(prefix) if prefix in order else 99, int(num) if num.isdigit() else 0)
