// tg::matmul (and linear forward + backward) against bare cblas_sgemm at the MLP's first-layer shape:
// float32 (128x784)·(784x256). Not a test and not in CMake; build it against a built tapegrad:
//
//   g++ -O3 -march=native -std=c++17 -DXTENSOR_USE_XSIMD -I build/include bench/matmul_vs_cblas.cpp \
//       -o build/matmul_vs_cblas build/libtapegrad.a -lopenblas -lfmt -lz && ./build/matmul_vs_cblas
//
// Each repetition times every variant back to back, so load from other jobs hits them alike; the
// medians (and quartiles) over the repetitions are printed.
#include <cblas.h>  // no xtensor-blas in this TU, so the raw cblas header is fine (TOOLCHAIN pitfall 1)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include <tapegrad/tapegrad.hpp>

namespace {

double micros(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

void report(const char* name, std::vector<double> t) {
  std::sort(t.begin(), t.end());
  std::printf("%-52s median %8.1f us  (q1 %8.1f, q3 %8.1f)\n", name, t[t.size() / 2], t[t.size() / 4],
              t[3 * t.size() / 4]);
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
  std::vector<float> C(M * N), dX(M * K), dW(N * K);

  tg::Variable<float> a(A), b(B);                                   // constants: matmul records nothing
  tg::Variable<float> x(A), w(W, true), bv(bias, true);             // the MLP's first layer
  std::vector<double> t_tg, t_blas, t_blas_alloc, t_lin, t_lin_blas;
  for (int r = -20; r < reps; ++r) {  // the first 20 are warm-up
    const double tg_us = micros([&] { tg::Variable<float> c = tg::matmul(a, b); });
    const double blas_us = micros([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    });
    const double alloc_us = micros([&] {
      tg::Tensor<float> out = tg::Tensor<float>::from_shape({M, N});
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, out.data(),
                  N);
    });
    // linear forward + backward (x needs no gradient: dW and db only) vs the same GEMMs by hand.
    const double lin_us = micros([&] {
      tg::Variable<float> y = tg::linear(x, w, bv);
      y.backward(dY);
      w.zero_grad();
      bv.zero_grad();
    });
    const double lin_blas_us = micros([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, A.data(), K, W.data(), K, 0.f, C.data(), N);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.f, dY.data(), N, A.data(), K, 0.f, dW.data(), K);
    });
    if (r >= 0) {
      t_tg.push_back(tg_us);
      t_blas.push_back(blas_us);
      t_blas_alloc.push_back(alloc_us);
      t_lin.push_back(lin_us);
      t_lin_blas.push_back(lin_blas_us);
    }
  }
  std::printf("float32 (128x784)·(784x256), %d repetitions, OpenBLAS threads %d\n", reps, openblas_get_num_threads());
  report("tg::matmul (allocates its output)", t_tg);
  report("cblas_sgemm into a preallocated buffer", t_blas);
  report("cblas_sgemm into a freshly allocated Tensor", t_blas_alloc);
  report("tg::linear fwd+bwd (x no grad: y, dW, db)", t_lin);
  report("cblas_sgemm y = x·wT and dW = dYT·x", t_lin_blas);
  return 0;
}
