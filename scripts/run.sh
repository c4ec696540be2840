#!/usr/bin/env bash
# The main job: set up whatever is missing, then run a sample goal on the embedded model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
goal="${*:-Research AI trends for my tech podcast}"
printf '\033[1m==> Running: el-jefe run "%s"\033[0m\n' "$goal"
exec target/release/el-jefe run "$goal"
