#!/usr/bin/env bash
# Builds a sanitizer preset and runs the tests it is for (CI runs both):
#   asan  preset asan-ubsan (build/asan): the unit tests (-L unit) and accrual_integration_test
#         under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer;
#   tsan  preset tsan (build/tsan): the unit tests labelled `concurrency` (group commit,
#         outbox relay, idempotency, concurrent holds and redemptions, the asynchronous
#         core paths, the gRPC server) under ThreadSanitizer. redemption_integration_test
#         (the callback handlers as real processes) is not run under TSan yet: with Debian's
#         uninstrumented libgrpc, TSan reports gRPC's own hand-overs between its threads (the
#         server interceptor, callback tags) as races; LOYALTY_TSAN_INTEGRATION=1 runs it.
# Only the targets those tests need are built (a sanitizer build of everything takes too long
# on 2 cores). Any finding fails its test: UBSan does not recover, ASan and TSan halt on the
# first report. Debian's gRPC, protobuf, librdkafka and RocksDB are not instrumented; the
# findings inside them are suppressed in tests/sanitizers/*.supp, each with its reason.
# Usage: scripts/sanitize.sh asan|tsan [ctest filters, e.g. -R common_test]. LOYALTY_BUILD_JOBS: parallel
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
    # calls accrual's HoldPoints and CaptureHold. Opt-in until gRPC's hand-overs are
    # accounted for (see the top of this file).
    extra=()
    if [ "${LOYALTY_TSAN_INTEGRATION:-0}" = 1 ]; then extra=(-R '^redemption_integration_test$'); fi
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
# start as processes. Extra arguments (ctest filters such as -R common_test) narrow both the
# tests and what is built.
tests() { ctest --test-dir "$dir" -N "$@" | sed -n 's/^ *Test *#[0-9]*: *//p'; }
mapfile -t labelled < <(tests "${select[@]}" "$@")
integration=()
if [ ${#extra[@]} -gt 0 ]; then mapfile -t integration < <(tests "${extra[@]}"); fi
if [ $# -gt 0 ]; then
  mapfile -t integration < <(comm -12 <(printf '%s\n' "${integration[@]}" | sort) \
    <(tests "$@" | sort) | sed '/^$/d')
fi
targets=()
for t in "${labelled[@]}" "${integration[@]}"; do
  [ "$t" = core_boundary ] || targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "no test selected" >&2
  exit 1
fi
if [ ${#integration[@]} -gt 0 ]; then
  case "$kind" in
    asan) targets+=(loyalty-accrual loyalty-devkafka) ;;
    tsan) targets+=(loyalty-accrual loyalty-redemption loyalty-devkafka) ;;
  esac
fi
echo "building ${targets[*]}"
cmake --build "$dir" -j"${LOYALTY_BUILD_JOBS:-2}" --target "${targets[@]}"
built=$(date +%s)

export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
# ignore_noninstrumented_modules: an interceptor (memcmp, memcpy, free) called from inside an
# uninstrumented shared library (gRPC, protobuf, librdkafka) reports nothing; races in our
# code are still reported.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$supp/tsan.supp:print_suppressions=0"
if [ "$kind" = tsan ]; then
  # librdkafka's threads made visible to TSan (see the file); inherited by the services that
  # the integration test starts.
  cc -shared -fPIC -O1 "$supp/tsan_thrd_create.c" -o "$dir/libtsan_thrd_create.so" -lpthread
  export LD_PRELOAD="$PWD/$dir/libtsan_thrd_create.so"
fi

# A death test's child forked from a process with threads can deadlock in the sanitizer's
# allocator (accrual_core_test hung for its whole timeout); threadsafe re-executes the binary.
export GTEST_DEATH_TEST_STYLE=threadsafe

status=0
if [ ${#labelled[@]} -gt 0 ]; then
  ctest --test-dir "$dir" --output-on-failure "${select[@]}" "$@" || status=$?
fi
if [ ${#integration[@]} -gt 0 ]; then
  regex="^($(IFS='|'; echo "${integration[*]}"))\$"
  ctest --test-dir "$dir" --output-on-failure -R "$regex" || status=$?
fi
end=$(date +%s)
echo "sanitize.sh $kind: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s"
exit $status
