#!/usr/bin/env bash
# The measurement acceptance of docs/measurement.md on the GPU machine (the device tool):
# `tritonize calibrate` once, then RUNS (default 3) full `bench --tasks all` runs, each in fresh
# processes, then the comparison of the runs (`tritonize compare --stability`). A run at the default
# --repeat 2 takes about 13 minutes on the H100, longer than one device call: each run goes
# through tools/device/run.sh, which stops before the call's limit and resumes in the next
# call. So call this script again (same command) until it prints the comparison; it carries on
# where it stopped. Expects the binary at $BIN (default .devbin/tritonize), the tutorials in
# .tutorials/, and, on a fresh machine, the state an earlier call sent back in .devstate/.
# PREFIX (default "run") names the runs, so that a second set with other options (BENCH_ARGS, passed to
# bench) can sit beside the first: PREFIX=tri BENCH_ARGS="--autotune-timer triton" bash tools/device/measure.sh
set -uo pipefail
out=${OUT:-/tmp/out}
deadline=$(( $(date +%s) + ${TOTAL:-570} ))
keep=.tritonize/device
# Before the *.done checks below: on a fresh machine they live in the carried state. (Restoring
# only in tools/device/run.sh, after this loop had looked, once started a finished run again.)
bash tools/device/restore.sh
for run in $(seq 1 "${RUNS:-3}"); do
  [ -f "$keep/${PREFIX:-run}$run.done" ] && continue
  left=$(( deadline - $(date +%s) ))
  [ $left -lt 60 ] && { echo "out of time in this call: call again to go on"; exit 0; }
  LIMIT=$left bash tools/device/run.sh "${PREFIX:-run}$run" | tail -n 3
  [ -f "$keep/${PREFIX:-run}$run.done" ] || { echo "${PREFIX:-run}$run unfinished: call again to go on"; exit 0; }
done
stores=()
for run in $(seq 1 "${RUNS:-3}"); do stores+=("$keep/${PREFIX:-run}$run.db"); done
TRITONIZE_CALIBRATION="$keep/calibration.json" ${BIN:-.devbin/tritonize} compare "${stores[@]}" \
  --min-kernel-us 10 --threshold 0.02 --stability | tee "$out/compare-${PREFIX:-run}.txt"
