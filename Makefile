# The two set-up commands of the README: `make lab` and `make test`.
# Both build a local virtual environment (.venv) on first use; only Python 3.10+ and pip are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Stored widget views render only in trusted notebooks, so `lab` signs the lab's own notebooks first.
# NOTEBOOK_DIR and LAB_ARGS let the browser test serve a copy: make lab NOTEBOOK_DIR=/tmp/x LAB_ARGS=--no-browser
NOTEBOOK_DIR ?= notebooks
LAB_ARGS ?=
NOTEBOOK_FILES = $(wildcard $(NOTEBOOK_DIR)/*.ipynb)

lab: $(STAMP)
	$(if $(NOTEBOOK_FILES),$(BIN)/jupyter trust $(NOTEBOOK_FILES))
	$(BIN)/jupyter lab --notebook-dir=$(NOTEBOOK_DIR) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV)
