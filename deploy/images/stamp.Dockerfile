# The last step of a daemonless build (buildah, podman): stamps an image with its identity.
# `monsterstack images --builder buildah|podman` builds each service from ../../Dockerfile, then
# builds this on top of it with --no-cache (metadata only: no layer to rebuild, under a second):
# buildah's layer cache (1.28) keys LABEL and ENV on their text, not on the arguments' values,
# and was seen to hand out a cached image carrying another build's VERSION even with the
# version given again as --label/--env. BuildKit (docker build) needs no such step.
ARG IMAGE
FROM ${IMAGE}
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV VERSION_LABEL="${VERSION}" \
    GIT_COMMIT="${REVISION}"
