#!/bin/sh
# Leaves in a compiled tree (npm run build's dist/) only what the production broker runs:
# apps/broker and the libs it imports. Removed: the sandbox and the remote CLI (other apps),
# the cloud simulators, libs/testing and the in-memory clouds (test-only code, which
# dependency-cruiser's broker-reaches-no-test-code rule keeps out of the broker's imports),
# and examples/. The Dockerfile's build stage and scripts/check-runtime-deps.sh both call it,
# so the image and the check that proves it starts ship the same files.
#
# Usage: sh scripts/prune-dist.sh <dist dir>
set -eu
dist="${1:?usage: prune-dist.sh <dist dir>}"
if [ ! -f "$dist/apps/broker/src/main.js" ]; then
  echo "prune-dist: $dist/apps/broker/src/main.js not found (run npm run build first)" >&2
  exit 1
fi
for path in \
  apps/sandbox apps/cli \
  libs/simulators libs/testing libs/providers/local \
  examples; do
  rm -rf "${dist:?}/$path"
done
# Only the broker app is left under apps/.
for app in "$dist"/apps/*; do
  [ "$(basename "$app")" = broker ] || rm -rf "$app"
done
