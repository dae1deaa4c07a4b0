#!/usr/bin/env bash
# Builds the project with a CMake preset (default: release -> build/release).
# Usage: scripts/build.sh [release|debug|asan-ubsan]
# Installs missing Debian packages first (scripts/install-deps.sh), so it works on a fresh
# Debian 12 machine. Runnable from any directory.
set -euo pipefail

cd "$(dirname "$0")/.."

preset="${1:-release}"

bash scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j2
