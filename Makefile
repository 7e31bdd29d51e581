# Colloquy: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DATABASE_URL ?=
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/colloquy

.DEFAULT_GOAL := help
.PHONY: help install run worker test test-fast lint format schema services

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install Colloquy with its dev tools

# Two build workers: one process that trains (the gpu queue; it gets every core for torch) and
# two for the other stages (shards in parallel; a core each). Torch processes that outnumber the
# cores spin-wait on one another, so training never shares the machine with another training.
run: install ## Install, migrate, load the demo and examples, start the build workers, serve http://localhost:8000
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Colloquy studio: http://localhost:$(PORT)/  (sign in as demo / demo-password); build worker logs: var/worker-*.log"
	$(BIN)/celery -A studio worker -Q gpu -c 1 -n train@%h -l info --logfile var/worker-train.log & train=$$!; \
	$(BIN)/celery -A studio worker -Q cpu -c 2 -n stages@%h -l info --logfile var/worker-stages.log & stages=$$!; \
	trap 'kill $$train $$stages 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

worker: install ## Run a build worker in the foreground (queues cpu and gpu; QUEUES=gpu for a GPU machine)
	$(BIN)/celery -A studio worker -Q $${QUEUES:-cpu,gpu} -c $${CONCURRENCY:-2} -l info

services: ## Start PostgreSQL and Redis if they are not running, and install Chromium for browser tests
	bash .ci/services

test: install services ## Install everything and run the whole test suite against PostgreSQL
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest

test-fast: install ## Run the tests without the browser tests
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest -m "not browser"

lint: install ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy skillspec simulator modeling studio

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install ## Regenerate docs/skill-spec.schema.json from the spec
	$(BIN)/python -m skillspec schema -o docs/skill-spec.schema.json
