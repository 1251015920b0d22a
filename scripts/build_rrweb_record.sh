#!/usr/bin/env bash
# Rebuild vendor/rrweb/rrweb-<version>.record.min.js: rrweb's own `record`, and only it, from the
# rrweb tarball's ESM build (dist/rrweb.js), tree-shaken and minified by esbuild. The recorders put
# it in every page they record; the full bundle (record + Replayer) cost each page load ~90 ms more
# renderer time on the demo page. Usage: scripts/build_rrweb_record.sh [RRWEB_VERSION] [ESBUILD_VERSION]
set -euo pipefail
version="${1:-2.2.2}"
esbuild_version="${2:-0.24.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack "rrweb@$version" >/dev/null
tar xzf "rrweb-$version.tgz"
npm install --no-save --no-audit --no-fund "esbuild@$esbuild_version" >/dev/null
printf 'import { record } from "./package/dist/rrweb.js";\nexport { record };\n' > entry.js
# An IIFE that leaves `rrweb` on `this` as the UMD builds do: the recorders evaluate it with
# `this` bound to a holder object (plumbing.assets.amd_safe), never on the page's globals.
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=rrweb \
  --footer:js='this.rrweb=rrweb;' --legal-comments=none --outfile=out.js
cp out.js "$root/vendor/rrweb/rrweb-$version.record.min.js"
sha256sum "$root/vendor/rrweb/rrweb-$version.record.min.js"
