#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser test (apps/sync-service sandbox page).
# Idempotent: does nothing when /usr/bin/chromium exists. Playwright drives it through
# playwright-core with executablePath, so no browser is ever downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) is installed" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: Chromium is not installed and this is not root: sudo apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: apt-get install -y --no-install-recommends chromium" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >&2
/usr/bin/chromium --version >&2
