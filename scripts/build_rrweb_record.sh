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
# rrweb's ESM build carries two copies of postcss (rrweb-snapshot's and rrdom's), which only the
# replayer uses (adaptCssForReplay), and it runs both at load: each copy is required by an immediate
# call esbuild must keep, and then read by statements that only touch its exports. In every recorded
# page that was 115 KB more to parse and ~7 ms of postcss set-up. The three edits below make that
# code removable (the statements go, the calls are marked pure), and the build fails if any postcss
# is left.
sed -E \
  -e '/^import_postcss(\$1)?\.default(\.[A-Za-z_$]+)?;$/d' \
  -e 's#^var (import_postcss(\$1)?) = /\* @__PURE__ \*/ (__toESM(\$1)?)\(\(/\* @__PURE__ \*/ #var \1 = /* @__PURE__ */ \3(/* @__PURE__ */ (/* @__PURE__ */ #' \
  -e 's#^var postcss_default = (import_postcss\$1\.default);$#var postcss_default = /* @__PURE__ */ (() => \1)();#' \
  package/dist/rrweb.js > rrweb.js
printf 'import { record } from "./rrweb.js";\nexport { record };\n' > entry.js
# An IIFE that leaves `rrweb` on `this` as the UMD builds do: the recorders evaluate it with
# `this` bound to a holder object (plumbing.assets.amd_safe), never on the page's globals.
./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=rrweb \
  --footer:js='this.rrweb=rrweb;' --legal-comments=none --outfile=out.js
if grep -q CssSyntaxError out.js; then
  echo "postcss is still in the record build: rrweb $version's dist/rrweb.js no longer matches the edits above" >&2
  exit 1
fi
cp out.js "$root/vendor/rrweb/rrweb-$version.record.min.js"
sha256sum "$root/vendor/rrweb/rrweb-$version.record.min.js"
