# ARGUS — the two commands: `make run` (native stack) and `make test` (full suite).
.PHONY: run test lint typecheck pytest sync bench-api web-test bench-frontend

UV ?= uv

run:
	bash scripts/run.sh

sync:
	$(UV) sync --frozen --quiet

lint: sync
	.venv/bin/ruff check .

typecheck: sync
	.venv/bin/mypy libs/argus-common/src management-service/src camera-simulator/src recording-service/src streaming-service/src ai-analysis-service/src

pytest: sync
	.venv/bin/pytest -q -p no:cacheprovider

# The console: Vitest unit tests, then the production build that the e2e tests serve.
web-test:
	cd web-frontend && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build

test: lint typecheck web-test pytest

bench-api: sync
	.venv/bin/python bench/api_cameras.py

bench-frontend: sync
	.venv/bin/python bench/frontend_grid.py
