#!/usr/bin/env bash
# Builds the release preset and runs the unit and integration tests (benchmarks excluded).
# Environment:
#   LOYALTY_TEST_LABELS  ctest label regex to run instead of 'unit|integration' (e.g. 'bench')
# Extra arguments go to ctest (e.g. scripts/test.sh -R accrual). The exit status is ctest's.
# Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/build.sh release

labels="${LOYALTY_TEST_LABELS:-unit|integration}"
# --no-tests=error: a label regex that selects nothing is a failure, not a silent pass.
exec ctest --test-dir build/release --output-on-failure --no-tests=error -L "$labels" "$@"
