#!/usr/bin/python3
"""The numpy peer of bench/epoch_bench.cpp: the 784-256-128-10 ReLU MLP trained in float32 with
a hand-written forward and backward pass and SGD (lr 0.01, momentum 0.9, torch's rule), batch 128,
in the same sample order. Reports seconds per epoch (median), inference seconds over the test
set and peak RSS; the last line is `RESULT {json}`.

  OPENBLAS_NUM_THREADS=2 bench/peers/numpy_mlp.py [--epochs K] [--steps S] [--warmup W]
                                                   [--data DIR] [--orders FILE] [--infer-reps R]

--orders is the file `epoch_bench --write-orders` writes (K x 60000 little-endian uint32); without
it the data is taken in file order. With --steps S each epoch stops after S batches and its time
is scaled to a whole epoch. numpy's BLAS threads come from OPENBLAS_NUM_THREADS.
"""
import argparse
import json
import os
import resource
import statistics
import time

import numpy as np

BATCH, INFER_BATCH, PIXELS = 128, 1000, 784


def read_split(folder, prefix):
    images = np.fromfile(os.path.join(folder, prefix + "-images-idx3-ubyte"), dtype=np.uint8, offset=16)
    labels = np.fromfile(os.path.join(folder, prefix + "-labels-idx1-ubyte"), dtype=np.uint8, offset=8)
    return images.reshape(-1, PIXELS), labels.astype(np.int64)


def init_linear(rng, fan_in, fan_out):
    """PyTorch's default: weight and bias uniform in +-1/sqrt(fan_in). Weights stored (in, out)."""
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
    b = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
    return w, b


class MLP:
    def __init__(self, seed=1, lr=0.01, momentum=0.9):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in ((784, 256), (256, 128), (128, 10)):
            self.params.extend(init_linear(rng, fan_in, fan_out))
        self.buffers = [None] * len(self.params)
        self.lr, self.momentum = np.float32(lr), np.float32(momentum)

    def forward(self, x):
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = x @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3
        z += b3
        return h1, h2, z

    def step(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.params
        h1, h2, z = self.forward(x)
        n = x.shape[0]
        # softmax cross-entropy (mean) and its gradient
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        dz = p * np.float32(1.0 / n)
        # backward, by hand (h1, h2 are post-ReLU; ReLU's mask is h > 0)
        dw3 = h2.T @ dz
        db3 = dz.sum(axis=0)
        dh2 = dz @ w3.T
        dh2 *= h2 > 0
        dw2 = h1.T @ dh2
        db2 = dh2.sum(axis=0)
        dh1 = dh2 @ w2.T
        dh1 *= h1 > 0
        dw1 = x.T @ dh1
        db1 = dh1.sum(axis=0)
        # SGD with momentum, torch's rule: buf = m * buf + g (buf = g at first), p -= lr * buf
        for i, g in enumerate((dw1, db1, dw2, db2, dw3, db3)):
            if self.buffers[i] is None:
                self.buffers[i] = g.copy()
            else:
                self.buffers[i] *= self.momentum
                self.buffers[i] += g
            self.params[i] -= self.lr * self.buffers[i]
        return float(loss)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="batches per timed epoch (0: all)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--orders", default="")
    ap.add_argument("--infer-reps", type=int, default=3)
    args = ap.parse_args()

    train_x, train_y = read_split(args.data, "train")
    test_x, test_y = read_split(args.data, "t10k")
    n = len(train_y)
    if args.orders:
        orders = np.fromfile(args.orders, dtype="<u4").reshape(-1, n).astype(np.int64)
    else:
        orders = np.arange(n, dtype=np.int64)[None, :]
    batches = (n + BATCH - 1) // BATCH
    steps = batches if args.steps == 0 else min(args.steps, batches)
    scale = 1.0 if args.steps == 0 else n / (steps * BATCH)
    inv255 = np.float32(1.0 / 255.0)

    def batch(order, b):
        idx = order[b * BATCH:(b + 1) * BATCH]
        return train_x[idx].astype(np.float32) * inv255, train_y[idx]

    model = MLP()
    for s in range(args.warmup):
        model.step(*batch(orders[0], s % batches))
    epoch_seconds, last_loss = [], 0.0
    for e in range(args.epochs):
        order = orders[e % len(orders)]
        loss_sum = 0.0
        start = time.perf_counter()
        for s in range(steps):
            loss_sum += model.step(*batch(order, s))
        epoch_seconds.append((time.perf_counter() - start) * scale)
        last_loss = loss_sum / steps
        print(f"epoch {e + 1}: {epoch_seconds[-1]:.3f} s per epoch{' (scaled)' if args.steps else ''}, "
              f"mean loss {last_loss:.4f}", flush=True)

    # the training run's peak, before inference adds its batches
    train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    infer_seconds, accuracy = [], 0.0
    for _ in range(args.infer_reps):
        correct = 0
        start = time.perf_counter()
        for first in range(0, len(test_y), INFER_BATCH):
            x = test_x[first:first + INFER_BATCH].astype(np.float32) * inv255
            correct += int((model.forward(x)[2].argmax(axis=1) == test_y[first:first + INFER_BATCH]).sum())
        infer_seconds.append(time.perf_counter() - start)
        accuracy = 100.0 * correct / len(test_y)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "")
    print(f"mlp, numpy {np.__version__}, OPENBLAS_NUM_THREADS={blas or '(unset)'}: "
          f"{statistics.median(epoch_seconds):.3f} s per epoch (median of {args.epochs}), inference "
          f"{statistics.median(infer_seconds):.4f} s, test accuracy {accuracy:.2f}%, peak RSS {train_rss:.1f} MiB training, {rss:.1f} MiB "
          "with inference")
    print("RESULT " + json.dumps({
        "framework": "numpy", "model": "mlp", "threads": int(blas) if blas.isdigit() else 0, "steps": steps,
        "epoch_s": [round(s, 4) for s in epoch_seconds], "infer_s": round(statistics.median(infer_seconds), 5),
        "train_rss_mib": round(train_rss, 1), "rss_mib": round(rss, 1), "accuracy": round(accuracy, 2), "loss": round(last_loss, 4)}))


if __name__ == "__main__":
    main()
