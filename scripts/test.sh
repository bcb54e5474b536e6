#!/usr/bin/env bash
# The test command (README, .ci/run): builds, runs the C++ unit tests (the HTML report's in
# headless Chromium among them), the worker tests on the CPU with the Triton interpreter, and an
# end-to-end CLI run with --interpret (tests/e2e). GPU-only tests are labelled `gpu` and skipped,
# visibly, without a GPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
eval "$(bash scripts/deps.sh --test)"
export TRITONIZE_PYTHON
# The browser test fails rather than skips when Chromium is missing here (deps.sh --test installs it).
export TRITONIZE_REQUIRE_BROWSER=1
echo "== python: $TRITONIZE_PYTHON"

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRITONIZE_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"

# A one-node Slurm cluster on loopback for the `--launcher slurm` tests (tests/run/launcher_slurm_test.cpp,
# tests/cli/bench_slurm_test.cpp, tests/serve/serve_slurm_test.cpp); they are skipped, visibly, where it
# cannot start (not root, or its ports SLURM_PORT_BASE, default 16817-16818, taken).
slurm_dir=$(mktemp -d)
trap 'bash scripts/slurm-loopback.sh stop "$slurm_dir" >/dev/null 2>&1 || true; rm -rf "$slurm_dir"' EXIT
if [[ $(id -u) -eq 0 ]] && slurm_env=$(bash scripts/slurm-loopback.sh start "$slurm_dir"); then
  eval "$slurm_env"
  export SLURM_CONF
  echo "== slurm: loopback cluster up ($SLURM_CONF)"
else
  echo "== slurm: no loopback cluster (needs root and free ports, SLURM_PORT_BASE): the Slurm tests will be skipped"
fi

echo "== C++ tests (ctest)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "== worker tests (pytest, TRITON_INTERPRET=1)"
"$TRITONIZE_PYTHON" -m ruff check --line-length 120 python studies tests/e2e tests/report benchmarks
(cd python && TRITON_INTERPRET=1 "$TRITONIZE_PYTHON" -m pytest -q -rs tests)

echo "== end to end: tritonize bench --interpret, then report, leaderboard and compare of its run"
bash tests/e2e/interpret.sh

echo "== task lint: tritonize tasks --lint --interpret (fixture tutorials)"
build/tritonize tasks --lint --interpret --tutorials tests/fixtures/tutorials --scratch "$(mktemp -d)"
