#!/usr/bin/env bash
# Print the path of uv at the pinned version (ARGUS_UV_VERSION, default below), installing it first when needed
# into a private virtual environment under the project (.tools/uv) with that venv's own pip,
# from PyPI: the system Python is never touched (Debian's and Ubuntu's python3 refuse
# `pip install`, PEP 668), and pip's configuration (index, certificates) applies.
# Progress goes to stderr; stdout is only the path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${ARGUS_UV_VERSION:-0.13.9}"  # the uv that wrote uv.lock
venv="$root/.tools/uv"
uv="$venv/bin/uv"

if [ -x "$uv" ] && [ "$("$uv" --version 2>/dev/null | cut -d' ' -f2)" = "$version" ]; then
  echo "$uv"
  exit 0
fi
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "python3 is missing: apt-get install python3 (or sudo scripts/install-deps.sh run)" >&2
  exit 1
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  echo "python3 cannot make a virtual environment: sudo scripts/install-deps.sh run" \
       "(it installs python3-venv)" >&2
  exit 1
fi
echo "installing uv $version into .tools/uv (PyPI)…" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$version" >&2
echo "$uv"
