# Forecourt — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run
STAMP := $(VENV)/.installed
# Message catalogues: translations/<lang>/LC_MESSAGES/messages.po; the .mo files are built.
CATALOGUES := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
# The same keywords as app/i18n/catalogues.py KEYWORDS (tests/test_translations.py checks).
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

.PHONY: run test bench lint clean translations

$(STAMP): requirements.txt requirements-embedded.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP) $(COMPILED)  ## web + worker + cron on SQLite and embedded Redis (Ctrl-C stops all)
	$(FLASK) forecourt init
	@if $(FLASK) forecourt is-empty; then $(FLASK) forecourt demo; fi
	$(BIN)/python run.py

test: $(STAMP) $(COMPILED)  ## the whole suite (browser tests need Debian's chromium)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## speed figures, printed (never asserted)
	$(BIN)/python -m bench.list_views
	$(BIN)/python -m bench.export_memory
	$(BIN)/python -m bench.list_export
	$(BIN)/python -m bench.import_preview
	@# Load without leaks: gunicorn + worker + cron on PostgreSQL and Redis, 50 users for 5 minutes.
	@if [ -n "$$PGPORT" ] && [ -n "$$REDIS_PORT" ]; then \
		LOAD_USERS=$${LOAD_USERS:-50} LOAD_SECONDS=$${LOAD_SECONDS:-300} bash .ci/deploy-as-written; \
	else \
		echo "load without leaks needs PostgreSQL + Redis: PGPORT=5432 REDIS_PORT=6379 make bench"; \
	fi
	@echo "  or against a running stack: LOAD_PASSWORD=... $(BIN)/python -m bench.load --base-url http://127.0.0.1:8000 \\"
	@echo "    --dealer SLUG1:ADMIN1 --dealer SLUG2:ADMIN2 --officer OFFICER --users 50 --seconds 300 --strict --log web.log --log worker.log"

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile --domain=messages --locale=$* --input-file=$< --output-file=$@

translations: $(STAMP)  ## after changing strings: extract, update every catalogue, compile
	$(BIN)/pybabel extract --mapping-file=translations/babel.cfg $(BABEL_KEYWORDS) \
		--add-comments=Translators: --project=Forecourt --copyright-holder=Forecourt \
		--sort-by-file --output-file=translations/messages.pot .
	$(BIN)/pybabel update --input-file=translations/messages.pot --output-dir=translations \
		--domain=messages --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --directory=translations --domain=messages --statistics

lint: $(STAMP)  ## ruff (lint and format), mypy, and the import layers of DESIGN.md
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) instance .pytest_cache
