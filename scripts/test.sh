#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine (Python packages into .venv, see
# venv.sh), then run it.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

python -m pip install --quiet --disable-pip-version-check -e '.[test,postgresql]'

apt_install() {  # Debian packages, only called for ones that are missing
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" >/dev/null
}

# Browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
command -v chromium >/dev/null 2>&1 || apt_install chromium
# `rater serve --workers` puts Debian's nginx in front of the app processes (its tests need it).
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || apt_install nginx

# The store's tests run on PostgreSQL too: Debian's server, started by the tests themselves as a
# throwaway cluster (tests/postgres_server.py). Required: an unavailable server fails the run.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
export RATER_REQUIRE_POSTGRES=1

# The Nu HTML Checker for the site tests: the vnu-jar package from the npm registry.
if command -v npm >/dev/null 2>&1 && [ ! -f tests/.vnu/node_modules/vnu-jar/build/dist/vnu.jar ]; then
    npm install --silent --no-audit --no-fund --prefix tests/.vnu vnu-jar@latest >/dev/null
fi

python -m pytest "$@"
