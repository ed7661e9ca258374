# The maatje service as a container image (see the README, "Operating maatje" > "Deployment").
#
#   podman build -t maatje .          # or: docker build -t maatje .
#   podman run -d -p 8080:8080 -v maatje-data:/data maatje
#
# Two stages: the Rust toolchain builds the release binary (Cargo.lock, --locked), and a small
# Debian runtime image gets only that binary. The binary needs no system library but glibc:
# libpq, OpenSSL (for libpq) and SQLite are compiled in, and HTTPS (webhooks, SMTP with TLS) uses
# rustls with its own root certificates.
#
# Build arguments:
#   RUST_IMAGE, RUNTIME_IMAGE  the two base images (e.g. a mirror's, or pinned by digest);
#   BINARY_FROM=prebuilt       take an already built binary from the build context instead of
#                              compiling in the image (BINARY, default target/release/maatje):
#                              for machines that build with cargo anyway, as CI does.
ARG RUST_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim
ARG BINARY_FROM=build

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin maatje \
    && install -D -m 0755 target/release/maatje /out/maatje

FROM scratch AS prebuilt
ARG BINARY=target/release/maatje
COPY ${BINARY} /out/maatje

FROM ${BINARY_FROM} AS binary

FROM ${RUNTIME_IMAGE}
# A system user without a login shell or home; /data is the only place it writes.
RUN groupadd --gid 10001 maatje \
    && useradd --uid 10001 --gid maatje --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin maatje \
    && mkdir -p /data \
    && chown maatje:maatje /data \
    && chmod 0700 /data
COPY --from=binary /out/maatje /usr/local/bin/maatje

# Configuration: config/default.toml is compiled into the binary; everything else through
# MAATJE__SECTION__KEY environment variables (see the README, "Configuration").
ENV MAATJE__SERVER__HOST=0.0.0.0 \
    MAATJE__SERVER__PORT=8080 \
    MAATJE__DATABASE__URL=sqlite:///data/maatje.sqlite3 \
    MAATJE__MAIL__LINK_SECRET_FILE=/data/link-secret \
    MAATJE__MAIL__FILE_DIR=/data/mail \
    MAATJE__LOG__FORMAT=json \
    MAATJE__METRICS__HOST=0.0.0.0 \
    MAATJE__METRICS__PORT=9464

# The SQLite database, the generated link secret and (with mail.transport = "file") the mails.
VOLUME ["/data"]
WORKDIR /data
USER maatje:maatje
# 8080: the service (API, console, /health). 9464: the Prometheus metrics, not published unless
# you publish it (-p 127.0.0.1:9464:9464 or a network only Prometheus reaches).
EXPOSE 8080

# `maatje healthcheck` asks GET /health/ready on this container's loopback: no curl needed.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/maatje", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/maatje"]
CMD ["serve"]
