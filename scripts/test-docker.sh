#!/usr/bin/env bash
# Tests the Docker bundle for real: builds the image, brings docker-compose.yml
# up (PostgreSQL, controller, nginx), and checks through nginx on the
# published port -- probes, login with the first start's password, the
# dashboard and its assets, an orchestrator on /ws acked and reached by a
# toggle, the live stream, metrics -- plus: every library of the runtime
# binary and plugins is found, the container runs as non-root, /readyz says
# 503 while PostgreSQL is stopped, `docker stop` ends it within 5 s, and the
# image runs alone on SQLite. Ends with "docker: N passed, N failed".
#
# No image registry is reachable here (only Debian's archive and npm), so:
# Debian's docker.io and docker-compose; a dockerd started by this script
# (its own data root, MOOLAI_DOCKER_LAB, kept between runs as a build cache);
# debian:bookworm-slim made with debootstrap; postgres:15 and nginx:1.25 are
# stand-ins built from Debian packages (tests/docker/standins/). Runs as root.
# Tears down only what it started: its compose project, its containers, and
# its dockerd.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
lab=${MOOLAI_DOCKER_LAB:-/var/tmp/moolai-dockerlab}
project=moolai-test-$$
t0=$SECONDS
log() { printf '[docker %4ds] %s\n' $((SECONDS - t0)) "$*"; }
pass=0 fail=0
check() {  # name command...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "PASS $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
finish() {
  echo "docker: $pass passed, $fail failed ($((SECONDS - t0)) s)"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
  echo "test-docker: needs root (it starts its own dockerd)"; fail=1; finish; exit 1
fi

log "install the engine (Debian packages)"
need=()
for p in docker.io docker-compose debootstrap iptables python3 python3-yaml ca-certificates; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null ||
    { echo "test-docker: cannot install ${need[*]}"; fail=1; finish; exit 1; }
fi

export DOCKER_HOST=unix://$lab/docker.sock
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH      # docker.io's client (BuildKit built in)
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1   # docker-compose builds through BuildKit
export COMPOSE_PROJECT_NAME=$project COMPOSE_FILE=$root/docker-compose.yml
dockerd_pid= up= solo=
cleanup() {
  if [ -n "$up" ]; then
    docker-compose logs --no-color >"$lab/compose-$project.log" 2>&1
    timeout 120 docker-compose down -v --remove-orphans -t 5 >/dev/null 2>&1
  fi
  [ -n "$solo" ] && docker rm -f -v "$solo" >/dev/null 2>&1
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null
    for _ in $(seq 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
    umount "$lab/exec/netns/default" 2>/dev/null
  fi
}
trap cleanup EXIT

log "start dockerd ($lab)"
mkdir -p "$lab"
if docker info >/dev/null 2>&1; then
  echo "an engine already answers at $DOCKER_HOST: using it"
else
  dockerd --data-root "$lab/data" --exec-root "$lab/exec" --pidfile "$lab/dockerd.pid" \
    -H "$DOCKER_HOST" >"$lab/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 300); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  docker info >/dev/null 2>&1 || { tail -30 "$lab/dockerd.log"; fail=1; finish; exit 1; }
fi

log "base image debian:bookworm-slim"
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  rootfs=$lab/rootfs; rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian \
    >"$lab/debootstrap.log" 2>&1 || { tail -20 "$lab/debootstrap.log"; fail=1; finish; exit 1; }
  rm -f "$rootfs/etc/apt/sources.list"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm bookworm-updates' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' '' \
    'Types: deb' 'URIs: http://deb.debian.org/debian-security' 'Suites: bookworm-security' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
fi

# What the compose file reads from the deployer.
MOOLAI_DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
MOOLAI_METRICS_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -dc '0-9a-f')
MOOLAI_GIT_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# The npm registry may sit behind a TLS-intercepting proxy that this host
# trusts: the certificates of its bundle that Debian's ca-certificates does
# not ship go to the dashboard's build stage (public certificates, no keys).
MOOLAI_EXTRA_CA_CERTS=$(python3 - <<'PY'
import glob, re
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
def certs(text): return [m.group(0).strip() for m in pem.finditer(text)]
stock = set()
for f in glob.glob("/usr/share/ca-certificates/*/*.crt"):
    stock.update(certs(open(f, errors="replace").read()))
try:
    bundle = open("/etc/ssl/certs/ca-certificates.crt", errors="replace").read()
except OSError:
    bundle = ""
print("\n".join(c for c in certs(bundle) if c not in stock))
PY
)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOOLAI_HTTP_PORT=$(free_port)
export MOOLAI_DB_PASSWORD MOOLAI_METRICS_TOKEN MOOLAI_GIT_COMMIT MOOLAI_HTTP_PORT MOOLAI_EXTRA_CA_CERTS
unset MOOLAI_SUPERADMIN_PASSWORD DEV_BEARER_TOKEN MOOLAI_PUBLIC_WS_URL

log "stand-ins for the third-party images (no registry here)"
check "docker-compose.yml is valid" docker-compose config -q
for img in $(docker-compose config | python3 -c '
import sys, yaml
for s in yaml.safe_load(sys.stdin)["services"].values():
    if "build" not in s and "image" in s: print(s["image"])' | sort -u); do
  docker image inspect "$img" >/dev/null 2>&1 && continue
  name=${img%%:*}; name=${name##*/}
  if [ ! -d tests/docker/standins/$name ]; then echo "no stand-in for $img"; fail=$((fail + 1)); continue; fi
  echo "STAND-IN: $img <- tests/docker/standins/$name (Debian packages, not the upstream image)"
  docker build -q -t "$img" tests/docker/standins/$name >/dev/null || fail=$((fail + 1))
done

log "build the image"
b0=$SECONDS
if ! docker-compose build controller; then
  echo "image build failed"; fail=$((fail + 1)); finish; exit 1
fi
image=moolai-controller:latest
size=$(docker image inspect -f '{{.Size}}' "$image")
log "image built in $((SECONDS - b0)) s: $image, $((size / 1000000)) MB"

log "libraries, user, version"
missing=$(docker run --rm --entrypoint sh "$image" -c \
  'ldd /opt/moolai/bin/moolai-controller /opt/moolai/bin/moolai-orchestrator-sim /opt/moolai/lib/moolai/plugins/*.so' |
  grep "not found")
check "ldd finds every library of the binaries and plugins" test -z "$missing"
[ -z "$missing" ] || echo "$missing"
check "the image runs as a non-root user" \
  test "$(docker run --rm --entrypoint sh "$image" -c 'id -u')" != 0
check "--version names the commit" \
  sh -c "docker run --rm '$image' --version | grep -qx 'commit $MOOLAI_GIT_COMMIT'"

log "compose up"
up=1
docker-compose up -d >/dev/null 2>&1 || { docker-compose ps; fail=$((fail + 1)); }
healthy() {  # every container running, and healthy where it has a healthcheck
  local c st
  for c in $(docker-compose ps -q); do
    st=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
    case "$st" in "running healthy"|"running none") ;; *) return 1 ;; esac
  done
  [ "$(docker-compose ps -q | wc -l)" -eq 3 ]
}
deadline=$((SECONDS + 180))
until healthy; do
  if [ $SECONDS -gt $deadline ]; then
    docker-compose ps; docker-compose logs --tail 40; fail=$((fail + 1)); finish; exit 1
  fi
  sleep 1
done
check "the stack came up healthy (postgres, controller, nginx)" true
log "stack healthy"

controller=$(docker-compose ps -q controller)
password=$(docker-compose logs --no-color controller |
  sed -n 's/.*created the superadmin "admin" with the password "\([^"]*\)".*/\1/p' | head -1)
check "the first start logged a random superadmin password" test -n "$password"
check "the controller process runs as a non-root user" \
  test "$(docker top "$controller" -o uid | tail -n +2 | head -1 | tr -d ' ')" != 0

log "smoke through nginx on port $MOOLAI_HTTP_PORT"
python3 tests/docker/smoke.py 127.0.0.1 "$MOOLAI_HTTP_PORT" "${password:-none}" "$MOOLAI_METRICS_TOKEN" |
  tee "$lab/smoke.log"
smoke=$(sed -n 's/^smoke: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$lab/smoke.log")
if [ -n "$smoke" ]; then
  pass=$((pass + ${smoke% *})); fail=$((fail + ${smoke#* }))
else
  echo "FAIL the smoke script did not finish"; fail=$((fail + 1))
fi

log "/readyz while PostgreSQL is stopped"
readyz() { python3 -c 'import sys,urllib.request,urllib.error
try: print(urllib.request.urlopen(sys.argv[1], timeout=15).status)
except urllib.error.HTTPError as e: print(e.code)
except Exception: print(0)' "http://127.0.0.1:$MOOLAI_HTTP_PORT/readyz"; }
wait_status() {  # expected seconds
  local until=$((SECONDS + $2))
  while [ $SECONDS -le $until ]; do [ "$(readyz)" = "$1" ] && return 0; sleep 0.5; done
  return 1
}
docker-compose stop -t 10 postgres >/dev/null 2>&1
check "/readyz is 503 while PostgreSQL is down" wait_status 503 30
docker-compose start postgres >/dev/null 2>&1
check "/readyz is 200 again once PostgreSQL is back" wait_status 200 60

log "docker stop"
s0=$(date +%s%N)
docker stop -t 10 "$controller" >/dev/null
stop_ms=$(( ($(date +%s%N) - s0) / 1000000 ))
echo "docker stop took $stop_ms ms"
check "docker stop ends the controller within 5 s" test "$stop_ms" -lt 5000
check "the controller exits 0 on SIGTERM" \
  test "$(docker inspect -f '{{.State.ExitCode}}' "$controller")" = 0

log "the image alone on SQLite"
solo_port=$(free_port)
solo=$(docker run -d -p "127.0.0.1:$solo_port:8765" -e MOOLAI_SUPERADMIN_PASSWORD=solo-Password-1 "$image")
solo_ready() {
  python3 -c 'import sys,json,urllib.request
r = json.load(urllib.request.urlopen(sys.argv[1], timeout=5)); sys.exit(r.get("database") != "up")' \
    "http://127.0.0.1:$solo_port/api/v1/controller/health" 2>/dev/null
}
solo_wait() { local until=$((SECONDS + 60)); until solo_ready; do [ $SECONDS -gt $until ] && return 1; sleep 0.5; done; }
check "docker run alone serves on SQLite" solo_wait
check "its data is in the volume (/var/lib/moolai/moolai.db)" \
  docker exec "$solo" test -s /var/lib/moolai/moolai.db
docker rm -f -v "$solo" >/dev/null; solo=

log "tear down"
docker-compose down -v --remove-orphans -t 5 >/dev/null 2>&1; up=
echo "image: $image $((size / 1000000)) MB; lab: $lab (delete it to reclaim the build cache)"
finish
