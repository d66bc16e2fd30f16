# Two commands matter: `make run` starts the whole stack, `make test` passes the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# The venv comes first so its kubectl, redis-server and linters win over any system copies.
export PATH := $(BIN):$(PATH)

.PHONY: install run test lint bench crd-schemas clean

$(STAMP): pyproject.toml requirements-dev.txt apps/vote/requirements.txt apps/result/requirements.txt apps/worker/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

install: $(STAMP)

run: install
	$(BIN)/votectl run

# lint has just run every scanner; pytest skips the tests that would run them a second time.
test: install lint
	$(BIN)/python -m pytest -m "not scanners"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# actionlint, zizmor, shellcheck, hadolint, yamllint, trivy config and trivy secret (offline, ~10 s).
	$(BIN)/python tests/delivery/delivery_scanners.py

bench: install
	$(BIN)/python -m bench

# Pinned CRD JSON schemas for `votectl verify` (needs GitHub access; CI uses CRD_SCHEMA_DIR instead).
crd-schemas: install
	$(BIN)/python scripts/fetch_crd_schemas.py .crd-schemas

clean:
	rm -rf $(VENV) .state test-artifacts
