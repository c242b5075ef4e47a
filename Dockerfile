# The sluice worker image: `docker build -t sluice .`, then `docker run -e TEMPORAL_ADDRESS=host:7233 sluice`.
# The same image runs any CLI command: `docker run --rm -e TEMPORAL_ADDRESS=... sluice status <id>`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY bin ./bin
# Manifests a job's `output` names are written here (mount a volume); `sluice results` can write them anywhere else.
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "lib/src/client/cli.js"]
CMD ["worker"]
