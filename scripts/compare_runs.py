"""Compares two or more `bench --json` reports row by row: how much a figure moves between runs in fresh processes.

usage: python3 scripts/compare_runs.py RUN1.json RUN2.json [...] [--min-size-dim N] [--min-kernel-us US]
                                       [--max-spread F]

Per row: LLM/Expert per run and its spread; the kernel-time median spread of each column (baseline, expert, LLM,
compile); whether the LLM/Expert 95% intervals of all runs overlap (they share a common point). The acceptance of
docs/measurement.md: every kernel-time median of a kernel >= --min-kernel-us (default 10) within --max-spread
(default 0.02) of the others, and every LLM/Expert interval overlapping. Exits 1 when a counted row fails it.
Rows whose every dim is below --min-size-dim (default 0) are listed but not counted. A failure names the
autotuned configurations when the runs' processes kept different ones (the cells' `tuned`): the usual cause;
a kernel-time failure also gives each kernel's time per run (the jobs' `kernel_median_us`): which kernel moved.
"""

import argparse
import json
import statistics
import sys

COLUMNS = ("baseline", "expert", "llm", "compile")


def rows(report):
    for table in report["tasks"]:
        for row in table["rows"]:
            key = (table["task"], table["llm_name"], row["size"], row["mode"])
            yield key, row


def spread(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    return (max(values) - min(values)) / min(values)


def median_of(row, column):
    cell = (row or {}).get(column) or {}
    return (cell.get("kernel_us") or {}).get("median")


def intervals_overlap(intervals):
    intervals = [i for i in intervals if i and i.get("lo") is not None and i.get("hi") is not None]
    if len(intervals) < 2:
        return None
    return max(i["lo"] for i in intervals) <= min(i["hi"] for i in intervals)


def tuning_differences(per_run, columns):
    """'; '-joined "COLUMN KERNEL: run 1 [A, A], run 2 [A, B]" for each kernel whose processes, over all runs,
    kept more than one configuration; "" when they all agree or the reports do not record it."""
    parts = []
    for column in columns:
        kernels = {}
        for run, row in enumerate(per_run, 1):
            for kernel, configs in (((row or {}).get(column) or {}).get("tuned") or {}).items():
                kernels.setdefault(kernel, []).append((run, configs))
        for kernel, by_run in sorted(kernels.items()):
            if len({config for _, configs in by_run for config in configs}) > 1:
                runs = ", ".join(f"run {run} [{' | '.join(configs)}]" for run, configs in by_run)
                parts.append(f"{column} {kernel}: {runs}")
    return "; ".join(parts)


def implementation_of(column, llm_name):
    return f"llm:{llm_name}" if column == "llm" else column


def kernel_times(report):
    """(task, implementation, size, mode) -> the kernel_median_us maps of its processes, from the report's jobs."""
    times = {}
    for job in report.get("jobs", []):
        for timing in job.get("timings", []):
            per_kernel = timing.get("kernel_median_us")
            if per_kernel:
                key = (job["task"], job["implementation"], timing["size"], timing["mode"])
                times.setdefault(key, []).append(per_kernel)
    return times


def kernel_shifts(per_run_times, shown=3):
    """'; '-joined "KERNEL a/b/c us" for the kernels whose time per call moved most between the runs (each run: the
    median over its processes); "" when the reports do not record per-kernel times."""
    if not all(per_run_times):
        return ""
    names = sorted(set().union(*(per_kernel for processes in per_run_times for per_kernel in processes)))
    moves = []
    for name in names:
        values = [statistics.median(p.get(name, 0.0) for p in processes) for processes in per_run_times]
        moves.append((max(values) - min(values), name, values))
    moves.sort(key=lambda move: -move[0])
    return "; ".join(f"{name} {'/'.join(f'{v:.2f}' for v in values)} us" for _, name, values in moves[:shown])


def gpus_of(report):
    """GPU uuid -> how many of the report's jobs ran on it; {} for reports from workers that did not record it."""
    counts = {}
    for job in report.get("jobs", []):
        uuid = (job.get("environment") or {}).get("gpu_uuid")
        if uuid:
            counts[uuid] = counts.get(uuid, 0) + 1
    return counts


def gpu_lines(per_run_gpus):
    """Which GPU each run's jobs ran on, and a note when a run spans several or the runs differ; [] when unknown."""
    if not any(per_run_gpus):
        return []
    lines = ["GPUs: " + "; ".join(
        f"run {run} " + (", ".join(f"{uuid[:12]} ({n} jobs)" for uuid, n in gpus.items()) or "not recorded")
        for run, gpus in enumerate(per_run_gpus, 1))]
    if any(len(gpus) > 1 for gpus in per_run_gpus):
        lines.append("note: a run spans several GPUs (resumed on another machine): its processes' levels include "
                     "the GPUs' differences")
    elif len({uuid for gpus in per_run_gpus for uuid in gpus}) > 1:
        lines.append("note: the runs ran on different GPUs: their spreads include the GPUs' differences")
    return lines


def autotune_readings(reports, task, implementation, size):
    """'; '-joined "KERNEL: run 1 [picked P vs other O | ...], ..." from the jobs' autotune logs: what each process's
    autotuner read (us) for the configuration it kept and for the best of the others, at `size` (matched against
    the leading parts of the tuning key); "" when the reports do not record it."""
    dims = size.split("x")
    by_kernel = {}
    for run, report in enumerate(reports, 1):
        for job in report.get("jobs", []):
            if (job.get("task"), job.get("implementation")) != (task, implementation):
                continue
            for entry in (job.get("environment") or {}).get("autotune_log") or []:
                if list(entry.get("key") or [])[:len(dims)] != dims:
                    continue
                readings = entry.get("us") or {}
                picked = readings.get(entry.get("picked"))
                others = [us for config, us in readings.items() if config != entry.get("picked") and us is not None]
                text = f"{picked} vs {min(others) if others else '-'}"
                by_kernel.setdefault(entry["kernel"], {}).setdefault(run, []).append(text)
    parts = []
    for kernel, runs in sorted(by_kernel.items()):
        parts.append(f"{kernel}: " + ", ".join(f"run {run} [{' | '.join(texts)}]" for run, texts in runs.items()))
    return "; ".join(parts)


def with_readings(failure, reports, task, size, columns, llm_name):
    lines = []
    for column in columns:
        readings = autotune_readings(reports, task, implementation_of(column, llm_name), size)
        if readings:
            lines.append(f"  {column}'s autotuner read (us), kept vs best other: {readings}")
    return "\n".join([failure, *lines])


def with_tuning(failure, per_run, columns):
    differences = tuning_differences(per_run, columns)
    return f"{failure} (autotuned differently: {differences})" if differences else failure


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", nargs="+")
    parser.add_argument("--min-size-dim", type=int, default=0)
    parser.add_argument("--min-kernel-us", type=float, default=10.0)
    parser.add_argument("--max-spread", type=float, default=0.02)
    parser.add_argument("--tasks", default="", help="comma list: compare only these tasks' rows")
    args = parser.parse_args()
    runs, times, gpus, reports = [], [], [], []
    for path in args.reports:
        with open(path) as file:
            report = json.load(file)
        reports.append(report)
        runs.append(dict(rows(report)))
        times.append(kernel_times(report))
        gpus.append(gpus_of(report))
    worst, failures, compared, missing = 0.0, [], 0, []
    print(f"{'task':<10} {'size':<16} {'mode':<9} {'LLM/Expert per run':<28} {'spread':>7}  CI overlap  "
          "kernel-time spread B/E/L/C")
    for key in runs[0]:
        task, llm_name, size, mode = key
        if args.tasks and task not in args.tasks.split(","):
            continue
        per_run = [run.get(key) for run in runs]
        ratios = [(row or {}).get("llm_over_expert") for row in per_run]
        s = spread(ratios)
        overlap = intervals_overlap([(row or {}).get("llm_over_expert_ci") for row in per_run])
        counted = all(int(d) >= args.min_size_dim for d in size.split("x"))
        cols = []
        for column in COLUMNS:
            medians = [median_of(row, column) for row in per_run]
            m = spread(medians)
            compared += m is not None
            cols.append("-" if m is None else f"{100 * m:.1f}%")
            big = [v for v in medians if v is not None and v >= args.min_kernel_us]
            if counted and m is not None and len(big) == len(runs) and m > args.max_spread:
                failure = f"{task} {size} {mode} {column}: medians {medians} spread {100 * m:.2f}%"
                key_of_job = (task, implementation_of(column, llm_name), size, mode)
                shifts = kernel_shifts([run_times.get(key_of_job, []) for run_times in times])
                failure += f" (per kernel, by run: {shifts})" if shifts else ""
                failures.append(with_readings(with_tuning(failure, per_run, [column]), reports, task, size,
                                              [column], llm_name))
        if counted and any(ratio is None for ratio in ratios) and any(ratio is not None for ratio in ratios):
            missing.append(f"{task} {size} {mode}")
        if counted and overlap is False:
            failure = with_tuning(f"{task} {size} {mode}: LLM/Expert intervals do not overlap", per_run,
                                  ["expert", "llm"])
            failures.append(with_readings(failure, reports, task, size, ["expert", "llm"], llm_name))
        if s is not None and counted:
            worst = max(worst, s)
        shown = " ".join("-" if r is None else f"{r:.3f}" for r in ratios)
        mark = "" if counted else "  (not counted)"
        overlap_text = "-" if overlap is None else ("yes" if overlap else "NO")
        print(f"{task:<10} {size:<16} {mode:<9} {shown:<28} {'-' if s is None else f'{100 * s:6.2f}%'}  "
              f"{overlap_text:<10}  {'/'.join(cols)}{mark}")
    print(f"largest LLM/Expert spread over counted rows: {100 * worst:.2f}%")
    for line in gpu_lines(gpus):
        print(line)
    if compared == 0:
        failures.append("no kernel-time median is in two or more runs: nothing was compared")
    if missing:
        # A run that lacks a row (unfinished, or a failed job) cannot pass: absent is not agreement.
        failures.append(f"{len(missing)} counted row(s) lack LLM/Expert in some run: {', '.join(missing[:4])}")
    for failure in failures:
        print("FAIL " + failure)
    print("acceptance: " + ("FAILED" if failures else "passed") +
          f" (kernel medians >= {args.min_kernel_us:g} us within {100 * args.max_spread:g}%, intervals overlap)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
