#!/usr/bin/env bash
# `make fresh-check`: the README's two commands on a fresh Debian 12.
#
# 1. debootstrap a minimal Debian 12 root with only `git make ca-certificates python3 sudo
#    curl` (from the Debian mirror this machine's apt uses);
# 2. `git clone` this repository into it (/root/argus: a 0700 home, as on Debian);
# 3. chroot (with /proc, /sys, /dev mounted, unmounted on exit): `make run`, until the
#    console answers, a segment is recorded and a WHEP viewer gets a frame
#    (scripts/fresh_check_probe.py from the host), then SIGINT to its process group, as
#    Ctrl-C does, and a bounded wait for everything to stop;
# 4. `make test` in it;
# 5. `make test` again in a network namespace of its own (`unshare -n`): no host service
#    and no registry is reachable, the suite brings up its own PostgreSQL and Redis. The
#    namespace looks like a machine on a LAN whose uplink is down: loopback, plus one
#    interface (a veth pair kept inside: nothing is behind it) with a private address and
#    a default route to a gateway that does not exist. WebRTC needs both: aiortc never
#    offers loopback candidates, and Chromium offers no ICE candidate at all without a
#    default route (--allow-loopback-in-peer-connection included), so with loopback alone,
#    or an address without a default route, no browser on such a machine plays WHEP.
#
# Each step's time is printed, and the summary at the end. Needs root (debootstrap, chroot,
# mounts). Where this machine reaches registries through a TLS-inspecting proxy, its CA
# certificates, its pip and npm configuration and its CA/proxy environment variables are
# copied into the root, and said so; nothing else is (plus /etc/resolv.conf, for DNS).
#
# Settings: FRESH_DIR (default /var/tmp/argus-fresh), FRESH_SUITE (bookworm; noble for
# Ubuntu 24.04 from archive.ubuntu.com, with a FRESH_DIR of its own), FRESH_MIRROR,
# FRESH_STEPS (default "run test offline"; "prepare offline": only what the offline step
# needs from the network, then that step), FRESH_TEST_TIMEOUT (s, default 3600),
# FRESH_REUSE=1 (keep the root of the run before, with its packages and caches: no
# debootstrap, the clone fast-forwarded to this repository's HEAD; e.g. FRESH_STEPS=offline),
# FRESH_MAKE_FLAGS (default -k: a failing lint does not hide the suite's result; the exit
# status still says it failed).
set -euo pipefail

repo="${FRESH_REPO:-$(cd "$(dirname "$0")/.." && pwd)}"  # FRESH_REPO: when run from a copy
work="${FRESH_DIR:-/var/tmp/argus-fresh}"
suite="${FRESH_SUITE:-bookworm}"
steps="${FRESH_STEPS:-run test offline}"
test_timeout="${FRESH_TEST_TIMEOUT:-3600}"
make_flags="${FRESH_MAKE_FLAGS--k}"
R="$work/root"
logs="$work/logs"
summary=()

[ "$(id -u)" = "0" ] || { echo "fresh-check needs root (debootstrap, chroot, mounts)" >&2; exit 1; }

t0=$(date +%s)
step_start=0
begin() { step_start=$(date +%s); echo "== $1"; }
done_step() {
  local took=$(( $(date +%s) - step_start ))
  summary+=("$(printf '%-44s %5d s' "$1" "$took")")
  echo "   $1: ${took} s"
}

# Ubuntu suites (FRESH_SUITE=noble: Ubuntu 24.04) come from Ubuntu's archive, with the
# components and pockets an Ubuntu install enables; everything else is Debian.
case "$suite" in
  noble|jammy|focal) distro=ubuntu ;;
  *) distro=debian ;;
esac
ubuntu_archive=http://archive.ubuntu.com/ubuntu

mirror() {
  # The first Debian archive URI in apt's sources (deb822 or one-line format).
  if [ -n "${FRESH_MIRROR:-}" ]; then echo "$FRESH_MIRROR"; return; fi
  if [ "$distro" = ubuntu ]; then echo "$ubuntu_archive"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
          2>/dev/null | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
  echo "${uri:-http://deb.debian.org/debian}"
}

ubuntu_keyring() {
  # Debian 12 has no Ubuntu archive keyring: the ubuntu-keyring package of the suite, found
  # in its Packages index over HTTPS and checked against the SHA256 there, unpacked under
  # $work. Prints the keyring's path.
  local k=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  if [ -f "$k" ]; then echo "$k"; return; fi
  local dir="$work/ubuntu-keyring" https="${ubuntu_archive/http:/https:}" entry file sum
  if [ ! -f "$dir$k" ]; then
    entry=$(curl -fsS --max-time 120 "$https/dists/$suite/main/binary-amd64/Packages.gz" \
            | gzip -dc | awk '/^Package: ubuntu-keyring$/,/^$/')
    file=$(sed -n 's/^Filename: //p' <<<"$entry")
    sum=$(sed -n 's/^SHA256: //p' <<<"$entry")
    [ -n "$file" ] && [ -n "$sum" ] || { echo "no ubuntu-keyring in $suite's index" >&2; return 1; }
    curl -fsS --max-time 120 -o "$work/ubuntu-keyring.deb" "$https/$file"
    echo "$sum  $work/ubuntu-keyring.deb" | sha256sum -c --quiet - >&2
    rm -rf "$dir" && dpkg-deb -x "$work/ubuntu-keyring.deb" "$dir"
  fi
  echo "$dir$k"
}

# --- mounts and cleanup ----------------------------------------------------------------
mounted=()
mount_root() {
  mount -t proc proc "$R/proc"; mounted+=("$R/proc")
  mount --rbind /sys "$R/sys"; mount --make-rslave "$R/sys"; mounted+=("$R/sys")
  mount --rbind /dev "$R/dev"; mount --make-rslave "$R/dev"; mounted+=("$R/dev")
}
root_pids() {
  # Processes whose root directory is the fresh root (all started by this script).
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && echo "${p#/proc/}"
  done
  return 0
}
kill_root_pids() {
  local pids
  pids=$(root_pids)
  [ -z "$pids" ] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 50); do [ -z "$(root_pids)" ] && return 0; sleep 0.2; done
  pids=$(root_pids)
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
}
cleanup() {
  kill_root_pids
  local i m
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
  # Anything still mounted under the root (an interrupted earlier run): lazily detached.
  for m in $(awk -v r="$R/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The environment inside: a login-less root shell, plus what a proxied host needs.
chroot_env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            LANG=C.UTF-8 TERM=dumb)
copy_host_config() {
  local copied=()
  # Extra CA certificates (a TLS-inspecting proxy's): added the Debian way, so that
  # update-ca-certificates in the root keeps them.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$R/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
    chroot "$R" update-ca-certificates >/dev/null 2>&1 || true
    copied+=("CA certificates (/usr/local/share/ca-certificates)")
  fi
  local f
  for f in /etc/pip.conf /etc/xdg/pip /root/.config/pip /root/.pip /root/.npmrc; do
    if [ -e "$f" ]; then
      mkdir -p "$R$(dirname "$f")"
      cp -r "$f" "$R$f"
      copied+=("$f")
    fi
  done
  local v
  for v in SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE PIP_CERT \
           NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL \
           UV_DEFAULT_INDEX UV_NATIVE_TLS http_proxy https_proxy no_proxy HTTP_PROXY \
           HTTPS_PROXY NO_PROXY; do
    if [ -n "${!v:-}" ]; then chroot_env+=("$v=${!v}"); copied+=("\$$v"); fi
  done
  if [ "${#copied[@]}" -gt 0 ]; then
    echo "   this host reaches registries through its own CA/proxy configuration;"
    echo "   copied into the root: ${copied[*]}"
  fi
}

in_root() { chroot "$R" /usr/bin/env -i "${chroot_env[@]}" /bin/bash -c "$1"; }

# --- 1. the root --------------------------------------------------------------------------
mkdir -p "$work" "$logs"
clone_started=$(date +%s)
# localhost and the machine's name resolve locally, as Debian's and Ubuntu's installers
# write /etc/hosts (debootstrap writes neither line): without localhost, "localhost"
# does not resolve at all; without the name every socket.getfqdn() (smtplib's EHLO) waits
# for DNS, which offline means seconds of timeouts.
hosts_file() {
  grep -qw localhost "$R/etc/hosts" 2>/dev/null ||
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >> "$R/etc/hosts"
  grep -qw "$(hostname)" "$R/etc/hosts" 2>/dev/null ||
    printf '127.0.1.1\t%s\n' "$(hostname)" >> "$R/etc/hosts"
}

if [ "${FRESH_REUSE:-0}" = 1 ]; then
  [ -d "$R/root/argus/.git" ] || { echo "FRESH_REUSE=1: no root at $R from a run before" >&2; exit 1; }
  begin "reuse $R (its packages, venv and caches), clone fast-forwarded"
  cleanup
  git -C "$R/root/argus" pull -q --ff-only "$repo" HEAD
  hosts_file
  echo "   $(git -C "$R/root/argus" log -1 --format='%h %s' | cut -c1-100)"
  copy_host_config
  done_step "reuse root"
else
begin "debootstrap $suite (minbase + git make ca-certificates python3 sudo curl)"
command -v debootstrap >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
if [ -d "$R" ]; then cleanup; rm -rf --one-file-system "$R"; fi
m="$(mirror)"
echo "   mirror $m"
base="$work/base-$suite.tar"  # the untouched debootstrap result, reused by later runs
if [ -f "$base" ] && [ "${FRESH_REBUILD:-0}" != 1 ]; then
  echo "   reusing $base (FRESH_REBUILD=1 runs debootstrap again)"
  mkdir -p "$R" && tar -C "$R" -xpf "$base"
else
  extra=() script=()
  if [ "$distro" = ubuntu ]; then
    # This debootstrap may predate the suite: Ubuntu's common script (the one its own
    # suite scripts link to), and the keyring fetched above.
    extra=(--components=main,universe "--keyring=$(ubuntu_keyring)")
    script=(/usr/share/debootstrap/scripts/gutsy)
  fi
  debootstrap --variant=minbase --include=git,make,ca-certificates,python3,sudo,curl \
    "${extra[@]}" "$suite" "$R" "$m" "${script[@]}" > "$logs/debootstrap.log" 2>&1 \
    || { tail -20 "$logs/debootstrap.log"; exit 1; }
  tar -C "$R" -cpf "$base.tmp" . && mv "$base.tmp" "$base"
fi
if [ "$distro" = ubuntu ]; then
  components="main restricted universe multiverse"
  cat > "$R/etc/apt/sources.list" <<EOF
deb $m $suite $components
deb $m $suite-updates $components
deb http://security.ubuntu.com/ubuntu $suite-security $components
EOF
else
  cat > "$R/etc/apt/sources.list" <<EOF
deb $m $suite main
deb $m $suite-updates main
EOF
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
hosts_file
# As in a container without an init system: packages do not start their daemons (they
# would bind the host's ports, the network being shared).
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
copy_host_config
done_step "debootstrap"

begin "git clone into /root/argus"
clone_started=$(date +%s)
git clone -q "$repo" "$R/root/argus"
echo "   $(git -C "$R/root/argus" log -1 --format='%h %s' | cut -c1-100)"
done_step "git clone"
fi
mount_root

# --- 2. make run ----------------------------------------------------------------------------
if [[ " $steps " == *" run "* ]]; then
  begin "make run (until console, segment and WHEP frame), then Ctrl-C"
  for port in 3000 3443 8001 8080 8554 6380 9101 9102 1935 8099; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is in use on this machine: make run in the root would collide" >&2
      exit 1
    fi
  done
  setsid chroot "$R" /usr/bin/env -i "${chroot_env[@]}" /bin/bash -c \
    'cd /root/argus && exec make run' > "$logs/make-run.log" 2>&1 < /dev/null &
  run_pid=$!
  probe_ok=0
  "$repo/.venv/bin/python" "$repo/scripts/fresh_check_probe.py" --since "$clone_started" \
    --data "$R/root/argus/data" --timeout 1200 | tee "$logs/probe.log" && probe_ok=1
  stop_started=$(date +%s)
  kill -INT -- "-$run_pid" 2>/dev/null || true
  stopped=0
  for _ in $(seq 1 120); do
    if ! kill -0 "$run_pid" 2>/dev/null && [ -z "$(root_pids)" ]; then stopped=1; break; fi
    sleep 0.5
  done
  left=$(root_pids | wc -l)
  kill_root_pids
  echo "   stop after Ctrl-C: $(( $(date +%s) - stop_started )) s, clean=$stopped, left=$left"
  while read -r _ what secs; do
    summary+=("$(printf '%-44s %5.0f s' "git clone -> $what" "$secs")")
  done < <(grep '^probe [a-z_]* ' "$logs/probe.log" || true)
  if [ "$probe_ok" != 1 ]; then
    echo "make run did not reach a playing console; last lines:" >&2
    tail -30 "$logs/make-run.log" >&2
    exit 1
  fi
  summary+=("$(printf '%-44s %5s' "Ctrl-C stop clean" "$([ $stopped = 1 ] && echo yes || echo NO)")")
  done_step "make run (total)"
fi

# --- 3. make test -----------------------------------------------------------------------------
run_test() {  # $1: label (network|offline)
  local label="$1" rc=0 prefix=()
  if [ "$label" = offline ]; then
    # A network namespace of its own has only a loopback, down: up, plus the isolated
    # LAN interface (see the top), before entering the root.
    prefix=(unshare -n -- sh -c 'ip link set lo up \
      && ip link add argus-lan type veth peer name argus-peer \
      && ip addr add 10.203.0.2/24 dev argus-lan \
      && ip link set argus-lan up && ip link set argus-peer up \
      && ip route add default via 10.203.0.1 \
      && exec "$0" "$@"')
  fi
  begin "make test ($label)"
  timeout --signal=INT --kill-after=60 "$test_timeout" "${prefix[@]}" chroot "$R" \
    /usr/bin/env -i "${chroot_env[@]}" /bin/bash -c "cd /root/argus && make $make_flags test" \
    > "$logs/make-test-$label.log" 2>&1 < /dev/null || rc=$?
  kill_root_pids
  local line
  line=$(grep -E '(passed|failed|errors?|deselected)\b.* in [0-9.]+s' "$logs/make-test-$label.log" \
         | grep -v '^ *Duration' | tail -1 || true)
  echo "   rc=$rc ${line:-no pytest summary; last lines:}"
  [ -n "$line" ] || tail -15 "$logs/make-test-$label.log"
  # Skips: the test kit's plugin lists each one not on its allow-list and fails the run;
  # a summary without its verdict line fails here too.
  local bad_skips
  bad_skips=$(grep -c 'NOT ALLOWED, the run fails: skipped' "$logs/make-test-$label.log" || true)
  if [ -n "$line" ] && ! grep -q 'no skip outside this allow-list' "$logs/make-test-$label.log"; then
    echo "   skips not on the allow-list: $bad_skips"
    grep 'NOT ALLOWED, the run fails: skipped' "$logs/make-test-$label.log" | head -20 | sed 's/^/     /'
    [ "$bad_skips" -gt 0 ] || echo "     (no allow-list verdict in the log: the test kit's plugin did not run)"
    [ "$rc" != 0 ] || rc=1
  fi
  done_step "make test ($label)"
  summary+=("   rc=$rc ${line}, skips off the allow-list: $bad_skips")
  return "$rc"
}
status=0
if [[ " $steps " == *" prepare "* ]]; then
  # Without `make run` and `make test` before it, the offline step needs what they fetch:
  # the packages, uv, the venv and npm's cache (nothing else; no test runs here).
  begin "prepare for offline (with the network): make deps sync, npm ci"
  in_root 'cd /root/argus && make deps sync && cd web-frontend \
           && PATH=/root/argus/.venv/bin:$PATH npm ci --no-audit --no-fund --loglevel=error' \
    > "$logs/prepare.log" 2>&1 < /dev/null || { tail -20 "$logs/prepare.log"; exit 1; }
  done_step "prepare"
fi
if [[ " $steps " == *" test "* ]]; then
  run_test network || status=1
fi
if [[ " $steps " == *" offline "* ]]; then
  run_test offline || status=1
fi

echo
echo "== fresh-check $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -m), $(nproc) cores, total $(( $(date +%s) - t0 )) s"
printf '   %s\n' "${summary[@]}"
echo "   logs: $logs"
exit "$status"
