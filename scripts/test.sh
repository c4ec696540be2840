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
# ...and LiteLLM's Anthropic-format proxy in front of it.
EL_JEFE_TEST_LITELLM_PYTHON="$(scripts/test-litellm.sh)"
export EL_JEFE_TEST_LITELLM_PYTHON
# The MCP tests start a real MCP server from PyPI.
EL_JEFE_TEST_MCP_PYTHON="$(scripts/test-mcp-server.sh)"
export EL_JEFE_TEST_MCP_PYTHON
# The web dashboard's tests drive a real Chromium through chromedriver.
EL_JEFE_TEST_CHROMEDRIVER="$(scripts/test-browser.sh)"
export EL_JEFE_TEST_CHROMEDRIVER
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  say "Adding rustfmt and clippy to the Rust toolchain"
  rustup component add rustfmt clippy
fi
say "Checking formatting (cargo fmt --check)"
cargo fmt --all -- --check
say "Linting (cargo clippy --all-targets -D warnings)"
cargo clippy --release --locked --all-targets -- -D warnings
say "Running the test suite"
cargo test --release --locked --no-fail-fast "$@"
# Run without --bench, each benchmark makes one quick pass: a broken one fails here.
say "Running every benchmark once, in quick mode"
cargo test --release --locked --benches
