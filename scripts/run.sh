#!/usr/bin/env bash
# `make run`: set up a fresh Debian machine and start the whole stack natively, in the
# foreground. Ctrl-C / SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv (PyPI)…"
  python3 -m pip install --quiet uv || pip install --quiet uv
fi
uv sync --frozen --quiet

need_pkgs=()
command -v ffmpeg >/dev/null 2>&1 || need_pkgs+=(ffmpeg)
# RTMP push from phones: Debian's nginx with its RTMP module; envsubst renders the config.
for p in nginx libnginx-mod-rtmp gettext-base; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  need_pkgs+=(redis-server)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing Debian packages: ${need_pkgs[*]}"
    apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "missing packages (${need_pkgs[*]}); install them or run as root" >&2
  fi
fi

exec .venv/bin/python scripts/run_stack.py "$@"
