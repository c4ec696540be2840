#!/usr/bin/env bash
# Installs the browser the web dashboard's tests drive: Debian's chromium and chromium-driver
# (WebDriver). Safe to run again: it does nothing when both are installed. Prints the
# chromedriver's path on stdout.
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

installed() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if installed; then
  say "Browser for the web tests present: $(chromium --version 2>/dev/null | head -1)"
else
  say "Installing chromium and chromium-driver for the web dashboard's tests"
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >&2; then
    say "Refreshing the package index and trying again"
    "${sudo_cmd[@]}" apt-get update >&2
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >&2
  fi
  installed || { say "chromium or chromedriver did not install"; exit 1; }
fi
command -v chromedriver
