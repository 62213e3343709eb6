# The README's two commands: `make demo` (the main job on the embedded emulator) and `make test`.
# Everything is installed from the lock file (uv.lock) into .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen --no-sync
MANIFESTS ?= manifests

.PHONY: help setup setup-sdk setup-azurite docs demo test lint typecheck unit bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.venv/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	@touch $@

# The unmodified Atlan SDK (pyatlan 10.0.0) pins its own pydantic, so it lives in its own venv,
# installed from a hash-pinned requirements file; the compatibility tests run it as a subprocess.
.venv-sdk/.installed: tests/sdk/requirements.txt
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) venv --quiet --allow-existing --python 3.11 .venv-sdk
	$(UV) pip install --quiet --python .venv-sdk/bin/python --require-hashes -r tests/sdk/requirements.txt
	@touch $@

# Azurite, Azure Blob Storage's local server, for the object-store tests (tests/stores): from the
# npm registry, installed from the committed lock file with install scripts off. 3.35.0 is the last
# release whose engines allow Node 20.
AZURITE_LOCK := tests/stores/azurite/package.json tests/stores/azurite/package-lock.json
.venv-azurite/.installed: $(AZURITE_LOCK)
	mkdir -p .venv-azurite
	cp $(AZURITE_LOCK) .venv-azurite/
	cd .venv-azurite && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

setup: .venv/.synced  ## create .venv from the lock file

setup-sdk: .venv-sdk/.installed  ## create .venv-sdk with the unmodified Atlan SDK

setup-azurite: .venv-azurite/.installed  ## install Azurite (npm) into .venv-azurite for tests/stores

# Stand-in credentials so the examples resolve on a fresh machine; real ones come from the environment.
DEMO_ENV := AWS_ACCESS_KEY_ID="$${AWS_ACCESS_KEY_ID:-AKIADEMO}" \
	AWS_SECRET_ACCESS_KEY="$${AWS_SECRET_ACCESS_KEY:-demo-secret}" \
	GCS_SERVICE_ACCOUNT_JSON="$${GCS_SERVICE_ACCOUNT_JSON:-demo-secret}" \
	AZURE_CLIENT_SECRET="$${AZURE_CLIENT_SECRET:-demo-secret}"

DEMO_STATE := .reconciler/demo
# The demo runs on the embedded emulator on purpose, also where CI or ATLAN_API_KEY is set.
DEMO_TARGET := RECONCILER_TARGET=embedded

# The one-row edit the demo plans on its copy of the manifests: a glossary term's status.
DEMO_COPY := $(DEMO_STATE)/manifests
DEMO_DATA := $(DEMO_COPY)/data/glossary-export.csv
DEMO := $(DEMO_ENV) $(DEMO_TARGET) RECONCILER_STATE_DIR=$(DEMO_STATE) $(RUN) reconciler

demo: setup  ## plan -> apply (uploads, runs) -> plan; then a one-row data edit: plan -> apply (upload, rerun) -> plan; then what the imports created
	rm -rf $(DEMO_STATE)
	$(DEMO) validate $(MANIFESTS)
	$(DEMO) plan $(MANIFESTS)
	$(DEMO) apply --auto-approve $(MANIFESTS)
	@echo "--- plan again: the tenant and its files match the manifests (exit 0 means no changes)"
	$(DEMO) plan --detailed-exitcode $(MANIFESTS)
	@echo "--- one row of a data source edited (on a copy, $(DEMO_COPY)): planned as ~1 row, uploaded, rerun"
	cp -R $(MANIFESTS) $(DEMO_COPY)
	sed 's/says it\.;raj\.patel;;DRAFT/says it.;raj.patel;;VERIFIED/' $(DEMO_DATA) > $(DEMO_DATA).edited
	mv $(DEMO_DATA).edited $(DEMO_DATA)
	$(DEMO) plan $(DEMO_COPY)
	@echo "--- apply --wait: the first run of that workflow ends, then the file is uploaded and run again"
	$(DEMO) apply --auto-approve --wait $(DEMO_COPY)
	$(DEMO) plan --detailed-exitcode $(DEMO_COPY)
	@echo "--- what the imports created in the emulator's local catalog (the sandbox)"
	$(DEMO) emulator catalog

lint: setup  ## ruff, mypy, the import layering contracts and zizmor on the action and workflows
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) zizmor --offline --no-progress --persona pedantic action.yml .github/workflows/

# The action installs from requirements/action.txt: uv.lock's runtime packages and the build
# backend (the `build` group), with hashes. tests/github/test_action_install.py fails when stale.
.PHONY: lock-action
lock-action: setup  ## regenerate requirements/action.txt (the action's hash-pinned install) from uv.lock
	$(RUN) uv export --frozen --no-dev --group build --no-emit-project --format requirements-txt > requirements/action.txt.tmp
	mv requirements/action.txt.tmp requirements/action.txt

unit: setup setup-sdk setup-azurite  ## pytest only
	$(RUN) pytest --cov --cov-report=term --cov-fail-under=90

test: lint unit  ## everything CI runs: lint, types, layering, tests

docs: setup  ## regenerate the JSON Schema and the README's field reference from the models
	$(RUN) reconciler schema > manifests/reconciler.schema.json
	$(RUN) python -m reconciler.manifest.schema README.md

bench: setup setup-sdk  ## start-up, rendering 1M CSV rows, then the scale benchmark vs the unmodified SDK (~15 min); tables on stdout, JSON in benchmarks/results/
	$(RUN) python benchmarks/startup.py
	$(RUN) python benchmarks/render_rows.py
	$(RUN) python benchmarks/content_plan.py
	$(RUN) python benchmarks/import_rows.py
	$(RUN) python benchmarks/scale.py

clean:  ## remove the environments and local state
	rm -rf .venv .venv-sdk .venv-azurite .reconciler .pytest_cache .mypy_cache .ruff_cache .coverage
