"""The rule catalogue: every rule module of `checks/rules/` loaded, in rules.md order.

    all_rules() -> [Rule]           RULES / VIEWS: the registry (checks.registry)

Imports go one way: catalogue → rules → views → registry (no module below imports the catalogue).
"""
from __future__ import annotations

from checks import rules as _rules  # noqa: F401  (importing the package registers every rule)
from checks.registry import KEYS, RULES, SEVERITIES, VIEWS, Rule, View, rule, rule_sort_key, view

__all__ = ["KEYS", "RULES", "SEVERITIES", "VIEWS", "Rule", "View", "all_rules", "rule", "rule_sort_key", "view"]


def all_rules() -> list[Rule]:
    return sorted(RULES.values(), key=lambda r: rule_sort_key(r.id))
