# cardcheck — quick start: `make demo`, `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test test-fast bench bench-province check-workbooks check-report clean venv

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

## check-workbooks: open every demo village workbook headless in LibreOffice
check-workbooks: $(STAMP)
	bash bench/check_workbooks.sh

clean:
	rm -rf $(VENV) reports/* data/clean/* data/raw/demo bench/out .pytest_cache
