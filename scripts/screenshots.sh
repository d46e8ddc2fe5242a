#!/usr/bin/env bash
# scripts/screenshots.sh - retakes the README's screenshots of the docs page and the status page
# (docs/img/docs-page.png, docs/img/status-page.png): the browser test of those pages
# (tests/e2e/pages.test.mjs) takes them while it checks the pages, in Debian's Chromium, against
# build/enoki, the local RabbitMQ and the test peer. Run it after changing either page, and commit
# the images it writes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/broker.sh
make -s all viewer
mkdir -p docs/img
cd tests/e2e
npm ci --no-audit --no-fund --loglevel=error
ENOKI_SCREENSHOTS="$(cd ../../docs/img && pwd)" ENOKI_BIN="$(cd ../.. && pwd)/build/enoki" \
    node --test --test-concurrency=1 pages.test.mjs
ls -l ../../docs/img/*.png
