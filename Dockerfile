# Sentiment analysis inference service (v1 on ONNX Runtime in-process; v2 calls TensorFlow Serving).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/OWNER/sentiment-analysis:$(node -p "require('./package.json').version") .
#
# Multi-arch without emulation: node_modules are installed once on the build machine (onnxruntime-node and
# tokenizers ship the binaries of every platform in their npm packages), then pruned to linux/$TARGETARCH.
# glibc base on purpose: onnxruntime-node has no musl (Alpine) build.

ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# ---- build: compile TypeScript, install production dependencies, prune them for the target architecture ----
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
ARG TARGETARCH
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The model toolchain is an npm workspace (tools/): npm ci needs its package.json; nothing of it reaches the image.
COPY tools/package.json ./tools/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --workspaces=false --ignore-scripts \
 && node -e "process.exit(['amd64','arm64'].includes('${TARGETARCH}') ? 0 : 1)" \
 && mkdir -p tools/docker
COPY tools/docker/prune-node-modules.mjs tools/docker/
RUN node tools/docker/prune-node-modules.mjs node_modules "$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)"

# ---- runtime: production dependencies, compiled code and the bundled model; nothing else ----
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX as in package.json's start:prod (fewer glibc malloc arenas across the worker threads: less RSS).
ENV NODE_ENV=production \
    PORT=5001 \
    MODEL_DIR=/app/models/sentiment_analysis \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY models ./models
# The image's own non-root user (uid 1000); files stay root-owned and read-only to it.
USER node
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5001)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 (no npm, no shell), so SIGTERM reaches the service's shutdown hooks. The V8 flags are package.json's
# start:prod (a young generation of 16 MB semi-spaces, large enough that scavenges do not keep copying the requests in
# flight, and a small first old-generation limit: peak RSS under load below 300 MB; docs/tuning/young-generation.md
# and docs/performance.md); a test keeps the two equal.
CMD ["node", "--max-semi-space-size=16", "--initial-old-space-size=32", "dist/main.js"]
