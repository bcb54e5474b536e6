#!/usr/bin/env bash
# Installs what tritonize needs and is missing: Debian packages for the engine (and Slurm with
# munge, for the tests of `serve --launcher slurm` on a loopback cluster), a Python venv (torch,
# triton) for the worker unless a Python that has them is already given.
# Prints nothing to stdout but `export TRITONIZE_PYTHON=...`, so callers can eval it.
# --test: also what only the tests need (headless Chromium, which renders the HTML report).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

apt_packages=(cmake g++ make pkg-config libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libfmt-dev libsqlite3-dev libcurl4-openssl-dev libgtest-dev libcpp-httplib-dev python3-venv
  slurmctld slurmd slurm-client munge)
if [[ "${1:-}" == "--test" ]]; then
  apt_packages+=(chromium)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

# A Python that already has torch and triton (a GPU machine's system Python) is used as is.
if [[ -n "${TRITONIZE_PYTHON:-}" ]]; then
  echo "export TRITONIZE_PYTHON=$TRITONIZE_PYTHON"
  exit 0
fi
if [[ "${TRITONIZE_FORCE_VENV:-0}" != 1 ]] && python3 -c 'import torch, triton, numpy' 2>/dev/null; then
  echo "export TRITONIZE_PYTHON=$(command -v python3)"
  exit 0
fi

# Otherwise a venv, cached by the hash of the requirements so CI reuses it between runs.
hash=$(sha256sum "$root/python/requirements.txt" | cut -c1-12)
venv="${TRITONIZE_VENV_CACHE:-$HOME/.cache/tritonize}/venv-$hash"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import torch, triton' 2>/dev/null; then
  echo "deps: creating $venv (torch, triton: a few GB, once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/python/requirements.txt" >&2
fi
# The experts' libraries, pinned apart and without dependencies: the venv keeps its hash (a no-op once there).
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$root/python/requirements-experts.txt" >&2 ||
  echo "deps: could not install python/requirements-experts.txt: the library experts will say so" >&2
echo "export TRITONIZE_PYTHON=$venv/bin/python"
