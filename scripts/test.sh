#!/usr/bin/env bash
# The whole test suite: set up whatever is missing, then run every test (release build, shared
# with scripts/run.sh so llama.cpp is compiled once). Tests that need the real model fail with
# a clear message if it is absent; none are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The provider tests also talk to a real OpenAI-compatible server (llama-cpp-python's).
EL_JEFE_TEST_SERVER_PYTHON="$(scripts/test-server.sh)"
export EL_JEFE_TEST_SERVER_PYTHON
# The MCP tests start a real MCP server from PyPI.
EL_JEFE_TEST_MCP_PYTHON="$(scripts/test-mcp-server.sh)"
export EL_JEFE_TEST_MCP_PYTHON
printf '\033[1m==> Running the test suite\033[0m\n'
exec cargo test --release --locked "$@"
