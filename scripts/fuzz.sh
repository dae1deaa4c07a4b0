#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang 14, ASan + UBSan, build/fuzz) and runs each
# for a bounded time, starting from its seed corpus tests/fuzz/corpus/<target>/ (every input
# there runs first, so the corpus is also the regression suite). Any crash, leak, UBSan
# finding, timeout or failed FUZZ_CHECK fails the script; the input that caused it is copied
# into the target's corpus folder, to be committed with the fix as a regression input.
# Inputs the run discovers go to a temporary folder, not into the repository.
# Usage: scripts/fuzz.sh [seconds per target, default 20] [target ...]
# Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"
seconds="${1:-20}"
shift || true

start=$(date +%s)
bash scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j2 --target fuzzers
built=$(date +%s)

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd tests/fuzz && ls ./*_fuzzer.cc | sed 's|^\./||; s|\.cc$||')
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"  # the targets' stores
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tests/sanitizers/ubsan.supp"

failed=()
for t in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$t"
  mkdir -p "$corpus" "$work/$t/new" "$work/$t/artifacts"
  dict=()
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  echo "== $t: ${seconds} s from $(ls "$corpus" | wc -l) seed(s)"
  if "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$work/$t/artifacts/" "$work/$t/new" "$corpus" \
      >"$work/$t/log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$work/$t/log" | tail -2 || true
  else
    failed+=("$t")
    tail -60 "$work/$t/log"
    for a in "$work/$t/artifacts"/*; do
      [ -e "$a" ] || continue
      cp "$a" "$corpus/regression-$(basename "$a")"
      echo "saved $corpus/regression-$(basename "$a"): fix the bug, commit the input"
    done
  fi
done
end=$(date +%s)
echo "fuzz.sh: build $((built - start)) s, fuzzing $((end - built)) s, total $((end - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
