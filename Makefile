# The data office's runner. Every target sets up .venv first if it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := baltimore-violent-crime
EXAMPLE_DIR := datapackages/$(EXAMPLE)
EXAMPLE_FILE := $(EXAMPLE_DIR)/releases/2023-09-npsp-table-1.csv
# A second release revising two historical years, and the notes that explain all but one change.
EXAMPLE_REVISED := $(EXAMPLE_DIR)/releases/2024-03-revised-example.csv
EXAMPLE_NOTES := $(EXAMPLE_DIR)/revision-notes-2024-03.yaml
# A third release, corrected, whose notes explain every change: it is published as the second version.
EXAMPLE_CORRECTED := $(EXAMPLE_DIR)/releases/2024-06-corrected-example.csv
EXAMPLE_CORRECTED_NOTES := $(EXAMPLE_DIR)/revision-notes-2024-06.yaml

.PHONY: audit audit-example test test-fast lint check publish bench stress verify wheel-check

# Create .venv and install the package: what the main job needs (re-run when pyproject.toml changes). The tests,
# benchmarks and stress runs add the test tools (Spark, a browser driver, the linters), which the main job does not
# need: an office that only audits and publishes never downloads them.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Main job on the bundled example: ingest its first release with its waivers and publish it (1.0.0);
# ingest the revised release with its notes: one change has no note, so ingest reports an unexplained
# revision and publication is refused (each of those steps has to exit 1 here); ingest the corrected
# release, whose notes explain every change, and publish it (1.0.1); then the HTML reports, the portal
# feed, and the change log verified with both packages.
# The example's office key and its witness (a board's, in real life: on another machine, with its own key) live in
# .example/, made here; the witness runs while the example does, on 127.0.0.1:8808 (audit.yaml names it), and stops
# after. A fresh example log (no audit.duckdb) starts a fresh witness too: to it, a new log under the same name
# would be a rebuilt history, which it refuses.
EXAMPLE_HOME := .example
WITNESS_PORT := 8808
audit: $(VENV)/.installed
	@mkdir -p $(EXAMPLE_HOME)
	@test -f $(EXAMPLE_HOME)/office.pem || $(BIN)/audit keygen $(EXAMPLE_HOME)/office.pem
	@test -f $(EXAMPLE_HOME)/witness || $(BIN)/audit witness keygen example.org/board-witness $(EXAMPLE_HOME)/witness
	@test -f audit.duckdb || rm -rf $(EXAMPLE_HOME)/witness-state
	@rm -f $(EXAMPLE_HOME)/witness.ready
	@$(BIN)/audit witness serve --key $(EXAMPLE_HOME)/witness --state $(EXAMPLE_HOME)/witness-state \
		--office-key $(EXAMPLE_HOME)/office.pem.pub --port $(WITNESS_PORT) --ready $(EXAMPLE_HOME)/witness.ready \
		2>> $(EXAMPLE_HOME)/witness.log & pid=$$!; \
	for i in $$(seq 100); do test -s $(EXAMPLE_HOME)/witness.ready && break; sleep 0.2; done; \
	test -s $(EXAMPLE_HOME)/witness.ready || { kill $$pid; echo "the example's witness did not start (see $(EXAMPLE_HOME)/witness.log)"; exit 2; }; \
	echo "== the example's witness listens on $$(cat $(EXAMPLE_HOME)/witness.ready) =="; \
	$(MAKE) --no-print-directory audit-example; status=$$?; kill $$pid; wait $$pid 2>/dev/null; exit $$status

# The example's steps (run by `make audit`, with its witness running).
audit-example: $(VENV)/.installed
	$(BIN)/audit ingest $(EXAMPLE) $(EXAMPLE_FILE) --waivers $(EXAMPLE_DIR)/waivers.yaml --version 2023-09
	$(BIN)/audit publish $(EXAMPLE) --version 2023-09
	@echo; echo "== the revised release 2024-03, with revision notes =="
	$(BIN)/audit ingest $(EXAMPLE) $(EXAMPLE_REVISED) --waivers $(EXAMPLE_DIR)/waivers.yaml \
		--notes $(EXAMPLE_NOTES) --version 2024-03; test $$? -eq 1
	@echo; echo "== what changed since the published release, and which note explains it =="
	$(BIN)/audit diff $(EXAMPLE) --to 2024-03; test $$? -eq 1
	@echo; echo "== the publication gate =="
	$(BIN)/audit publish $(EXAMPLE) --version 2024-03; test $$? -eq 1
	@echo; echo "2024-03 was not published: its 2018 Violent Crime change has no revision note (as intended)."
	@echo; echo "== the corrected release 2024-06, every change explained, published as the next version =="
	$(BIN)/audit ingest $(EXAMPLE) $(EXAMPLE_CORRECTED) --waivers $(EXAMPLE_DIR)/waivers.yaml \
		--notes $(EXAMPLE_CORRECTED_NOTES) --version 2024-06
	$(BIN)/audit publish $(EXAMPLE) --version 2024-06
	@echo; echo "== reports for people, a feed for the portal =="
	$(BIN)/audit report $(EXAMPLE) --version 2024-03
	$(BIN)/audit report $(EXAMPLE) --version 2024-06
	$(BIN)/audit feed
	$(BIN)/audit site
	@echo; echo "== the change log's hash chain, and both published packages checked against it and the witness =="
	$(BIN)/audit verify --workspace . --package published/$(EXAMPLE)/1.0.0 --package published/$(EXAMPLE)/1.0.1

# A Chromium for the tests that look at the pages in a real headless browser: one already on the machine (or
# CHROMIUM=path), else Debian's, installed with apt-get where there is one; elsewhere, say what to install.
CHROMIUM ?= $(firstword $(foreach b,chromium chromium-browser google-chrome google-chrome-stable,$(shell command -v $(b) 2>/dev/null)) /usr/bin/chromium)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	@command -v apt-get > /dev/null || { echo "no Chromium found: install Chromium or Google Chrome, or give its path as CHROMIUM=/path/to/chromium"; exit 2; }
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# axe-core (Deque's accessibility rules, from the npm registry), which the site test runs in that browser.
AXE := .cache/axe-core/package/axe.min.js
$(AXE):
	mkdir -p .cache/axe-core
	cd .cache/axe-core && npm pack axe-core@4.10 --silent > /dev/null && tar -xzf axe-core-*.tgz

# Tests may cache compiled Python (in __pycache__, ignored by git) even where the environment says not to: every
# test process, and every `audit` process a test starts, would otherwise compile the package and GX from source.
TEST_ENV := PYTHONDONTWRITEBYTECODE= AUDIT_CHROMIUM=$(CHROMIUM)

# Run the test suite (what CI runs): the lint and the type check first, then every test, on both cores
# (pytest-xdist; a module's tests stay on one worker, which keeps module fixtures and started processes whole).
# The modules go out longest first, in the order tests/conftest.py gives them, not by their number of tests.
test: $(VENV)/.installed-test $(CHROMIUM) $(AXE) lint
	$(TEST_ENV) $(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

# The inner loop of an edit: the lint, the type check, and the tests that start no Spark, no browser and no
# process of their own, on both cores (pytest-xdist); `make test` runs everything.
test-fast: $(VENV)/.installed-test lint
	$(TEST_ENV) $(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not spark and not browser and not slow"

# ruff over the code and the tests, mypy over audit/ (settings in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check audit tests
	$(BIN)/mypy

# Pre-publication check (what CI runs on a pull request that changes data; writes nothing):
#   make check [DATASET=name FILE=release.csv WAIVERS=waivers.yaml NOTES=notes.yaml FORMAT=text|json|junit|github]
# Defaults: the example's latest release with its waivers, which passes before `make audit` (no log yet) and after
# it (the same as its published version 1.0.1, so nothing changed). Exit 1 on blocking findings.
DATASET ?= $(EXAMPLE)
FILE ?= $(EXAMPLE_CORRECTED)
WAIVERS ?= $(wildcard datapackages/$(DATASET)/waivers.yaml)
NOTES ?=
FORMAT ?= text
check: $(VENV)/.installed
	$(BIN)/audit check $(DATASET) $(FILE) $(if $(WAIVERS),--waivers $(WAIVERS)) $(if $(NOTES),--notes $(NOTES)) --format $(FORMAT)

# Publish the example's latest recorded release (after `make audit`: refused until every revision is explained).
publish: $(VENV)/.installed
	$(BIN)/audit publish $(EXAMPLE)

# Benchmarks (scripts, not tests; about an hour): figures and ratios against a plain-DuckDB floor and
# Great Expectations on pandas measured in the same run. The whole audit at 1M rows in process and at 5M
# and 10M as command-line processes, then the revision diff alone at 1M and 10M, the stored-release digest
# against the one it replaced at 1M and 10M, Parquet at 10M and 100M (and 10M on Spark, local and on a standalone
# cluster), 50 weekly releases of a 2,500-row incident table, and what witnesses
# cost (proofs at a million entries, publish with two witnesses against none, verify of 64 weekly packages).
bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench.city_scale --rows 1000000 --process-rows 5000000 10000000 --first-release-rows 100000000 --json bench-city-scale.json
	$(BIN)/python -m tests.bench.revision_diff --rows 1000000 10000000 --json bench-revision-diff.json
	$(BIN)/python -m tests.bench.digest --rows 1000000 10000000 --json bench-digest.json
	$(BIN)/python -m tests.bench.weekly --weeks 52 --rows 2500 --json bench-weekly.json
	$(BIN)/python -m tests.bench.weekly --weeks 52 --rows 2500 --no-id --json bench-weekly-no-id.json
	$(BIN)/python -m tests.bench.weekly_exports --weeks 52 --rows 2500 --json bench-weekly-exports.json
	$(BIN)/python -m tests.bench.parquet --rows 10000000 100000000 --cluster --ingest-rows 10000000 100000000 --json bench-parquet.json
	$(BIN)/python -m tests.bench.witnesses --weeks 64 --rows 500 --entries 1000000 --json bench-witnesses.json
	$(BIN)/python -m tests.bench.init_speed --incident-rows 1000000 10000000 --json bench-init.json
	$(BIN)/python -m tests.bench.grouped_numbers --rows 1000000 --json bench-grouped-numbers.json

# Stress (scripts and long property runs, not `make test`; about 40 minutes): the tamper corpus (one scripted
# attack per way to alter published data, each on a fresh workspace, each detected), the attacks on oversight
# (with two witness processes: rebuilt, rewritten, backdated and forked histories, rollback, the site's badge and
# links, look-alike names, strict reading), the property tests with ten
# times their examples, then the change log's 1,000 out-of-band mutations that `audit verify` must all catch,
# 100 commands killed at random moments, 8 concurrent writers.
stress: $(VENV)/.installed-test
	$(BIN)/python -m tests.tamper --json stress-tamper.json
	$(BIN)/pytest -q tests/test_witnesses.py tests/test_verify_site.py tests/test_site_trust.py tests/test_strict_reading.py
	AUDIT_EXAMPLES_SCALE=10 $(BIN)/pytest -q tests/test_fuzz_ingest.py tests/test_fuzz_office.py tests/test_digest.py tests/test_accuracy.py
	$(BIN)/python -m tests.stress.change_log --mutations 1000 --kills 100 --writers 8 --json stress-change-log.json

# Recompute the change log's hash chains and check every published package against them.
verify: $(VENV)/.installed
	$(BIN)/audit verify --workspace . $(foreach p,$(wildcard published/*/*/datapackage.json),--package $(dir $(p)))

# The package as an office installs it (issue 29): a wheel built from this tree, installed into a fresh venv
# without the test extras, then `make audit` run from that venv in a copy of the example's workspace that holds no
# source tree (so every import comes from the wheel: its templates, schemas and settings files included).
WHEEL_HOME := .wheel-check
wheel-check: $(VENV)/.installed
	rm -rf $(WHEEL_HOME) && mkdir -p $(WHEEL_HOME)/office
	$(BIN)/pip wheel --quiet --no-deps -w $(WHEEL_HOME)/dist .
	$(PYTHON) -m venv $(WHEEL_HOME)/venv
	$(WHEEL_HOME)/venv/bin/pip install --quiet --upgrade pip
	$(WHEEL_HOME)/venv/bin/pip install --quiet $(WHEEL_HOME)/dist/*.whl
	@! $(WHEEL_HOME)/venv/bin/python -c "import pyspark" 2>/dev/null || { echo "the wheel pulled in a test extra (pyspark)"; exit 1; }
	cp -r Makefile pyproject.toml audit.yaml datapackages expectations $(WHEEL_HOME)/office/
	touch $(WHEEL_HOME)/venv/.installed
	cd $(WHEEL_HOME)/office && $(MAKE) --no-print-directory audit VENV=$(abspath $(WHEEL_HOME)/venv)
	@echo "== the wheel ($$(ls $(WHEEL_HOME)/dist)) installs without the test extras and runs the main job =="
