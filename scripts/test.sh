#!/usr/bin/env bash
# The whole test suite: set up whatever is missing, then run every test (release build, shared
# with scripts/run.sh so llama.cpp is compiled once). Tests that need the real model fail with
# a clear message if it is absent; none are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
printf '\033[1m==> Running the test suite\033[0m\n'
exec cargo test --release --locked "$@"
