# clinlabel: `make help` lists the targets. The README's two commands are `make demo` and `make test`.
.DEFAULT_GOAL := help
VENV := .venv/bin
PYTEST_ARGS ?=

.PHONY: help setup demo test lint typecheck unit bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install Debian packages (chromium, postgresql, xvfb) and the venv in .venv
	@bash scripts/setup.sh

demo: setup ## Set up, generate a demo batch in ./demo and start labelling it in the browser
	$(VENV)/clinlabel demo demo --label

test: setup lint typecheck ## Set up and run the whole suite: lint, types, layers, unit, API, browser, PostgreSQL
	$(VENV)/pytest -n 2 $(PYTEST_ARGS)

lint: ## ruff lint and format check, and the import-layer contracts
	$(VENV)/ruff check src tests benchmarks
	$(VENV)/ruff format --check src tests benchmarks
	$(VENV)/lint-imports

typecheck: ## mypy --strict on src/
	$(VENV)/mypy

bench: setup ## Run every benchmark (prints ratios against baselines measured in the same run)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV)/python $$b || exit 1; done

clean: ## Remove the venv, caches and the demo folder
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache demo
