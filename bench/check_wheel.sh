#!/usr/bin/env bash
# make check-wheel: the wheel (not an editable install) must give a cardcheck that runs.
# Builds the wheel, installs it with its pinned dependencies into a fresh venv in a temporary
# folder, and from a working folder outside the source tree runs --version, demo (small),
# validate on one generated file and run on one generated drop.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/cardcheck-wheel-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
PY="${PY:-python3}"

echo "== building the wheel"
"$SRC/.venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/dist" "$SRC"
WHEEL="$(ls "$WORK"/dist/cardcheck-*.whl)"
echo "   $WHEEL"

echo "== installing it into a fresh venv"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
"$WORK/venv/bin/python" -m pip install --quiet "$WHEEL" 2>&1 | grep -v "^WARNING: Location" || true
CC="$WORK/venv/bin/cardcheck"

mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere"
echo "== cardcheck --version (from $PWD)"
"$CC" --version

echo "== cardcheck demo --households 300 --data county"
"$CC" demo --households 300 --data county --quiet
test -f county/reports/2026-10/issues.csv
test -f county/clean/cardcheck.duckdb

echo "== cardcheck validate (one generated members file)"
MEMBERS="$(ls county/raw/demo/2026-10/* | grep -m1 -E '成员|members' || true)"
if [ -z "$MEMBERS" ]; then MEMBERS="$(ls county/raw/demo/2026-10/* | head -1)"; fi
set +e
"$CC" validate "$MEMBERS" > validate.txt
rc=$?
set -e
head -3 validate.txt
if [ "$rc" -gt 1 ]; then echo "validate exited $rc"; exit 1; fi

echo "== cardcheck run (the generated drop, another data folder)"
set +e
"$CC" run county/raw/demo/2026-10 --period 2026-10 --data other --quiet
rc=$?
set -e
if [ "$rc" -gt 1 ]; then echo "run exited $rc"; exit 1; fi
test -f other/reports/2026-10/issues.csv
test -f other/reports/2026-10/summary.html
echo "check-wheel: OK (the wheel installs and runs outside the source tree)"
rm -rf "$SRC/build"
