#!/usr/bin/env bash
# The main job: set up whatever is missing, then open the dashboard on the embedded model.
# With arguments, runs that goal without the dashboard instead: scripts/run.sh "your goal".
set -euo pipefail
cd "$(dirname "$0")/.."
# The binary cargo builds, wherever CARGO_TARGET_DIR puts it.
EL_JEFE_BIN="${CARGO_TARGET_DIR:-target}/release/el-jefe"
scripts/setup.sh
if [ $# -eq 0 ]; then
  printf '\033[1m==> Opening the dashboard: type a goal and press Enter; ? shows every key, q quits\033[0m\n'
  exec "$EL_JEFE_BIN"
fi
printf '\033[1m==> Running: el-jefe run "%s"\033[0m\n' "$*"
exec "$EL_JEFE_BIN" run "$*"
