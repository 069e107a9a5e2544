#!/bin/sh
# The local S3-compatible object store: SeaweedFS (`weed server`: master, volume server,
# filer and S3 gateway in one process). One script for the native run (argus_testkit's
# service table, `make run` with ARGUS_OBJECT_STORE=local; the test kit's launcher) and the
# container image (deploy/objectstore/Dockerfile): same flags, same credentials file.
#
# Settings (environment):
#   WEED_DIR                 data directory (volumes, filer metadata, the S3 identities file)
#   WEED_IP, WEED_BIND       advertised address (127.0.0.1) and bind address (127.0.0.1;
#                            0.0.0.0 in a container)
#   WEED_S3_PORT ...         ports: S3, MASTER, VOLUME, FILER and a *_GRPC_PORT for each
#   ARGUS_S3_ACCESS_KEY_ID, ARGUS_S3_SECRET_ACCESS_KEY or ARGUS_S3_SECRET_ACCESS_KEY_FILE:
#                            the one S3 identity (read, write, list, admin on every bucket)
#   WEED_BIN                 the weed binary (default: weed on PATH)
#   WEED_S3_HTTPS_PORT, WEED_S3_CERT_FILE, WEED_S3_KEY_FILE: optional, S3 over HTTPS on a
#                            second port as well (pgBackRest's repository speaks HTTPS only;
#                            docs/operations.md, PostgreSQL point-in-time recovery)
set -eu

: "${WEED_DIR:?WEED_DIR must name the data directory}"
: "${ARGUS_S3_ACCESS_KEY_ID:?ARGUS_S3_ACCESS_KEY_ID must be set}"
WEED_BIN="${WEED_BIN:-weed}"
WEED_IP="${WEED_IP:-127.0.0.1}"
WEED_BIND="${WEED_BIND:-127.0.0.1}"
WEED_S3_PORT="${WEED_S3_PORT:-8333}"
WEED_S3_GRPC_PORT="${WEED_S3_GRPC_PORT:-18333}"
WEED_MASTER_PORT="${WEED_MASTER_PORT:-9333}"
WEED_MASTER_GRPC_PORT="${WEED_MASTER_GRPC_PORT:-19333}"
WEED_VOLUME_PORT="${WEED_VOLUME_PORT:-8335}"
WEED_VOLUME_GRPC_PORT="${WEED_VOLUME_GRPC_PORT:-18335}"
WEED_FILER_PORT="${WEED_FILER_PORT:-8888}"
WEED_FILER_GRPC_PORT="${WEED_FILER_GRPC_PORT:-18888}"

if [ -n "${ARGUS_S3_SECRET_ACCESS_KEY_FILE:-}" ]; then
    secret=$(cat "$ARGUS_S3_SECRET_ACCESS_KEY_FILE")
else
    secret="${ARGUS_S3_SECRET_ACCESS_KEY:?ARGUS_S3_SECRET_ACCESS_KEY or _FILE must be set}"
fi
# Written into JSON below unquoted: only characters that need no escaping.
for value in "$ARGUS_S3_ACCESS_KEY_ID" "$secret"; do
    case "$value" in
        "" | *[!A-Za-z0-9._~+/=-]*)
            echo "start-weed.sh: S3 keys may hold only A-Z a-z 0-9 . _ ~ + / = -" >&2
            exit 2 ;;
    esac
done

mkdir -p "$WEED_DIR/data"
umask 077
cat > "$WEED_DIR/s3.json" <<JSON
{"identities": [{"name": "argus",
  "credentials": [{"accessKey": "$ARGUS_S3_ACCESS_KEY_ID", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
umask 022

set --
if [ -n "${WEED_S3_HTTPS_PORT:-}" ]; then
    : "${WEED_S3_CERT_FILE:?WEED_S3_HTTPS_PORT needs WEED_S3_CERT_FILE}"
    : "${WEED_S3_KEY_FILE:?WEED_S3_HTTPS_PORT needs WEED_S3_KEY_FILE}"
    set -- "-s3.port.https=$WEED_S3_HTTPS_PORT" "-s3.cert.file=$WEED_S3_CERT_FILE" \
        "-s3.key.file=$WEED_S3_KEY_FILE"
fi

# Iceberg and Lance listeners off (Lance's default port is the recorder's metrics port);
# unix sockets inside the data directory (their /tmp defaults collide between instances).
# SIGTERM: weed's filer waits for its gRPC streams to end, so stoppers give it a few seconds
# and then SIGKILL (acknowledged objects are already written to the volume files).
exec "$WEED_BIN" server -dir="$WEED_DIR/data" -ip="$WEED_IP" -ip.bind="$WEED_BIND" \
    -master.port="$WEED_MASTER_PORT" -master.port.grpc="$WEED_MASTER_GRPC_PORT" \
    -master.volumeSizeLimitMB=1024 -master.telemetry=false \
    -volume.port="$WEED_VOLUME_PORT" -volume.port.grpc="$WEED_VOLUME_GRPC_PORT" -volume.max=0 \
    -filer -filer.port="$WEED_FILER_PORT" -filer.port.grpc="$WEED_FILER_GRPC_PORT" \
    -filer.localSocket="$WEED_DIR/filer.sock" \
    -s3 -s3.port="$WEED_S3_PORT" -s3.port.grpc="$WEED_S3_GRPC_PORT" \
    -s3.port.iceberg=0 -s3.port.lance=0 -s3.localSocket="$WEED_DIR/s3.sock" \
    -s3.config="$WEED_DIR/s3.json" "$@"
