#!/usr/bin/env bash
# El Jefe's engine against LangGraph on the same scenarios (benches/langgraph/), side by side in
# one run: each run alternates the two, and the medians and their ratios are printed with the
# targets of docs/PERFORMANCE.md. Installs LangGraph (pinned) in a virtual environment under the
# user data dir the first time; safe to run again. RUNS=9 scripts/bench-vs-langgraph.sh for more.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

VERSION=1.2.22
RUNS="${RUNS:-5}"
data="${EL_JEFE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/el-jefe}"
venv="$data/bench-langgraph-venv"
python="$venv/bin/python"

if "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('langgraph') != '$VERSION')" 2>/dev/null; then
  say "LangGraph $VERSION present in $venv"
else
  say "Installing langgraph==$VERSION in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$python" -m pip install --disable-pip-version-check --quiet "langgraph==$VERSION"
fi

say "Building the engine benchmark (release)"
exe=$(cargo bench --locked --bench engine_overhead --no-run 2>&1 \
  | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1)
[ -x "$exe" ] || { say "could not find the engine_overhead benchmark's executable"; exit 1; }

say "Running both, $RUNS times, alternating (a few minutes)"
exec "$python" benches/langgraph/compare.py "$exe" "$python" "$RUNS"
