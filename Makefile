PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python)

GANACHE := contracts/node_modules/.bin/ganache

.PHONY: install generate check-generated contracts check-contracts lint typecheck test test-fast test-prerequisites bench demo devnet

install:
	$(PYTHON) -m pip install -e '.[dev]'

generate:
	$(PYTHON) -m codegen

check-generated:
	$(PYTHON) -m codegen --check

contracts:
	cd contracts && npm ci --no-audit --no-fund && node compile.js

check-contracts:
	cd contracts && npm ci --no-audit --no-fund && node compile.js --check

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

typecheck:
	$(PYTHON) -m mypy --strict src generated

# -n auto: two workers per core (tests/conftest.py: much of the suite waits on clocks,
# servers and subprocesses). --dist loadscope keeps each module (and its module fixtures)
# on one worker; --no-loadscope-reorder keeps our order, longest modules first
# (tests/helpers/schedule.py). Plain `pytest` still runs the same suite in one process.
PYTEST_XDIST := -n auto --dist loadscope --no-loadscope-reorder

test: test-prerequisites
	$(PYTHON) -m pytest -q $(PYTEST_XDIST)

# The edit loop (under a minute): everything but the tests marked slow (long scenarios,
# subprocesses, waits on wall-clock bounds) and the ganache ones. CI runs `make test`.
test-fast:
	$(PYTHON) -m pytest -q $(PYTEST_XDIST) -m "not slow and not ganache"

# The cross-node tests run on ganache (contracts/node_modules): install it when npm is
# present; otherwise say, in one line up front, what is skipped and how to enable it.
test-prerequisites:
	@if [ ! -x $(GANACHE) ]; then \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "make test: installing ganache for the cross-node tests (cd contracts && npm ci)"; \
	    (cd contracts && npm ci --no-audit --no-fund --loglevel=error) || \
	      echo "make test: npm ci failed; the ganache tests will be skipped (retry: cd contracts && npm ci)"; \
	  else \
	    echo "make test: npm not found; the ganache tests will be skipped (to run them: install Node.js 18+ and rerun make test)"; \
	  fi; \
	fi

bench:
	$(PYTHON) -m bench

demo:
	$(PYTHON) -m ogpu.cli demo

devnet:
	$(PYTHON) -m ogpu.cli devnet
