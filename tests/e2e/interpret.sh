#!/usr/bin/env bash
# End-to-end CLI run on the CPU: every task, all three columns (the expert from the fixture
# tutorials in tests/fixtures), correctness only under the Triton interpreter; then the stored
# run read back: `report` in every format, `leaderboard`, and `compare` of the run with itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set +e
"$root/build/tritonize" bench --tasks all --interpret --tutorials "$root/tests/fixtures/tutorials" \
  --db "$work/e2e.db" --json "$work/e2e.json" --scratch "$work/jobs"
code=$?
set -e
echo "exit code: $code"
bin="$root/build/tritonize"
for format in text md csv json html; do
  "$bin" report --db "$work/e2e.db" --format "$format" > "$work/report.$format"
done
"$bin" leaderboard --db "$work/e2e.db" > "$work/leaderboard.txt"
"$bin" compare --db "$work/e2e.db" 1 1 > "$work/compare.txt"
"${TRITONIZE_PYTHON:-python3}" "$root/tests/e2e/check_e2e.py" "$work/e2e.json" "$work/e2e.db" "$code" "$work"
