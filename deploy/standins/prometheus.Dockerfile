# TEST-ONLY stand-in for the official prom/prometheus image, for machines without Docker
# Hub (make compose-check; docker-compose.standins.yml). Debian 12's Prometheus (2.42; the
# official image is 2.53) behind the official image's interface as far as
# docker-compose.yml uses it: the prometheus binary as entrypoint (flags from `command:`),
# wget for the healthcheck, running as nobody. Never use it in production.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
