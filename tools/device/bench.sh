#!/usr/bin/env bash
# On the GPU machine (the device tool): two full bench runs (baseline, expert, LLM) in fresh
# processes, for the stability check of LLM/Expert, then their comparison. Expects the binary in
# .devbin/ and the tutorials in .tutorials/ (both carried, neither committed).
set -uo pipefail
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3} PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}
bin=${BIN:-.devbin/tritonize}
for run in ${RUNS:-1 2}; do
  echo "=== run $run"
  timeout ${RUN_LIMIT:-295} $bin bench --tasks "${TASKS:-all}" --impls "${IMPLS:-baseline,expert,llm}" \
    --tutorials .tutorials --db "$out/tritonize.db" --json "$out/run$run.json" > "$out/run$run.txt" 2>&1
  echo "run $run rc=$?"
done
# The runs are 1 and 2 of one store (a fresh --db); compare prints every cell and the stability verdict.
$bin compare "$out/tritonize.db:1" "$out/tritonize.db:2" --threshold 0.03 --stability | tee "$out/compare.txt"
