# syntax=docker/dockerfile:1
# aaPanel container images. docs/containers.md explains building and running.
#
#   docker build -t aapanel .                    # the panel (default target: runtime)
#   docker build --target nginx -t aapanel-nginx .   # nginx in front of it
#   docker build --build-arg RUN_CHECK=1 .       # also run `make check` while building
#
# The build stage installs exactly what CI installs (scripts/install-deps.sh)
# and runs the same make targets; the runtime stage holds only the shared
# libraries the binary links, plus cgi-fcgi for the health check.

ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------- build
FROM ${DEBIAN_IMAGE} AS build
ARG RUN_CHECK=0
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Dependencies first, so editing the sources does not reinstall them.
COPY scripts/install-deps.sh scripts/install-deps.sh
COPY tests/browser/package.json tests/browser/package-lock.json tests/browser/
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)" \
	&& if [ "$RUN_CHECK" = 1 ]; then make check; fi \
	&& make install PREFIX=/usr/local DESTDIR=/stage \
	&& install -m 0644 docker/production.cfg /stage/etc/aapanel/profiles/production.cfg \
	&& install -m 0755 docker/healthcheck.sh /stage/usr/local/bin/aapanel-healthcheck

# ---------------------------------------------------------------- nginx
# Debian's nginx (workers as www-data, gid 33) with docker/nginx.conf and the
# panel's static files; shares the panel's socket through the "run" volume.
FROM ${DEBIAN_IMAGE} AS nginx
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
	&& apt-get install -y --no-install-recommends nginx-light curl ca-certificates \
	&& rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
	&& install -d -m 0755 /etc/nginx/aapanel.d \
	&& install -d -o 10001 -g www-data -m 0751 /run/aapanel
COPY docker/nginx.conf /etc/nginx/nginx.conf
COPY conf/nginx/fastcgi_params /etc/nginx/aapanel_fastcgi_params
COPY --from=build /stage/usr/local/share/aapanel/static /usr/local/share/aapanel/static
EXPOSE 80 443
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD curl -fsS -o /dev/null http://127.0.0.1/healthz || exit 1
CMD ["nginx", "-c", "/etc/nginx/nginx.conf"]

# ---------------------------------------------------------------- runtime
FROM ${DEBIAN_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# One package per library in `readelf -d build/aapanel | grep NEEDED`
# (mapped with dpkg -S on Debian 12), libfcgi-bin for cgi-fcgi (health
# check), ca-certificates for PostgreSQL/MariaDB over TLS.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		libfcgi0ldbl libconfig9 libjson-c5 libsqlite3-0 libsystemd0 libmariadb3 libpq5 \
		libargon2-1 liboath0 libqrencode4 libssl3 libcurl4 libarchive13 libnftables1 \
		libfcgi-bin ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 www \
	&& useradd --system --uid 10001 --gid www --groups www-data --no-create-home \
		--home-dir /var/lib/aapanel --shell /usr/sbin/nologin www \
	&& install -d -o www -g www -m 0750 /var/lib/aapanel /var/log/aapanel \
	&& install -d -o www -g www-data -m 0751 /run/aapanel
COPY --from=build /stage/usr/local /usr/local
COPY --from=build --chown=root:www /stage/etc/aapanel /etc/aapanel
RUN chmod 0750 /etc/aapanel /etc/aapanel/profiles \
	&& /usr/local/bin/aapanel --version

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="aaPanel" \
	org.opencontainers.image.description="Linux server control panel in C, served as FastCGI behind nginx" \
	org.opencontainers.image.licenses="NOASSERTION" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}"

# Docker secrets land in /run/secrets: the panel reads them as systemd-style
# credentials (aapanel-secret, aapanel-db-password).
ENV AAPANEL_ENV=production \
	CREDENTIALS_DIRECTORY=/run/secrets
USER www:www
WORKDIR /var/lib/aapanel
VOLUME ["/var/lib/aapanel", "/var/log/aapanel", "/run/aapanel"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
	CMD ["/usr/local/bin/aapanel-healthcheck"]
ENTRYPOINT ["/usr/local/bin/aapanel"]
CMD ["--profile", "production", "serve"]
