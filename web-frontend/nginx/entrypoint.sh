#!/bin/sh
# Render the console's nginx configuration from the environment, then run nginx in the
# foreground (the template sets `daemon off`). Only the ARGUS_* placeholders are replaced:
# nginx's own $variables stay as they are.
set -eu
: "${ARGUS_RUNTIME_DIR:=/run/argus-console}"
: "${ARGUS_TEMPLATE:=/etc/argus-console/argus.conf.template}"
mkdir -p "$ARGUS_RUNTIME_DIR"

# HTTPS. A supplied certificate (ARGUS_TLS_CERT and ARGUS_TLS_KEY, PEM files) turns HSTS
# on (ARGUS_HSTS, default one year; set it empty to send none). Without one, a self-signed
# certificate is made once in ARGUS_TLS_DIR and kept (a volume in Compose, ./data/tls for
# make run), and its SHA-256 fingerprint is printed so users can check the browser's
# warning; no HSTS then: browsers would refuse the site once that certificate changes.
: "${ARGUS_TLS_LISTEN:=0.0.0.0:3443}"
: "${ARGUS_HTTPS_PORT:=${ARGUS_TLS_LISTEN##*:}}"
if [ -n "${ARGUS_TLS_CERT:-}" ] || [ -n "${ARGUS_TLS_KEY:-}" ]; then
    if [ ! -r "${ARGUS_TLS_CERT:-}" ] || [ ! -r "${ARGUS_TLS_KEY:-}" ]; then
        echo "argus-console: ARGUS_TLS_CERT and ARGUS_TLS_KEY must both name readable PEM files" >&2
        exit 1
    fi
    : "${ARGUS_HSTS=max-age=31536000}"
else
    : "${ARGUS_TLS_DIR:=$ARGUS_RUNTIME_DIR/tls}"
    ARGUS_TLS_CERT="$ARGUS_TLS_DIR/console.crt"
    ARGUS_TLS_KEY="$ARGUS_TLS_DIR/console.key"
    if [ ! -s "$ARGUS_TLS_CERT" ] || [ ! -s "$ARGUS_TLS_KEY" ]; then
        mkdir -p "$ARGUS_TLS_DIR"
        chmod 700 "$ARGUS_TLS_DIR"
        (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -days 825 -subj "/CN=${ARGUS_TLS_HOSTNAME:-argus-console}" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1${ARGUS_TLS_SAN:+,$ARGUS_TLS_SAN}" \
            -keyout "$ARGUS_TLS_KEY" -out "$ARGUS_TLS_CERT" 2>/dev/null)
        echo "argus-console: generated a self-signed certificate in $ARGUS_TLS_DIR" >&2
    fi
    ARGUS_HSTS=""
    fingerprint=$(openssl x509 -noout -fingerprint -sha256 -in "$ARGUS_TLS_CERT" | cut -d= -f2)
    echo "argus-console: self-signed certificate, SHA-256 fingerprint $fingerprint" >&2
fi
export ARGUS_TLS_LISTEN ARGUS_HTTPS_PORT ARGUS_TLS_CERT ARGUS_TLS_KEY ARGUS_HSTS

envsubst '${ARGUS_LISTEN} ${ARGUS_STATIC_ROOT} ${ARGUS_MANAGEMENT_UPSTREAM} ${ARGUS_STREAMING_UPSTREAM} ${ARGUS_RUNTIME_DIR} ${ARGUS_ACCESS_LOG} ${ARGUS_TLS_LISTEN} ${ARGUS_HTTPS_PORT} ${ARGUS_TLS_CERT} ${ARGUS_TLS_KEY} ${ARGUS_HSTS}' \
    < "$ARGUS_TEMPLATE" > "$ARGUS_RUNTIME_DIR/nginx.conf"
# Started as root (make run, the tests), nginx hands its worker to `nobody`, which cannot
# read a checkout under a 0700 home such as /root: the worker keeps the invoking user
# instead. The image runs nginx as `console`, where none of this applies.
if [ "$(id -u)" = "0" ]; then set -- -g "user ${ARGUS_NGINX_USER:-root};"; fi
nginx -t -q -e stderr -c "$ARGUS_RUNTIME_DIR/nginx.conf" "$@"
exec nginx -e stderr -c "$ARGUS_RUNTIME_DIR/nginx.conf" "$@"
