# monsterstack: one Dockerfile, one image per service (targets `imagebackend` and `frontend`).
# The two targets share every layer; they differ only in their default command, port and
# healthcheck. Build (the course's convention, never `latest`):
#   docker build --target imagebackend -t "$REGISTRY/monsterstack-imagebackend:$TAG" .
#   docker build --target frontend     -t "$REGISTRY/monsterstack-frontend:$TAG" .
# or let `monsterstack images --registry "$REGISTRY" --tag "$TAG"` print (or --run) them.
#
# BASE_IMAGE: any Debian-like image with python3 (>= 3.11, with the venv module) and useradd.
# The default is the official slim image, pinned by tag; where Docker Hub is out of reach
# (tests/kit/test_image.py) a base made with debootstrap is passed instead.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve the locked dependencies into a self-contained virtual environment ----
# checkov:skip=CKV_DOCKER_7: BASE_IMAGE's default is pinned by tag; checkov cannot read ARGs
FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/monsterstack \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret (never a layer):
#   docker build --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt ...
# Each RUN that downloads mounts it and points pip and uv at it when it is there.
# uv itself comes from PyPI, into a throw-away venv of this stage (never in the final image).
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then \
      export PIP_CERT=/run/secrets/ca-certificates; fi \
 && python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
# Dependencies first, from the lock file only: this layer is rebuilt when uv.lock or
# pyproject.toml change, not when the code does.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then \
      export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
 && /opt/uv/bin/uv sync --frozen --no-default-groups --no-install-project --no-editable
# Then the project itself, installed as a regular (non-editable) package.
COPY README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then \
      export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
 && /opt/uv/bin/uv sync --frozen --no-default-groups --no-editable \
 && /opt/monsterstack/bin/monsterstack --help >/dev/null

# ---- runtime: the base, a non-root user and the virtual environment; no build tools ----
# checkov:skip=CKV_DOCKER_7: BASE_IMAGE's default is pinned by tag; checkov cannot read ARGs
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --system --gid 10001 monsterstack \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin monsterstack
COPY --from=build /opt/monsterstack /opt/monsterstack
# The app writes only to a temp dir: give it a tmpfs/emptyDir at /tmp and the root
# filesystem can be read-only (compose `read_only`, Kubernetes `readOnlyRootFilesystem`).
ENV PATH=/opt/monsterstack/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONTEXT=PROD \
    HOST=0.0.0.0
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["monsterstack"]
# Who this build is: its version (the tag) and commit, as OCI labels and as the variables the
# services report (/version, the `version` label of the metrics, build_info, the page badge).
# With buildah or podman, `monsterstack images` stamps them again in a build the layer cache
# cannot answer (deploy/images/stamp.Dockerfile): buildah's cache keys these two instructions
# on their text, not on the arguments' values, so a warm cache hands out another build's.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://example.invalid/monsterstack
LABEL org.opencontainers.image.title="monsterstack" \
      org.opencontainers.image.description="Deterministic monster avatars and the stack around them" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
ENV VERSION_LABEL="${VERSION}" \
    GIT_COMMIT="${REVISION}"

# ---- the two services ----
# HEALTHCHECK asks /readyz (503 while starting or draining) with the image's own python: no
# curl in a slim image. Kubernetes ignores HEALTHCHECK and uses the probes in deploy/.
FROM runtime AS imagebackend
LABEL org.opencontainers.image.title="monsterstack-imagebackend"
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8080'), timeout=2)"]
CMD ["serve", "imagebackend"]

FROM runtime AS frontend
LABEL org.opencontainers.image.title="monsterstack-frontend"
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '5000'), timeout=2)"]
CMD ["serve", "frontend"]
