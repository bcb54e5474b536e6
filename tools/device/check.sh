#!/usr/bin/env bash
# On the GPU machine: one full bench (sandbox auto), a rerun without the sandbox if the first
# lost CUDA, then the bad-candidate corpus. Binary in .devbin/, tutorials in .tutorials/.
set -uo pipefail
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3} PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}; bin=.devbin/tritonize
timeout ${BENCH_LIMIT:-330} $bin bench --tasks all --tutorials .tutorials --db "$out/tritonize.db" \
  --json "$out/run1.json" > "$out/run1.txt" 2>&1
echo "bench rc=$?"
if grep -q "is_available() is False" "$out/run1.txt"; then
  echo "=== CUDA lost in the sandbox: rerun with --sandbox off"
  timeout 300 $bin bench --tasks all --tutorials .tutorials --db "$out/tritonize.db" --sandbox off \
    --json "$out/run1-nosandbox.json" > "$out/run1-nosandbox.txt" 2>&1
fi
timeout ${CORPUS_LIMIT:-200} bash tools/device/corpus.sh $bin > "$out/corpus.txt" 2>&1
echo "corpus rc=$?"
tail -c 5000 "$out/run1.txt"; tail -n 40 "$out/corpus.txt"
