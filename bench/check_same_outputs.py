"""make check-same-outputs: the demo drops run through this tree and through a reference commit
(by default the last one before issue J's changes), outputs compared byte for byte (issues.csv,
resolved.csv, rejected.csv) and village workbooks cell by cell (but for
the workbook id, new for every workbook written, and the time it was written; an empty text cell
and an empty cell count as the same).

    python -m bench.check_same_outputs [--ref COMMIT]

Both trees run with this checkout's virtual environment, on the same generated drops (2026-09 then
2026-10, so that resolved.csv and statuses are compared too), each with its own data folder. A
second run of this tree on unchanged files (everything from the cache) is compared as well.
Exit 1 on any difference, listing it.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = "2751a55"          # main before issue J (merge of g-demo)
PERIODS = ("2026-09", "2026-10")
FILES = ("issues.csv", "resolved.csv", "rejected.csv")


def run_tree(tree: Path, drops: Path, data: Path) -> None:
    for period in PERIODS:
        p = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "run", str(drops / period),
                            "--period", period, "--data", str(data), "-q"],
                           cwd=tree, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree), "HOME": str(data)},
                           capture_output=True, text=True)
        # exit 1 is a run that reports files not loaded (the demo's broken files); without its
        # run.json it stopped early (e.g. the reference tree, older than the guard that keeps
        # pandera from importing an installed pyspark, exits on import)
        if p.returncode not in (0, 1) or not (data / "reports" / period / "run.json").is_file():
            raise SystemExit(f"{tree}: run {period} failed ({p.returncode}): {p.stderr[-2000:]}")


def cells(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    # an empty text cell and no cell look the same to whoever opens the workbook (openpyxl writes
    # the first, xlsxwriter the second)
    out = {ws.title: [tuple(None if v == "" else v for v in r) for r in ws.iter_rows(values_only=True)]
           for ws in wb.worksheets}
    # the workbook id is drawn afresh for every workbook written (returned workbooks are matched by
    # it) and the time written is the time it was written: the cells expected to differ
    volatile = {"工作簿编号", "生成时间"}
    out["说明"] = [(r[0], f"<{r[0]}>", *r[2:]) if r and r[0] in volatile else r for r in out.get("说明", [])]
    return out


def first_difference(ca: dict, cb: dict) -> str:
    if list(ca) != list(cb):
        return f"sheets {list(ca)} vs {list(cb)}"
    for sheet in ca:
        ra, rb = ca[sheet], cb[sheet]
        for i in range(max(len(ra), len(rb))):
            x = ra[i] if i < len(ra) else None
            y = rb[i] if i < len(rb) else None
            if x != y:
                return f"{sheet} row {i + 1}: {x!r} vs {y!r}"[:400]
    return "?"


def compare(a: Path, b: Path, label: str) -> list[str]:
    diffs = []
    for period in PERIODS:
        ra, rb = a / "reports" / period, b / "reports" / period
        for name in FILES:
            if (ra / name).read_bytes() != (rb / name).read_bytes():
                diffs.append(f"{label} {period}/{name} differs")
        wa = sorted(p.relative_to(ra / "villages").as_posix() for p in (ra / "villages").rglob("*.xlsx"))
        wb = sorted(p.relative_to(rb / "villages").as_posix() for p in (rb / "villages").rglob("*.xlsx"))
        if wa != wb:
            diffs.append(f"{label} {period}: village workbooks differ in names ({len(wa)} vs {len(wb)})")
            continue
        for name in wa:
            ca, cb = cells(ra / "villages" / name), cells(rb / "villages" / name)
            if ca != cb:
                diffs.append(f"{label} {period}/villages/{name}: cell values differ, first {first_difference(ca, cb)}")
        if not wa:
            diffs.append(f"{label} {period}: no village workbooks to compare")
        print(f"{label} {period}: {len(FILES)} files and {len(wa)} workbooks compared", flush=True)
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default=REF)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cardcheck-same-") as tmp:
        tmp = Path(tmp)
        drops = tmp / "drops"
        subprocess.run([sys.executable, "-c", "from demo.generate import generate_demo; import sys; "
                        "generate_demo(__import__('pathlib').Path(sys.argv[1]))", str(drops)],
                       cwd=ROOT, check=True)
        ref = tmp / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(ref), args.ref], check=True)
        try:
            run_tree(ref, drops, tmp / "data_ref")
            run_tree(ROOT, drops, tmp / "data_now")
            shutil.copytree(tmp / "data_now", tmp / "data_again")
            run_tree(ROOT, drops, tmp / "data_again")           # a re-run: readings and findings cached
            diffs = compare(tmp / "data_ref", tmp / "data_now", f"now vs {args.ref}")
            diffs += compare(tmp / "data_now", tmp / "data_again", "re-run vs first run")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref)], check=False)
    for d in diffs:
        print("DIFF", d)
    print("outputs identical" if not diffs else f"{len(diffs)} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
