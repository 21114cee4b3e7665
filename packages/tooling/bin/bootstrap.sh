#!/usr/bin/env bash
# Prepares a fresh machine for convkit, idempotently: Debian packages (Fashion-MNIST for the main
# job and the data tests, redis-server for the tuner's queue tests), the pinned pnpm, and the
# workspace's dependencies from the frozen lockfile. `--browser` adds Chromium for the WebGPU
# suites. Used by the README's two commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../../.."

need_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) need_browser=1 ;;
    *) echo "bootstrap.sh: unknown argument '$arg' (expected --browser)" >&2; exit 2 ;;
  esac
done

apt_packages=()
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then apt_packages+=(dataset-fashion-mnist); fi
if [ "$need_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then apt_packages+=(chromium); fi
# Dawn (the `webgpu` package, WebGPU in Node) loads the Vulkan loader, then Chromium's
# SwiftShader driver through it; Chromium itself does not pull the loader in.
if [ "$need_browser" = 1 ] && ! /sbin/ldconfig -p | grep -q 'libvulkan\.so\.1 '; then apt_packages+=(libvulkan1); fi
# The distributed tuner's tests start their own redis-server (@convkit/tune).
if [ ! -x /usr/bin/redis-server ]; then apt_packages+=(redis-server); fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  echo "bootstrap: installing Debian packages: ${apt_packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# The pnpm version pinned in package.json's packageManager field (corepack is not relied on).
pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm@$pnpm_version"
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=silent
