# prom-hpa image: both programs (`adapter`, `autoscaler`) from one build.
#   docker build -t prom-hpa:0.1.0 .
# The install manifests (manifests/) run it as `prom-hpa adapter ...` / `prom-hpa autoscaler ...`.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's unprivileged `node` user (uid/gid 1000), as the manifests' securityContext expects.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["--help"]
