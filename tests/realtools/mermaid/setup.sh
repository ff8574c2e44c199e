#!/usr/bin/env bash
# Install what the real Mermaid renderer needs: Debian's chromium (+ fonts) and the
# pinned npm packages of this folder.  Idempotent; ~1 s when everything is in place.
# Run as root (apt-get).  Usage: bash tests/realtools/mermaid/setup.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# --- Debian packages -----------------------------------------------------------------
# chromium: the browser puppeteer drives (puppeteer's own browser download cannot work
# on this network).  fonts-liberation: Arial-metric font, the first one of Mermaid's
# default font list that exists on Debian (label widths are measured with it);
# fonts-dejavu-core: fallback for everything else.
pkgs=()
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || pkgs+=(fonts-liberation)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs+=(fonts-dejavu-core)
if [ "${#pkgs[@]}" -gt 0 ]; then
  echo "mermaid setup: apt-get install ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# --- node ----------------------------------------------------------------------------
# jsdom 29 needs node ^20.19; mermaid-cli 12 / mermaid 12 / puppeteer 25 need node 22,
# which is why package.json pins the last 11.x / 24.x lines.
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error("mermaid setup: node >= 20.19 needed, found " + process.version);
    process.exit(1);
  }'

# --- npm packages (node_modules is git-ignored) --------------------------------------
stamp=node_modules/.streamc-installed-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
echo "mermaid setup: npm ci" >&2
# PUPPETEER_SKIP_DOWNLOAD + --ignore-scripts: never try to download a browser; the only
# install script in the tree is puppeteer's browser download.
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
cp package-lock.json "$stamp"
