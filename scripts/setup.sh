#!/usr/bin/env bash
# Installs the Debian 12 packages tapegrad needs to build and test, skipping what is already there.
# Usage: scripts/setup.sh [--fuzz] [extra-package ...]   (--fuzz: clang and libFuzzer for scripts/fuzz.sh)
set -euo pipefail

fuzz_packages=(clang libclang-rt-14-dev)   # opt-in: only scripts/fuzz.sh needs them
extra=()
if [ "${1:-}" = "--fuzz" ]; then
  shift
  extra=("${fuzz_packages[@]}")
fi

packages=(
  cmake g++ ninja-build ccache           # toolchain
  libxtensor-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev   # tensors and BLAS
  libfmt-dev zlib1g-dev libcli11-dev     # formatting, .gz and .npz, command lines
  catch2 python3-numpy                   # tests (numpy reads our .npz files back)
  "${extra[@]}" "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
