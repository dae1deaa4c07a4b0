#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: bugprone, performance and modernize subsets) on the given
# files, or on every domain core source (services/*/core/*.cc) by default, against the
# release build's compile_commands.json. Exits non-zero on any finding.
# Usage: scripts/tidy.sh [file.cc ...]
set -euo pipefail

cd "$(dirname "$0")/.."
command -v clang-tidy > /dev/null || {
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get install -y -qq clang-tidy
}
[ -f build/release/compile_commands.json ] || bash scripts/build.sh release

files=("$@")
if [ ${#files[@]} -eq 0 ]; then mapfile -t files < <(ls services/*/core/*.cc); fi
failed=0
for file in "${files[@]}"; do
  out=$(clang-tidy -p build/release --quiet "$file" 2> /dev/null || true)
  if grep -E "(warning|error):" <<< "$out"; then failed=1; fi
done
if [ "$failed" -ne 0 ]; then
  echo "tidy: findings above" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files, no findings"
