#!/usr/bin/env bash
# debian:bookworm-slim for machines without Docker Hub (make compose-check): the same Debian
# 12 packages, bootstrapped locally (debootstrap --variant=minbase) from the host's Debian
# mirror and imported into podman, trimmed the way the official slim image is (no docs, man
# pages or locales from later installs; no apt lists or caches). Anywhere Docker Hub answers,
# pull the official image instead; nothing else needs this.
#
#   scripts/compose_check_base.sh [ENGINE]     (ENGINE: podman, the default, or docker)
#
# Nothing is done when the image exists (ARGUS_BASE_REBUILD=1 makes it again). Needs root.
set -euo pipefail
engine="${1:-podman}"
image="debian:bookworm-slim"
if [ "${ARGUS_BASE_REBUILD:-0}" != 1 ] && "$engine" image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "compose_check_base.sh: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
# The first Debian mirror this host's apt uses (deb822 or one-line sources).
mirror=$(grep -rhoE '(https?://[^ ]+/debian)/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ \
  2>/dev/null | grep -v security | head -n1 | tr -d ' ' || true)
mirror="${mirror:-http://deb.debian.org/debian}"
root=$(mktemp -d /tmp/argus-debian-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "bootstrapping $image from $mirror (a few minutes)…" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# As the official image: all three suites, and dpkg/apt settings that keep images small.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
DPKG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'APT::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/tmp/*
tar --numeric-owner -C "$root" -c . \
  | "$engine" import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null
echo "imported $image ($("$engine" image inspect --format '{{.Size}}' "$image") bytes)" >&2
