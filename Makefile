# Two commands matter: `make run` starts the whole stack, `make test` passes the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# The venv comes first so its kubectl, redis-server and linters win over any system copies.
export PATH := $(BIN):$(PATH)

.PHONY: install engines run test e2e lint bench crd-schemas clean

$(STAMP): pyproject.toml requirements-dev.txt apps/vote/requirements.txt apps/result/requirements.txt apps/worker/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

install: $(STAMP)

# The real engines the gate and rehearsals are checked against (kube-apiserver, etcd, kwok, OPA, Argo
# Rollouts ...), built from the pinned Go modules in engines/ into .engines/: minutes the first time,
# about a second once built.
engines: install
	$(BIN)/votectl engines build

run: install
	$(BIN)/votectl run

# lint has just run every scanner; pytest skips the tests that would run them a second time.
test: install lint engines
	$(BIN)/python -m pytest -m "not scanners"

# The GitOps loop alone (also part of `make test`): real Argo CD syncing the envs from a local git remote,
# a promotion, a bad release rolled back, drift and prune (docs/gitops-loop.md); ~6-7 min.
e2e: install engines
	$(BIN)/python -m pytest tests/loop -s

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# actionlint, zizmor, shellcheck, hadolint, yamllint, trivy config and trivy secret (offline, ~10 s).
	$(BIN)/votectl lint

bench: install
	$(BIN)/python -m bench

# Regenerate the offline gate's CRD schemas (engines/crd-schemas) after changing a pin in engines/crds.
crd-schemas: install
	$(BIN)/votectl engines crd-schemas

clean:
	rm -rf $(VENV) .state test-artifacts .engines
