#!/usr/bin/env bash
# Installs Fashion-MNIST (Debian's dataset-fashion-mnist package) into
# /usr/share/datasets/fashion-mnist: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
# Nothing happens when the four files are already there.
#
#   scripts/fetch_fashion_mnist.sh
#   tg::data::FashionMNIST train(tg::data::kFashionMnistDebianDir);
set -euo pipefail

dir=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

present() {
  local f
  for f in "${files[@]}"; do [[ -f "$dir/$f" ]] || return 1; done
}

if present; then
  echo "Fashion-MNIST is already in $dir"
  exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
echo "installing dataset-fashion-mnist with apt-get" >&2
as_root apt-get install -y dataset-fashion-mnist || { as_root apt-get update && as_root apt-get install -y dataset-fashion-mnist; }
if ! present; then
  echo "error: dataset-fashion-mnist is installed but $dir does not hold ${files[*]}" >&2
  exit 1
fi
echo "Fashion-MNIST is in $dir"
