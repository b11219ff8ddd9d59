# syntax=docker/dockerfile:1
# kubectl-profefe for in-cluster use: the collector (`collect`) and the store (`serve`); see deploy/.
#   docker build -t ghcr.io/kubectl-profefe/kubectl-profefe:0.1.0 .   (BuildKit: the default since Docker 23)
# Runs as uid 65532 with a read-only root filesystem: it writes only to /data (KUBECTL_PROFEFE_HOME,
# a mounted volume) and /tmp (an emptyDir).

# dist/ is plain JavaScript (esbuild's bundle), so it is built once on the build machine, even for other platforms.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build comes after.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.mjs scripts/
COPY src/ src/
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KUBECTL_PROFEFE_HOME=/data \
    HOME=/tmp \
    PATH=/app/bin:$PATH
WORKDIR /app
COPY package.json package-lock.json ./
# The bundle holds every library it uses, so this installs nothing today; it stays so that a
# runtime dependency, if one is ever declared, is installed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The bundle, with the flame graph page and d3 inlined and the third-party notices.
COPY --from=build /src/dist/ dist/
COPY bin/ bin/
COPY LICENSE README.md ./
# /data is normally a volume; owning it lets the image also run without one.
RUN mkdir -p /data && chown 65532:65532 /data
# Numeric, so that Kubernetes' runAsNonRoot can check it without a passwd entry.
USER 65532:65532
WORKDIR /data
# Node runs as pid 1 and the CLI handles SIGTERM itself (serve and collect stop cleanly).
ENTRYPOINT ["node", "/app/bin/kubectl-profefe"]
CMD ["--help"]
