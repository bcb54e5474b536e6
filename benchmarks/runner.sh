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
# jobs (candidates) per GPU-minute and the machine's CPU busy share (/proc/stat), then the mean wall
# and CPU seconds of each phase of a job and of its steps; OUT (default .tritonize/bench-runner) keeps each run's
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

cpu_ticks() {  # busy and total ticks of every core since boot (/proc/stat)
  awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8 + $9; total = busy + $5 + $6; print busy, total}' /proc/stat
}

summary() {  # name jobs wall_s db cpu_before cpu_after
  "$python" - "$@" <<'PY'
import json, sqlite3, statistics, sys
name, jobs, wall, db = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
(busy0, total0), (busy1, total1) = (map(int, sys.argv[i].split()) for i in (5, 6))
cpu_busy = (busy1 - busy0) / max(1, total1 - total0)
env = json.loads(sqlite3.connect(db).execute("SELECT environment FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
runner = env.get("runner", {})
count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
lanes = runner.get("lanes", [])
shares = ", ".join(
    f"{lane['lane']} busy {100 * lane['busy_s'] / wall:.0f}% timing {100 * lane['exclusive_s'] / wall:.0f}%" for lane in lanes
)
per_gpu_minute = count / (wall / 60) / max(1, len(lanes))
print(f"{name:<11} --jobs {jobs:<8} wall {wall:7.1f} s  at once {runner.get('jobs_at_once', '?'):>2}  {count:>3} jobs"
      f"  {per_gpu_minute:5.1f} jobs/GPU-minute  {shares}  CPU busy {100 * cpu_busy:.0f}%")
# Where a job's time goes: the mean over jobs of each phase's wall and CPU seconds, and of the compare step's.
phases, cpu, steps = {}, {}, {}
for (text,) in sqlite3.connect(db).execute("SELECT environment FROM jobs"):
    env = json.loads(text)
    for key, into in (("phase_s", phases), ("phase_cpu_s", cpu), ("step_s", steps)):
        for phase, seconds in (env.get(key) or {}).items():
            into.setdefault(phase, []).append(seconds)
    for field in ("wall_s", "cpu_s"):
        if isinstance(env.get("compare"), dict) and field in env["compare"]:
            steps.setdefault(f"compare values {field[:-2]}", []).append(env["compare"][field])
    for part, seconds in (env.get("triton_share_s") or {}).items():
        steps.setdefault(f"share {part}", []).append(seconds)
    for step, seconds in (env.get("claim_s") or {}).items():  # waiting for a warm process or a step server
        steps.setdefault(f"claim {step}", []).append(seconds)
    lane = env.get("lane") or {}
    for field in ("exclusive_s", "shared_s", "wait_s"):
        if field in lane:
            steps.setdefault(f"lane {field[:-2]}", []).append(lane[field])
mean = lambda values: statistics.fmean(values) if values else float("nan")
if phases:
    print("            phases, mean s (wall/CPU): " + ", ".join(
        f"{phase} {mean(values):.1f}/{mean(cpu.get(phase, [])):.1f}" for phase, values in phases.items()))
if steps:
    print("            steps, mean s: " + ", ".join(f"{step} {mean(values):.1f}" for step, values in steps.items()))
# GPU memory per task: the runner's estimate a job was admitted by (admitted_gpu_mib, its task's reference included
# where it counted it) against what its steps' allocators held at most (gpu_peak_mib; the CUDA context not counted).
memory = {}
for task, text in sqlite3.connect(db).execute("SELECT task, environment FROM jobs"):
    env = json.loads(text)
    seen = memory.setdefault(task, {"estimate": 0.0, "candidate": 0.0, "reference": 0.0, "compare": 0.0})
    seen["estimate"] = max(seen["estimate"], (env.get("admitted_gpu_mib") or {}).get("job", 0.0))
    for part, key in (("candidate", "gpu_peak_mib"), ("reference", "reference_gpu_peak_mib"),
                      ("compare", "compare_gpu_peak_mib")):
        seen[part] = max(seen[part], env.get(key) or 0.0)
if any(seen["estimate"] or seen["candidate"] for seen in memory.values()):
    print("            GPU memory, MiB (estimate / peak candidate, reference, compare): " + "; ".join(
        f"{task} {m['estimate']:.0f} / {m['candidate']:.0f}, {m['reference']:.0f}, {m['compare']:.0f}"
        for task, m in sorted(memory.items())))
# The critical path: the longest jobs, each with its steps, its lane wait and its exclusive holds (an autotuner
# benchmarks a tuning key's configurations in one).
longest = sqlite3.connect(db).execute(
    "SELECT j.task, i.kind, i.name, j.wall_s, j.environment FROM jobs j JOIN implementations i"
    " ON i.id = j.implementation_id ORDER BY j.wall_s DESC LIMIT 3").fetchall()
for task, kind, impl, job_wall, text in longest:
    env = json.loads(text)
    lane = env.get("lane") or {}
    holds = sum(1 for hold in lane.get("holds", []) if hold[0] == "exclusive")
    step_s = ", ".join(f"{step} {seconds:.1f}" for step, seconds in (env.get("step_s") or {}).items())
    print(f"            longest: {task} {kind}:{impl} {job_wall or 0:.1f} s ({step_s}; lane wait {lane.get('wait_s', 0):.1f} s,"
          f" {holds} exclusive holds, autotune batches {env.get('autotune_batches', '-')})")
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
  local started ended rc cpu_before cpu_after
  cpu_before=$(cpu_ticks)
  started=$(date +%s.%N)
  TRITONIZE_SCRATCH=$scratch/jobs TRITONIZE_DB=$scratch/store.db TRITONIZE_TUTORIALS=$tutorials \
    TRITONIZE_JOBS=${extra[1]:-0} "$bin" "$@" >"$out/$tag.txt" 2>"$out/$tag.log"
  rc=$?
  ended=$(date +%s.%N)
  cpu_after=$(cpu_ticks)
  cp "$scratch/store.db" "$out/$tag.db" 2>/dev/null
  local wall
  wall=$("$python" -c "print($ended - $started)")
  [ $rc -ne 0 ] && echo "$tag: exit code $rc (see $out/$tag.log)"
  summary "$name" "$jobs" "$wall" "$out/$tag.db" "$cpu_before" "$cpu_after"
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
