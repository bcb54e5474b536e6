#!/usr/bin/env bash
# One command on a fresh GPU machine: install what is missing, build, fetch the Triton
# tutorials (the expert column) if no checkout is known, and run the main job:
# `tritonize bench --tasks all`. Extra arguments go to bench.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
eval "$(bash scripts/deps.sh)"
export TRITONIZE_PYTHON

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target tritonize

if [[ -z "${TRITONIZE_TUTORIALS:-}" && ! -d .tutorials/python/tutorials ]]; then
  version=$("$TRITONIZE_PYTHON" -c 'import triton; print(triton.__version__)')
  echo "quickstart: fetching python/tutorials of triton v$version into .tutorials" >&2
  if git clone -q --depth 1 --filter=blob:none --sparse --branch "v$version" \
      https://github.com/triton-lang/triton .tutorials; then
    git -C .tutorials sparse-checkout set python/tutorials
  else
    echo "quickstart: could not clone the tutorials; the expert column will say so" >&2
    rm -rf .tutorials
  fi
fi
exec build/tritonize bench --tasks all "$@"
