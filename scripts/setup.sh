#!/usr/bin/env bash
# Set up everything clinlabel needs on a fresh Debian machine, idempotently and quickly when all
# is there already: make, Python's venv, Debian's chromium (browser tests), postgresql
# (PostgreSQL tests), xvfb (desktop tests), a font, dicom3tools (dciodvfy checks the demo's
# DICOM files against their IODs), and a virtual environment in .venv with the
# package and its development tools. Nothing is fetched when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v Xvfb >/dev/null 2>&1 || need_apt+=(xvfb)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
command -v dciodvfy >/dev/null 2>&1 || need_apt+=(dicom3tools)  # the demo files' IOD check

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  need_apt+=(python3 python3-venv)
  PYTHON=python3
elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need_apt+=(python3-venv)  # Debian splits venv and pip out of the interpreter package
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: these Debian packages are missing: ${need_apt[*]}" >&2
    echo "setup: install them as root (apt-get install ${need_apt[*]}) and run this again" >&2
    exit 2
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need_apt[@]}" >/dev/null
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: clinlabel needs Python 3.11 or newer; $PYTHON is older" >&2
  exit 2
}
# A venv whose pip is missing (made before python3-venv was installed) is made again.
if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when the package's requirements changed since the last install.
stamp=.venv/.clinlabel-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,labelme-check]"
  touch "$stamp"
fi
