# ARGUS — the two commands: `make run` (native stack) and `make test` (full suite).
.PHONY: run logs status test lint typecheck pytest sync bench-api web-test bench-frontend

UV ?= uv

# Data directory of the native stack (databases, secrets, recordings, logs/, run/status.json).
ARGUS_RUN_DATA ?= data

run:
	ARGUS_RUN_DATA=$(ARGUS_RUN_DATA) bash scripts/run.sh

# Every service's log, newest lines first, then followed (one "==> file <==" header per switch).
logs:
	tail -n 20 -F $(ARGUS_RUN_DATA)/logs/*.log

# Each service of a running `make run`: pid, state, restarts, uptime.
status:
	@.venv/bin/python scripts/run_stack.py status --data-dir $(ARGUS_RUN_DATA)

sync:
	$(UV) sync --frozen --quiet

lint: sync
	.venv/bin/ruff check .

typecheck: sync
	.venv/bin/mypy libs/argus-common/src management-service/src camera-simulator/src recording-service/src streaming-service/src ai-analysis-service/src libs/argus-testkit/src

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
