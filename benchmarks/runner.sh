#!/usr/bin/env bash
# The runner's benchmark (docs/runner.md; figures and method in docs/measurement.md). On a GPU
# machine, from the repository root, after `bash scripts/quickstart.sh` built the binary:
#
#   bash benchmarks/runner.sh [quick] [main] [candidates]     (default: all three)
#
# quick:      the quick test, `tritonize` (softmax, four columns, two processes each)
# main:       the main job, `tritonize bench --tasks $MAIN_TASKS` (default all; the defaults, every
#             LLM set found). The runner issue's figures are for MAIN_TASKS=softmax,layernorm,matmul,
#             the suite of three tasks that `--tasks all` meant when they were set
# candidates: 20 softmax candidates (the shipped one, each a different file), `bench --impls llm
#             --repeat 1`: candidates per GPU-minute
#
# Each runs once per entry of JOBS_LIST (default "default 1": --jobs at its default, then 1),
# in a fresh scratch folder, so that Triton's and Inductor's caches start empty. It prints one line
# per run: wall time, jobs at once, each lane's busy and timing (exclusive) share of the wall time,
# and jobs (candidates) per GPU-minute; OUT (default .tritonize/bench-runner) keeps each run's
# tables, log, JSON and store. BIN (default build/tritonize) and TUTORIALS (default .tutorials)
# can be set; so can any TRITONIZE_* variable.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin=${BIN:-$root/build/tritonize}
out=${OUT:-$root/.tritonize/bench-runner}
tutorials=${TUTORIALS:-$root/.tutorials}
python=${TRITONIZE_PYTHON:-python3}
export TRITONIZE_PYTHON=$python PYTHONUNBUFFERED=1
mkdir -p "$out"
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(quick main candidates)

# 20 copies of the shipped softmax candidate, each its own model folder and file.
candidates_dir() {
  local dir=$out/candidates
  rm -rf "$dir"
  for i in $(seq -w 1 20); do
    mkdir -p "$dir/copy-$i"
    cp "$root"/llm_triton/claude-devsession-oneshot/softmax.{py,meta.json} "$dir/copy-$i/"
    echo "# copy $i" >>"$dir/copy-$i/softmax.py"
  done
  echo "$dir"
}

summary() {  # name jobs wall_s db
  "$python" - "$@" <<'PY'
import json, sqlite3, sys
name, jobs, wall, db = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
env = json.loads(sqlite3.connect(db).execute("SELECT environment FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
runner = env.get("runner", {})
count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
lanes = runner.get("lanes", [])
shares = ", ".join(
    f"{lane['lane']} busy {100 * lane['busy_s'] / wall:.0f}% timing {100 * lane['exclusive_s'] / wall:.0f}%" for lane in lanes
)
per_gpu_minute = count / (wall / 60) / max(1, len(lanes))
print(f"{name:<11} --jobs {jobs:<8} wall {wall:7.1f} s  at once {runner.get('jobs_at_once', '?'):>2}  {count:>3} jobs"
      f"  {per_gpu_minute:5.1f} jobs/GPU-minute  {shares}")
PY
}

run() {  # name jobs args...
  local name=$1 jobs=$2
  shift 2
  local scratch
  scratch=$(mktemp -d)
  local tag=$name-jobs-$jobs
  local extra=()
  [ "$jobs" != default ] && extra=(--jobs "$jobs")
  local started ended rc
  started=$(date +%s.%N)
  TRITONIZE_SCRATCH=$scratch/jobs TRITONIZE_DB=$scratch/store.db TRITONIZE_TUTORIALS=$tutorials \
    TRITONIZE_JOBS=${extra[1]:-0} "$bin" "$@" >"$out/$tag.txt" 2>"$out/$tag.log"
  rc=$?
  ended=$(date +%s.%N)
  cp "$scratch/store.db" "$out/$tag.db" 2>/dev/null
  local wall
  wall=$("$python" -c "print($ended - $started)")
  [ $rc -ne 0 ] && echo "$tag: exit code $rc (see $out/$tag.log)"
  summary "$name" "$jobs" "$wall" "$out/$tag.db"
  rm -rf "$scratch"
}

for jobs in ${JOBS_LIST:-default 1}; do
  for item in "${what[@]}"; do
    case $item in
      quick) run quick "$jobs" ;;
      main) run main "$jobs" bench --tasks "${MAIN_TASKS:-all}" --json "$out/main-jobs-$jobs.json" ;;
      candidates)
        run candidates "$jobs" bench --tasks softmax --impls llm --repeat 1 \
          --llm-dir "$(candidates_dir)" --json "$out/candidates-jobs-$jobs.json" ;;
      *) echo "unknown part: $item (quick, main, candidates)"; exit 2 ;;
    esac
  done
done
