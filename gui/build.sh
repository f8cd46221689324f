#!/usr/bin/env bash
# Builds the operator dashboard into gui/frontend/dist (served by the controller).
# Installs the npm packages first when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/frontend"

command -v node >/dev/null || { echo "gui/build.sh: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "gui/build.sh: Node $(node --version) is too old; 18 or newer is needed" >&2
  exit 1
fi

# npm ci writes node_modules/.package-lock.json; when the committed lockfile is
# newer (or differs), the installed tree is stale.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "gui/build.sh: npm ci (frontend)"
  npm ci --no-audit --no-fund --loglevel=error
fi

npx --no-install tsc --noEmit -p .
npx --no-install vite build --logLevel warn
# Pre-compressed copies of the hashed assets: the controller sends them to
# clients that accept gzip, with no compression work per request.
find dist/assets -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name '*.map' \) \
  -exec gzip -9 -k -f {} +
echo "gui/build.sh: dashboard built in $(pwd)/dist"
