#!/usr/bin/env bash
# Builds the release preset and runs the unit and integration tests (benchmarks excluded),
# the integration tests twice: against the dev broker (label integration) and against a real
# 3-node Apache Kafka cluster (label realkafka) that this script starts with scripts/kafka.sh
# before ctest and stops after it.
# Environment:
#   LOYALTY_TEST_LABELS  ctest label regex to run instead of 'unit|integration|realkafka'
#                        (e.g. 'unit', which needs no Java, or 'bench')
#   LOYALTY_TEST_KAFKA_BOOTSTRAP  run the realkafka tests against this cluster instead of
#                        starting one (its platform topics are deleted and recreated per test)
# Extra arguments go to ctest (e.g. scripts/test.sh -R accrual). The exit status is ctest's.
# Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/build.sh release

labels="${LOYALTY_TEST_LABELS:-unit|integration|realkafka}"
if [[ "$labels" == *realkafka* && -z "${LOYALTY_TEST_KAFKA_BOOTSTRAP:-}" ]]; then
  # A cluster that was already running is left running; one started here is stopped here.
  if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
    trap 'bash scripts/kafka.sh stop' EXIT
  fi
  bash scripts/kafka.sh start --brokers=3
  LOYALTY_TEST_KAFKA_BOOTSTRAP="$(bash scripts/kafka.sh bootstrap)"
  export LOYALTY_TEST_KAFKA_BOOTSTRAP
fi
# --no-tests=error: a label regex that selects nothing is a failure, not a silent pass.
status=0
ctest --test-dir build/release --output-on-failure --no-tests=error -L "$labels" "$@" || status=$?
exit "$status"
