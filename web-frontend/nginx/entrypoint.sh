#!/bin/sh
# Render the console's nginx configuration from the environment, then run nginx in the
# foreground (the template sets `daemon off`). Only the ARGUS_* placeholders are replaced:
# nginx's own $variables stay as they are.
set -eu
: "${ARGUS_RUNTIME_DIR:=/run/argus-console}"
: "${ARGUS_TEMPLATE:=/etc/argus-console/argus.conf.template}"
mkdir -p "$ARGUS_RUNTIME_DIR"
envsubst '${ARGUS_LISTEN} ${ARGUS_STATIC_ROOT} ${ARGUS_MANAGEMENT_UPSTREAM} ${ARGUS_STREAMING_UPSTREAM} ${ARGUS_RUNTIME_DIR} ${ARGUS_ACCESS_LOG}' \
    < "$ARGUS_TEMPLATE" > "$ARGUS_RUNTIME_DIR/nginx.conf"
# Started as root (make run, the tests), nginx hands its worker to `nobody`, which cannot
# read a checkout under a 0700 home such as /root: the worker keeps the invoking user
# instead. The image runs nginx as `console`, where none of this applies.
if [ "$(id -u)" = "0" ]; then set -- -g "user ${ARGUS_NGINX_USER:-root};"; fi
nginx -t -q -e stderr -c "$ARGUS_RUNTIME_DIR/nginx.conf" "$@"
exec nginx -e stderr -c "$ARGUS_RUNTIME_DIR/nginx.conf" "$@"
