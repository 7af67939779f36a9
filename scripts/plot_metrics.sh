#!/usr/bin/env bash
# Draws the training curves in a --metrics-json file (written by mnist_mlp, mnist_cnn, saliency)
# as one PNG: train loss per epoch on the left, train and test accuracy on the right.
# Uses gnuplot (Debian's gnuplot-nox, installed with apt-get if missing) and python3's json module.
#
#   build/examples/mnist_mlp --epochs 3 --metrics-json mlp.json
#   scripts/plot_metrics.sh mlp.json mlp_curve.png
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 METRICS_JSON OUT_PNG" >&2
  exit 2
fi
metrics=$1
out=$2
if [[ ! -r $metrics ]]; then
  echo "plot_metrics: cannot read $metrics" >&2
  exit 1
fi

if ! command -v gnuplot > /dev/null; then
  as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
  echo "plot_metrics: installing gnuplot-nox with apt-get" >&2
  as_root apt-get install -y -qq --no-install-recommends gnuplot-nox > /dev/null ||
    { as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends gnuplot-nox > /dev/null; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line per epoch: epoch train_loss train_accuracy test_accuracy; the title goes to its own file.
/usr/bin/python3 - "$metrics" "$work/data" "$work/title" <<'PY'
import json, sys
path, data_path, title_path = sys.argv[1:4]
try:
    with open(path) as f:
        m = json.load(f)
    epochs = m["epochs"]
    rows = [(e["epoch"], e["train_loss"], e["train_accuracy"], e["test_accuracy"]) for e in epochs]
except (OSError, ValueError, KeyError, TypeError) as e:
    sys.exit(f"plot_metrics: {path} is not a metrics file from --metrics-json: {e!r}")
if not rows:
    sys.exit(f"plot_metrics: {path} holds no epochs")
with open(data_path, "w") as f:
    for r in rows:
        f.write("%d %.6f %.4f %.4f\n" % r)
with open(title_path, "w") as f:
    f.write("%s on %s, %s, batch %s: test accuracy %.2f%%" % (
        m.get("model", "?"), m.get("dataset", "?"), m.get("optimizer", "?"), m.get("batch_size", "?"),
        rows[-1][3]))
PY

title=$(cat "$work/title")
epochs=$(wc -l < "$work/data")
gnuplot <<GP
set terminal pngcairo size 900,360 font "Sans,10" noenhanced
set output "$work/plot.png"
set multiplot layout 1,2 title "${title//\"/\\\"}"
set grid lc rgb "#dddddd"
set xlabel "epoch"
set xrange [0.8:$epochs + 0.2]
set xtics 1
set key top right
set ylabel "cross-entropy"
set title "train loss"
plot "$work/data" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "train"
set ylabel "accuracy (%)"
set title "accuracy"
set key bottom right
plot "$work/data" using 1:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "train", \
     "$work/data" using 1:4 with linespoints lw 2 pt 5 lc rgb "#d62728" title "test"
unset multiplot
GP
cp "$work/plot.png" "$out.tmp" && mv "$out.tmp" "$out"  # readers never see half a picture
echo "plot_metrics: wrote $out ($epochs epochs)"
