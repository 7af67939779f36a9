#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds and runs the whole suite.
# Usage: scripts/test.sh [--sanitize | --tsan]
#   --sanitize  AddressSanitizer + UBSan + LeakSanitizer build of everything in build-asan/
#   --tsan      ThreadSanitizer build in build-tsan/ of the library and the concurrency tests
#               (tests/concurrency, ctest names "concurrency: ..."), run with one OpenMP thread
#               per calling thread: see below
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# ccache then hits across checkouts of the same sources (a CI clone reuses the last run's objects).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"

build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
targets=()
tests=()
case "${1:-}" in
  --sanitize)
    build=build-asan
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE=ON)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --tsan)
    # GCC's libgomp is not built with ThreadSanitizer: its barriers and thread pool synchronise
    # through futexes and atomics TSan cannot see, so an OpenMP parallel region shows up as
    # false races. With OMP_NUM_THREADS=1 no parallel region starts a worker (parallel_blocks,
    # the GEMM split and the convolution loops run on the calling thread), so every thread in the
    # process is one a test started, and TSan sees all of their synchronisation: mutexes,
    # atomics, thread start and join. Within a kernel, the OpenMP threads write disjoint blocks
    # that the ASan and Release suites check for results. oneDNN is left out (its sgemm threads
    # through libgomp as well); float GEMMs then go through OpenBLAS, on one thread.
    build=build-tsan
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_TSAN=ON -DTAPEGRAD_USE_DNNL=OFF)
    targets=(--target test_concurrency)
    tests=(-R "^concurrency:")
    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
    # A report fails the test (exit code 66) and is printed with its stacks.
    export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1
    ;;
  "") ;;
  *) echo "usage: scripts/test.sh [--sanitize | --tsan]" >&2; exit 2 ;;
esac

scripts/setup.sh
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja "${flags[@]}"
cmake --build "$build" -j "$jobs" ${targets[@]+"${targets[@]}"}
ctest --test-dir "$build" --output-on-failure -j "$jobs" ${tests[@]+"${tests[@]}"}
