#!/bin/sh
# Regenerates the pictures of docs/getting-started.md from the browser tests, so they never go stale:
# the two Chromium tests write a screenshot of every page at 390 px and 1280 px, then
# scripts/docs-images.mjs crops and shrinks the picked ones into docs/images/ (pngquant if installed).
# Needs a build (npm run build) and Chromium (/usr/bin/chromium or $MOODLENS_CHROMIUM).
set -eu
cd "$(dirname "$0")/.."
shots="${1:-$(mktemp -d /tmp/moodlens-docs-shots-XXXXXX)}"
mkdir -p "$shots" docs/images
MOODLENS_SCREENSHOTS="$shots" npx vitest run test/web/study-setup-e2e.test.ts test/web/e2e.test.ts
node scripts/docs-images.mjs "$shots" docs/images
