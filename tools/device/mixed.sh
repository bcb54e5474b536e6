#!/usr/bin/env bash
# Issue 5's acceptance on the GPU machine: one softmax `bench` over the good implementations
# (baseline, expert, the shipped LLM candidate, compile) and every bad candidate of tests/corpus
# together, each corpus file as its own model `bad-<name>`; then the verdict table of the corpus
# from that run (tests/e2e/corpus.py --from-bench) and the good columns compared with a run without
# the bad ones (`tritonize compare --stability`). Resumable like tools/device/run.sh (its state in
# .tritonize/device/). Corpus limits as tests/e2e/corpus.py sets them for eval.
set -uo pipefail
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3} PYTHONUNBUFFERED=1
bin=${BIN:-.devbin/tritonize}
llm=.tritonize/mixed-llm
rm -rf "$llm"; mkdir -p "$llm/claude-devsession-oneshot"
cp llm_triton/claude-devsession-oneshot/softmax.* "$llm/claude-devsession-oneshot/"
for f in tests/corpus/*.py; do
  name=$(basename "$f" .py); mkdir -p "$llm/bad-$name"; cp "$f" "$llm/bad-$name/softmax.py"
done
start=$(date +%s)
limits="--timeout 240 --import-timeout 10 --compile-timeout 45 --call-timeout 30 --run-seed 20261125"
TASKS=softmax BENCH_ARGS="--llm-dir $llm $limits ${MIXED_ARGS:-}" LIMIT=${LIMIT:-560} \
  bash tools/device/run.sh mixed | tail -n 45
left=$(( ${TOTAL:-575} - ($(date +%s) - start) ))
if [ -f .tritonize/device/mixed.done ] && [ $left -gt 60 ]; then
  TASKS=softmax BENCH_ARGS="--models claude-devsession-oneshot --llm-dir $llm $limits ${MIXED_ARGS:-}" \
    LIMIT=$left bash tools/device/run.sh clean | tail -n 5
fi
out=${OUT:-/tmp/out}
[ -f .tritonize/device/mixed.json ] && python3 tests/e2e/corpus.py --from-bench .tritonize/device/mixed.json | tee "$out/corpus.txt"
[ -f .tritonize/device/clean.done ] && $bin compare .tritonize/device/clean.db .tritonize/device/mixed.db \
  --min-kernel-us 10 --threshold 0.02 --stability | tee "$out/compare-mixed.txt"
