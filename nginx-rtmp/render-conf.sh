#!/usr/bin/env bash
# Render nginx.conf.template into a configuration nginx can load.
#
#   render-conf.sh TEMPLATE OUTPUT
#
# Used by the Docker image (entrypoint.sh) and by the native run (scripts/run_stack.py,
# tests, benchmarks), so both run the same configuration. Settings come from the
# environment; each is checked, because a stray ';' or '{' would change the configuration:
#   MANAGEMENT_URL          http://host:port of management-service (nginx-rtmp speaks plain
#                           HTTP only)                                  [required]
#   ARGUS_SERVICE_KEY       the rtmp credential (rtmp.<key>: it opens the RTMP hooks only),
#                           put, percent-encoded, in the hook URLs      [required]
#   RTMP_PORT               1935          RTMP_LISTEN   0.0.0.0
#   RTMP_PLAY_ALLOW         addresses/CIDRs that may play, besides 127.0.0.1 (spaces or
#                           commas between them; empty: none)
#   RTMP_UPDATE_INTERVAL_S  10 (on_update period; management keeps a name 3 periods)
#   RTMP_DROP_IDLE_S        10            RTMP_LOG_LEVEL notice (never info/debug)
#   RTMP_ERROR_LOG          stderr        RTMP_PID_FILE  nginx-rtmp.pid (relative: -p prefix)
#   RTMP_ACCESS_LOG         off, or a file path (written with the key-free "argus" format)
#   NGINX_MODULES_DIR       /usr/lib/nginx/modules
set -euo pipefail
export LC_ALL=C  # byte-wise percent-encoding below

die() { echo "render-conf.sh: $*" >&2; exit 2; }
[ $# -eq 2 ] || die "usage: render-conf.sh TEMPLATE OUTPUT"
template=$1
output=$2
[ -r "$template" ] || die "cannot read $template"
command -v envsubst >/dev/null || die "envsubst is missing (Debian package gettext-base)"

check() {  # check NAME VALUE REGEX
    [[ $2 =~ $3 ]] || die "$1 has an unusable value"
}

# Everything but unreserved characters percent-encoded: safe inside a URL and inside an
# nginx directive alike.
urlencode() {
    local s=$1 out="" c i hex
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9._~-]) out+=$c ;;
            *) printf -v hex '%%%02X' "'$c"; out+=$hex ;;
        esac
    done
    printf '%s' "$out"
}

path_re='^[A-Za-z0-9._/-]+$'
: "${MANAGEMENT_URL:?MANAGEMENT_URL is required}"
: "${ARGUS_SERVICE_KEY:?ARGUS_SERVICE_KEY (the rtmp service credential) is required}"
case "$ARGUS_SERVICE_KEY" in rtmp.*) ;; *) die "ARGUS_SERVICE_KEY must be the rtmp credential (rtmp.<key>)" ;; esac
MANAGEMENT_URL=${MANAGEMENT_URL%/}
check MANAGEMENT_URL "$MANAGEMENT_URL" '^http://[A-Za-z0-9.:_-]+$|^http://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$'
export MANAGEMENT_URL
export RTMP_HOOK_KEY
RTMP_HOOK_KEY=$(urlencode "$ARGUS_SERVICE_KEY")
export RTMP_PORT=${RTMP_PORT:-1935}
check RTMP_PORT "$RTMP_PORT" '^[0-9]{1,5}$'
[ "$RTMP_PORT" -ge 1 ] && [ "$RTMP_PORT" -le 65535 ] || die "RTMP_PORT out of range"
export RTMP_LISTEN=${RTMP_LISTEN:-0.0.0.0}
check RTMP_LISTEN "$RTMP_LISTEN" '^[0-9.]+$|^\[[0-9A-Fa-f:.]+\]$'
export RTMP_UPDATE_INTERVAL_S=${RTMP_UPDATE_INTERVAL_S:-10}
check RTMP_UPDATE_INTERVAL_S "$RTMP_UPDATE_INTERVAL_S" '^[1-9][0-9]{0,2}$'
export RTMP_DROP_IDLE_S=${RTMP_DROP_IDLE_S:-10}
check RTMP_DROP_IDLE_S "$RTMP_DROP_IDLE_S" '^[1-9][0-9]{0,3}$'
export RTMP_LOG_LEVEL=${RTMP_LOG_LEVEL:-notice}
check RTMP_LOG_LEVEL "$RTMP_LOG_LEVEL" '^(notice|warn|error|crit|alert|emerg)$'
export RTMP_ERROR_LOG=${RTMP_ERROR_LOG:-stderr}
check RTMP_ERROR_LOG "$RTMP_ERROR_LOG" "$path_re"
export RTMP_PID_FILE=${RTMP_PID_FILE:-nginx-rtmp.pid}
check RTMP_PID_FILE "$RTMP_PID_FILE" "$path_re"
export NGINX_MODULES_DIR=${NGINX_MODULES_DIR:-/usr/lib/nginx/modules}
check NGINX_MODULES_DIR "$NGINX_MODULES_DIR" "$path_re"
access=${RTMP_ACCESS_LOG:-off}
check RTMP_ACCESS_LOG "$access" "$path_re"
if [ "$access" = off ]; then export RTMP_ACCESS_LOG=off; else export RTMP_ACCESS_LOG="$access argus"; fi

rules=""
play_allow=${RTMP_PLAY_ALLOW:-}
for cidr in ${play_allow//,/ }; do
    check RTMP_PLAY_ALLOW "$cidr" '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$'
    rules+="            allow play $cidr;"$'\n'
done
export RTMP_PLAY_RULES=${rules%$'\n'}

vars='${NGINX_MODULES_DIR} ${RTMP_PID_FILE} ${RTMP_ERROR_LOG} ${RTMP_LOG_LEVEL}
${RTMP_ACCESS_LOG} ${RTMP_LISTEN} ${RTMP_PORT} ${RTMP_DROP_IDLE_S} ${MANAGEMENT_URL}
${RTMP_HOOK_KEY} ${RTMP_UPDATE_INTERVAL_S} ${RTMP_PLAY_RULES}'
umask 077  # the output holds the internal key
tmp=$(mktemp "${output}.XXXXXX")
envsubst "$vars" <"$template" >"$tmp"
mv -f "$tmp" "$output"
