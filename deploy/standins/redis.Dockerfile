# TEST-ONLY stand-in for the official redis:7 image, for machines without Docker Hub
# (make compose-check; docker-compose.standins.yml). Debian 12's Redis 7 behind the
# official image's interface as far as docker-compose.yml uses it: a docker-entrypoint.sh
# that runs redis-server as the redis user in /data, started as root (redis-acl/
# start-redis.sh writes the ACL file first). Never use it in production: pull redis:7.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
COPY deploy/standins/redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Executable: start-redis.sh hands over to it only when `command -v` finds it.
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["/bin/sh", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
