#!/usr/bin/env bash
# Installs the real Anthropic-format proxy the test suite puts in front of llama-cpp-python's
# server: LiteLLM's proxy from PyPI, pinned to a known-good release (1.82.7, 1.82.8 and 1.107.0
# were compromised: never those), in its own virtual environment under the user data dir. Safe
# to run again: it does nothing when the proxy is already installed. Prints its python on stdout.
set -euo pipefail
# shellcheck source=lib/python-venv.sh
. "$(dirname "$0")/lib/python-venv.sh"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

VERSION=1.81.16
data="${EL_JEFE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/el-jefe}"
venv="$data/test-litellm-venv"
python="$venv/bin/python"

installed() {
  "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$VERSION')" 2>/dev/null \
    && [ -x "$venv/bin/litellm" ]
}

if installed; then
  say "Test proxy present: litellm $VERSION in $venv"
else
  ensure_python_venv
  say "Installing litellm[proxy]==$VERSION for the Anthropic-format tests (about a minute)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$python" -m pip install --disable-pip-version-check --quiet "litellm[proxy]==$VERSION" >&2
  installed || { say "litellm did not install"; exit 1; }
fi
echo "$python"
