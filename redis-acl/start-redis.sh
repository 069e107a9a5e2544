#!/bin/sh
# Compose's Redis: one ACL user per service (passwords from .env), no default user, then the
# image's own entrypoint. The rules are make run's: redis-acl/users.rules (beside this script,
# or ARGUS_REDIS_RULES), each service only the keys and channels of the namespace it uses, no
# dangerous or admin commands (FLUSHALL, CONFIG, ACL, KEYS, SHUTDOWN …).
# Only the passwords' SHA-256 is written to the ACL file.
set -eu
ns=${ARGUS_REDIS_NAMESPACE:-argus}
case "$ns" in *[!a-z0-9_-]*|"") echo "start-redis.sh: bad ARGUS_REDIS_NAMESPACE" >&2; exit 2 ;; esac
rules=${ARGUS_REDIS_RULES:-$(dirname "$0")/users.rules}
[ -r "$rules" ] || { echo "start-redis.sh: cannot read $rules" >&2; exit 2; }
dir=${ARGUS_REDIS_RUN_DIR:-/run/argus-redis}
mkdir -p "$dir"
acl="$dir/users.acl"
umask 077
echo "user default off resetkeys resetchannels -@all" > "$acl"
for name in management recording streaming analysis; do
    var="REDIS_PASSWORD_$(echo "$name" | tr a-z A-Z)"
    eval "pw=\${$var:-}"
    if [ "${#pw}" -lt 16 ]; then
        echo "start-redis.sh: set $var (16+ characters) in .env" >&2
        exit 2
    fi
    hash=$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)
    rule=$(grep "^$name " "$rules" | cut -d' ' -f2- | sed "s/{ns}/$ns/g")
    if [ -z "$rule" ]; then echo "start-redis.sh: no rules for $name in $rules" >&2; exit 2; fi
    echo "user $name on #$hash $rule" >> "$acl"
done
if id redis >/dev/null 2>&1; then chown -R redis "$dir"; fi
if command -v docker-entrypoint.sh >/dev/null 2>&1; then
    exec docker-entrypoint.sh redis-server --appendonly yes --aclfile "$acl" "$@"
fi
exec redis-server --aclfile "$acl" "$@"
