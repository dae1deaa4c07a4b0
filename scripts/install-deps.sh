#!/usr/bin/env bash
# Installs every Debian 12 package the project builds, tests and runs with.
# Idempotent: packages already present are skipped, so it is cheap to call before each build.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ninja-build git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librdkafka-dev librocksdb-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libjemalloc-dev
  kcat prometheus curl clang-format clang-14 libclang-rt-14-dev llvm-14
  libcurl4-openssl-dev python3-aiosmtpd libssl-dev
  libhowardhinnant-date-dev tzdata
  openjdk-17-jdk-headless maven
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
