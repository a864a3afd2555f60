# promflux container image: `promflux run` as a sidecar or a scale-out replica, configured from
# PROMFLUX__* environment variables (docs/CONTAINER.md), optionally with a mounted config file.
#
#   docker build -t promflux:0.1.0 .
#   docker run --rm -p 9469:9469 \
#     -e PROMFLUX__EXTRACT__PROMETHEUS_URL=http://prometheus:9090 \
#     -e PROMFLUX__LOAD__INFLUXDB__URL=http://influxdb:8086 \
#     -e PROMFLUX__LOAD__INFLUXDB__BUCKET=health_metrics \
#     -e PROMFLUX__LOAD__INFLUXDB__ORG=monitoring \
#     -e PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE=/run/secrets/influxdb-token \
#     -v promflux-state:/var/lib/promflux promflux:0.1.0
#
# tests/unit/deploy/dockerfile.test.ts checks this file's text (user, COPY sources, .dockerignore,
# ENV keys); tests/integration/container.test.ts builds it with podman (scripts/container-test.sh)
# and runs the image against real Prometheus and InfluxDB. podman needs `--format docker` to keep
# the HEALTHCHECK (the OCI image format has none).

# The base as a build argument: the public image by default; scripts/container-test.sh builds the
# same file from a local base (Debian bookworm plus the same Node 20), where no registry is reachable.
# Debian slim rather than Alpine: glibc, the same Debian userland the test suite runs on, and
# glibc's DNS resolver (musl's differs on search domains and large answers, which matters in
# Kubernetes). The size difference (~25 MB) is not worth a second libc to test against.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Exactly the locked versions; no install scripts (nothing the build needs runs one).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies alone, installed afresh: what the runtime stage copies.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="promflux" \
      org.opencontainers.image.description="Moves health metrics from Prometheus into InfluxDB" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the runtime user: the process cannot modify its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY package.json ./
# Documentation only: promflux reads config/promflux.yaml (not the example) if one is mounted
# there, else $PROMFLUX_CONFIG, else the PROMFLUX__* variables alone.
COPY config/promflux.example.yaml ./config/

# Watermarks and dead letters. A volume, so progress survives a new container.
RUN mkdir -p /var/lib/promflux && chown 1000:1000 /var/lib/promflux
VOLUME /var/lib/promflux

# Container defaults, overridable with -e (an empty value lets a mounted file decide).
# All interfaces: inside a container, 127.0.0.1 would be unreachable from outside.
ENV PROMFLUX__SERVER__LISTEN=0.0.0.0:9469 \
    PROMFLUX__PIPELINE__STATE_DIR=/var/lib/promflux
EXPOSE 9469

# The image's `node` user, by number: Kubernetes' runAsNonRoot can only verify a numeric USER.
USER 1000:1000

# /healthz answers 200 while the process serves; the port follows PROMFLUX__SERVER__LISTEN.
# No curl in the slim image: Node's own fetch, with a timeout.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const l=process.env.PROMFLUX__SERVER__LISTEN||'';const p=l.slice(l.lastIndexOf(':')+1)||'9469';fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# The daemon handles SIGTERM itself (finishes the running cycle within pipeline.shutdown_grace,
# 30s by default: give `docker stop` a longer -t). Node as PID 1 is fine here, and tested without
# --init: promflux installs its own SIGTERM handler (PID 1 gets no default one) and starts no child
# processes, so there are no zombies to reap; `docker run --init` adds tini if wanted.
STOPSIGNAL SIGTERM
# --max-semi-space-size=4: a V8 young generation of 8 MB instead of 32, 6-10 MB less peak RSS for
# the same CPU (README, Performance); the same flags as the systemd unit's ExecStart (a test checks).
# To change them: --entrypoint node, or a Kubernetes `command:`, with your flags before the script.
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/bin/promflux.js"]
CMD ["run"]
