"""Rule parameters of rules.md, in one place; `--params FILE` (YAML) overrides them.

    load_params(path=None, overrides=None) -> dict    defaults, then the file, then overrides

A parameters file is checked by a typed model (pydantic, strict: a boolean is not a number,
`.inf`/`.nan` are refused, every limit has its range) and read with a YAML loader that refuses
aliases (an alias bomb would multiply a mapping without bound). The defaults are trusted as they
are, so `cardcheck validate` does not import pydantic.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "max_households_per_helper": 5,
    "max_pairing_gap_days": 30,
    "compulsory_school_age": [6, 15],
    "working_age": [16, 60],
    "poverty_line": {2014: 2800.0, 2015: 2855.0, 2016: 2952.0, 2017: 2952.0, 2018: 2995.0, 2019: 3218.0,
                     2020: 4000.0},
    "poverty_line_later": 4000.0,          # "later years: 4000"
    "monitoring_line": {2021: 6000.0, 2022: 6500.0, 2023: 7000.0, 2024: 7300.0, 2025: 7500.0},
    # monitoring_line for later years: the last listed value
    "max_income_per_capita": 60000.0,
    "income_tolerance": {"abs": 10.0, "rel": 0.01},   # max(10 元, 1% of the computed value)
    "loan_amount": [2000.0, 50000.0],
    "loan_max_term_days": 1096,
    "rebuild_max_area": 80.0,
    "village_suspect_rate": 0.02,
    "max_sheets_per_workbook": 200,        # sheets read from one workbook (a hostile file may hold 5,000)
    "answer_deadline_days": 15,            # a village that answered nothing this long after the run is overdue
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

MAX_PARAMS_FILE_BYTES = 256 * 1024
_FAMILIES = ("SCH", "ID", "HH", "LAB", "EDU", "MED", "HOU", "WAT", "INC", "PAIR", "PRJ", "LOAN", "XA")
_UNIT_KEY = re.compile(r"(%s)(-[0-9]{2})?" % "|".join(_FAMILIES))


class ParamError(ValueError):
    """Bad parameters (file or values): the run cannot start; str(exc) is the one-line reason."""


def _model():
    """The typed model of a parameters file (built on first use: pydantic stays off validate's path)."""
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

    Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
    Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
    Age = Annotated[StrictInt, Field(ge=0, le=150)]
    Year = Annotated[int, Field(ge=1900, le=2999, strict=False)]     # YAML keys may be "2025"

    class Tolerance(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        abs: Money = 10.0
        rel: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.01

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        max_households_per_helper: Annotated[StrictInt, Field(ge=1, le=1000)]
        max_pairing_gap_days: Annotated[StrictInt, Field(ge=0, le=3660)]
        compulsory_school_age: Annotated[list[Age], Field(min_length=2, max_length=2)]
        working_age: Annotated[list[Age], Field(min_length=2, max_length=2)]
        poverty_line: Annotated[dict[Year, Positive], Field(min_length=1, max_length=200)]
        poverty_line_later: Positive
        monitoring_line: Annotated[dict[Year, Positive], Field(min_length=1, max_length=200)]
        max_income_per_capita: Positive
        income_tolerance: Tolerance
        loan_amount: Annotated[list[Money], Field(min_length=2, max_length=2)]
        loan_max_term_days: Annotated[StrictInt, Field(ge=1, le=36600)]
        rebuild_max_area: Positive
        village_suspect_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
        max_sheets_per_workbook: Annotated[StrictInt, Field(ge=1, le=10000)]
        answer_deadline_days: Annotated[StrictInt, Field(ge=1, le=366)]
        responsible_units: Annotated[dict[str, Annotated[str, Field(min_length=1, max_length=60)]],
                                     Field(max_length=200)]

        @field_validator("compulsory_school_age", "working_age", "loan_amount")
        @classmethod
        def _ordered(cls, v):
            if v[0] > v[1]:
                raise ValueError(f"the low end {v[0]:g} is above the high end {v[1]:g}")
            return v

        @field_validator("responsible_units")
        @classmethod
        def _unit_keys(cls, v):
            bad = [k for k in v if not _UNIT_KEY.fullmatch(k)]
            if bad:
                raise ValueError(f"keys must be rule families or rule ids (e.g. PAIR, XA-10), not {bad[0]!r}")
            return v

    return Params


class _NoAliasLoader:
    """yaml.SafeLoader that refuses aliases (`*name`): a nested alias bomb expands without bound."""

    @staticmethod
    def load(text: str):
        import yaml

        class Loader(yaml.SafeLoader):
            def compose_node(self, parent, index):
                if self.check_event(yaml.events.AliasEvent):
                    event = self.peek_event()
                    raise yaml.composer.ComposerError(
                        None, None, "aliases (*name) are not allowed in a parameters file", event.start_mark)
                return super().compose_node(parent, index)

        return yaml.load(text, Loader=Loader)   # noqa: S506 — a SafeLoader subclass


def _describe(exc) -> str:
    """The first problem of a pydantic ValidationError as one line: `name: what`."""
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "parameters"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
    more = f"; {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{loc}: {msg}{shown}{more}"


def load_params(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Any]:
    """Defaults, then a YAML file, then explicit overrides; validated by the typed model."""
    params = copy.deepcopy(DEFAULTS)
    extra: dict[str, Any] = {}
    where = "parameters"
    if path is not None:
        p = Path(path)
        where = f"parameters file {p}"
        if not p.is_file():
            raise ParamError(f"parameters file not found: {p}")
        if p.stat().st_size > MAX_PARAMS_FILE_BYTES:
            raise ParamError(f"{where} is larger than {MAX_PARAMS_FILE_BYTES // 1024} KiB: not a parameters file")
        try:
            loaded = _NoAliasLoader.load(p.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError:
            raise ParamError(f"{where} is not UTF-8 text") from None
        except Exception as exc:  # yaml.YAMLError and its subclasses
            first = " ".join(str(exc).split())
            raise ParamError(f"{where} is not valid YAML: {first[:200]}") from None
        if not isinstance(loaded, dict):
            raise ParamError(f"{where} must hold a mapping of parameter names")
        extra.update(loaded)
    extra.update(overrides or {})
    if not extra:
        return params                       # the defaults are known to be valid
    for key, value in extra.items():
        if key not in DEFAULTS:
            raise ParamError(f"{where}: unknown parameter {key!r} (known: {', '.join(sorted(DEFAULTS))})")
        if key == "responsible_units" and isinstance(value, dict):
            params[key] = {**params[key], **value}
        elif key == "income_tolerance" and isinstance(value, dict):
            params[key] = {**params[key], **value}
        else:
            params[key] = value
    from pydantic import ValidationError

    try:
        model = _model().model_validate(params)
    except ValidationError as exc:
        raise ParamError(f"{where}: {_describe(exc)}") from None
    return model.model_dump()


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


def normalise_period(period) -> str:
    """A period exactly as YYYY-MM with a real month. Full-width digits and dashes typed with a
    Chinese input method (`２０２６－１１`) are folded to ASCII first; anything else is refused."""
    s = unicodedata.normalize("NFKC", str(period or "")).strip()
    s = re.sub(r"[\u2010-\u2015\u2212\ufe58\ufe63]", "-", s)
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", s)      # ASCII digits only (\d would take any script)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2999:
        raise ParamError(f"period must be YYYY-MM with a real month (e.g. 2026-10), got {str(period)!r}")
    return s


def reference_date(period: str) -> dt.date:
    """Last calendar day of a YYYY-MM period (refused unless exactly YYYY-MM; see normalise_period)."""
    if normalise_period(period) != period:
        raise ParamError(f"period must be YYYY-MM with a real month (e.g. 2026-10), got {str(period)!r}")
    year, month = int(period[:4]), int(period[5:7])
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)
