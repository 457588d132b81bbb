# The data office's runner. Every target sets up .venv first if it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := baltimore-violent-crime
EXAMPLE_DIR := datapackages/$(EXAMPLE)
EXAMPLE_FILE := $(EXAMPLE_DIR)/releases/2023-09-npsp-table-1.csv

.PHONY: audit test check publish

# Create .venv and install the package with its test tools (re-run when pyproject.toml changes).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Main job on the bundled example: ingest its release with its waivers, then publish it.
audit: $(VENV)/.installed
	$(BIN)/audit ingest $(EXAMPLE) $(EXAMPLE_FILE) --waivers $(EXAMPLE_DIR)/waivers.yaml --version 2023-09
	$(BIN)/audit publish $(EXAMPLE)

# Run the test suite (what CI runs).
test: $(VENV)/.installed
	$(BIN)/pytest

# Pre-publication check of the example without waivers: fails, showing the two findings.
check: $(VENV)/.installed
	$(BIN)/audit check $(EXAMPLE) $(EXAMPLE_FILE)

# Publish the example's latest recorded release (after `make audit` has recorded it).
publish: $(VENV)/.installed
	$(BIN)/audit publish $(EXAMPLE)
