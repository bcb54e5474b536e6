"""Compares the LLM/Expert ratio (and the kernel-time medians) of two or more `bench --json`
reports row by row: how much a figure moves between runs in fresh processes.

usage: python3 scripts/compare_runs.py RUN1.json RUN2.json [...] [--min-size-dim N]
Rows whose every dim is below --min-size-dim (default 0) are listed but not counted in the maximum.
"""

import argparse
import json


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", nargs="+")
    parser.add_argument("--min-size-dim", type=int, default=0)
    args = parser.parse_args()
    runs = [dict(rows(json.load(open(path)))) for path in args.reports]
    worst = 0.0
    print(f"{'task':<10} {'size':<16} {'mode':<9} {'LLM/Expert per run':<28} {'spread':>7}  kernel-time spread B/E/L")
    for key in runs[0]:
        task, _, size, mode = key
        ratios = [run.get(key, {}).get("llm_over_expert") for run in runs]
        s = spread(ratios)
        cols = []
        for column in ("baseline", "expert", "llm"):
            medians = [(run.get(key, {}).get(column, {}).get("kernel_us") or {}).get("median") for run in runs]
            m = spread(medians)
            cols.append("-" if m is None else f"{100 * m:.1f}%")
        counted = all(int(d) >= args.min_size_dim for d in size.split("x"))
        if s is not None and counted:
            worst = max(worst, s)
        shown = " ".join("-" if r is None else f"{r:.3f}" for r in ratios)
        mark = "" if counted else "  (not counted)"
        print(f"{task:<10} {size:<16} {mode:<9} {shown:<28} {'-' if s is None else f'{100 * s:6.2f}%'}  "
              f"{'/'.join(cols)}{mark}")
    print(f"largest LLM/Expert spread over counted rows: {100 * worst:.2f}%")


if __name__ == "__main__":
    main()
