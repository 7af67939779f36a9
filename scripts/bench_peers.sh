#!/usr/bin/env bash
# Peer comparison: tapegrad against libtorch (C++ frontend) and numpy on the MNIST MLP
# and CNN, and against libtorch on the MNIST row LSTM, the MNIST patch transformer and the
# Fashion-MNIST ResNet (examples/layer_models.hpp), at 1 and 2 threads, plus the GEMM floor of each model; then tapegrad against libtorch
# on two second-order workloads at 2 threads: a WGAN-GP critic step and a Hessian-vector
# product of the MLP's loss. Prints Markdown tables.
#
#   scripts/bench_peers.sh [--quick] [--rounds R] [--epochs K] [--mlp-steps S] [--cnn-steps S]
#                          [--lstm-steps S] [--transformer-steps S] [--resnet-steps S]
#                          [--threads "1 2"] [--models "mlp cnn lstm transformer resnet"] [--passive]
#                          [--infer-reps R] [--gemm-reps R]
#                          [--second-order "wgan hvp"] [--so-rounds R] [--so-steps S]
#                          [--build DIR] [--no-build] [--out DIR]
#
# Full run (default, ~8-12 min on a quiet 2-core machine): 3 rounds; in each round, for each
# thread count, every program runs once as its own process: the MLP for 2 whole epochs, the CNN
# for 2 epochs of 150 steps each (scaled to 60000 images), the LSTM (batch 64) and the transformer
# for 2 x 150 steps, the ResNet for 2 x 40 steps, after 5 warm-up steps, then 3 timed inference
# passes over the 10,000 test images; gemm_floor runs once per round and thread count.
# The order of the programs rotates from round to round. --quick: 2 rounds, MLP 150 steps, CNN 40,
# LSTM and transformer 30, ResNet 10 steps. Epoch times are pooled medians; see bench/summarize.py.
# The ResNet reads Fashion-MNIST from /usr/share/datasets/fashion-mnist (scripts/fetch_fashion_mnist.sh);
# without it both programs time it on MNIST and say so.
# --passive: every program of the epoch comparison runs with OMP_WAIT_POLICY=passive (libtorch also
# OPENBLAS_THREAD_TIMEOUT=4), so idle threads sleep instead of spinning: on a machine shared
# with other busy processes, spinning threads of a 2-thread run slow it down several times.
#
# Second order (after the epochs; --second-order "" skips it, --models "" runs only it): for each
# of --so-rounds alternations (default 7, --quick 3), second_order_bench (tapegrad) and
# torch_second_order (libtorch) each run once per benchmark as their own process, in an order that
# alternates from round to round: 10 warm-up steps, then --so-steps timed steps (default 200,
# --quick 50); each process reports its median step time, the table the median over the processes.
#
# Thread settings (each peer at its best; two thread pools on two cores fight):
#   tapegrad   --threads N (OPENBLAS_NUM_THREADS=N, OMP_NUM_THREADS=N)
#   libtorch   1 thread: set_num_threads(1), OPENBLAS_NUM_THREADS=1
#              2 threads: MLP set_num_threads(1) + OPENBLAS_NUM_THREADS=2; CNN, LSTM, transformer, ResNet
#              set_num_threads(2) + OPENBLAS_NUM_THREADS=1
#   numpy      OPENBLAS_NUM_THREADS=N
#   second order, 2 threads: tapegrad --threads 2; libtorch set_num_threads(1), OPENBLAS_NUM_THREADS=2;
#              each once as is and once with sleeping threads (OMP_WAIT_POLICY=passive, and for
#              libtorch OPENBLAS_THREAD_TIMEOUT=4)
# Installs what is missing with scripts/setup.sh --bench (libtorch-dev for the libtorch peer,
# libdnnl-dev for dnnl_sgemm in the floor, libbenchmark-dev), unless --no-build; builds into
# build-bench/ (Release, -DTAPEGRAD_BUILD_BENCH=ON). The MNIST idx files go to data/mnist.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

args="$*"
rounds=3 epochs=2 mlp_steps=0 cnn_steps=150 lstm_steps=150 transformer_steps=150 resnet_steps=40
threads_list="1 2" models="mlp cnn lstm transformer resnet" infer_reps=3 gemm_reps=15 passive=0
so_benches="wgan hvp" so_rounds=7 so_steps=200
build="$root/build-bench" do_build=1 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds=2 mlp_steps=150 cnn_steps=40 lstm_steps=30 transformer_steps=30 resnet_steps=10 infer_reps=2 gemm_reps=7
             so_rounds=3 so_steps=50 ;;
    --rounds) rounds=$2; shift ;;
    --epochs) epochs=$2; shift ;;
    --mlp-steps) mlp_steps=$2; shift ;;
    --cnn-steps) cnn_steps=$2; shift ;;
    --lstm-steps) lstm_steps=$2; shift ;;
    --transformer-steps) transformer_steps=$2; shift ;;
    --resnet-steps) resnet_steps=$2; shift ;;
    --passive) passive=1 ;;
    --infer-reps) infer_reps=$2; shift ;;
    --gemm-reps) gemm_reps=$2; shift ;;
    --threads) threads_list=$2; shift ;;
    --models) models=$2; shift ;;
    --second-order) so_benches=$2; shift ;;
    --so-rounds) so_rounds=$2; shift ;;
    --so-steps) so_steps=$2; shift ;;
    --build) build=$2; shift ;;
    --no-build) do_build=0 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_peers: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done

data="$root/data/mnist"
[ -f "$data/train-images-idx3-ubyte" ] || scripts/fetch_mnist.sh "$data"
if [ "$do_build" = 1 ]; then
  scripts/setup.sh --bench
  # A new build folder gets only the library and the benchmarks; an existing one (--build build)
  # keeps its tests and examples settings.
  only_bench=()
  [ -f "$build/CMakeCache.txt" ] || only_bench=(-DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF)
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_BENCH=ON ${only_bench[@]+"${only_bench[@]}"} >/dev/null
  targets="epoch_bench gemm_floor second_order_bench"
  cmake --build "$build" --target help | grep '^torch_mlp_cnn:' >/dev/null && targets="$targets torch_mlp_cnn torch_layer_models torch_second_order"
  cmake --build "$build" -j 2 --target $targets >/dev/null
fi
bin="$build/bench"
have_torch=0
[ -x "$bin/torch_mlp_cnn" ] && have_torch=1
[ "$have_torch" = 1 ] || [ -z "${models// /}" ] || echo "bench_peers: no $bin/torch_mlp_cnn (libtorch-dev missing?): libtorch columns stay empty" >&2

out=${out:-$(mktemp -d /tmp/bench_peers.XXXXXX)}
mkdir -p "$out"
results="$out/results.jsonl" log="$out/log.txt"
: >"$results"
: >"$log"
orders="$out/orders.bin"
[ -z "${models// /}" ] || "$bin/epoch_bench" --write-orders "$orders" --epochs "$epochs" --data "$data" >>"$log"

# run NAME THREADS SETTINGS COMMAND...: runs one measured process and keeps its RESULT lines,
# each tagged with the thread count of the comparison and the settings it ran with.
run() {
  local name=$1 threads=$2 settings=$3
  shift 3
  echo "== $name ($settings): $*" >>"$log"
  local output="$out/last_output.txt"
  if ! "$@" >"$output" 2>>"$log" || ! grep -q '^RESULT {' "$output"; then
    cat "$output" >>"$log"
    echo "bench_peers: $name failed (see $log)" >&2
    return 1
  fi
  cat "$output" >>"$log"
  sed -n "s/^RESULT {/{\"bench_threads\": $threads, \"settings\": \"$settings\", /p" "$output" >>"$results"
  printf '  %-20s %s\n' "$name" "$(grep -v '^RESULT' "$output" | tail -n 1 | cut -c1-160)" >&2
}

steps_of() {
  case "$1" in
    mlp) echo "$mlp_steps" ;; cnn) echo "$cnn_steps" ;; lstm) echo "$lstm_steps" ;;
    transformer) echo "$transformer_steps" ;; resnet) echo "$resnet_steps" ;;
    *) echo "bench_peers: unknown model $1" >&2; exit 2 ;;
  esac
}
# the libtorch program of a model
torch_bin() { case "$1" in mlp | cnn) echo "$bin/torch_mlp_cnn" ;; *) echo "$bin/torch_layer_models" ;; esac; }
# --passive: threads sleep when idle (tapegrad's OpenMP pool; libtorch's OpenMP pool and OpenBLAS's threads)
wait_env=() torch_wait_env=() wait_note=""
if [ "$passive" = 1 ]; then
  wait_env=(OMP_WAIT_POLICY=passive) torch_wait_env=(OMP_WAIT_POLICY=passive OPENBLAS_THREAD_TIMEOUT=4)
  wait_note=", OMP_WAIT_POLICY=passive"
fi

start=$(date +%s)
echo "bench_peers: $rounds rounds, threads {$threads_list}, models {$models}, $epochs epochs per run" \
     "(steps: MLP ${mlp_steps/#0/all}, CNN ${cnn_steps/#0/all}, LSTM ${lstm_steps/#0/all}," \
     "transformer ${transformer_steps/#0/all}, ResNet ${resnet_steps/#0/all})${wait_note}; log in $log" >&2
epoch_rounds=$rounds
[ -n "${models// /}" ] || epoch_rounds=0
for ((r = 0; r < epoch_rounds; ++r)); do
  echo "round $((r + 1))/$rounds" >&2
  for t in $threads_list; do
    run "gemm_floor t=$t" "$t" "OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t" \
      env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" ${wait_env[@]+"${wait_env[@]}"} "$bin/gemm_floor" --threads "$t" \
      --reps "$gemm_reps" --models "$models"
    for model in $models; do
      steps=$(steps_of "$model")
      common=(--epochs "$epochs" --steps "$steps" --data "$data" --orders "$orders" --infer-reps "$infer_reps")
      jobs=(tapegrad)
      [ "$have_torch" = 1 ] && [ -x "$(torch_bin "$model")" ] && jobs+=(libtorch)
      [ "$model" = mlp ] && jobs+=(numpy)
      # rotate the order every round so no program always runs right after another
      n=${#jobs[@]}
      for ((j = 0; j < n; ++j)); do
        job=${jobs[$(((j + r) % n))]}
        case "$job" in
          tapegrad)
            run "tapegrad $model t=$t" "$t" "--threads $t$wait_note" env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
              ${wait_env[@]+"${wait_env[@]}"} "$bin/epoch_bench" --model "$model" --threads "$t" "${common[@]}" ;;
          libtorch)
            tt=1 bt=1
            if [ "$t" -ge 2 ]; then
              if [ "$model" = mlp ]; then tt=1 bt=$t; else tt=$t bt=1; fi
            fi
            run "libtorch $model t=$t" "$t" "set_num_threads($tt) OPENBLAS_NUM_THREADS=$bt$wait_note" \
              env OPENBLAS_NUM_THREADS="$bt" OMP_NUM_THREADS="$tt" ${torch_wait_env[@]+"${torch_wait_env[@]}"} \
              "$(torch_bin "$model")" --model "$model" --threads "$tt" "${common[@]}" ;;
          numpy)
            run "numpy mlp t=$t" "$t" "OPENBLAS_NUM_THREADS=$t$wait_note" env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
              ${torch_wait_env[@]+"${torch_wait_env[@]}"} \
              /usr/bin/python3 bench/peers/numpy_mlp.py "${common[@]}" ;;
        esac
      done
    done
  done
done

# Second order at 2 threads. libtorch runs its products through OpenBLAS (2 threads) with a
# 1-thread intra-op pool, its fastest setting here for these small MLPs (as for the MLP epoch; two
# OpenMP threads with the default wait policy are many times slower on a loaded machine).
# Each runs twice: with the default wait policies (idle threads spin between parallel regions) and
# with threads that sleep at once (tapegrad: OMP_WAIT_POLICY=passive; libtorch: also
# OPENBLAS_THREAD_TIMEOUT=4 for OpenBLAS's own threads), which matters when other processes
# share the cores.
if [ -n "$so_benches" ]; then
  have_torch_so=0
  [ -x "$bin/torch_second_order" ] && have_torch_so=1
  [ "$have_torch_so" = 1 ] || echo "bench_peers: no $bin/torch_second_order: second-order libtorch columns stay empty" >&2
  echo "bench_peers: second order {$so_benches}: $so_rounds alternations of $so_steps timed steps per process" >&2
  for ((r = 0; r < so_rounds; ++r)); do
    echo "second-order round $((r + 1))/$so_rounds" >&2
    for b in $so_benches; do
      jobs=(tapegrad tapegrad-passive)
      [ "$have_torch_so" = 1 ] && jobs+=(libtorch libtorch-passive)
      n=${#jobs[@]}
      for ((j = 0; j < n; ++j)); do
        case "${jobs[$(((j + r) % n))]}" in
          tapegrad)
            run "tapegrad $b t=2" 2 "--threads 2" env OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 \
              "$bin/second_order_bench" --bench "$b" --threads 2 --steps "$so_steps" ;;
          tapegrad-passive)
            run "tapegrad $b t=2 passive" 2 "--threads 2, OMP_WAIT_POLICY=passive" env OPENBLAS_NUM_THREADS=2 \
              OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive "$bin/second_order_bench" --bench "$b" --threads 2 --steps "$so_steps" ;;
          libtorch)
            run "libtorch $b t=2" 2 "set_num_threads(1) OPENBLAS_NUM_THREADS=2" env OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=1 \
              "$bin/torch_second_order" --bench "$b" --threads 1 --steps "$so_steps" ;;
          libtorch-passive)
            run "libtorch $b t=2 passive" 2 "set_num_threads(1) OPENBLAS_NUM_THREADS=2, OPENBLAS_THREAD_TIMEOUT=4 OMP_WAIT_POLICY=passive" \
              env OPENBLAS_NUM_THREADS=2 OPENBLAS_THREAD_TIMEOUT=4 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive \
              "$bin/torch_second_order" --bench "$b" --threads 1 --steps "$so_steps" ;;
        esac
      done
    done
  done
fi
elapsed=$(($(date +%s) - start))

{
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
  echo "Command: scripts/bench_peers.sh $args ($rounds rounds, $epochs epochs per run; second order {$so_benches}:" \
       "$so_rounds alternations, $so_steps steps; ${elapsed} s)"
  echo
  /usr/bin/python3 bench/summarize.py "$results"
} | tee "$out/summary.md"
echo "bench_peers: results in $out (summary.md, results.jsonl, log.txt)" >&2
