PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python)

.PHONY: install generate check-generated contracts check-contracts lint typecheck test bench demo devnet

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

test:
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) -m bench

demo:
	$(PYTHON) -m ogpu.cli demo

devnet:
	$(PYTHON) -m ogpu.cli devnet
