# The only entry points: run, account, test, check, lock, upgrade, bench-*.
# Every install comes from uv.lock (uv sync --locked); versions move only with `make lock` / `make upgrade`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# The checkout's own data dir, whatever folder a command is run from.
DATA_DIR ?= $(CURDIR)/var
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: run account test check lock upgrade i18n bench-api bench-callbacks bench-convert bench-documents bench-editor bench-finalize bench-templates bench-bulk system-test-deps clean

$(UV): tools/uv-requirements.txt
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes --no-deps -r tools/uv-requirements.txt
	touch $(UV)

# Serving needs only the runtime dependencies; --inexact keeps a test toolchain that is already there.
$(VENV)/.run-installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --quiet --locked --no-dev --inexact --python $(PY)
	touch $@

# The test and check toolchain (the `dev` dependency group) on top of the runtime.
$(VENV)/.dev-installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --quiet --locked --python $(PY)
	touch $@

## run: serve Paraph on http://127.0.0.1:8000 (SQLite and files under ./var, callbacks to loopback allowed)
run: $(VENV)/.run-installed
	@echo "make: from this checkout, create an account with: make account EMAIL=you@example.com PASSWORD=choose-one"
	PARAPH_DATA_DIR=$${PARAPH_DATA_DIR:-$(DATA_DIR)} PARAPH_CALLBACK_ALLOW_PRIVATE=$${PARAPH_CALLBACK_ALLOW_PRIVATE:-1} $(BIN)/paraph serve

## account: create an account in the checkout's data dir: make account EMAIL=... PASSWORD=...
account: $(VENV)/.run-installed
	@test -n "$(EMAIL)" || { echo "usage: make account EMAIL=you@example.com PASSWORD=choose-one"; exit 2; }
	PARAPH_DATA_DIR=$${PARAPH_DATA_DIR:-$(DATA_DIR)} $(BIN)/paraph account create "$(EMAIL)" $(if $(PASSWORD),--password "$(PASSWORD)")

## test: the whole suite, on SQLite and on PostgreSQL (a throwaway cluster is started)
test: $(VENV)/.dev-installed node_modules/.installed system-test-deps
	$(BIN)/pytest -n 2 --dist loadfile

# Chromium and PostgreSQL's server binaries come from the system: say at once what is missing.
system-test-deps:
	@tools/check-test-deps

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch node_modules/.installed

## check: ruff (lint and format) and mypy --strict, over the code, the tests and the benchmarks
check: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict
	$(BIN)/mypy --strict tests bench

## lock: re-resolve uv.lock after editing pyproject.toml, keeping every other pin
lock: | $(UV)
	$(UV) lock --python $(PY)

## upgrade: move every pin to its newest release (PACKAGE=name for one); then run make test and make check
upgrade: | $(UV)
	$(UV) lock --python $(PY) $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)

## i18n: extract the signing page's and the mails' strings (babel.cfg), then update every language's catalog
I18N := src/paraph/i18n/locales
i18n: $(VENV)/.dev-installed
	cd src && ../$(BIN)/pybabel extract -F ../babel.cfg -k N_ -k tr --add-location=file --sort-output \
		--no-wrap --omit-header -o paraph/i18n/locales/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --no-wrap --no-fuzzy-matching --ignore-obsolete

bench-callbacks: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_callbacks.py

bench-documents: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_documents.py

bench-editor: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_editor.py

bench-finalize: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_finalize.py

bench-api: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_api.py

bench-templates: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_templates.py

bench-bulk: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_bulk.py

bench-convert: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_convert.py

clean:
	rm -rf $(VENV) $(TOOLS) node_modules var
