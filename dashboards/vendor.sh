#!/usr/bin/env bash
# Refresh the vendored front-end libraries from npm at their pinned versions.
# The dashboard has no build step: the files land in dashboards/web/vendor/ and are committed, so
# a Python install serves them with no Node and no internet. Needs npm only when run.
# Usage: dashboards/vendor.sh            (refresh to the pinned version)
#        ECHARTS_VERSION=6.1.0 dashboards/vendor.sh
set -euo pipefail

ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/web/vendor/echarts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "vendor.sh: npm is needed to refresh vendored files" >&2; exit 1; }
(cd "$work" && npm pack --silent "echarts@$ECHARTS_VERSION" >/dev/null)
tar -xzf "$work/echarts-$ECHARTS_VERSION.tgz" -C "$work"
mkdir -p "$dest"
# The ES-module build: pages import it like any other module, no global and no loader.
cp "$work/package/dist/echarts.esm.min.js" "$dest/echarts.esm.min.js"
cp "$work/package/LICENSE" "$dest/LICENSE"
cp "$work/package/NOTICE" "$dest/NOTICE"
sha=$(sha256sum "$dest/echarts.esm.min.js" | cut -d' ' -f1)
cat >"$dest/vendor.json" <<JSON
{
  "package": "echarts",
  "version": "$ECHARTS_VERSION",
  "source": "npm pack echarts@$ECHARTS_VERSION: dist/echarts.esm.min.js, LICENSE, NOTICE",
  "license": "Apache-2.0",
  "files": {
    "echarts.esm.min.js": "sha256:$sha"
  }
}
JSON
echo "vendor.sh: echarts $ECHARTS_VERSION -> ${dest#"$here"/} (sha256 $sha)"
