# The two set-up commands of the README: `make lab` and `make test`.
# Both build a local virtual environment (.venv) on first use; only Python 3.10+ and pip are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: lab test test-lowest clean

# `lab` installs what a learner needs; `test` adds the [test] extra (pytest, pytest-xdist, nbval, Playwright, ruff, mypy).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# `labkit lab` trusts the lab's notebooks (stored widgets render only in trusted ones), then starts JupyterLab.
# NOTEBOOK_DIR and LAB_ARGS let the browser test serve a copy: make lab NOTEBOOK_DIR=/tmp/x LAB_ARGS=--no-browser
NOTEBOOK_DIR ?= notebooks
LAB_ARGS ?=

lab: $(STAMP)
	$(BIN)/labkit lab --dir $(NOTEBOOK_DIR) $(LAB_ARGS)

# Lint and types first (seconds), then the suite on two workers (pytest-xdist; each starts its own servers),
# which steal queued tests from each other so the slow notebook legs do not pile up on one.
# `PYTEST_ARGS=-n0` runs it in one process. The 15 slowest tests are listed, so a slow CI run says where the time went.
test: $(TEST_STAMP)
	$(BIN)/ruff check labkit tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=15 $(PYTEST_ARGS)

# The floors in pyproject.toml hold: install the lowest versions they allow (uv, from PyPI, resolves them)
# in a venv of their own and run every notebook under strict nbval on fakeredis and a real redis-server.
LOWEST := .venv-lowest
test-lowest:
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/python -m pip list 2>/dev/null | grep -iE '^(redis|fakeredis|flask|ipywidgets|matplotlib|numpy|jupyterlab|nbclient|nbformat|nbval|pytest) '
	$(LOWEST)/bin/python -m pytest -n 2 -p no:cacheprovider -W ignore::DeprecationWarning tests/notebooks/test_nbval.py -k 'fakeredis or real_redis'

clean:
	rm -rf $(VENV) $(LOWEST)
