#!/usr/bin/env bash
# Refresh the vendored front-end libraries from npm at their pinned versions.
# The dashboard has no build step: the files land in dashboards/web/vendor/ and are committed, so
# a Python install serves them with no Node and no internet. Needs npm only when run.
# Usage: dashboards/vendor.sh            (refresh to the pinned versions)
#        ECHARTS_VERSION=6.1.0 SWAGGER_UI_VERSION=5.35.0 dashboards/vendor.sh
set -euo pipefail

ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"
SWAGGER_UI_VERSION="${SWAGGER_UI_VERSION:-5.35.0}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "vendor.sh: npm is needed to refresh vendored files" >&2; exit 1; }

# vendor NAME VERSION LICENSE DEST SOURCE:TARGET... : npm pack NAME@VERSION, copy the files, and
# write vendor.json with each file's SHA-256 (a test checks them).
vendor() {
  local name="$1" version="$2" license="$3" dest="$here/web/vendor/$4"
  shift 4
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  rm -rf "$work/package"
  tar -xzf "$work/$name-$version.tgz" -C "$work"
  rm -rf "$dest"
  mkdir -p "$dest"
  local files="" sources="" pair src target sha
  for pair in "$@"; do
    src="${pair%%:*}" target="${pair##*:}"
    cp "$work/package/$src" "$dest/$target"
    sha=$(sha256sum "$dest/$target" | cut -d' ' -f1)
    files="$files${files:+,}
    \"$target\": \"sha256:$sha\""
    sources="$sources${sources:+, }$src"
  done
  cat >"$dest/vendor.json" <<JSON
{
  "package": "$name",
  "version": "$version",
  "source": "npm pack $name@$version: $sources",
  "license": "$license",
  "files": {$files
  }
}
JSON
  echo "vendor.sh: $name $version -> ${dest#"$here"/}"
}

# The ES-module build: pages import it like any other module, no global and no loader.
vendor echarts "$ECHARTS_VERSION" Apache-2.0 echarts \
  dist/echarts.esm.min.js:echarts.esm.min.js LICENSE:LICENSE NOTICE:NOTICE
# Swagger UI for the hub's /docs, served from the package rather than a CDN: the page runs in
# the hub's origin, next to an operator's session. The bundle's source map is left out.
vendor swagger-ui-dist "$SWAGGER_UI_VERSION" Apache-2.0 swagger-ui \
  swagger-ui-bundle.js:swagger-ui-bundle.js swagger-ui.css:swagger-ui.css \
  LICENSE:LICENSE NOTICE:NOTICE swagger-ui-bundle.js.LICENSE.txt:swagger-ui-bundle.js.LICENSE.txt
