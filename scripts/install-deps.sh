#!/usr/bin/env bash
# The Debian/Ubuntu packages ARGUS needs, installed by name when missing: one list for
# `make run` (`run`) and one more for `make test` (`test`, which includes `run`).
#
#   scripts/install-deps.sh run|test [--check]
#
# Runs apt-get as root, or through sudo; with neither, it names the missing packages and
# exits 1. Nothing is done (no apt-get update, no network) when everything is installed.
# `--check` only lists what is missing (exit 1 if anything is).
set -euo pipefail

what="${1:-test}"
check_only=0
[ "${2:-}" = "--check" ] && check_only=1

# make run: media (ffmpeg), the console and RTMP (nginx + its RTMP module, envsubst for
# the templates), the private Redis, and python3-venv for the private uv (scripts/install-uv.sh).
run_pkgs=(ffmpeg nginx libnginx-mod-rtmp gettext-base redis-server python3-venv ca-certificates)
# make test: a PostgreSQL server for the throwaway test cluster (initdb), Chromium for the
# browser tests, a Japanese font for readable screenshots of the Japanese UI, git, libfaketime
# (the chaos suite steps a recorder's clock with it), pgbackrest (`make pitr-drill`, the
# point-in-time drill of the chaos suite).
test_pkgs=(postgresql chromium fonts-ipafont-gothic git libfaketime pgbackrest)
# Tools the tests call, without their recommended daemons (docker.io, node-exporter).
test_pkgs_norec=(prometheus docker-compose)

# Ubuntu has no chromium package (chromium-browser only installs the snap, which a
# container or chroot cannot run and which the tests do not drive): there, /usr/bin/chromium
# must be provided as the README says (Playwright's Chromium), and the rest is installed.
no_chromium=""
if grep -qx 'ID=ubuntu' /etc/os-release 2>/dev/null; then
  kept=()
  for p in "${test_pkgs[@]}"; do [ "$p" = chromium ] || kept+=("$p"); done
  test_pkgs=("${kept[@]}")
  if [ "$what" = test ] && [ ! -x /usr/bin/chromium ]; then
    no_chromium="missing /usr/bin/chromium: Ubuntu ships Chromium only as a snap; provide\
 it as the README's 'Ubuntu 24.04' section says (make sync; .venv/bin/playwright install\
 --with-deps chromium; link its chrome to /usr/bin/chromium)"
  fi
fi
chromium_check() {
  if [ -n "$no_chromium" ]; then echo "$no_chromium" >&2; exit 1; fi
}

case "$what" in
  run) want=("${run_pkgs[@]}"); want_norec=() ;;
  test) want=("${run_pkgs[@]}" "${test_pkgs[@]}"); want_norec=("${test_pkgs_norec[@]}") ;;
  *) echo "usage: $0 run|test [--check]" >&2; exit 2 ;;
esac

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t need < <(missing "${want[@]}")
mapfile -t need_norec < <(missing "${want_norec[@]}")
all=("${need[@]}" "${need_norec[@]}")
if [ "${#all[@]}" -eq 0 ]; then
  chromium_check
  exit 0
fi
if [ "$check_only" = 1 ]; then
  echo "missing packages: ${all[*]}"
  [ -z "$no_chromium" ] || echo "$no_chromium"
  exit 1
fi

if [ "$(id -u)" = "0" ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  sudo=(sudo)
else
  echo "missing Debian packages: ${all[*]} - run as root or with sudo: sudo $0 $what" >&2
  exit 1
fi

echo "installing Debian packages: ${all[*]}"
export DEBIAN_FRONTEND=noninteractive
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
"${sudo[@]}" apt-get update -qq
if [ "${#need[@]}" -gt 0 ]; then
  "${apt[@]}" install "${need[@]}" >/dev/null
fi
if [ "${#need_norec[@]}" -gt 0 ]; then
  "${apt[@]}" install --no-install-recommends "${need_norec[@]}" >/dev/null
fi
chromium_check
