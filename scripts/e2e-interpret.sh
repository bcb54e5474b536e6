#!/usr/bin/env bash
# End-to-end CLI run on the CPU: every task, all three columns (the expert from the fixture
# tutorials in tests/fixtures), correctness only under the Triton interpreter.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set +e
"$root/build/tritonize" bench --tasks all --interpret --tutorials "$root/tests/fixtures/tutorials" \
  --db "$work/e2e.db" --json "$work/e2e.json" --scratch "$work/jobs"
code=$?
set -e
echo "exit code: $code"
"${TRITONIZE_PYTHON:-python3}" "$root/scripts/check_e2e.py" "$work/e2e.json" "$work/e2e.db" "$code"
