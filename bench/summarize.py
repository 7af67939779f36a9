#!/usr/bin/python3
"""Turns the `RESULT {json}` lines of scripts/bench_peers.sh's runs into its tables (Markdown).

  bench/summarize.py RESULTS_FILE

Every line of RESULTS_FILE is one JSON object: a run of epoch_bench (framework tapegrad),
torch_mlp_cnn or torch_layer_models (libtorch), numpy_mlp.py (numpy), a GEMM measurement of gemm_floor (kind gemm) or
a run of second_order_bench / torch_second_order (kind second_order: ms per step, the median over
one process's timed steps; the table gives the median over the processes).
Epoch times are pooled over all runs of a (framework, model, threads) and their median is
reported; inference time, CPU time per epoch and peak RSS are medians over the runs. GEMM throughputs are medians
over the runs of gemm_floor; a model's floor is the sum over its GEMMs of FLOPs per epoch / the
fastest (library, layout) median throughput for that GEMM.
"""
import collections
import json
import statistics
import sys

TRAIN_IMAGES = 60000
MODELS = ("mlp", "cnn", "lstm", "transformer", "resnet")
LABELS = {"mlp": "MLP", "cnn": "CNN", "lstm": "LSTM", "transformer": "Transformer", "resnet": "ResNet"}


def steps_per_epoch(result):
    return TRAIN_IMAGES / result.get("batch", 128)


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main(path):
    runs = collections.defaultdict(list)  # (framework, model, threads) -> [result]
    gemms = collections.defaultdict(list)  # (threads, model, gemm, layout) -> [result]
    gemm_order = {}  # (model, gemm) -> position in gemm_floor's output
    second_order = collections.defaultdict(list)  # (bench, threads, framework) -> [result]
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("kind") == "second_order":
                framework = r["framework"]
                if "OMP_WAIT_POLICY=passive" in r.get("settings", ""):  # threads that sleep at once
                    framework += " (passive)"
                second_order[(r["bench"], r["bench_threads"], framework)].append(r)
            elif r.get("kind") == "gemm":
                gemms[(r["threads"], r["model"], r["gemm"], r["layout"])].append(r)
                gemm_order.setdefault((r["model"], r["gemm"]), len(gemm_order))
            elif "framework" in r:
                runs[(r["framework"], r["model"], r["bench_threads"])].append(r)

    def stat(framework, model, threads, key):
        rs = [r for r in runs.get((framework, model, threads), []) if key in r]
        if not rs:
            return None
        if key == "epoch_s":
            return statistics.median([s for r in rs for s in r["epoch_s"]])
        return statistics.median([r[key] for r in rs])

    # GEMM floors per (threads, model)
    libs = sorted({k[:-len("_gflops")] for rs in gemms.values() for r in rs for k in r if k.endswith("_gflops")},
                  key=lambda l: (l != "openblas", l))
    best = {}  # (threads, model, gemm) -> (gflops, lib, layout, flops_step)
    gemm_rows = collections.defaultdict(list)
    for (threads, model, gemm, layout), rs in gemms.items():
        med = {lib: statistics.median([r[lib + "_gflops"] for r in rs if lib + "_gflops" in r]) for lib in libs
               if any(lib + "_gflops" in r for r in rs)}
        r0 = rs[0]
        gemm_rows[threads].append((model, gemm, layout, r0, med))
        for lib, g in med.items():
            key = (threads, model, gemm)
            if key not in best or g > best[key][0]:
                best[key] = (g, lib, layout, r0["flops_step"] * steps_per_epoch(r0))
    floors = collections.defaultdict(float)
    floors_openblas = collections.defaultdict(float)
    gflop = collections.defaultdict(float)
    # gemm_floor's GFLOP/s are per run of a GEMM; flops_step counts all its runs in a step
    for (threads, model, gemm), (g, lib, layout, flops_epoch) in best.items():
        floors[(threads, model)] += flops_epoch / (g * 1e9)
        gflop[(threads, model)] += flops_epoch / 1e9
        ob = max(med.get("openblas", 0) for (m, gm, lo, r0, med) in gemm_rows[threads] if m == model and gm == gemm)
        if ob > 0:
            floors_openblas[(threads, model)] += flops_epoch / (ob * 1e9)

    thread_counts = sorted({k[2] for k in runs})
    if runs or gemm_rows:
        print_epoch_tables(runs, stat, thread_counts, floors, gemm_rows, libs, best, gemm_order, gflop,
                           floors_openblas)
    if second_order:
        print_second_order(second_order)


def print_second_order(second_order):
    """The WGAN-GP critic step and the MLP Hessian-vector product: median ms per step over the processes."""
    names = {"wgan": "WGAN-GP critic step (64 x 784, critic 784-256-256-1)",
             "hvp": "Hessian-vector product, MNIST MLP (batch 128)"}

    def med(bench, t, fw, key):
        rs = second_order.get((bench, t, fw))
        return statistics.median([r[key] for r in rs]) if rs else None

    print("| benchmark | threads | tapegrad ms/step | libtorch ms/step | tapegrad / libtorch "
          "| tapegrad range | libtorch range | CPU ms/step tapegrad / libtorch | ratio | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(b, t, fw) for b, t, fw in second_order if fw.startswith("tapegrad")},
                  key=lambda k: (k[0] != "wgan", k[1], k[2]))
    for bench, t, tg_fw in keys:
        # each tapegrad variant against libtorch run the same way (sleeping threads or not)
        th_fw = "libtorch" + tg_fw[len("tapegrad"):]
        if (bench, t, th_fw) not in second_order:
            th_fw = "libtorch"
        tg_ms, th_ms = med(bench, t, tg_fw, "step_ms_median"), med(bench, t, th_fw, "step_ms_median")

        def span(fw):
            rs = second_order.get((bench, t, fw))
            return "-" if not rs else f"{min(r['step_ms_median'] for r in rs):.3f}-{max(r['step_ms_median'] for r in rs):.3f}"

        n = "/".join(str(len(second_order.get((bench, t, fw), []))) for fw in (tg_fw, th_fw))
        tg_cpu, th_cpu = med(bench, t, tg_fw, "cpu_ms_per_step"), med(bench, t, th_fw, "cpu_ms_per_step")
        label = names.get(bench, bench) + tg_fw[len("tapegrad"):]
        print(f"| {label} | {t} | {fmt(tg_ms)} | {fmt(th_ms)} | {fmt(ratio(tg_ms, th_ms), 2)} "
              f"| {span(tg_fw)} | {span(th_fw)} | {fmt(tg_cpu)} / {fmt(th_cpu)} | {fmt(ratio(tg_cpu, th_cpu), 2)} "
              f"| {n} |")
    print()
    print("Cross-check (same inputs and initial weights in both programs): first step's loss, last step's loss, "
          "and for the HVP vᵀHv; settings:")
    print()
    for (bench, t, fw), rs in sorted(second_order.items()):
        r = rs[0]
        extra = f", vᵀHv {r['checksum']:.6g}" if bench == "hvp" else ""
        print(f"- {bench} {fw} at {t} thread(s): {len(rs)} runs of {r['steps']} timed steps; {r.get('settings', '')}; "
              f"loss first {r['first_loss']:.6f}, last {r['last_loss']:.6f}{extra}")
    print()


def print_epoch_tables(runs, stat, thread_counts, floors, gemm_rows, libs, best, gemm_order, gflop, floors_openblas):
    print("| model | threads | tapegrad s/epoch | libtorch s/epoch | numpy s/epoch | tapegrad / libtorch "
          "| inference s tapegrad / libtorch | ratio | training peak RSS MiB tapegrad / libtorch | ratio "
          "| peak RSS with inference MiB | GEMM floor s/epoch | tapegrad / floor "
          "| CPU s/epoch tapegrad / libtorch | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for model in MODELS:
        for t in thread_counts:
            tg_e, th_e = stat("tapegrad", model, t, "epoch_s"), stat("libtorch", model, t, "epoch_s")
            np_e = stat("numpy", model, t, "epoch_s")
            tg_i, th_i = stat("tapegrad", model, t, "infer_s"), stat("libtorch", model, t, "infer_s")
            tg_m, th_m = stat("tapegrad", model, t, "train_rss_mib"), stat("libtorch", model, t, "train_rss_mib")
            tg_a, th_a = stat("tapegrad", model, t, "rss_mib"), stat("libtorch", model, t, "rss_mib")
            tg_c, th_c = stat("tapegrad", model, t, "epoch_cpu_s"), stat("libtorch", model, t, "epoch_cpu_s")
            floor = floors.get((t, model))
            if tg_e is None and th_e is None:
                continue
            print(f"| {LABELS[model]} | {t} | {fmt(tg_e)} | {fmt(th_e)} | {fmt(np_e)} | {fmt(ratio(tg_e, th_e), 2)} "
                  f"| {fmt(tg_i, 4)} / {fmt(th_i, 4)} | {fmt(ratio(tg_i, th_i), 2)} "
                  f"| {fmt(tg_m, 0)} / {fmt(th_m, 0)} | {fmt(ratio(tg_m, th_m), 2)} | {fmt(tg_a, 0)} / {fmt(th_a, 0)} "
                  f"| {fmt(floor)} | {fmt(ratio(tg_e, floor), 2)} | {fmt(tg_c)} / {fmt(th_c)} | {fmt(ratio(tg_c, th_c), 2)} |")
    print()
    settings = sorted({(r["framework"], r["model"], r["bench_threads"],
                        r.get("settings", "") + (f"; batch {r['batch']}, {r['dataset']}" if "batch" in r else ""))
                       for rs in runs.values() for r in rs})
    runs_count = {k: (len(v), sum(len(r["epoch_s"]) for r in v), v[0].get("steps")) for k, v in runs.items()}
    print("Runs (processes x timed epochs each; steps per timed epoch, scaled to 60000 images), settings, "
          "accuracy after the run, last epoch's mean loss:")
    print()
    for fw, model, t, s in settings:
        n, e, steps = runs_count[(fw, model, t)]
        acc = stat(fw, model, t, "accuracy")
        loss = stat(fw, model, t, "loss")
        print(f"- {fw} {model} at {t} thread(s): {n} runs, {e} epochs, {steps} steps each; {s}; "
              f"test accuracy {fmt(acc, 2)}%, loss {fmt(loss, 4)}")
    print()
    for t in sorted(gemm_rows):
        print(f"GEMM throughput, GFLOP/s at {t} thread(s) (medians over the runs of gemm_floor; * = fastest for that GEMM):")
        print()
        print("| model | GEMM | layout | M x N x K (calls) | MFLOP/step | " + " | ".join(libs) + " |")
        print("|---|---|---|---|---|" + "---|" * len(libs))
        for model, gemm, layout, r0, med in sorted(gemm_rows[t], key=lambda x: (gemm_order[(x[0], x[1])], x[2])):
            times = f" x{r0['times']}" if r0.get("times", 1) > 1 else ""
            dims = f"{r0['M']}x{r0['N']}x{r0['K']}{' tA' if r0['ta'] else ''}{' tB' if r0['tb'] else ''} ({r0['calls']}){times}"
            b = best[(t, model, gemm)]
            cells = [fmt(med.get(lib), 1) + ("*" if (lib, layout) == (b[1], b[2]) else "") for lib in libs]
            print(f"| {model} | {gemm} | {layout} | {dims} | {r0['flops_step'] / 1e6:.2f} | " + " | ".join(cells) + " |")
        print()
        for model in MODELS:
            if (t, model) in floors:
                print(f"- {LABELS[model]} at {t} thread(s): {gflop[(t, model)]:.1f} GFLOP of GEMM per epoch; floor "
                      f"{floors[(t, model)]:.3f} s/epoch with the fastest library and layout per GEMM, "
                      f"{floors_openblas[(t, model)]:.3f} s with OpenBLAS alone")
        print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
