#!/usr/bin/env bash
# The main quick-start command: installs what is missing, fetches MNIST, builds, and trains the MLP.
# Usage: scripts/train_mnist.sh [mnist_mlp options...]   e.g. scripts/train_mnist.sh --epochs 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/setup.sh
scripts/fetch_mnist.sh "$root/data/mnist"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target mnist_mlp
exec build/examples/mnist_mlp --data "$root/data/mnist" "$@"
