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
python3 scripts/compare_runs.py "$out"/run*.json --min-size-dim 2048 --max-spread 0.03 | tee "$out/compare.txt"
