# Forecourt — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## web + worker + cron on SQLite and embedded Redis (Ctrl-C stops all)
	$(FLASK) forecourt init
	@if $(FLASK) forecourt is-empty; then $(FLASK) forecourt demo; fi
	$(BIN)/python run.py

test: $(STAMP)  ## the whole suite (browser tests need Debian's chromium)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## speed figures, printed (never asserted)
	$(BIN)/python -m bench.list_views
	$(BIN)/python -m bench.export_memory

lint: $(STAMP)
	$(BIN)/ruff check app jobs tests config.py run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
