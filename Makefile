# Two commands set up a fresh machine: `make demo` and `make test`. Both create .venv and install
# everything pinned in constraints.txt; the install is skipped while its inputs are unchanged.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAKE ?= data/lake

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/agentwatch --lake $(LAKE) ingest data/sample
	$(BIN)/agentwatch --lake $(LAKE) sql "select agent_id, count(distinct session_id) as sessions, count(*) as events from events group by all order by agent_id"
	$(BIN)/agentwatch --lake $(LAKE) verify

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) $(LAKE)
