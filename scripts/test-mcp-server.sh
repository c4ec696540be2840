#!/usr/bin/env bash
# Installs the real MCP server the test suite starts: the reference "time" server from PyPI
# (pinned), in its own virtual environment under the user data dir. Safe to run again: it does
# nothing when the server is already installed. Prints the server's python on stdout.
set -euo pipefail
# shellcheck source=lib/python-venv.sh
. "$(dirname "$0")/lib/python-venv.sh"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

VERSION=2026.10.19
data="${EL_JEFE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/el-jefe}"
venv="$data/test-mcp-venv"
python="$venv/bin/python"

installed() {
  "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp-server-time') != '$VERSION')" 2>/dev/null
}

if installed; then
  say "Test MCP server present: mcp-server-time $VERSION in $venv"
else
  ensure_python_venv
  say "Installing mcp-server-time==$VERSION for the MCP tests"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$python" -m pip install --disable-pip-version-check --quiet "mcp-server-time==$VERSION" >&2
  installed || { say "mcp-server-time did not install"; exit 1; }
fi
echo "$python"
