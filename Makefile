# The only entry points: run, test, check, bench-*.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench-callbacks bench-documents bench-finalize migration clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: serve Paraph on http://127.0.0.1:8000 (SQLite and files under ./var, callbacks to loopback allowed)
run: $(STAMP)
	PARAPH_CALLBACK_ALLOW_PRIVATE=$${PARAPH_CALLBACK_ALLOW_PRIVATE:-1} $(BIN)/paraph serve

## test: the whole suite, on SQLite and on PostgreSQL (a throwaway cluster is started)
test: $(STAMP) node_modules/.installed
	$(BIN)/pytest -n 2 --dist loadfile

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch node_modules/.installed

## check: ruff and mypy --strict
check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src
	$(BIN)/mypy --strict

bench-callbacks: $(STAMP)
	$(BIN)/python bench/bench_callbacks.py

bench-documents: $(STAMP)
	$(BIN)/python bench/bench_documents.py

bench-finalize: $(STAMP)
	$(BIN)/python bench/bench_finalize.py

clean:
	rm -rf $(VENV) node_modules var
