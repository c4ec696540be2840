#!/usr/bin/env bash
# Installs the real OpenAI-compatible server the test suite runs against: llama-cpp-python's
# server (pinned), in its own virtual environment under the user data dir. Safe to run again:
# it does nothing when the server is already installed. Prints the server's python on stdout.
set -euo pipefail
# shellcheck source=lib/python-venv.sh
. "$(dirname "$0")/lib/python-venv.sh"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

VERSION=0.3.36
data="${EL_JEFE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/el-jefe}"
venv="$data/test-server-venv"
python="$venv/bin/python"

installed() {
  "$python" -c "import llama_cpp, llama_cpp.server, sys; sys.exit(llama_cpp.__version__ != '$VERSION')" 2>/dev/null
}

if installed; then
  say "Test server present: llama-cpp-python $VERSION in $venv"
else
  ensure_python_venv
  say "Installing llama-cpp-python[server]==$VERSION for the provider tests (compiles llama.cpp: allow about 5 minutes)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # Portable CPU flags: a -march=native build uses AMX kernels that crash on some virtual
  # machines as soon as a prompt has more than one token. No pip cache: a cached wheel may
  # have been built with other flags.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF" \
    "$python" -m pip install --no-cache-dir --disable-pip-version-check --quiet "llama-cpp-python[server]==$VERSION" >&2
  installed || { say "llama-cpp-python did not install"; exit 1; }
fi
echo "$python"
