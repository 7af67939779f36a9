// The GEMM floor of an MNIST training epoch: every GEMM the MLP and the CNN need per training
// step (forward and backward, batch 128), timed with OpenBLAS's cblas_sgemm and, when built with
// oneDNN, dnnl_sgemm, at the given thread count. A model's floor is the sum over its GEMMs of
// FLOPs per epoch / the best measured throughput for that GEMM: no implementation built on
// these libraries can train an epoch faster than that.
//
//   build/bench/gemm_floor [--threads N] [--reps R]
//
// FLOPs per epoch are 2*M*N*K per step times 60000 / 128 steps (the last, smaller batch counted
// pro rata). Convolutions are lowered by im2col; a convolution's GEMM may be done in any of
// three layouts, all of which are measured, and the fastest counts:
//   batched: W (O, C*9) · col (C*9, B*P)          one GEMM per layer, output (O, B*P)
//   rows:    col (B*P, C*9) · Wᵀ                   one GEMM per layer, output (B*P, O) (channels last)
//   image:   W (O, C*9) · col_i (C*9, P), B times  one GEMM per image
// (P = output pixels per image). The first convolution's input gradient is not needed.
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

constexpr double kStepsPerEpoch = 60000.0 / 128.0;

struct Shape {
  std::size_t M, N, K;
  bool ta, tb;
  std::size_t calls = 1;  // the "image" layout: this many GEMMs (one per image) per step
};

// One GEMM of a training step, and the layouts it can be computed in.
struct Gemm {
  std::string model, name;
  std::vector<std::pair<std::string, Shape>> layouts;
  double flops_per_step() const {
    const Shape& s = layouts.front().second;
    return 2.0 * static_cast<double>(s.M * s.N * s.K * s.calls);
  }
};

Shape dense(std::size_t M, std::size_t N, std::size_t K, bool ta, bool tb) { return {M, N, K, ta, tb, 1}; }

// The three GEMMs of a linear layer y = x·Wᵀ (x (B, in), W (out, in)).
void linear(std::vector<Gemm>& g, const std::string& model, const std::string& layer, std::size_t B,
            std::size_t in, std::size_t out, bool input_grad) {
  g.push_back({model, layer + " y=x.Wt", {{"NT", dense(B, out, in, false, true)}}});
  g.push_back({model, layer + " dW=dYt.x", {{"TN", dense(out, in, B, true, false)}}});
  if (input_grad) g.push_back({model, layer + " dX=dY.W", {{"NN", dense(B, in, out, false, false)}}});
}

// The GEMMs of a 3x3 convolution (C -> O channels, P output pixels per image), im2col lowered.
void conv(std::vector<Gemm>& g, const std::string& model, const std::string& layer, std::size_t B, std::size_t C,
          std::size_t O, std::size_t P, bool input_grad) {
  const std::size_t CK = C * 9, BP = B * P;
  g.push_back({model, layer + " y=W.col",
               {{"batched", dense(O, BP, CK, false, false)},
                {"rows", dense(BP, O, CK, false, true)},
                {"image", {O, P, CK, false, false, B}}}});
  g.push_back({model, layer + " dW=dY.colt",
               {{"batched", dense(O, CK, BP, false, true)},
                {"rows", dense(O, CK, BP, true, false)},
                {"image", {O, CK, P, false, true, B}}}});
  if (input_grad)
    g.push_back({model, layer + " dcol=Wt.dY",
                 {{"batched", dense(CK, BP, O, true, false)},
                  {"rows", dense(BP, CK, O, false, false)},
                  {"image", {CK, P, O, true, false, B}}}});
}

std::vector<Gemm> model_gemms() {
  std::vector<Gemm> g;
  linear(g, "mlp", "fc1 784->256", 128, 784, 256, false);
  linear(g, "mlp", "fc2 256->128", 128, 256, 128, true);
  linear(g, "mlp", "fc3 128->10", 128, 128, 10, true);
  conv(g, "cnn", "conv1 1->32 28x28", 128, 1, 32, 26 * 26, false);
  conv(g, "cnn", "conv2 32->64 13x13", 128, 32, 64, 11 * 11, true);
  linear(g, "cnn", "fc1 1600->128", 128, 1600, 128, true);
  linear(g, "cnn", "fc2 128->10", 128, 128, 10, true);
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

void run_openblas(const Shape& s, Buffers& b) {
  const std::size_t sa = s.M * s.K, sb = s.K * s.N, sc = s.M * s.N;
  for (std::size_t i = 0; i < s.calls; ++i) {
    const bool per_image = s.calls > 1;
    // Per image, each call reads its own slice of the operands that run over pixels: y_i = W.col_i
    // (NN) and dcol_i = Wt.dY_i (TN) write their own C; dW += dY_i.col_iT (NT) accumulates into one.
    const float* A = b.A.data() + (per_image && s.tb ? i * sa : 0);
    const float* B = b.B.data() + (per_image ? i * sb : 0);
    float* C = b.C.data() + (per_image && !s.tb ? i * sc : 0);
    const float beta = per_image && s.tb ? 1.f : 0.f;  // dW accumulates over images
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(s.M), static_cast<blasint>(s.N), static_cast<blasint>(s.K), 1.f, A,
                static_cast<blasint>(s.ta ? s.M : s.K), B, static_cast<blasint>(s.tb ? s.K : s.N), beta, C,
                static_cast<blasint>(s.N));
  }
}

#ifdef TAPEGRAD_BENCH_DNNL
void run_dnnl(const Shape& s, Buffers& b) {
  const std::size_t sa = s.M * s.K, sb = s.K * s.N, sc = s.M * s.N;
  for (std::size_t i = 0; i < s.calls; ++i) {
    const bool per_image = s.calls > 1;
    const float* A = b.A.data() + (per_image && s.tb ? i * sa : 0);
    const float* B = b.B.data() + (per_image ? i * sb : 0);
    float* C = b.C.data() + (per_image && !s.tb ? i * sc : 0);
    const float beta = per_image && s.tb ? 1.f : 0.f;
    if (dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', static_cast<dnnl_dim_t>(s.M), static_cast<dnnl_dim_t>(s.N),
                   static_cast<dnnl_dim_t>(s.K), 1.f, A, static_cast<dnnl_dim_t>(s.ta ? s.M : s.K), B,
                   static_cast<dnnl_dim_t>(s.tb ? s.K : s.N), beta, C, static_cast<dnnl_dim_t>(s.N)) != dnnl_success) {
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
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: gemm_floor [--threads N] [--reps R]\n");
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
  const std::vector<Gemm> gemms = model_gemms();
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
        const int inner = std::max(1, static_cast<int>(2e6 / gemms[g].flops_per_step()));
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

  std::printf("GEMMs of one training step (batch 128), %d threads, medians of %d; GFLOP/s per library\n", threads, reps);
  std::printf("%-5s %-26s %-8s %-22s %8s", "model", "gemm", "layout", "M x N x K (calls)", "MFLOP");
  for (const auto& [lib, run] : libraries) std::printf(" %9s", lib.c_str());
  std::printf("\n");
  std::map<std::string, double> floor_s, floor_openblas_s, gflop;
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
      std::printf("%-5s %-26s %-8s %-22s %8.2f", G.model.c_str(), l == 0 ? G.name.c_str() : "", G.layouts[l].first.c_str(),
                  dims, flops / 1e6);
      for (const auto& [lib, run] : libraries) {
        const double t = best[lib][g][l];
        std::printf(" %9.1f", flops / t / 1e9);
        if (t < fastest) fastest = t, fastest_what = lib + " " + G.layouts[l].first;
        if (lib == "openblas") fastest_openblas = std::min(fastest_openblas, t);
        (void)run;
      }
      std::printf("\n");
      std::printf("RESULT {\"kind\": \"gemm\", \"model\": \"%s\", \"gemm\": \"%s\", \"layout\": \"%s\", \"M\": %zu, "
                  "\"N\": %zu, \"K\": %zu, \"ta\": %d, \"tb\": %d, \"calls\": %zu, \"threads\": %d, \"flops_step\": %.0f",
                  G.model.c_str(), G.name.c_str(), G.layouts[l].first.c_str(), s.M, s.N, s.K, s.ta, s.tb, s.calls,
                  threads, flops);
      for (const auto& [lib, run] : libraries) std::printf(", \"%s_gflops\": %.2f", lib.c_str(), flops / best[lib][g][l] / 1e9);
      std::printf("}\n");
    }
    floor_s[G.model] += fastest * kStepsPerEpoch;
    floor_openblas_s[G.model] += fastest_openblas * kStepsPerEpoch;
    gflop[G.model] += flops * kStepsPerEpoch / 1e9;
  }
  for (const char* model : {"mlp", "cnn"}) {
    std::printf("%s: %.1f GFLOP of GEMM per epoch; floor %.3f s per epoch (best library and layout per GEMM), "
                "%.3f s with OpenBLAS alone\n",
                model, gflop[model], floor_s[model], floor_openblas_s[model]);
    std::printf("RESULT {\"kind\": \"floor\", \"model\": \"%s\", \"threads\": %d, \"gflop\": %.3f, \"floor_s\": %.4f, "
                "\"floor_openblas_s\": %.4f}\n",
                model, threads, gflop[model], floor_s[model], floor_openblas_s[model]);
  }
  return 0;
}
