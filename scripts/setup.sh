#!/usr/bin/env bash
# Installs the Debian 12 packages tapegrad needs to build and test, skipping what is already there.
# Usage: scripts/setup.sh [--bench] [--fuzz] [--fixtures] [extra-package ...]
#   --bench  also the opt-in packages of the benchmarks in bench/ (scripts/bench_peers.sh)
#   --fuzz   also clang and libFuzzer, for scripts/fuzz.sh
#   --fixtures  also PyTorch, for scripts/torch_state_dict.py and scripts/make_torch_fixtures.py
#            (not needed to build or test: the fixtures they make are committed)
set -euo pipefail

extra=()
for arg in "$@"; do
  case "$arg" in
    --bench) extra+=(libbenchmark-dev libtorch-dev libdnnl-dev time) ;;  # Google Benchmark, the libtorch peer, oneDNN, /usr/bin/time (bench_ab.sh)
    --fuzz) extra+=(clang libclang-rt-14-dev) ;;
    --fixtures) extra+=(python3-torch) ;;  # python3-numpy is always installed
    *) extra+=("$arg") ;;
  esac
done

packages=(
  cmake g++ ninja-build ccache           # toolchain
  libxtensor-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev   # tensors and BLAS
  libfmt-dev zlib1g-dev libcli11-dev     # formatting, .gz files, command lines
  libzip-dev pkgconf                     # .npz files (zip, zip64); pkg-config finds libzip
  libpng-dev                             # the saliency example writes PNG files
  libdnnl-dev                            # oneDNN: the fast float GEMM (OpenBLAS is the fallback)
  catch2 python3-numpy                   # tests (numpy reads our .npz files back)
  ${extra[@]+"${extra[@]}"}
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
