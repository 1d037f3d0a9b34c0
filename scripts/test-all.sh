#!/usr/bin/env bash
# The whole test suite: what `./dev test` and CI run. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=$(date +%s)
rm -rf packages/*/test-results apps/*/test-results

echo "==> PostgreSQL for the server-mode tests"
bash scripts/ensure-postgres.sh

echo "==> Chromium for the browser test"
bash scripts/ensure-chromium.sh

echo "==> lint and format (Biome)"
pnpm exec biome ci .

echo "==> changesets parse (a broken front matter would stop the release)"
pnpm exec changeset status >/dev/null

echo "==> build"
pnpm exec turbo run build --concurrency=2 --output-logs=errors-only

echo "==> generated files are up to date"
pnpm run check:generated

echo "==> typecheck and test (turbo)"
status=0
LINQ_CONNECT_TEST_REPORT=1 pnpm exec turbo run typecheck test --continue --concurrency=2 --output-logs=errors-only || status=$?

node scripts/summarize-tests.mjs || status=1
echo "==> finished in $(( $(date +%s) - started ))s"
exit "$status"
