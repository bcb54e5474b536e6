#!/usr/bin/env bash
# One `bench --tasks all` run of the measurement acceptance on the GPU machine (the device
# tool), resumable across device calls: the store lives in .tritonize/device/ (kept on the
# machine between calls while it is warm), and a call that finds the run unfinished resumes
# it with --resume instead of starting again. Stops itself before the device's per-call limit
# (LIMIT seconds, default 560) so that what is done is stored and reported.
#   bash tools/device/run.sh run1            # then, if it said "unfinished", the same again
# Expects the binary at $BIN (default .devbin/tritonize) and the tutorials in .tutorials/.
set -uo pipefail
name=${1:?usage: tools/device/run.sh NAME}
export TRITONIZE_PYTHON=${TRITONIZE_PYTHON:-python3} PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}
bin=${BIN:-.devbin/tritonize}
keep=.tritonize/device
mkdir -p "$out" "$keep"
started=$(date +%s)
bash tools/device/restore.sh
# BY_GPU_MODEL=1 (the session's suite): a run begun on one GPU model goes on only on that model
# (bench --resume refuses another, docs/runner.md); on another, the call runs NAME-<model> instead,
# so that a call which lands on either an H100 or an H200 is never spent on the refusal.
model=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
if [ "${BY_GPU_MODEL:-0}" = 1 ]; then
  if [ -n "$model" ] && [ -f "$keep/$name.gpu" ] && [ "$(cat "$keep/$name.gpu")" != "$model" ]; then
    other=$name-$(printf '%s' "$model" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
    echo "$name ran on $(cat "$keep/$name.gpu"); this machine's GPU is $model: this call runs $other"
    name=$other
  fi
  if [ -n "$model" ] && [ ! -f "$keep/$name.gpu" ]; then echo "$model" > "$keep/$name.gpu"; fi
fi
# Idempotent: a finished run is never started again (a new run would replace its report).
if [ -f "$keep/$name.done" ]; then echo "$name: finished (earlier)"; exit 0; fi
export TRITONIZE_CALIBRATION="$keep/calibration.json"
# The calibration file holds each GPU model's ceilings; a state carried from another model's machine lacks this one's.
if [ ! -f "$TRITONIZE_CALIBRATION" ] || ! grep -qF "\"$model\"" "$TRITONIZE_CALIBRATION"; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active \
    --format=csv | tee "$keep/smi.txt"
  $bin calibrate --json "$keep/calibrate.json" 2>&1 | tee "$keep/calibrate.txt"
fi
resume=()
# RERUN=out-of-memory|failed: a resumed run's stored jobs of that kind run again (bench --rerun).
if [ -f "$keep/$name.db" ]; then resume=(--resume ${RERUN:+--rerun "$RERUN"}); fi
# The calibration above came out of the same allowance.
limit=$(( ${LIMIT:-560} - ($(date +%s) - started) ))
# --stop-after starts no job that would not end in time (no device time spent on work thrown away);
# the timeout stays as the backstop for a job that takes longer than the last one like it.
timeout -s INT "$limit" $bin bench --tasks "${TASKS:-all}" --tutorials .tutorials \
  --db "$keep/$name.db" --json "$keep/$name.json" --stop-after $(( limit > 30 ? limit - 15 : 15 )) \
  ${BENCH_ARGS:-} "${resume[@]}" \
  >>"$keep/$name.txt" 2>>"$keep/$name.log"
rc=$?
echo "bench rc=$rc"
if [ -f "$keep/$name.json" ] && ! grep -q '^tritonize: error' "$keep/$name.log" && [ $rc -ne 130 ] && [ $rc -ne 124 ]; then
  touch "$keep/$name.done"; echo "$name: finished"
else
  echo "$name: unfinished (run the same command again to resume)"
fi
# Back to this machine: the run's report and log, and the whole state (stores included) in one
# archive, so that a later call on a fresh machine can carry it back and resume.
cp "$keep/$name.txt" "$keep/$name.log" "$out"/ 2>/dev/null
[ -f "$keep/$name.json" ] && cp "$keep/$name.json" "$out"/
tar -czf "$out/device-state.tgz" -C .tritonize device
tail -n 40 "$keep/$name.log"
