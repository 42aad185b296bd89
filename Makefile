# Two commands (see README):  make study   and   make test
# Both create .venv if it is missing and install the project into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
QUICK  ?= 1

.PHONY: study study-full test test-all bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@if command -v gfortran >/dev/null 2>&1; then \
	  $(BIN)/python -m pip install --quiet -e '.[test,auto]' || echo "warning: bifpy (AUTO-07p oracle) did not install"; \
	else echo "note: gfortran not found, the AUTO-07p test tier will be skipped (apt-get install gfortran)"; fi
	touch $(STAMP)

study: $(STAMP)
	$(BIN)/python -m studies.flagship --out results $(if $(filter 1,$(QUICK)),--quick,)

study-full:
	$(MAKE) study QUICK=0

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

bench: $(STAMP)
	$(BIN)/python -m studies.benchmarks.bench_integrate

clean:
	rm -rf $(VENV) results .pytest_cache
