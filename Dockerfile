# Sésame production image: multi-stage, runs as a non-root user, applies database migrations and
# then serves (src/main.ts does both). Set DATABASE_URL to PostgreSQL and ISSUER to the public
# https:// URL; put a TLS-terminating proxy in front and set TRUST_PROXY=true.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY scripts/db ./scripts/db
# Production dependencies only; the postinstall step generates the Prisma client.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src/generated ./src/generated
COPY package.json ./
COPY prisma ./prisma
COPY src ./src
COPY views ./views
COPY scripts ./scripts
COPY clients ./clients
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "--disable-warning=ExperimentalWarning", "src/main.ts"]
