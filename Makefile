# cardcheck — quick start: `make demo`, `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test check-spark bench bench-province check-workbooks check-report check-wheel check-same-outputs check-hostile serve-demo check-portal load-portal clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## demo: generate the sample county (two periods) and run both end to end
demo: $(STAMP)
	$(BIN)/cardcheck demo

## test: the whole test suite (a few minutes on 2 cores)
test: $(STAMP)
	$(BIN)/python -m pytest

## bench: ingest + rules + reconciliation at 50,000 households, next to a bare calamine read
bench: $(STAMP)
	$(BIN)/python -m bench.run_bench --households 50000

## check-same-outputs: the demo drops through this tree and the commit before issue J's speed-ups:
## issues.csv, resolved.csv, rejected.csv byte for byte, village workbooks cell by cell (and a cached re-run)
check-same-outputs: $(STAMP)
	$(BIN)/python -m bench.check_same_outputs

## bench-province: the full monthly run on 1,000,000 households (a 20,000-household county tiled in DuckDB, csv)
bench-province: $(STAMP)
	$(BIN)/python -m bench.province --households 1000000

## check-spark: every rule's firing and near-miss fixtures, then the demo end to end, on DuckDB and on Spark:
## equal issues (a table per rule family) and byte-identical issues.csv (installs pyspark; needs Java 17+)
check-spark: $(STAMP)
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless)
	@$(BIN)/python -c "import pyspark" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,spark]'
	$(BIN)/python tests/spark/check_spark.py

## check-workbooks: open every demo village workbook headless in LibreOffice
check-workbooks: $(STAMP)
	bash bench/check_workbooks.sh

## check-report: render the latest demo summary.html in headless Chromium and take a screenshot
check-report: $(STAMP)
	@test -f reports/2026-10/summary.html || $(MAKE) demo
	bash bench/check_report.sh reports/2026-10/summary.html reports/2026-10/summary.png
	@echo "screenshot: reports/2026-10/summary.png"

## check-wheel: build the wheel, install it in a fresh venv outside the source tree, validate and run a small drop
check-wheel: $(STAMP)
	bash bench/check_wheel.sh

## check-hostile: the hostile files of issue K at full size through validate and run (time, peak memory of the process tree)
check-hostile: $(STAMP)
	$(BIN)/python -m bench.check_hostile

## serve-demo: the demo county in the portal (one account per role, passwords printed) at http://127.0.0.1:8000/
serve-demo: $(STAMP)
	$(BIN)/cardcheck demo --quiet
	$(BIN)/python -m portal.demo
	$(BIN)/cardcheck serve --host 127.0.0.1 --port 8000

## check-portal: drive the portal in headless Chromium (every role, upload, annotated workbook, submit, run);
## screenshots in reports/portal-check/
check-portal: $(STAMP)
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)
	$(BIN)/python -m pip install --quiet -e '.[test,portal-check]'
	$(BIN)/python tests/portal/check_portal.py --out reports/portal-check

## load-portal: 60 users (40 villages answering, 15 townships, 5 county) for 120 s against a local portal
## (locust, headless, one process); prints the table and counts the answers recorded
load-portal: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,portal-check]'
	$(BIN)/python tests/portal/load_portal.py --users 60 --seconds 120

clean:
	rm -rf $(VENV) reports/* data/clean/* data/raw/demo bench/out .pytest_cache
