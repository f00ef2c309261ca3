"""Rule parameters of rules.md, in one place; `--params FILE` (YAML) overrides them."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "max_households_per_helper": 5,
    "max_pairing_gap_days": 30,
    "compulsory_school_age": [6, 15],
    "working_age": [16, 60],
    "poverty_line": {2014: 2800, 2015: 2855, 2016: 2952, 2017: 2952, 2018: 2995, 2019: 3218, 2020: 4000},
    "poverty_line_later": 4000,          # "later years: 4000"
    "monitoring_line": {2021: 6000, 2022: 6500, 2023: 7000, 2024: 7300, 2025: 7500},
    # monitoring_line for later years: the last listed value
    "max_income_per_capita": 60000,
    "income_tolerance": {"abs": 10, "rel": 0.01},   # max(10 元, 1% of the computed value)
    "loan_amount": [2000, 50000],
    "loan_max_term_days": 1096,
    "rebuild_max_area": 80,
    "village_suspect_rate": 0.02,
    "responsible_units": {
        "SCH": "乡镇扶贫办", "ID": "乡镇扶贫办", "HH": "乡镇扶贫办", "LAB": "乡镇扶贫办",
        "INC": "乡镇扶贫办", "PAIR": "乡镇扶贫办", "PRJ": "乡镇扶贫办", "XA-10": "乡镇扶贫办",
        "EDU": "教育局", "MED-01": "医保局", "MED-02": "医保局", "MED-03": "医保局",
        "MED-04": "残联", "MED-05": "残联", "MED-06": "残联", "HOU": "住建局", "WAT": "水利局",
        "XA-01": "财政局", "XA-02": "市场监管局", "XA-03": "公安局", "XA-05": "公安局",
        "XA-06": "公安局", "XA-11": "公安局", "XA-04": "不动产登记中心", "XA-07": "民政局",
        "XA-08": "民政局", "XA-09": "民政局", "XA-12": "民政局", "LOAN": "乡镇扶贫办（会同放贷银行）",
    },
}


class ParamError(ValueError):
    """Bad parameters file: the run cannot start."""


def _year_table(value: Any, name: str) -> dict[int, float]:
    if not isinstance(value, dict) or not value:
        raise ParamError(f"parameter {name} must be a mapping year: amount")
    try:
        return {int(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise ParamError(f"parameter {name} must map years to numbers") from None


def _range(value: Any, name: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ParamError(f"parameter {name} must be a range [low, high]")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParamError(f"parameter {name} must be a range of two numbers") from None
    if lo > hi:
        raise ParamError(f"parameter {name}: low {lo} is above high {hi}")
    return [lo, hi]


def load_params(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Any]:
    """Defaults, then a YAML file, then explicit overrides; validated."""
    params = copy.deepcopy(DEFAULTS)
    extra: dict[str, Any] = {}
    if path is not None:
        import yaml

        p = Path(path)
        if not p.is_file():
            raise ParamError(f"parameters file not found: {p}")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError
            raise ParamError(f"parameters file {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(loaded, dict):
            raise ParamError(f"parameters file {p} must hold a mapping of parameter names")
        extra.update(loaded)
    extra.update(overrides or {})
    for key, value in extra.items():
        if key not in DEFAULTS:
            raise ParamError(f"unknown parameter {key!r} (known: {', '.join(sorted(DEFAULTS))})")
        if key == "responsible_units":
            if not isinstance(value, dict):
                raise ParamError("parameter responsible_units must be a mapping")
            params[key] = {**params[key], **{str(k): str(v) for k, v in value.items()}}
        elif key == "income_tolerance":
            if not isinstance(value, dict) or set(value) - {"abs", "rel"}:
                raise ParamError("parameter income_tolerance must be a mapping with abs and rel")
            params[key] = {**params[key], **{k: float(v) for k, v in value.items()}}
        else:
            params[key] = value
    # validate shapes
    for key in ("poverty_line", "monitoring_line"):
        params[key] = _year_table(params[key], key)
    for key in ("compulsory_school_age", "working_age", "loan_amount"):
        params[key] = _range(params[key], key)
    for key in ("max_households_per_helper", "max_pairing_gap_days", "loan_max_term_days"):
        try:
            params[key] = int(params[key])
        except (TypeError, ValueError):
            raise ParamError(f"parameter {key} must be a whole number") from None
    for key in ("max_income_per_capita", "rebuild_max_area", "village_suspect_rate", "poverty_line_later"):
        try:
            params[key] = float(params[key])
        except (TypeError, ValueError):
            raise ParamError(f"parameter {key} must be a number") from None
    return params


def poverty_line(params: dict, year: int) -> float | None:
    table = params["poverty_line"]
    if year < min(table):
        return None
    if year in table:
        return table[year]
    if year > max(table):
        return params["poverty_line_later"]
    return table[max(y for y in table if y < year)]


def monitoring_line(params: dict, year: int) -> float | None:
    table = params["monitoring_line"]
    if year < min(table):
        return None
    return table[max(y for y in table if y <= year)]


def sql_params(params: dict, ref_date: dt.date) -> dict[str, Any]:
    """The scalar values rule queries can reference as `$name`."""
    return {
        "R": ref_date,
        "R_year": ref_date.year,
        "max_households_per_helper": params["max_households_per_helper"],
        "max_pairing_gap_days": params["max_pairing_gap_days"],
        "school_age_lo": params["compulsory_school_age"][0],
        "school_age_hi": params["compulsory_school_age"][1],
        "working_age_lo": params["working_age"][0],
        "working_age_hi": params["working_age"][1],
        "poverty_line": poverty_line(params, ref_date.year),
        "monitoring_line": monitoring_line(params, ref_date.year),
        "max_income_per_capita": params["max_income_per_capita"],
        "income_tol_abs": params["income_tolerance"]["abs"],
        "income_tol_rel": params["income_tolerance"]["rel"],
        "loan_min": params["loan_amount"][0],
        "loan_max": params["loan_amount"][1],
        "loan_max_term_days": params["loan_max_term_days"],
        "rebuild_max_area": params["rebuild_max_area"],
    }


def responsible_unit(params: dict, rule_id: str) -> str:
    units = params["responsible_units"]
    return units.get(rule_id) or units.get(rule_id.split("-")[0], "乡镇扶贫办")


def reference_date(period: str) -> dt.date:
    """Last calendar day of a YYYY-MM period."""
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})", str(period or ""))
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise ParamError(f"period must be YYYY-MM (e.g. 2026-10), got {period!r}")
    year, month = int(m.group(1)), int(m.group(2))
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)
