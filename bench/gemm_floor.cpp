// The GEMM floor of a training epoch: every GEMM each model needs per training step (forward
// and backward, at the model's batch size), timed with OpenBLAS's cblas_sgemm and, when built
// with oneDNN, dnnl_sgemm, at the given thread count. A model's floor is the sum over its GEMMs of
// FLOPs per epoch / the best measured throughput for that GEMM: no implementation built on
// these libraries can train an epoch faster than that. Models: mlp, cnn (MNIST, batch 128),
// lstm (batch 64), transformer, resnet (batch 128); bench/README.md lists their GEMMs.
//
//   build/bench/gemm_floor [--threads N] [--reps R] [--models "mlp cnn lstm transformer resnet"]
//
// FLOPs per epoch are 2*M*N*K per step times 60000 / batch steps (the last, smaller batch counted
// pro rata). A GEMM repeated within a step (the LSTM's per time step products) is timed once and
// counted as often as it runs. Convolutions are lowered by im2col; a convolution's GEMM may be
// done in any of three layouts, all of which are measured, and the fastest counts:
//   batched: W (O, C*k) · col (C*k, B*P)          one GEMM per layer, output (O, B*P)
//   rows:    col (B*P, C*k) · Wᵀ                   one GEMM per layer, output (B*P, O) (channels last)
//   image:   W (O, C*k) · col_i (C*k, P), B times  one GEMM per image
// (k = kernel taps, P = output pixels per image). The first convolution's input gradient is not
// needed. Attention's products are B x heads independent small GEMMs ("heads" layout).
// Prints a table, then `RESULT {json}` lines for scripts/bench_peers.sh.
#include <cblas.h>
#ifdef TAPEGRAD_BENCH_DNNL
#include <dnnl.h>
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr double kTrainImages = 60000.0;

struct Shape {
  std::size_t M, N, K;
  bool ta, tb;
  std::size_t calls = 1;     // the "image" and "heads" layouts: this many GEMMs per step
  bool independent = false;  // the calls read and write their own A, B and C (attention heads)
};

// One GEMM of a training step, and the layouts it can be computed in.
struct Gemm {
  std::string model, name;
  std::vector<std::pair<std::string, Shape>> layouts;
  std::size_t batch = 128;  // images per step
  std::size_t times = 1;    // runs per step (the LSTM's per time step products)
  double steps_per_epoch() const { return kTrainImages / static_cast<double>(batch); }
  double flops_per_call() const {
    const Shape& s = layouts.front().second;
    return 2.0 * static_cast<double>(s.M * s.N * s.K * s.calls);
  }
  double flops_per_step() const { return flops_per_call() * static_cast<double>(times); }
};

Shape dense(std::size_t M, std::size_t N, std::size_t K, bool ta, bool tb) { return {M, N, K, ta, tb, 1}; }

// The three GEMMs of a linear layer y = x·Wᵀ (x (B, in), W (out, in)).
// The GEMMs of a linear layer y = x·Wᵀ (x (rows, in), W (out, in)); rows = batch x tokens.
void linear(std::vector<Gemm>& g, const std::string& model, const std::string& layer, std::size_t batch,
            std::size_t rows, std::size_t in, std::size_t out, bool input_grad) {
  g.push_back({model, layer + " y=x.Wt", {{"NT", dense(rows, out, in, false, true)}}, batch});
  g.push_back({model, layer + " dW=dYt.x", {{"TN", dense(out, in, rows, true, false)}}, batch});
  if (input_grad) g.push_back({model, layer + " dX=dY.W", {{"NN", dense(rows, in, out, false, false)}}, batch});
}
void linear(std::vector<Gemm>& g, const std::string& model, const std::string& layer, std::size_t B,
            std::size_t in, std::size_t out, bool input_grad) {
  linear(g, model, layer, B, B, in, out, input_grad);
}

// The GEMMs of a convolution (C -> O channels, `taps` kernel taps, P output pixels per image),
// im2col lowered.
void conv(std::vector<Gemm>& g, const std::string& model, const std::string& layer, std::size_t B, std::size_t C,
          std::size_t O, std::size_t P, bool input_grad, std::size_t taps = 9) {
  const std::size_t CK = C * taps, BP = B * P;
  g.push_back({model, layer + " y=W.col",
               {{"batched", dense(O, BP, CK, false, false)},
                {"rows", dense(BP, O, CK, false, true)},
                {"image", {O, P, CK, false, false, B}}}, B});
  g.push_back({model, layer + " dW=dY.colt",
               {{"batched", dense(O, CK, BP, false, true)},
                {"rows", dense(O, CK, BP, true, false)},
                {"image", {O, CK, P, false, true, B}}}, B});
  if (input_grad)
    g.push_back({model, layer + " dcol=Wt.dY",
                 {{"batched", dense(CK, BP, O, true, false)},
                  {"rows", dense(BP, CK, O, false, false)},
                  {"image", {CK, P, O, true, false, B}}}, B});
}

// The LSTM of mnist_lstm: 28 rows of 28 pixels, hidden 128 (gates 4 x 128), batch 64. The input
// projection of all time steps is one GEMM; the recurrent product h_{t-1}·W_hhᵀ runs once per step
// after the first (h_0 = 0), as does its input gradient dG_t·W_hh; the recurrent weight gradient
// is one GEMM over all steps' gate gradients. The images need no gradient.
void lstm(std::vector<Gemm>& g) {
  const std::size_t B = 64, T = 28, I = 28, H = 128, G = 4 * H;
  g.push_back({"lstm", "x.W_iht (all steps)", {{"NT", dense(B * T, G, I, false, true)}}, B});
  g.push_back({"lstm", "dW_ih=dGt.x", {{"TN", dense(G, I, B * T, true, false)}}, B});
  g.push_back({"lstm", "h.W_hht (27 steps)", {{"NT", dense(B, G, H, false, true)}}, B, T - 1});
  g.push_back({"lstm", "dh=dG.W_hh (27 steps)", {{"NN", dense(B, H, G, false, false)}}, B, T - 1});
  g.push_back({"lstm", "dW_hh=dGt.h", {{"TN", dense(G, H, B * (T - 1), true, false)}}, B});
  linear(g, "lstm", "fc 128->10", B, H, 10, true);
}

// The transformer of mnist_transformer: 16 tokens a image, d_model 64, 4 heads of 16,
// feed-forward 128, 2 pre-norm layers, batch 128 (2048 token rows). Attention's four products a
// head (scores, context, and in backward dP, dV, dQ, dK) are B x heads GEMMs of 16 x 16 x 16.
void transformer(std::vector<Gemm>& g) {
  const std::size_t B = 128, L = 16, D = 64, heads = 4, hd = D / heads, F = 128, rows = B * L;
  linear(g, "transformer", "embed 49->64", B, rows, 49, D, false);
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "L" + std::to_string(layer) + " ";
    linear(g, "transformer", p + "in_proj 64->192", B, rows, D, 3 * D, true);
    // M x N x K of each head's product: P, S are L x L; Q, K, V, the context C and their
    // gradients L x hd.
    auto heads_gemm = [&](const std::string& name, std::size_t M, std::size_t N, std::size_t K, bool ta, bool tb) {
      g.push_back({"transformer", p + name, {{"heads", {M, N, K, ta, tb, B * heads, true}}}, B});
    };
    heads_gemm("S=Q.Kt", L, L, hd, false, true);
    heads_gemm("C=P.V", L, hd, L, false, false);
    heads_gemm("dP=dC.Vt", L, L, hd, false, true);
    heads_gemm("dV=Pt.dC", L, hd, L, true, false);
    heads_gemm("dQ=dS.K", L, hd, L, false, false);
    heads_gemm("dK=dSt.Q", L, hd, L, true, false);
    linear(g, "transformer", p + "out_proj 64->64", B, rows, D, D, true);
    linear(g, "transformer", p + "ff1 64->128", B, rows, D, F, true);
    linear(g, "transformer", p + "ff2 128->64", B, rows, F, D, true);
  }
  linear(g, "transformer", "fc 64->10", B, B, D, 10, true);
}

// The ResNet of fashion_resnet, batch 128: stem 1->16 at 28x28, blocks (16,16,1) (16,32,2)
// (32,64,2) (64,64,1), each two 3x3 convolutions plus a 1x1 strided shortcut where the shape
// changes, then 64->10.
void resnet(std::vector<Gemm>& g) {
  const std::size_t B = 128;
  conv(g, "resnet", "stem 1->16 28x28", B, 1, 16, 784, false);
  conv(g, "resnet", "b1.a 16->16 28x28", B, 16, 16, 784, true);
  conv(g, "resnet", "b1.b 16->16 28x28", B, 16, 16, 784, true);
  conv(g, "resnet", "b2.a 16->32 s2 14x14", B, 16, 32, 196, true);
  conv(g, "resnet", "b2.b 32->32 14x14", B, 32, 32, 196, true);
  conv(g, "resnet", "b2.sc 1x1 16->32 s2", B, 16, 32, 196, true, 1);
  conv(g, "resnet", "b3.a 32->64 s2 7x7", B, 32, 64, 49, true);
  conv(g, "resnet", "b3.b 64->64 7x7", B, 64, 64, 49, true);
  conv(g, "resnet", "b3.sc 1x1 32->64 s2", B, 32, 64, 49, true, 1);
  conv(g, "resnet", "b4.a 64->64 7x7", B, 64, 64, 49, true);
  conv(g, "resnet", "b4.b 64->64 7x7", B, 64, 64, 49, true);
  linear(g, "resnet", "fc 64->10", B, 64, 10, true);
}

std::vector<Gemm> model_gemms(const std::string& models) {
  auto wanted = [&](const char* m) { return (" " + models + " ").find(std::string(" ") + m + " ") != std::string::npos; };
  std::vector<Gemm> g;
  if (wanted("mlp")) {
    linear(g, "mlp", "fc1 784->256", 128, 784, 256, false);
    linear(g, "mlp", "fc2 256->128", 128, 256, 128, true);
    linear(g, "mlp", "fc3 128->10", 128, 128, 10, true);
  }
  if (wanted("cnn")) {
    conv(g, "cnn", "conv1 1->32 28x28", 128, 1, 32, 26 * 26, false);
    conv(g, "cnn", "conv2 32->64 13x13", 128, 32, 64, 11 * 11, true);
    linear(g, "cnn", "fc1 1600->128", 128, 1600, 128, true);
    linear(g, "cnn", "fc2 128->10", 128, 128, 10, true);
  }
  if (wanted("lstm")) lstm(g);
  if (wanted("transformer")) transformer(g);
  if (wanted("resnet")) resnet(g);
  return g;
}

using Clock = std::chrono::steady_clock;

// Buffers big enough for any shape, filled once.
struct Buffers {
  std::vector<float> A, B, C;
  explicit Buffers(std::size_t n) : A(n), B(n), C(n) {
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto* v : {&A, &B}) std::generate(v->begin(), v->end(), [&] { return u(gen); });
  }
};

// The operands of call i of a GEMM made of s.calls calls. Per image, each call reads its own
// slice of the operands that run over pixels: y_i = W.col_i (NN) and dcol_i = Wt.dY_i (TN) write
// their own C; dW += dY_i.col_iT (NT) accumulates into one. Independent calls (attention heads)
// each have their own A, B and C.
struct Operands {
  const float* A;
  const float* B;
  float* C;
  float beta;
};

Operands operands(const Shape& s, Buffers& b, std::size_t i) {
  const std::size_t sa = s.M * s.K, sb = s.K * s.N, sc = s.M * s.N;
  const bool per_image = s.calls > 1, own = s.independent;
  return {b.A.data() + (per_image && (s.tb || own) ? i * sa : 0), b.B.data() + (per_image ? i * sb : 0),
          b.C.data() + (per_image && (!s.tb || own) ? i * sc : 0),
          per_image && s.tb && !own ? 1.f : 0.f};  // dW accumulates over images
}

void run_openblas(const Shape& s, Buffers& b) {
  for (std::size_t i = 0; i < s.calls; ++i) {
    const Operands o = operands(s, b, i);
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(s.M), static_cast<blasint>(s.N), static_cast<blasint>(s.K), 1.f, o.A,
                static_cast<blasint>(s.ta ? s.M : s.K), o.B, static_cast<blasint>(s.tb ? s.K : s.N), o.beta, o.C,
                static_cast<blasint>(s.N));
  }
}

#ifdef TAPEGRAD_BENCH_DNNL
void run_dnnl(const Shape& s, Buffers& b) {
  for (std::size_t i = 0; i < s.calls; ++i) {
    const Operands o = operands(s, b, i);
    if (dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', static_cast<dnnl_dim_t>(s.M), static_cast<dnnl_dim_t>(s.N),
                   static_cast<dnnl_dim_t>(s.K), 1.f, o.A, static_cast<dnnl_dim_t>(s.ta ? s.M : s.K), o.B,
                   static_cast<dnnl_dim_t>(s.tb ? s.K : s.N), o.beta, o.C, static_cast<dnnl_dim_t>(s.N)) != dnnl_success) {
      std::fprintf(stderr, "gemm_floor: dnnl_sgemm failed at %zux%zux%zu\n", s.M, s.N, s.K);
      std::exit(1);
    }
  }
}
#endif

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 15;
  std::string models = "mlp cnn lstm transformer resnet";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
    else {
      std::fprintf(stderr, "usage: gemm_floor [--threads N] [--reps R] [--models \"mlp cnn lstm transformer resnet\"]\n");
      return 2;
    }
  }
  openblas_set_num_threads(threads);
  std::vector<std::pair<std::string, std::function<void(const Shape&, Buffers&)>>> libraries = {
      {"openblas", run_openblas}};
#ifdef TAPEGRAD_BENCH_DNNL
  omp_set_num_threads(threads);
  libraries.push_back({"dnnl", run_dnnl});
#endif
  const std::vector<Gemm> gemms = model_gemms(models);
  std::size_t largest = 0;
  for (const Gemm& g : gemms)
    for (const auto& [name, s] : g.layouts) largest = std::max({largest, s.M * s.K * s.calls, s.K * s.N * s.calls, s.M * s.N * s.calls});
  Buffers buffers(largest);

  // seconds[library][gemm][layout]; each library is timed in its own phase (their thread pools
  // would otherwise spin against each other), and within a phase the shapes go in a new random
  // order every repetition so that load from other processes hits them alike.
  std::map<std::string, std::vector<std::vector<double>>> best;
  std::mt19937 gen(2);
  for (const auto& [lib, run] : libraries) {
    std::vector<std::pair<std::size_t, std::size_t>> jobs;
    for (std::size_t g = 0; g < gemms.size(); ++g)
      for (std::size_t l = 0; l < gemms[g].layouts.size(); ++l) jobs.push_back({g, l});
    std::vector<std::vector<std::vector<double>>> samples(gemms.size());
    for (std::size_t g = 0; g < gemms.size(); ++g) samples[g].resize(gemms[g].layouts.size());
    for (int r = -2; r < reps; ++r) {  // two warm-up rounds
      std::shuffle(jobs.begin(), jobs.end(), gen);
      for (auto [g, l] : jobs) {
        const Shape& s = gemms[g].layouts[l].second;
        // Small GEMMs are repeated inside one sample so that each sample lasts >= ~1 ms.
        const int inner = std::max(1, static_cast<int>(2e6 / gemms[g].flops_per_call()));
        const auto t0 = Clock::now();
        for (int k = 0; k < inner; ++k) run(s, buffers);
        const double t = std::chrono::duration<double>(Clock::now() - t0).count() / inner;
        if (r >= 0) samples[g][l].push_back(t);
      }
    }
    auto& m = best[lib];
    m.resize(gemms.size());
    for (std::size_t g = 0; g < gemms.size(); ++g)
      for (auto& v : samples[g]) m[g].push_back(median(v));
  }

  std::printf("GEMMs of one training step, %d threads, medians of %d; GFLOP/s per library\n", threads, reps);
  std::printf("%-11s %-30s %-8s %-22s %8s", "model", "gemm", "layout", "M x N x K (calls)", "MFLOP");
  for (const auto& [lib, run] : libraries) std::printf(" %9s", lib.c_str());
  std::printf("\n");
  std::map<std::string, double> floor_s, floor_openblas_s, gflop;
  std::vector<std::string> order;  // the models in the order of their GEMMs
  for (std::size_t g = 0; g < gemms.size(); ++g) {
    const Gemm& G = gemms[g];
    const double flops = G.flops_per_step();
    double fastest = 1e30, fastest_openblas = 1e30;
    std::string fastest_what;
    for (std::size_t l = 0; l < G.layouts.size(); ++l) {
      const Shape& s = G.layouts[l].second;
      char dims[64];
      std::snprintf(dims, sizeof dims, "%zux%zux%zu%s%s (%zu)", s.M, s.N, s.K, s.ta ? " tA" : "", s.tb ? " tB" : "",
                    s.calls);
      std::printf("%-11s %-30s %-8s %-22s %8.2f", G.model.c_str(), l == 0 ? G.name.c_str() : "", G.layouts[l].first.c_str(),
                  dims, flops / 1e6);
      for (const auto& [lib, run] : libraries) {
        const double t = best[lib][g][l];
        std::printf(" %9.1f", G.flops_per_call() / t / 1e9);
        if (t < fastest) fastest = t, fastest_what = lib + " " + G.layouts[l].first;
        if (lib == "openblas") fastest_openblas = std::min(fastest_openblas, t);
        (void)run;
      }
      std::printf("\n");
      std::printf("RESULT {\"kind\": \"gemm\", \"model\": \"%s\", \"gemm\": \"%s\", \"layout\": \"%s\", \"M\": %zu, "
                  "\"N\": %zu, \"K\": %zu, \"ta\": %d, \"tb\": %d, \"calls\": %zu, \"times\": %zu, \"batch\": %zu, "
                  "\"threads\": %d, \"flops_step\": %.0f",
                  G.model.c_str(), G.name.c_str(), G.layouts[l].first.c_str(), s.M, s.N, s.K, s.ta, s.tb, s.calls,
                  G.times, G.batch, threads, flops);
      for (const auto& [lib, run] : libraries)
        std::printf(", \"%s_gflops\": %.2f", lib.c_str(), G.flops_per_call() / best[lib][g][l] / 1e9);
      std::printf("}\n");
    }
    const double runs_per_epoch = static_cast<double>(G.times) * G.steps_per_epoch();
    floor_s[G.model] += fastest * runs_per_epoch;
    floor_openblas_s[G.model] += fastest_openblas * runs_per_epoch;
    gflop[G.model] += flops * G.steps_per_epoch() / 1e9;
    if (std::find(order.begin(), order.end(), G.model) == order.end()) order.push_back(G.model);
  }
  for (const std::string& m : order) {
    const char* model = m.c_str();
    std::printf("%s: %.1f GFLOP of GEMM per epoch; floor %.3f s per epoch (best library and layout per GEMM), "
                "%.3f s with OpenBLAS alone\n",
                model, gflop[model], floor_s[model], floor_openblas_s[model]);
    std::printf("RESULT {\"kind\": \"floor\", \"model\": \"%s\", \"threads\": %d, \"gflop\": %.3f, \"floor_s\": %.4f, "
                "\"floor_openblas_s\": %.4f}\n",
                model, threads, gflop[model], floor_s[model], floor_openblas_s[model]);
  }
  return 0;
}
