#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) in build-fuzz/ and runs
# each for a fixed budget, starting from seed corpora that tests/fuzz/make_corpus.py generates.
# Usage: scripts/fuzz.sh [SECONDS per target, default 60]
# A crash, leak, timeout or out-of-memory fails the script; its input is saved as
# build-fuzz/artifacts/<target>/crash-*: fix the bug and copy the file to tests/fuzz/regressions/<target>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
budget=${1:-60}

scripts/setup.sh --fuzz
build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTAPEGRAD_FUZZ=ON -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_idx fuzz_npz

python3 tests/fuzz/make_corpus.py "$build/seeds"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
for target in fuzz_idx fuzz_npz; do
  corpus="$build/corpus/$target" artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $target for ${budget}s"
  # The first folder collects new inputs; the seeds and the regressions are read only.
  "$build/tests/fuzz/$target" -max_total_time="$budget" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$build/seeds/$target" "tests/fuzz/regressions/$target" \
    2>"$build/$target.log" || { tail -n 60 "$build/$target.log"; echo "fuzz: $target FAILED"; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$target.log")
  secs=$(sed -n 's/^stat::.*//; s/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$build/$target.log")
  echo "fuzz: $target: ${runs} executions in ${secs:-$budget} s, no crash, leak or timeout"
done
