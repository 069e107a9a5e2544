#!/usr/bin/env bash
# Build every ARGUS image (make images) with the container engine this machine has: Docker
# when its daemon answers, else Podman. The tags are the ones docker-compose.yml gives its
# services (argus-<name>:latest), so `docker compose up` uses what this built; each image's
# size is printed at the end.
#
#   scripts/images.sh [NAME ...]     NAME: management streaming recording analysis camsim
#                                    console rtmp (default: all, in that order)
#
# ARGUS_ENGINE=docker|podman picks the engine. ARGUS_BUILD_CA_FILE: PEM certificates of a
# proxy that re-signs TLS, trusted by the build stages only (pip, uv, npm); by default the
# certificates this host added to its own trust store (/usr/local/share/ca-certificates),
# set it empty for none. The base image is debian:bookworm-slim from Docker Hub; where Docker
# Hub cannot be reached, scripts/compose_check_base.sh makes it locally (debootstrap, root).
set -euo pipefail
cd "$(dirname "$0")/.."

# name|dockerfile|target|tag: the Python services are targets of one Dockerfile, whose shared
# build and runtime stages are built once (the first image) and cached for the others.
IMAGES=(
  "management|deploy/python.Dockerfile|management|argus-management"
  "streaming|deploy/python.Dockerfile|streaming|argus-streaming"
  "recording|deploy/python.Dockerfile|recording|argus-recording"
  "analysis|deploy/python.Dockerfile|analysis|argus-analysis"
  "camsim|deploy/python.Dockerfile|camsim|argus-camsim"
  "console|web-frontend/Dockerfile||argus-console"
  "rtmp|nginx-rtmp/Dockerfile||argus-rtmp"
  "objectstore|deploy/objectstore/Dockerfile||argus-objectstore"
)
BASE=debian:bookworm-slim

engine="${ARGUS_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null 2>&1; then
    engine=podman
  else
    echo "images.sh: neither a Docker daemon nor podman here" >&2
    exit 1
  fi
fi

tmp_files=()
trap 'rm -f "${tmp_files[@]}"' EXIT
ca_file="${ARGUS_BUILD_CA_FILE-}"
if [ -z "${ARGUS_BUILD_CA_FILE+set}" ]; then
  shopt -s nullglob
  local_cas=(/usr/local/share/ca-certificates/*.crt)
  shopt -u nullglob
  if [ "${#local_cas[@]}" -gt 0 ]; then
    ca_file=$(mktemp)
    tmp_files+=("$ca_file")
    cat "${local_cas[@]}" >"$ca_file"
  fi
fi
build_args=()
if [ -n "$ca_file" ]; then
  build_args+=(--build-arg "ARGUS_BUILD_CA_B64=$(base64 -w0 <"$ca_file")")
fi

if ! "$engine" image inspect "$BASE" >/dev/null 2>&1 && ! "$engine" pull -q "$BASE" >/dev/null; then
  echo "images.sh: cannot pull $BASE; making it locally (scripts/compose_check_base.sh)" >&2
  bash scripts/compose_check_base.sh "$engine"
fi

# Podman on a host whose cgroups refuse crun (this project's CI machines): build with the
# settings make compose-check gives its Podman (runc, no default ulimits) unless
# CONTAINERS_CONF already names a configuration.
if [ "$engine" = podman ] && [ -z "${CONTAINERS_CONF:-}" ] \
    && ! podman run --rm "$BASE" true >/dev/null 2>&1; then
  CONTAINERS_CONF=$(mktemp)
  tmp_files+=("$CONTAINERS_CONF")
  python3 -c 'import sys; sys.path.insert(0, "scripts")
import compose_check_engine as e; print(e.CONTAINERS_CONF, end="")' >"$CONTAINERS_CONF"
  export CONTAINERS_CONF
  echo "images.sh: podman cannot run a container with its defaults here; using runc" \
    "and no default ulimits (scripts/compose_check_engine.py)" >&2
  podman run --rm "$BASE" true || exit 1
fi

want=("$@")
built=()
for entry in "${IMAGES[@]}"; do
  IFS='|' read -r name dockerfile target tag <<<"$entry"
  if [ "${#want[@]}" -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
  echo "== $tag ($dockerfile${target:+, target $target})"
  start=$SECONDS
  "$engine" build "${build_args[@]}" -f "$dockerfile" ${target:+--target "$target"} \
    -t "$tag:latest" .
  echo "== $tag built in $((SECONDS - start)) s"
  built+=("$tag")
done
[ "${#built[@]}" -gt 0 ] || { echo "images.sh: no image named ${want[*]}" >&2; exit 2; }

echo
printf '%-20s %10s\n' image "size (MB)"
for tag in "${built[@]}"; do
  size=$("$engine" image inspect --format '{{.Size}}' "$tag:latest")
  printf '%-20s %10d\n' "$tag" "$((size / 1000000))"
done
