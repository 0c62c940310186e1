# Sésame production image: multi-stage, production dependencies only, runs as the unprivileged
# `node` user; at start it applies pending database migrations and then serves (src/main.ts does
# both). Set DATABASE_URL to PostgreSQL and ISSUER to the public https:// URL; put a
# TLS-terminating proxy in front and set TRUST_PROXY=true. See README, "Operating Sésame".

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the `node` devDependency (a second Node.js 24, for machines whose
# own Node is older) stays out, the base image has Node 24. No install script runs here, whatever
# the npm version: argon2 loads its prebuilt binary (rebuilt below, which fails loudly if none
# fits), and our own postinstall runs once the sources are in place.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild argon2
COPY prisma ./prisma
COPY src ./src
COPY scripts/db ./scripts/db
# Generates the Prisma client into src/generated (needs the `prisma` CLI, pruned below), and
# prepares src/generated/pgdata (PGlite's initdb with every migration applied): an empty DATA_DIR
# starts as a copy of it (COPY --from=build /app/src below carries it).
RUN npm run postinstall
# What only generating needed: Prisma's CLI and TypeScript (an optional peer of @prisma/client)
# with everything they pulled in, the query compilers of databases other than PostgreSQL (PGlite
# is PostgreSQL too) and source maps. Leaves package.json and the lockfile as they are.
RUN npm uninstall --no-save --omit=dev --ignore-scripts --no-audit --no-fund prisma typescript \
  && find node_modules/@prisma/client/runtime -name 'query_compiler_*' ! -name '*.postgresql.*' -delete \
  && find node_modules -name '*.map' -delete

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# Owned by root and read-only to the `node` user that runs them.
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY prisma ./prisma
COPY views ./views
COPY scripts/admin.ts ./scripts/admin.ts
COPY scripts/admin ./scripts/admin
COPY scripts/db ./scripts/db
# The embedded database (no DATABASE_URL): one process, kept on a volume mounted at /data.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
# /readyz: database reachable, migrations applied, keys loaded; 503 while draining after SIGTERM.
# The start period covers migrations on a first start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM starts the drain (SHUTDOWN_DRAIN_SECONDS) and a clean exit within SHUTDOWN_TIMEOUT:
# give the orchestrator's stop timeout more than that (docker stop -t, terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
CMD ["node", "--disable-warning=ExperimentalWarning", "src/main.ts"]
