# Two commands set up a fresh machine: `make demo` and `make test`. Both create .venv and install
# everything pinned in constraints.txt; the install is skipped while its inputs are unchanged.
# `make test-fast` is the lane for while you work: every test but the slow end-to-end and browser ones,
# on one pytest worker per core (pytest-xdist; each worker builds the shared sample lakes once).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= data/lake

.PHONY: setup demo test test-fast lint bench clean app

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

INVENTORY := data/sample/agents.yaml
AW := $(BIN)/agentwatch --lake $(LAKE) --inventory $(INVENTORY)

demo: setup
	$(AW) run data/sample
	$(AW) sql "select agent_id, session_id, round(risk_score, 2) as risk, array_to_string(list_transform(reasons, lambda r: r.id), ', ') as reasons from sessions where flagged order by risk_score desc, session_id limit 20" --max-width 90
	$(AW) verify
	@echo "the analysts' app: http://127.0.0.1:8501 (Ctrl-C stops it)"
	$(AW) app

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which
# downloads a browser): install it when it is missing (needs root or sudo, and the package mirror).
CHROMIUM := /usr/bin/chromium

test: setup $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser"

$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

app: setup
	$(AW) app

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_secrets.py
	$(BIN)/python bench/bench_sample.py
	$(BIN)/python bench/bench_metrics.py

clean:
	rm -rf $(VENV) $(LAKE)
