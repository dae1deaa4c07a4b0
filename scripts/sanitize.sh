#!/usr/bin/env bash
# Builds a sanitizer preset and runs the tests it is for (CI runs both):
#   asan  preset asan-ubsan (build/asan): the unit tests (-L unit) and accrual_integration_test
#         under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer;
#   tsan  preset tsan (build/tsan): the unit tests labelled `concurrency` (group commit,
#         outbox relay, idempotency, concurrent holds and redemptions, the asynchronous
#         core paths, the gRPC server) and redemption_integration_test (the gRPC callback
#         handlers of redemption and accrual as real processes) under ThreadSanitizer.
# Only the targets those tests need are built (a sanitizer build of everything takes too long
# on 2 cores). Any finding fails its test: UBSan does not recover, ASan and TSan halt on the
# first report. Debian's gRPC, protobuf, librdkafka and RocksDB are not instrumented; the
# findings inside them are suppressed in tests/sanitizers/*.supp, each with its reason.
# Usage: scripts/sanitize.sh asan|tsan [extra ctest arguments]. LOYALTY_BUILD_JOBS: parallel
# build jobs (default 2). Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
supp="$root/tests/sanitizers"

kind="${1:-}"
shift || true
case "$kind" in
  asan)
    preset=asan-ubsan
    dir=build/asan
    select=(-L unit)
    extra=(-R '^accrual_integration_test$')
    ;;
  tsan)
    preset=tsan
    dir=build/tsan
    select=(-L concurrency)
    # The callback (asynchronous) gRPC paths run between processes: redemption's Redeem
    # calls accrual's HoldPoints and CaptureHold.
    extra=(-R '^redemption_integration_test$')
    ;;
  *)
    echo "usage: $0 asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac

start=$(date +%s)
bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null

# The test executables of the selected tests (a test is named after its executable;
# core_boundary is a CMake script and has none), plus the binaries the integration tests
# start as processes.
tests() { ctest --test-dir "$dir" -N "$@" | sed -n 's/^ *Test *#[0-9]*: *//p'; }
mapfile -t names < <({
  tests "${select[@]}"
  if [ ${#extra[@]} -gt 0 ]; then tests "${extra[@]}"; fi
} | sort -u)
targets=()
for t in "${names[@]}"; do
  [ "$t" = core_boundary ] || targets+=("$t")
done
case "$kind" in
  asan) targets+=(loyalty-accrual loyalty-devkafka) ;;
  tsan) targets+=(loyalty-accrual loyalty-redemption loyalty-devkafka) ;;
esac
echo "building ${targets[*]}"
cmake --build "$dir" -j"${LOYALTY_BUILD_JOBS:-2}" --target "${targets[@]}"
built=$(date +%s)

export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0"

status=0
ctest --test-dir "$dir" --output-on-failure --no-tests=error "${select[@]}" "$@" || status=$?
if [ ${#extra[@]} -gt 0 ]; then
  ctest --test-dir "$dir" --output-on-failure --no-tests=error "${extra[@]}" "$@" || status=$?
fi
end=$(date +%s)
echo "sanitize.sh $kind: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s"
exit $status
