# Two commands for a new user: `make run` (install, migrate, demo data, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# One setting for the address printed on the letters and QR codes and the address served:
# `make run` serves SURVEY_PUBLIC_BASE_URL, e.g. `make run SURVEY_PUBLIC_BASE_URL=http://192.168.1.20:8000`
# for phones on the office Wi-Fi (HOST and PORT only make its default).
SURVEY_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test lint translations system-deps clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed translations

translations: $(BIN)/.installed
	$(BIN)/python -m survey_app.i18n_catalogs compile

run: install
	$(BIN)/survey-app init-instance
	$(BIN)/survey-app db upgrade
	SURVEY_PUBLIC_BASE_URL=$(SURVEY_PUBLIC_BASE_URL) $(BIN)/survey-app demo load
	@# Background jobs: with SURVEY_JOB_REDIS_URL set, the worker runs beside the server (and
	@# stops with it); without it (the SQLite default) jobs run inline, in threads of the server.
	@if [ -n "$$SURVEY_JOB_REDIS_URL" ]; then \
	  $(BIN)/survey-app jobs worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	  SURVEY_PUBLIC_BASE_URL=$(SURVEY_PUBLIC_BASE_URL) $(BIN)/survey-app serve; \
	else \
	  echo "Background jobs run inline in the server (SQLite pilot; set SURVEY_JOB_REDIS_URL for a worker)"; \
	  SURVEY_PUBLIC_BASE_URL=$(SURVEY_PUBLIC_BASE_URL) $(BIN)/survey-app serve; \
	fi

# Chromium and a Chinese font for the browser tests (Debian packages; needs root).
system-deps:
	bash scripts/install-system-deps.sh

test: install system-deps
	$(BIN)/pytest -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/python scripts/check_shape.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
