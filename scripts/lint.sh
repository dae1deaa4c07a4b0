#!/usr/bin/env bash
# Fails if any tracked C++ file differs from what clang-format (the repo's .clang-format)
# makes of it, as Redpanda's lint step does; prints the files. Fix with:
#   git ls-files '*.cc' '*.h' | xargs clang-format -i
# Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."
command -v clang-format > /dev/null || bash scripts/install-deps.sh

unformatted=()
while IFS= read -r file; do
  if ! clang-format --dry-run --Werror "$file" > /dev/null 2>&1; then unformatted+=("$file"); fi
done < <(git ls-files '*.cc' '*.h')
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "not clang-formatted (run clang-format -i on them):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "lint: every C++ file is clang-formatted"
