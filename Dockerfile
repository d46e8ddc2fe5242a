# enoki in a container: a build stage that compiles and unit-tests it, and a slim runtime stage.
#
#   docker build -t enoki .
#   docker run --rm -p 8000:8000 -e AMQP_URI=amqp://guest:guest@rabbitmq:5672/ enoki
#
# The default config (/etc/enoki/config.yaml, from docker/config.yaml) takes its values from the
# environment and has no routes; mount your own config over it to serve routes.
# Build with --format docker under podman/buildah, or the HEALTHCHECK is dropped (OCI has none).

# The docs page's viewer (GATEWAY.docs_dir): `make viewer` installs it from npm, as the lock file in
# docs/viewer pins it. Behind a TLS-inspecting proxy, give npm the proxy's CA bundle as a build
# secret: --secret id=npm_ca,src=/path/to/ca-bundle.crt (scripts/image-check.sh does).
FROM debian:bookworm-slim AS viewer
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends make nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY docs/viewer docs/viewer
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then export npm_config_cafile=/run/secrets/npm_ca; fi \
 && make viewer

FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential pkg-config check \
        libmicrohttpd-dev librabbitmq-dev libjansson-dev libuv1-dev libyaml-dev libwebsockets-dev \
        libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY core core
COPY routes routes
COPY gateway gateway
COPY tests/unit tests/unit
# The unit tests (Check) gate the image; the binary is stripped of its debug symbols.
RUN make -j"$(nproc)" build/enoki build/unit-tests \
 && build/unit-tests \
 && strip build/enoki \
 && build/enoki --version

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libmicrohttpd12 librabbitmq4 libjansson4 libuv1 libyaml-0-2 \
        libwebsockets17 libwebsockets-evlib-uv libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 enoki \
 && useradd --uid 10001 --gid enoki --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin enoki
COPY --from=build /src/build/enoki /usr/local/bin/enoki
COPY static/enoki.js static/demo.html static/status.html /usr/share/enoki/static/
COPY --from=viewer /src/build/viewer /usr/share/enoki/viewer
COPY docker/config.yaml /etc/enoki/config.yaml
ENV ENOKI_CONFIG=/etc/enoki/config.yaml
# A mounted config without GATEWAY.static_dir still finds static/ (relative to here).
WORKDIR /usr/share/enoki
USER 10001:10001
EXPOSE 8000
# /healthz: 200 while the process serves (/readyz would also need the broker). The port follows
# WEB_SERVER_ADDRESS when it is set in the environment; it is 8000 otherwise.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD a="${WEB_SERVER_ADDRESS:-0.0.0.0:8000}"; exec enoki --probe "http://127.0.0.1:${a##*:}/healthz"
ENTRYPOINT ["enoki"]
