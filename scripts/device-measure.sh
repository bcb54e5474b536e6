#!/usr/bin/env bash
# The measurement acceptance of docs/measurement.md, on the GPU machine (the device tool):
# `tritonize calibrate`, then RUNS (default 3) full `bench --tasks all` runs, each in fresh
# processes, then the comparison of the runs (scripts/compare_runs.py). Expects the binary at
# $BIN (default .devbin/tritonize) and the tutorials in .tutorials/ (both carried, neither
# committed). Writes everything under $OUT.
set -uo pipefail
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3}
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}
bin=${BIN:-.devbin/tritonize}
mkdir -p "$out"
export TRITONIZE_CALIBRATION="$out/calibration.json"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active \
  --format=csv | tee "$out/smi.txt"
$bin calibrate --db "$out/tritonize.db" --json "$out/calibrate.json" 2>&1 | tee "$out/calibrate.txt"
reports=()
for run in $(seq 1 "${RUNS:-3}"); do
  echo "=== run $run"
  $bin bench --tasks "${TASKS:-all}" --tutorials .tutorials --db "$out/tritonize.db" \
    --json "$out/run$run.json" ${BENCH_ARGS:-} 2>&1 | tee "$out/run$run.txt"
  reports+=("$out/run$run.json")
done
python3 scripts/compare_runs.py "${reports[@]}" --min-kernel-us 10 --max-spread 0.02 | tee "$out/compare.txt"
