#!/usr/bin/env bash
# A development session's driver on the GPU machine (not part of the product): runs the stages named as
# arguments, in order, and sends their output back in $OUT/w.tgz (and the resumable suite's state in
# $OUT/device-state.tgz). From the repository root, with the stripped binary and the libraries it needs
# (libfmt, libsqlite3, libcpp-httplib) in .devbin/, the tutorials in .tutorials/ and the wheels in .whl/
# (py-spy, liger-kernel), carried:
#   CALL_S=560 bash tools/device/session.sh quick candiag suite
# Stages: quick, main, candidates (benchmarks/runner.sh), candiag (candidates with a monitor and py-spy
# dumps), suite (tools/device/run.sh: SUITE_NAME, SUITE_TASKS, SUITE_S or CALL_S, RERUN), serial (the main job's
# three tasks (SERIAL_TASKS) at --jobs 1 (SERIAL_ARGS, e.g. "--jobs 1 --repeat 1" to fit one call) through tools/device/run.sh,
# resumable across calls: SERIAL_NAME; its store comes back in
# device-state.tgz, to hold against the acceptance's with `tritonize compare --stability`, which needs no GPU),
# acceptance (three main jobs and tritonize compare --stability), serve (scripts/serve_load.py, SERVE_N), gputests (GPUTEST_K), probe
# (tools/device/attention_ws_probe.py: tutorial 06's forward with warp_specialize on and off).
set -uo pipefail
export OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /root/w
W=/root/w
T0=$(date +%s)
say() { echo "[$(date +%H:%M:%S) +$(( $(date +%s) - T0 ))s] $*" | tee -a $W/timeline.txt; }
export LD_LIBRARY_PATH=$PWD/.devbin
export BIN=$PWD/.devbin/tritonize
export PYTHONUNBUFFERED=1
if [ ! -e /tmp/site/.done ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/py_spy*.whl && touch /tmp/site/.done
  # The library experts' package goes into the worker's own Python (the engine runs it with a clean environment).
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .whl/liger_kernel*.whl
  python3 -c "import liger_kernel, importlib.metadata as m; print('liger-kernel', m.version('liger-kernel'))"
fi
export PYTHONPATH=/tmp/site
export PATH=/tmp/site/bin:$PATH
export TRITONIZE_PYTHON=python3
export TRITONIZE_TUTORIALS=$PWD/.tutorials
nvidia-smi --query-gpu=name,uuid,driver_version,clocks.max.sm,clocks.sm,temperature.gpu,power.draw,memory.total --format=csv | tee -a $W/timeline.txt
nproc; df -h / /tmp | tee -a $W/timeline.txt
monitor() {  # file interval
  while true; do
    { date +%H:%M:%S; nvidia-smi --query-gpu=utilization.gpu,memory.used,temperature.gpu --format=csv,noheader;
      df -h --output=used,avail / | tail -1; free -g | sed -n 2p;
      ps -eo pid,etimes,pcpu,rss,args --sort=-pcpu | grep -E 'tritonize_worker|python3' | grep -v grep | head -20 | cut -c1-200; } >>"$1" 2>&1
    sleep "$2"
  done
}
spy() {  # file interval count: py-spy dumps of every worker process
  for i in $(seq 1 "$3"); do
    sleep "$2"
    for pid in $(pgrep -f 'tritonize_worker' | head -24); do
      { echo "=== $(date +%H:%M:%S) pid $pid: $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-160)";
        timeout 10 py-spy dump --pid "$pid" 2>&1 | head -40; } >>"$1"
    done
  done
}
for stage in "$@"; do
  say "$stage start"
  case $stage in
    quick|main|candidates)
      OUT=$W/runner JOBS_LIST=${JOBS_LIST:-default} MAIN_TASKS=${MAIN_TASKS:-softmax,layernorm,matmul} \
        bash benchmarks/runner.sh "$stage" 2>&1 | tee -a $W/runner.txt ;;
    candiag)
      monitor $W/candiag-monitor.txt 5 & mpid=$!
      spy $W/candiag-spy.txt 12 4 & spid=$!
      OUT=$W/runner JOBS_LIST=default bash benchmarks/runner.sh candidates 2>&1 | tee -a $W/runner.txt
      kill $mpid $spid 2>/dev/null ;;
    suite)
      monitor $W/suite-monitor.txt 20 & mpid=$!
      mkdir -p .tritonize; [ -d $W/device ] && ln -sfn $W/device .tritonize/device
      LIMIT=${SUITE_S:-$(( ${CALL_S:-565} - ($(date +%s) - T0) ))} TASKS=${SUITE_TASKS:-all} BENCH_ARGS="--repeat 1" BY_GPU_MODEL=1 bash tools/device/run.sh ${SUITE_NAME:-suite} 2>&1 | tail -30 | tee -a $W/suite-call.txt
      kill $mpid 2>/dev/null
      cp -r .tritonize/device $W/ 2>/dev/null ;;
    serial)
      mkdir -p .tritonize; [ -d $W/device ] && ln -sfn $W/device .tritonize/device
      LIMIT=$(( ${CALL_S:-565} - ($(date +%s) - T0) )) TASKS=${SERIAL_TASKS:-softmax,layernorm,matmul} BENCH_ARGS="${SERIAL_ARGS:---jobs 1}" \
        bash tools/device/run.sh ${SERIAL_NAME:-serial} 2>&1 | tail -30 | tee -a $W/serial-call.txt
      cp -r .tritonize/device $W/ 2>/dev/null
      ;;
    acceptance)
      for r in 1 2 3; do
        OUT=$W/acc JOBS_LIST=default MAIN_TASKS=softmax,layernorm,matmul bash benchmarks/runner.sh main 2>&1 | tee -a $W/runner.txt
        mv $W/acc/main-jobs-default.db $W/acc/main$r.db
      done
      $BIN compare $W/acc/main1.db $W/acc/main2.db $W/acc/main3.db --min-kernel-us 10 --stability > $W/acceptance.txt 2>&1
      echo "compare rc=$?" >> $W/acceptance.txt ;;
    serve)
      python3 scripts/serve_load.py --binary $BIN --gpus 0 --task softmax \
        --candidate llm_triton/claude-devsession-oneshot/softmax.py --submissions ${SERVE_N:-36} --clients 4 --no-kill --compare-eval \
        > $W/serve.txt 2>&1; echo "serve rc=$?" >> $W/serve.txt ;;
    probe)
      timeout ${PROBE_S:-240} python3 tools/device/attention_ws_probe.py > $W/probe.txt 2>&1; echo "probe rc=$?" >> $W/probe.txt ;;
    gputests)
      (cd python && TRITONIZE_TESTS_FAIL_AT_ONCE=1 timeout ${GPUTEST_S:-300} python3 -m pytest -q -rs --tb=short -m gpu \
        ${GPUTEST_K:+-k "$GPUTEST_K"} tests/test_gpu.py) > $W/gputests.txt 2>&1; echo "rc=$?" >> $W/gputests.txt ;;
    *) echo "unknown stage $stage" ;;
  esac
  say "$stage end"
done
cp $W/timeline.txt $W/runner.txt "$OUT"/ 2>/dev/null
tar -czf "$OUT/w.tgz" --exclude='*.db-journal' -C /root w 2>/dev/null
ls .tritonize/device/*.db >/dev/null 2>&1 && tar -czf "$OUT/device-state.tgz" -C .tritonize device
ls -la "$OUT"
