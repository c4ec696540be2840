# Sourced by the scripts that install a pinned Python package in a virtual environment.

# python3 -m venv needs Debian's python3-venv (it brings ensurepip); install it when absent.
ensure_python_venv() {
  if python3 -m venv --help >/dev/null 2>&1 && python3 -c "import ensurepip" 2>/dev/null; then
    return
  fi
  printf '\033[1m==> %s\033[0m\n' "Installing python3-venv" >&2
  local sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends python3-venv >&2 \
    || { "${sudo_cmd[@]}" apt-get update >&2 \
      && "${sudo_cmd[@]}" apt-get install -y --no-install-recommends python3-venv >&2; }
}
