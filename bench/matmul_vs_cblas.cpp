// tg::matmul (and linear forward + backward) against bare cblas_sgemm at the MLP's first-layer shape:
// float32 (128x784)·(784x256). Not a test and not in CMake; build it against a built tapegrad:
//
//   g++ -O3 -march=native -std=c++17 -DXTENSOR_USE_XSIMD -I build/include bench/matmul_vs_cblas.cpp
//       -o build/matmul_vs_cblas build/libtapegrad.a -lopenblas -lfmt -lz
//   ./build/matmul_vs_cblas [repetitions = 500]      (OPENBLAS_NUM_THREADS=1 for one BLAS thread)
//
// Each repetition runs every variant once, in a shuffled order, so load from other jobs and cache
// effects hit them alike; medians (and quartiles) over the repetitions are printed.
#include <cblas.h>  // no xtensor-blas header in this file: its cblas prototypes clash with these

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cstdio>
#include <functional>
#include <numeric>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace {

// Wall-clock and process CPU time (all threads) of one call, in microseconds. On a loaded machine
// the CPU time is the steadier of the two when OpenBLAS runs one thread (OPENBLAS_NUM_THREADS=1).
struct Sample {
  double wall, cpu;
};

double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
}

Sample micros(const std::function<void()>& f) {
  const double c0 = cpu_now();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::micro>(t1 - t0).count(), cpu_now() - c0};
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void report(const char* name, const std::vector<Sample>& s) {
  std::vector<double> wall, cpu;
  for (const Sample& x : s) wall.push_back(x.wall), cpu.push_back(x.cpu);
  std::sort(wall.begin(), wall.end());
  std::printf("%-46s wall median %8.1f us (q1 %8.1f, q3 %8.1f)   cpu median %8.1f us\n", name,
              wall[wall.size() / 2], wall[wall.size() / 4], wall[3 * wall.size() / 4], median(cpu));
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 500;
  const std::size_t M = 128, K = 784, N = 256;
  tg::Generator gen(1);
  auto random = [&gen](tg::Shape s) {
    tg::Tensor<float> t = tg::Tensor<float>::from_shape(s);
    for (auto& e : t) e = static_cast<float>(gen.uniform(-1, 1));
    return t;
  };
  tg::Tensor<float> A = random({M, K}), B = random({K, N}), W = random({N, K}), bias = random({N});
  tg::Tensor<float> dY = random({M, N});

  tg::Variable<float> a(A), b(B);                                   // constants: matmul records nothing
  tg::Variable<float> x(A), w(W, true), bv(bias, true);             // the MLP's first layer
  std::vector<float> C(M * N), dW(N * K);
  struct Variant {
    const char* name;
    std::function<void()> run;
    std::vector<Sample> samples;
  };
  std::vector<Variant> variants = {
      {"tg::matmul (allocates its output)", [&] { tg::Variable<float> c = tg::matmul(a, b); }, {}},
      {"cblas_sgemm into a preallocated buffer",
       [&] {
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f,
                     C.data(), N);
       },
       {}},
      {"cblas_sgemm into a freshly allocated Tensor",
       [&] {
         tg::Tensor<float> out = tg::Tensor<float>::from_shape({M, N});
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f,
                     out.data(), N);
       },
       {}},
      {"cblas_sgemm on the Variables' own buffers",
       [&] {
         tg::Tensor<float> out = tg::Tensor<float>::from_shape({M, N});
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a.value().data(), K, b.value().data(), N,
                     0.f, out.data(), N);
       },
       {}},
      // linear forward + backward (x needs no gradient: y, dW and db) vs the two GEMMs alone.
      {"tg::linear fwd+bwd (x no grad: y, dW, db)",
       [&] {
         tg::Variable<float> y = tg::linear(x, w, bv);
         y.backward(dY);
         w.zero_grad();
         bv.zero_grad();
       },
       {}},
      {"cblas_sgemm y = x·wT and dW = dYT·x",
       [&] {
         cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, A.data(), K, W.data(), K, 0.f, C.data(),
                     N);
         cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.f, dY.data(), N, A.data(), K, 0.f,
                     dW.data(), K);
       },
       {}},
  };
  std::vector<std::size_t> order(variants.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  for (int r = -20; r < reps; ++r) {  // the first 20 are warm-up
    std::shuffle(order.begin(), order.end(), gen.engine());
    for (std::size_t i : order) {
      const Sample t = micros(variants[i].run);
      if (r >= 0) variants[i].samples.push_back(t);
    }
  }
  std::printf("float32 (128x784)·(784x256), %d repetitions, OpenBLAS threads %d\n", reps, openblas_get_num_threads());
  for (const Variant& v : variants) report(v.name, v.samples);
  return 0;
}
