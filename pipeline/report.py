"""Stage 6 — report: the run's files in OUT/<period>/ (outputs.md).

issues.csv (UTF-8 with BOM, RFC 4180, sorted), issues.parquet (string columns),
resolved.csv, rejected.csv, run.json. Village workbooks and summary.html come from
pipeline.workbooks and pipeline.summary when those stages are present.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from checks.engine import ISSUE_COLUMNS

ORDER = "township NULLS FIRST, village NULLS FIRST, household_id NULLS FIRST, rule_id, issue_id"


def _rows(con, table: str, columns: list[str]) -> list[tuple]:
    sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
    return con.execute(f"SELECT {sel} FROM {table} ORDER BY {ORDER}").fetchall()


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def write_issues(con, out: Path) -> int:
    rows = _rows(con, "issues_current", ISSUE_COLUMNS)
    write_csv(out / "issues.csv", ISSUE_COLUMNS, rows)
    sel = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in ISSUE_COLUMNS)
    con.execute(f"COPY (SELECT {sel} FROM issues_current ORDER BY {ORDER}) "
                f"TO '{(out / 'issues.parquet').as_posix()}' (FORMAT parquet)")
    return len(rows)


def write_resolved(con, out: Path) -> int:
    rows = _rows(con, "issues_resolved", ISSUE_COLUMNS)
    write_csv(out / "resolved.csv", ISSUE_COLUMNS, rows)
    return len(rows)


def write_rejected(con, out: Path) -> int:
    rows = con.execute('SELECT file, sheet, "row", kind, reason, raw FROM rejected_rows '
                       'ORDER BY file, sheet, "row"').fetchall()
    write_csv(out / "rejected.csv", ["file", "sheet", "row", "kind", "reason", "raw_values"], rows)
    return len(rows)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
