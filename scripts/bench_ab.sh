#!/usr/bin/env bash
# Compares two builds of epoch_bench (say, before and after a change) on one model: runs them
# alternately, A B B A A B ..., so that the machine's drift hits both alike, and prints the
# medians of the epoch time and of the process CPU time (user + system) of each, and B / A.
#
#   scripts/bench_ab.sh A_EPOCH_BENCH B_EPOCH_BENCH [--model mlp|cnn] [--threads N] [--rounds R]
#                       [--steps S] [--data DIR]
# Defaults: cnn, 1 thread, 7 rounds, 60 steps (the first S batches of one epoch, timed and scaled to
# a whole epoch by epoch_bench), MNIST in data/mnist.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,9p "$0"; exit 2; }
a=$1 b=$2
shift 2
model=cnn threads=1 rounds=7 steps=60 data=data/mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "bench_ab: unknown option $1" >&2; exit 2 ;;
  esac
done
for bin in "$a" "$b"; do [ -x "$bin" ] || { echo "bench_ab: $bin is not an executable" >&2; exit 2; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$a" --write-orders "$work/orders" --epochs 1 >/dev/null

run() {  # run LABEL BINARY: appends "epoch_seconds cpu_seconds" to $work/LABEL
  local out
  out=$( { /usr/bin/time -f "CPU %U %S" "$2" --model "$model" --threads "$threads" --epochs 1 --steps "$steps" \
           --warmup 5 --orders "$work/orders" --infer-reps 0 --data "$data"; } 2>&1)
  local epoch cpu
  epoch=$(sed -n 's/^RESULT .*"epoch_s": \[\([0-9.]*\)\].*/\1/p' <<<"$out")
  cpu=$(awk '/^CPU /{print $2 + $3}' <<<"$out")
  [ -n "$epoch" ] && [ -n "$cpu" ] || { echo "$out" >&2; echo "bench_ab: $2 gave no result" >&2; exit 1; }
  echo "$epoch $cpu" >>"$work/$1"
  echo "round $round $1: epoch ${epoch} s, cpu ${cpu} s"
}
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) = 1 ]; then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
done
python3 - "$work/A" "$work/B" "$model" "$threads" "$rounds" "$steps" <<'PY'
import statistics, sys
a = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
b = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
med = lambda rows, i: statistics.median(r[i] for r in rows)
print(f"model {sys.argv[3]}, {sys.argv[4]} thread(s), {sys.argv[5]} rounds of {sys.argv[6]} steps")
print("| | A | B | B / A |")
print("|---|---|---|---|")
for i, name in ((0, "epoch s (median)"), (1, "process CPU s (median)")):
    print(f"| {name} | {med(a, i):.3f} | {med(b, i):.3f} | {med(b, i) / med(a, i):.3f} |")
PY
