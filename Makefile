# Two commands set up a fresh machine: `make demo` and `make test`. Both create .venv and install
# everything pinned in constraints.txt; the install is skipped while its inputs are unchanged.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= data/lake

.PHONY: setup demo test lint bench clean app

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
# The flagged sessions. Until detect (issue 11) lands: the riskiest sessions by today's metrics; then
# `select agent_id, session_id, round(risk_score, 2) as risk, reasons from sessions where flagged order by risk_score desc`.
	$(AW) sql "select agent_id, session_id, count_destructive_actions as destructive, count_untrusted_sink_calls as untrusted_sinks, count_out_of_scope_resources as out_of_scope, round(goal_drift_level, 2) as drift from sessions order by count_destructive_actions + count_untrusted_sink_calls + count_out_of_scope_resources desc limit 10"
	$(AW) detect --show 15
	$(AW) verify
# >>> the app (issue 15): start it here and print its URL, e.g. `$(AW) app` <<<

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which
# downloads a browser): install it when it is missing (needs root or sudo, and the package mirror).
CHROMIUM := /usr/bin/chromium

test: setup $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

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
