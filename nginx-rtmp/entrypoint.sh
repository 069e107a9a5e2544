#!/usr/bin/env bash
# rtmp-server container: render the configuration, then run nginx in the foreground.
set -euo pipefail

# nginx resolves the hook host once, at start, and on failure logs the whole hook URL
# (internal key included): wait until the name resolves instead (Compose starts
# management first, but its DNS entry can lag).
host=${MANAGEMENT_URL#http://}
host=${host%%/*}
host=${host%:*}
for _ in $(seq 1 60); do
    getent hosts "$host" >/dev/null && break
    sleep 1
done

conf=/run/nginx-rtmp/nginx.conf
/usr/local/bin/render-conf.sh /etc/nginx-rtmp/nginx.conf.template "$conf"
exec nginx -p /run/nginx-rtmp/ -c "$conf" -e stderr -g 'daemon off;'
