# Two entry points: `make demo` and `make test`. Each builds its own environment from scratch.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The whole suite keeps a coverage floor (94 % when it was set); `make test COVERAGE= PYTEST_ARGS=tests/x.py` runs a part.
COVERAGE ?= --cov=normalizers --cov=pipeline --cov-report=term:skip-covered --cov-fail-under=90
DEBIAN_PACKAGES := chromium lynis wapiti poppler-utils libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0

.PHONY: demo test system-packages checkov clean bench fuzz lambda-package lock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,scanners,pdf]'
	touch $(STAMP)

# Checkov pins old boto3/packaging that clash with Tollgate's own, so it lives in a venv of its own.
$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov

checkov: $(CHECKOV_VENV)/bin/checkov

# Debian tools (Chromium for the HTML report test, Lynis, Wapiti, poppler). Only as root;
# elsewhere the tests that need them skip and name this target.
system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	      || echo "warning: apt-get could not install$$missing; the tests that need them will skip"; \
	  fi; \
	else echo "not root: skipping Debian packages ($(DEBIAN_PACKAGES)); their tests will skip"; fi

test: $(STAMP) system-packages checkov
	PATH="$(CURDIR)/$(BIN):$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" $(BIN)/ruff check normalizers pipeline tests benchmarks examples
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" TOLLGATE_CHECKOV="$(CURDIR)/$(CHECKOV_VENV)/bin/checkov" $(BIN)/pytest $(COVERAGE) $(PYTEST_ARGS)

demo: $(STAMP) system-packages checkov
	PATH="$(CURDIR)/$(BIN):$$PATH" TOLLGATE_CHECKOV="$(CURDIR)/$(CHECKOV_VENV)/bin/checkov" $(BIN)/python examples/demo.py

bench: $(STAMP)
	for script in $(filter-out benchmarks/fuzz.py,$(wildcard benchmarks/*.py)); do $(BIN)/python $$script || exit 1; done

# The long fuzz run: FUZZ_INPUTS mutated real reports (the suite runs a bounded, derandomized budget).
FUZZ_INPUTS ?= 10000
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py --inputs $(FUZZ_INPUTS)

# The findings-importer and package-vetting Lambdas (one package): normalizers/ and pipeline/ with
# their wheels, for Lambda's Python 3.12 on x86_64 (terraform/modules/findings-importer/README.md).
LAMBDA_PLATFORM ?= manylinux2014_x86_64
# Terraform's package_path is the zip; `cd` first so that the entries sit at the zip's root.
lambda-package:
	rm -rf build/findings-importer build/wheels build/findings-importer.zip
	$(PYTHON) -m pip wheel --no-deps --wheel-dir build/wheels .
	$(PYTHON) -m pip install --target build/findings-importer --platform $(LAMBDA_PLATFORM) \
	  --implementation cp --python-version 3.12 --only-binary=:all: build/wheels/tollgate-*.whl
	cd build/findings-importer && $(PYTHON) -m zipfile -c ../findings-importer.zip .

# The actions' hash-locked install (requirements/action.txt): Tollgate's dependencies, its Python scanners
# and its build backend, for every platform and Python >= 3.10. uv comes from PyPI into a throwaway venv.
UV_VERSION ?= 0.13.10
lock:
	rm -rf build/uv
	$(PYTHON) -m venv build/uv
	build/uv/bin/pip install --quiet "uv==$(UV_VERSION)"
	build/uv/bin/uv pip compile pyproject.toml requirements/build.in --extra scanners --universal \
	  --python-version 3.10 --generate-hashes --custom-compile-command "make lock" --output-file requirements/action.txt

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .coverage
