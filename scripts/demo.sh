#!/usr/bin/env bash
# The main job on the bundled demo data: install (into .venv, see venv.sh), load the demo
# leaderboards, build the static site, then start the rater. Usage: bash scripts/demo.sh [--no-serve]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

python -m pip install --quiet --disable-pip-version-check -e .

export RATER_DB="${RATER_DB:-data/leaderboards.db}"
rater demo
rater list
build-site --out site
echo
echo "Site built: open $(pwd)/site/index.html in a browser (file:// works, no server needed)."

if [ "${1:-}" != "--no-serve" ]; then
    echo "Starting the rater: open http://127.0.0.1:8501 to vote (Ctrl+C stops it)."
    exec rater serve --port 8501
fi
