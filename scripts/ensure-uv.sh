#!/usr/bin/env bash
# Print the path of a uv binary, installing uv with pip when the machine has none.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
if [ -x "$HOME/.local/bin/uv" ]; then echo "$HOME/.local/bin/uv"; exit 0; fi
py=$(command -v python3.11 || command -v python3)
"$py" -m pip install --quiet --disable-pip-version-check uv >&2 \
  || "$py" -m pip install --quiet --user --disable-pip-version-check uv >&2
command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv"
