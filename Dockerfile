# The Moolai Controller's default bundle: the host, the default plugins and
# the dashboard on Debian 12. Runs alone on SQLite:
#   docker build -t moolai-controller .
#   docker run -p 8765:8765 -p 8766:8766 -v moolai-data:/var/lib/moolai moolai-controller
# or with PostgreSQL and a reverse proxy: docker-compose.yml. See docs/deployment.md.
#
# Needs BuildKit (DOCKER_BUILDKIT=1) for the cache mounts: apt's downloads,
# npm's cache and ccache survive between builds, so a rebuild after a small
# change takes seconds of compiling, not minutes.

# ---- the dashboard (React + Vite) -------------------------------------------
# Debian's nodejs, and npm itself from the npm registry (pinned and checked
# against its published integrity): Debian's npm package brings some 500
# packages and minutes of unpacking to a cold build.
FROM debian:bookworm-slim AS dashboard
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends nodejs ca-certificates
# CA certificates (PEM) of a TLS-intercepting proxy between this build and
# the npm registry, if there is one (scripts/test-docker.sh passes the
# host's extra ones). Only this stage sees them; the image does not.
ARG MOOLAI_EXTRA_CA_CERTS=
ARG NPM_VERSION=9.9.4
ARG NPM_INTEGRITY=sha512-NzcQiLpqDuLhavdyJ2J3tGJ/ni/ebcqHVFZkv1C4/6lblraUPbPgCJ4Vhb4oa3FFhRa2Yj9gA58jGH/ztKueNQ==
ENV NODE_EXTRA_CA_CERTS=/etc/moolai-build-ca.pem NODE_NO_WARNINGS=1
RUN { cat /etc/ssl/certs/ca-certificates.crt; printf '%s\n' "$MOOLAI_EXTRA_CA_CERTS"; } > /etc/moolai-build-ca.pem \
 && node -e ' \
      const [url, want] = process.argv.slice(1); \
      fetch(url).then(r => { if (!r.ok) throw new Error(url + ": HTTP " + r.status); return r.arrayBuffer(); }) \
        .then(b => { b = Buffer.from(b); \
          const got = "sha512-" + require("crypto").createHash("sha512").update(b).digest("base64"); \
          if (got !== want) throw new Error("npm tarball integrity mismatch: " + got); \
          require("fs").writeFileSync("/tmp/npm.tgz", b); }) \
        .catch(e => { console.error(e.message); process.exit(1); });' \
      "https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz" "$NPM_INTEGRITY" \
 && mkdir -p /opt/npm && tar -xzf /tmp/npm.tgz -C /opt/npm --strip-components=1 && rm /tmp/npm.tgz \
 && chmod +x /opt/npm/bin/npm-cli.js /opt/npm/bin/npx-cli.js \
 && ln -s /opt/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s /opt/npm/bin/npx-cli.js /usr/local/bin/npx
WORKDIR /src/gui/frontend
COPY gui/frontend/package.json gui/frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund --loglevel=error
COPY gui/frontend/ ./
COPY gui/build.sh /src/gui/build.sh
RUN /src/gui/build.sh

# ---- the host and the default plugins (C++) ---------------------------------
FROM debian:bookworm-slim AS build
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config \
      libpistache-dev libwebsocketpp-dev libpqxx-dev libpq-dev \
      libboost-dev libboost-filesystem-dev libboost-system-dev \
      nlohmann-json3-dev libsqlite3-dev libsodium-dev
WORKDIR /src
COPY . .
COPY --from=dashboard /src/gui/frontend/dist /src/gui/frontend/dist
# The source has no .git here: the commit for --version comes in as an argument.
ARG MOOLAI_GIT_COMMIT=unknown
ENV CCACHE_DIR=/root/.ccache
RUN --mount=type=cache,target=/root/.ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMOOLAI_BUILD_TESTS=OFF -DMOOLAI_BUILD_BENCH=OFF \
      -DMOOLAI_GIT_COMMIT="${MOOLAI_GIT_COMMIT}" \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --prefix /opt/moolai --strip \
 && rm -rf /opt/moolai/include /opt/moolai/lib/cmake /opt/moolai/lib/systemd \
 && ccache --show-stats | grep -E "Hits|Misses" || true

# ---- runtime: shared libraries only ------------------------------------------
FROM debian:bookworm-slim
# busybox: its wget is the HEALTHCHECK's HTTP client (a few hundred kB, not curl's tree).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libpistache0 libpqxx-6.4 libsqlite3-0 libsodium23 libboost-filesystem1.74.0 busybox \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/moolai --no-create-home moolai \
 && mkdir -p /var/lib/moolai /opt/moolai/plugins-extra /etc/moolai \
 && chown moolai:moolai /var/lib/moolai
COPY --from=build /opt/moolai /opt/moolai
ENV PATH=/opt/moolai/bin:$PATH \
    MOOLAI_DATA_DIR=/var/lib/moolai \
    CONTROLLER_HOST=0.0.0.0 \
    CONTROLLER_PORT=8765 \
    CONTROLLER_WS_PORT=8766
# SQLite's database and the first start's state; extra plugins are mounted
# read-only at /opt/moolai/plugins-extra and named in a config file
# (MOOLAI_CONFIG=/etc/moolai/config.json), see docs/deployment.md.
VOLUME ["/var/lib/moolai"]
EXPOSE 8765 8766
USER moolai:moolai
WORKDIR /var/lib/moolai
# /readyz: 503 until start-up is done and while storage is unreachable.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD busybox wget -q -O /dev/null "http://127.0.0.1:${CONTROLLER_PORT}/readyz" || exit 1
# PID 1 is the controller itself: it takes SIGTERM and stops in about a second.
STOPSIGNAL SIGTERM
ENTRYPOINT ["moolai-controller"]
