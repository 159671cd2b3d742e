# Portico: a static-ish release build on Debian slim. No OpenSSL (rustls everywhere).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin portico

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/portico portico && mkdir -p /var/lib/portico && chown portico /var/lib/portico
COPY --from=build /src/target/release/portico /usr/local/bin/portico
USER portico
WORKDIR /var/lib/portico
ENV BIND_ADDR=0.0.0.0:8080 DATA_DIR=/var/lib/portico LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["portico"]
CMD ["serve"]
