#!/usr/bin/env bash
# Installs what sessionheat needs on a fresh machine: a Chromium to drive, and the package itself
# with its test extras. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

have_browser() {
  [ -n "${SESSIONHEAT_CHROMIUM:-}" ] && return 0
  [ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ] && return 0
  # Playwright's own browser, where someone ran `playwright install chromium`
  ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-* >/dev/null 2>&1
}

# Debian's packages: `chromium` for headed recording, `chromium-headless-shell` for everything
# headless (replays, indexing, scripted journeys, tests), which runs about a third faster.
missing=""
if [ -z "${SESSIONHEAT_CHROMIUM:-}" ] && command -v apt-get >/dev/null 2>&1; then
  have_browser || missing="chromium"
  [ -x /usr/bin/chromium-headless-shell ] || missing="$missing chromium-headless-shell"
elif ! have_browser; then
  echo "setup: no Chromium found; run 'python -m playwright install chromium' (needs internet)" >&2
fi
if [ -n "$missing" ]; then
  echo "setup: installing Debian's$missing" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086  # word splitting wanted: one package name each
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# A PostgreSQL server for the store's second backend: the tests start their own throwaway one
# (tests/postgres_server.py: initdb into a temp folder, loopback only), so only the binaries are
# needed. Debian puts them in /usr/lib/postgresql/<version>/bin, off PATH.
have_postgres() {
  [ -n "${SESSIONHEAT_PG_BINDIR:-}" ] && [ -x "$SESSIONHEAT_PG_BINDIR/initdb" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]
}
if ! have_postgres; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's postgresql" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup: no PostgreSQL server binaries (initdb, postgres); the PostgreSQL tests will fail" >&2
  fi
fi

# The fidelity suite's real third-party front ends (bench/frontends), pinned by its lock file.
# Installed again only when the lock changed since the last install.
install_frontends() {
  local dir=bench/frontends
  [ -f "$dir/package-lock.json" ] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing Debian's nodejs npm" >&2
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "setup: no npm; the fidelity front ends are not installed" >&2
      return 0
    fi
  fi
  # npm ci empties node_modules first, so a stamp of the lock it installed says it is done
  cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json" && return 0
  echo "setup: installing the fidelity front ends (npm ci in $dir)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
}
install_frontends

PY="${PYTHON:-python3}"
"$PY" -m pip install -q --disable-pip-version-check -e '.[test]'
echo "setup: ready ($("$PY" -c 'import plumbing.browser as b; print(b.chromium_executable() or "playwright chromium")'))" >&2
