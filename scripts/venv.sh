# Sourced by demo.sh and test.sh: use the active virtual environment ($VIRTUAL_ENV), else the
# project's own .venv (created on first use), never the system interpreter.
# pip keeps the machine's configuration inside the venv (/etc/pip.conf, ~/.config/pip, $PIP_*),
# so packages come from the same index as outside it.
if [ -n "${VIRTUAL_ENV:-}" ]; then
    echo "using the active virtual environment $VIRTUAL_ENV" >&2
else
    if [ ! -x .venv/bin/python ]; then
        echo "creating the project virtual environment .venv" >&2
        python3 -m venv .venv || {
            echo "could not create .venv: install Python's venv module (Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    echo "using the project virtual environment $(pwd)/.venv" >&2
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
# Editable installs from pyproject.toml need pip >= 21.3: upgrade only an older pip.
if python -c 'import sys, pip; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) >= (21, 3))' 2>/dev/null; then
    python -m pip install --quiet --upgrade pip
fi
