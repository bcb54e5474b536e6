#!/usr/bin/env bash
# On the GPU machine (the device tool): doctor, then two full bench runs in fresh processes,
# for the stability check of LLM/Expert. Expects the binary in .devbin/ and the tutorials in
# .tutorials/ (both carried, neither committed).
set -uo pipefail
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3}
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}
bin=.devbin/tritonize
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
$bin doctor --tutorials .tutorials --db "$out/tritonize.db"
for run in ${RUNS:-1 2}; do
  echo "=== run $run"
  $bin bench --tasks "${TASKS:-all}" --tutorials .tutorials --db "$out/tritonize.db" \
    --json "$out/run$run.json" 2>&1 | tee "$out/run$run.txt"
done
