#!/bin/sh
# TEST-ONLY (redis.Dockerfile): what the official image's entrypoint does for
# `redis-server ...`: the data directory goes to the redis user and the server runs as it.
# Debian's redis-server keeps protected mode on by default, the official build turns it off
# (only ACL users with passwords can log in here: the default user is off).
set -eu
if [ "${1:-}" = "redis-server" ]; then
    shift
    set -- redis-server --protected-mode no "$@"
    if [ "$(id -u)" = 0 ]; then
        chown -R redis:redis /data
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"
