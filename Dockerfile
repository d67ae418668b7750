# syntax=docker/dockerfile:1
# Build: a static binary, no cgo (modernc.org/sqlite is pure Go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/feedmux ./cmd/feedmux \
 && mkdir -p /out/data

# Run: distroless static (CA certificates, time zone data, /etc/passwd with
# a nonroot user, no shell) holding only the binary and the default config.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedmux /usr/local/bin/feedmux
COPY feeds.toml /etc/feedmux/feeds.toml
COPY --from=build --chown=65532:65532 /out/data /data
ENV FEEDMUX_CONFIG=/etc/feedmux/feeds.toml \
    FEEDMUX_DB=/data/feedmux.db \
    FEEDMUX_LISTEN=:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
# The image has no shell and no curl: feedmux checks itself, at the address
# the same configuration and environment give serve.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/feedmux", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/feedmux"]
CMD ["serve"]
