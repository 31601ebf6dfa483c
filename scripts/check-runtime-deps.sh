#!/usr/bin/env bash
# Shows that the production image's contents are enough to run the broker, without Docker:
# builds dist/ (scripts/build.mjs, as npm run build), prunes it as the Dockerfile does
# (scripts/prune-dist.sh), installs the production dependencies alone (npm ci --omit=dev) beside
# it in a scratch folder, prints the folder's size (the image's layers above the Node base image),
# then starts `node dist/apps/broker/src/main.js` there on PostgreSQL and on the embedded
# database (test/deploy/runtime-check.ts): /health, one grant, a clean SIGTERM exit.
# A package the broker loads at run time but lists under devDependencies fails here.
#
# Usage: scripts/check-runtime-deps.sh [work dir]   (default: a temporary folder, removed after)
#   JIT_CHECK_DATABASE_URL  PostgreSQL server for the scratch database (default: local, user postgres)
#   JIT_CHECK_NODE          node binary to run the compiled broker with (default: node on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ $# -ge 1 ]; then
  work=$1
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/jit-runtime-deps.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
app="$work/app"
rm -rf "$app"
mkdir -p "$app"

echo "== build and prune into $app/dist"
node scripts/build.mjs --out-dir "$app/dist"
sh scripts/prune-dist.sh "$app/dist"

echo "== npm ci --omit=dev"
cp package.json package-lock.json "$app/"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
rm -f "$app/package-lock.json"   # the image ships package.json only

echo "== size (the image's own layers; add the node base image)"
for d in "$app" "$app/node_modules" "$app/dist"; do du -sh "$d"; done

echo "== run the compiled broker from $app"
node --experimental-vm-modules -r @swc-node/register "$root/test/deploy/runtime-check.ts" "$app"
