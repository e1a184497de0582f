#!/usr/bin/env bash
# Set up (or bring up to date) the project's virtual environment in .venv. Safe to run again: it reinstalls only
# when pyproject.toml changed since the last successful set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# System packages: cairosvg (chess boards) needs the Cairo library; with --test, the browser tests need Chromium.
apt_install() { # package, and the hint for machines where we cannot install it
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else echo "Please install $1 ($2)." >&2; exit 1
  fi
}
ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2' || apt_install libcairo2 "Debian/Ubuntu: sudo apt-get install libcairo2; macOS: brew install cairo"
if [ "${1:-}" = --test ] && ! command -v chromium >/dev/null && [ -z "${VMEVAL_CHROMIUM:-}" ]; then
  apt_install chromium "Debian: sudo apt-get install chromium; elsewhere set VMEVAL_CHROMIUM to a Chromium/Chrome binary"
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.vmevalkit-setup
want=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Setting up .venv (first run, or pyproject.toml changed) ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  # the CPU build of torch first: a plain `torch` requirement would pull several GB of CUDA libraries
  .venv/bin/python -m pip install --quiet "torch==${VMEVAL_TORCH_VERSION:-2.13.0}"
  .venv/bin/python -m pip install --quiet -e ".[dev,all]"
  echo "$want" > "$stamp"
fi
