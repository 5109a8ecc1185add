# syntax=docker/dockerfile:1
#
# keygate as a container: a static binary (no cgo) on distroless, run as an
# unprivileged user. Build with a version stamp:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t keygate .
#
# The image listens on :8080 (public) and :8081 (admin). Publish the admin
# port only on a private interface (docker-compose.yml binds it to
# 127.0.0.1). With no KEYGATE_DATABASE_URL keygate keeps its SQLite file in
# /data, the working directory, which belongs to the unprivileged user.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
# third_party holds the modules go.mod replaces with a patched copy (see
# third_party/README.md); go mod download reads their go.mod files.
COPY third_party/ third_party/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/keygate ./cmd/keygate \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keygate /keygate
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
# distroless's "nonroot" user, by number, so that runtimes which check
# runAsNonRoot can tell.
USER 65532:65532
ENV KEYGATE_LISTEN=:8080 \
    KEYGATE_ADMIN_LISTEN=:8081
EXPOSE 8080 8081
# No shell in this image: the binary probes itself (GET /healthz on :8080).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/keygate", "healthcheck"]
ENTRYPOINT ["/keygate"]
CMD ["serve"]
