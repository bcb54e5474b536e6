#!/usr/bin/env bash
# Issue 5's acceptance on the GPU machine: one softmax `bench` over the good implementations
# (baseline, expert, the shipped LLM candidate, compile) and every bad candidate of tests/corpus
# together, each corpus file as its own model `bad-<name>`; then the verdict table of the corpus
# from that run (scripts/corpus.py --from-bench) and the good columns compared with a run without
# the bad ones (scripts/compare_runs.py). Resumable like device-run.sh (its state in
# .tritonize/device/). Corpus limits as scripts/corpus.py sets them for eval.
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
  bash scripts/device-run.sh mixed | tail -n 45
left=$(( ${TOTAL:-575} - ($(date +%s) - start) ))
if [ -f .tritonize/device/mixed.done ] && [ $left -gt 60 ]; then
  TASKS=softmax BENCH_ARGS="--models claude-devsession-oneshot --llm-dir $llm $limits ${MIXED_ARGS:-}" \
    LIMIT=$left bash scripts/device-run.sh clean | tail -n 5
fi
out=${OUT:-/tmp/out}
[ -f .tritonize/device/mixed.json ] && python3 scripts/corpus.py --from-bench .tritonize/device/mixed.json | tee "$out/corpus.txt"
[ -f .tritonize/device/clean.done ] && python3 scripts/compare_runs.py .tritonize/device/clean.json .tritonize/device/mixed.json \
  --min-kernel-us 10 --max-spread 0.02 | tee "$out/compare-mixed.txt"
