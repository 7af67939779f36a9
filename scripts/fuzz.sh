#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined, the whole library
# instrumented) in build-fuzz/ and runs each for a fixed budget: fuzz_idx and fuzz_npz from seed
# corpora that tests/fuzz/make_corpus.py generates, fuzz_api (programs of API calls) from nothing.
# Usage: scripts/fuzz.sh [SECONDS per target, default 60]
# A crash, leak, timeout or out-of-memory fails the script; its input is saved as
# build-fuzz/artifacts/<target>/crash-*: fix the bug and copy the file to tests/fuzz/regressions/<target>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# ccache then hits across checkouts of the same sources (a CI clone reuses the last run's objects).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
budget=${1:-60}

scripts/setup.sh --fuzz
build=build-fuzz
# Without oneDNN: it threads through GCC's libgomp, and clang's -fopenmp brings LLVM's libomp.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTAPEGRAD_FUZZ=ON -DTAPEGRAD_USE_DNNL=OFF -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_idx fuzz_npz fuzz_api

python3 tests/fuzz/make_corpus.py "$build/seeds"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Shorter allocation stacks (5 frames) in reports: recording 30 per malloc costs more than the run.
export ASAN_OPTIONS=detect_leaks=1:malloc_context_size=5
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # the inputs are small: no worker threads
for target in fuzz_idx fuzz_npz fuzz_api; do
  corpus="$build/corpus/$target" artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts" "$build/seeds/$target"
  # A program of API calls needs few bytes; longer inputs only make each run slower. Its runs are
  # short and cover many features, so libFuzzer's entropic scheduling (which updates per-feature
  # frequencies on every run) would take most of the time.
  extra=()
  [ "$target" = fuzz_api ] && extra=(-max_len=256 -entropic=0)
  echo "fuzz: $target for ${budget}s"
  # The first folder collects new inputs; the seeds and the regressions are read only.
  "$build/tests/fuzz/$target" -max_total_time="$budget" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    ${extra[@]+"${extra[@]}"} -artifact_prefix="$artifacts/" "$corpus" "$build/seeds/$target" "tests/fuzz/regressions/$target" \
    2>"$build/$target.log" || { tail -n 60 "$build/$target.log"; echo "fuzz: $target FAILED"; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$target.log")
  secs=$(sed -n 's/^stat::.*//; s/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$build/$target.log")
  echo "fuzz: $target: ${runs} executions in ${secs:-$budget} s, no crash, leak or timeout"
done
