# Every ARGUS Python image, one final stage per service. Build context: the repository root
# (libs/argus-common comes from the same uv.lock):
#   docker build -f deploy/python.Dockerfile --target management -t argus-management .
# Targets (tag as docker-compose.yml names them): management, recording, streaming,
# analysis, camsim. GPU: docker-compose.gpu.yml builds analysis with ANALYSIS_EXTRAS=cuda
# (CuPy for the CUDA detector); without it ANALYSIS_DEVICE=auto uses the CPU.
#   docker run --rm -p 8554:8554 -p 8099:8099 -p 8100-8103:8100-8103 argus-camsim
#   docker run --rm ... argus-camsim argus-camsim --cameras 8 --auth digest   # other flags
#
# Layers shared by all five (built once, cached once): `build` (python3, uv, the lock and
# every member's pyproject) and `runtime` (python3, the service user). Per service: a
# `<name>-venv` stage that installs that package into /app/.venv, and the final stage.
# A BuildKit or Podman build of one target skips the other services' stages.

# Builder: uv (the version that wrote uv.lock) installs a service and its locked
# dependencies into /app/.venv on Debian's python3 - the Python 3.11 of a Debian 12 host.
FROM debian:bookworm-slim AS build
# ARGUS_BUILD_CA_B64: behind a proxy that re-signs TLS, its CA certificates (PEM, base64),
# trusted by the build stages only (pip, uv); the images themselves never see them.
ARG ARGUS_BUILD_CA_B64=""
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && if [ -n "$ARGUS_BUILD_CA_B64" ]; then \
         echo "$ARGUS_BUILD_CA_B64" | base64 -d | awk '/BEGIN CERT/ { n++ } n { \
           print > ("/usr/local/share/ca-certificates/argus-build-" n ".crt") }' \
         && update-ca-certificates >/dev/null; fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ARG UV_VERSION=0.13.9
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==$UV_VERSION"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv UV_PYTHON=/usr/bin/python3 UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_NO_CACHE=1
WORKDIR /src
# The lock and every workspace member's pyproject are all uv needs to resolve: each
# service's locked dependencies get a layer of their own, kept while only sources change.
COPY pyproject.toml uv.lock ./
COPY libs/argus-common/pyproject.toml libs/argus-common/
COPY libs/argus-testkit/pyproject.toml libs/argus-testkit/
COPY management-service/pyproject.toml management-service/
COPY camera-simulator/pyproject.toml camera-simulator/
COPY streaming-service/pyproject.toml streaming-service/
COPY recording-service/pyproject.toml recording-service/
COPY ai-analysis-service/pyproject.toml ai-analysis-service/

# Runtime base: python3 and the service user (uid 10001), no uv, compiler or sources.
# ca-certificates: TLS to SMTP, webhooks and HTTPS camera services is checked against the
# system's CAs. Each final stage adds its venv, mount points, settings and command.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin argus
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# Each `<name>-venv` stage: dependencies first (their own layer), then the sources; not
# editable, so the venv holds the packages themselves and the image needs no sources.

# ---- management-service
FROM build AS management-venv
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-management --no-install-workspace
COPY libs/argus-common/src libs/argus-common/src
COPY management-service/src management-service/src
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-management --no-editable

FROM runtime AS management
# /data belongs to the service user, so a new named volume mounted there does too.
RUN mkdir -p /data /recordings && chown argus /data /recordings
COPY --from=management-venv /app/.venv /app/.venv
# The Compose demo profile's demo-register runs `python scripts/demo.py` in this image.
COPY scripts/demo.py /app/scripts/demo.py
ENV MANAGEMENT_HOST=0.0.0.0 MANAGEMENT_PORT=8000 ARGUS_DATA_DIR=/data
USER argus
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
# Same command as the native run (argus_testkit.services): migrates, then serves.
CMD ["argus-management"]

# ---- recording-service
FROM build AS recording-venv
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-recording --no-install-workspace
COPY libs/argus-common/src libs/argus-common/src
COPY recording-service/src recording-service/src
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-recording --no-editable

FROM runtime AS recording
# /recordings belongs to the service user (uid 10001) in every image that mounts the
# recordings volume, so the volume belongs to it whichever container mounts it first.
RUN mkdir -p /recordings && chown argus /recordings
COPY --from=recording-venv /app/.venv /app/.venv
ENV RECORDINGS_DIR=/recordings RECORDING_METRICS_HOST=0.0.0.0 RECORDING_METRICS_PORT=9101
USER argus
VOLUME ["/recordings"]
EXPOSE 9101
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9101/healthz', timeout=2)" || exit 1
# Same command as the native run (argus_testkit.services). PyAV's wheel brings FFmpeg.
CMD ["argus-recording"]

# ---- streaming-service
FROM build AS streaming-venv
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-streaming --no-install-workspace
COPY libs/argus-common/src libs/argus-common/src
COPY streaming-service/src streaming-service/src
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-streaming --no-editable

FROM runtime AS streaming
RUN mkdir -p /tmp/argus-hls /recordings && chown argus /tmp/argus-hls /recordings
COPY --from=streaming-venv /app/.venv /app/.venv
ENV STREAMING_HOST=0.0.0.0 STREAMING_PORT=8080 STREAMING_HLS_DIR=/tmp/argus-hls \
    RECORDINGS_DIR=/recordings
USER argus
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
# Same command as the native run (argus_testkit.services). PyAV's and aiortc's wheels bring
# FFmpeg, libvpx and Opus.
CMD ["argus-streaming"]

# ---- ai-analysis-service
FROM build AS analysis-venv
ARG ANALYSIS_EXTRAS=""
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-analysis --no-install-workspace \
    ${ANALYSIS_EXTRAS:+--extra $ANALYSIS_EXTRAS}
COPY libs/argus-common/src libs/argus-common/src
COPY ai-analysis-service/src ai-analysis-service/src
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-analysis --no-editable \
    ${ANALYSIS_EXTRAS:+--extra $ANALYSIS_EXTRAS}

FROM runtime AS analysis
RUN mkdir -p /recordings && chown argus /recordings
COPY --from=analysis-venv /app/.venv /app/.venv
# The camera simulator's test detector (0.5 MB; knows only the simulator's people and cars):
# the demo sets ANALYSIS_OBJECT_MODEL=/app/models/sim-detector.onnx. Real sites mount theirs.
COPY ai-analysis-service/models/sim-detector.onnx /app/models/sim-detector.onnx
ENV RECORDINGS_DIR=/recordings ANALYSIS_METRICS_HOST=0.0.0.0 ANALYSIS_METRICS_PORT=9102
USER argus
EXPOSE 9102
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9102/healthz', timeout=2)" || exit 1
# Same command as the native run (argus_testkit.services). PyAV's, OpenCV's (headless) and
# ONNX Runtime's wheels bring their native libraries.
CMD ["argus-analysis"]

# ---- camera-simulator
FROM build AS camsim-venv
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-camsim --no-install-workspace
COPY libs/argus-common/src libs/argus-common/src
COPY camera-simulator/src camera-simulator/src
RUN /opt/uv/bin/uv sync --frozen --no-dev --package argus-camsim --no-editable

FROM runtime AS camsim
RUN mkdir -p /cache && chown argus /cache
COPY --from=camsim-venv /app/.venv /app/.venv
ENV CAMSIM_HOST=0.0.0.0 XDG_CACHE_HOME=/cache
USER argus
# Generated loop clips are cached here (bind every interface inside the container).
VOLUME ["/cache"]
EXPOSE 8554 8099 8100-8131
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8099/healthz', timeout=2)" || exit 1
# RTSP, control API, ONVIF (cam1 at 8100, camN at 8100+N-1). The same command as the native
# run; flags (or CAMSIM_* variables) configure it.
CMD ["argus-camsim", "--cameras", "4"]
