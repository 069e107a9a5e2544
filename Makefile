# ARGUS — the two commands: `make run` (native stack) and `make test` (full suite).
.PHONY: run test lint typecheck pytest sync bench-api

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

test: lint typecheck pytest

bench-api: sync
	.venv/bin/python bench/api_cameras.py
