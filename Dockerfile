# syntax=docker/dockerfile:1
# The production image of the broker (docs/deployment.md). Node 24 LTS on Debian 12 slim.
# Pin the base by digest where you build: the tag below names the release this was written for;
#   docker buildx imagetools inspect node:24.21.0-bookworm-slim   # prints the digest to add as @sha256:...
# (no digest is recorded here: it was written on a machine without a Docker engine or registry).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: every dependency, the compiler, then only what the broker runs -----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/prune-dist.sh ./scripts/
COPY apps ./apps
COPY libs ./libs
# dist/apps/broker and its libs; the sandbox, the CLI client, simulators, libs/testing and the
# in-memory clouds are removed (scripts/check-runtime-deps.sh runs the same tree without Docker).
RUN npm run build && sh scripts/prune-dist.sh dist

# --- production dependencies only (no compiler, test runner or simulator package) ----------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    JIT_DATA_DIR=/var/lib/jit-broker/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Writable by the broker only: the embedded database's folder (used when DATABASE_URL is unset;
# JIT_DATA_DIR must be 0700 and the broker's own) and the audit checkpoint file's folder (a
# volume in docker-compose.yml). Everything else, the code included, stays root's and read-only.
RUN mkdir -p /var/lib/jit-broker/data /var/lib/jit-checkpoints \
 && chown -R node:node /var/lib/jit-broker /var/lib/jit-checkpoints \
 && chmod 700 /var/lib/jit-broker /var/lib/jit-broker/data /var/lib/jit-checkpoints
USER node
EXPOSE 8080
# node itself, no curl in a slim image. Every role serves /health on PORT (JIT_ROLE=sweeper
# serves it and /metrics only): 503 when the database does not answer or the sweeper's cycles
# stopped ending (JIT_SWEEP_STALL_AFTER).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# node is PID 1 (no npm, no shell): the broker installs its own SIGTERM/SIGINT handlers
# (apps/broker/src/run-until-signal.ts), stops listening, cancels cloud calls, hands its claims
# back and exits within JIT_SHUTDOWN_DEADLINE (default 10 s; keep the orchestrator's grace
# period above it). The entry is one bundled file (scripts/build.mjs). Its source map is beside
# it but not loaded: node --enable-source-maps parses it at start, which on Node 24 held about
# 100 MiB more idle (docs/benchmarks.md); set NODE_OPTIONS=--enable-source-maps to read
# TypeScript lines in stack traces while debugging.
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/broker/src/main.js"]
