# mtkit: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.mtkit-setup

.PHONY: setup demo test lint bench clean docs

setup: $(STAMP)

# Re-runs only when a pyproject or the constraints change (idempotent).
$(STAMP): pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' $(foreach d,$(PLUGIN_DIRS),-e $(d))
	touch $(STAMP)

demo: setup
	$(BIN)/python -m mtkit_multidigit.demo_run  # the demo lives in plugins/mtkit-multidigit

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -q  # includes tests/docs: mkdocs build --strict

# The documentation site (MkDocs + Material); --strict turns every warning (a broken link,
# a page missing from disk) into an error.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs build dist *.egg-info
