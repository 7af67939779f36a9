// Float convolutions with 16 or more input channels per group and a kernel larger than 1x1: the
// plans the library hands to oneDNN's convolution primitives when it was built with them
// (ops/detail/dnnl_conv.hpp), im2col + GEMM otherwise. Either way float must agree with double,
// whose values the naive loops of test_conv.cpp and whose derivatives gradcheck vouch for.
#include <filesystem>
#include <functional>
#include <iterator>
#include <thread>

#include "test_util.hpp"

using namespace tg;

namespace {

struct Options {
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
};

template <class T, class U>
Tensor<T> as(const Tensor<U>& t) {
  return xt::cast<T>(t);
}

// y = op(x, w, b), then the gradients of <y, g> for x, w and b, and (create_graph) the gradients of
// <dx, u> + <dw, v> for x, w and g: every float kernel of the convolution's first and second order.
template <class T>
std::vector<Tensor<T>> run(const std::function<Variable<T>(Variable<T>, Variable<T>, Variable<T>)>& op,
                           const std::vector<Tensor<double>>& values) {
  Variable<T> x(as<T>(values[0]), true), w(as<T>(values[1]), true), b(as<T>(values[2]), true);
  Variable<T> y = op(x, w, b);
  Generator gen(7);
  Variable<T> g(test::uniform<T>(y.shape(), gen), true);
  std::vector<Variable<T>> first = grad<T>({sum(y * g)}, {x, w, b}, {}, true, /*create_graph=*/true);
  Variable<T> u(test::uniform<T>(x.shape(), gen)), v(test::uniform<T>(w.shape(), gen));
  std::vector<Variable<T>> second = grad<T>({sum(first[0] * u) + sum(first[1] * v)}, {x, w, g});
  return {y.value(),         first[0].value(),  first[1].value(), first[2].value(),
          second[0].value(), second[1].value(), second[2].value()};
}

// Requires the float run to agree with the double one (relative 1e-4: sums of up to a few hundred
// float products of values in [-1, 1]).
void check_float_against_double(
    const std::function<Variable<float>(Variable<float>, Variable<float>, Variable<float>)>& f,
    const std::function<Variable<double>(Variable<double>, Variable<double>, Variable<double>)>& d, const Shape& xs,
    const Shape& ws, std::size_t bias_size, std::uint64_t seed) {
  Generator gen(seed);
  const std::vector<Tensor<double>> values{test::uniform(xs, gen), test::uniform(ws, gen),
                                           test::uniform({bias_size}, gen)};
  const std::vector<Tensor<float>> single = run<float>(f, values);
  const std::vector<Tensor<double>> reference = run<double>(d, values);
  const char* names[] = {"y", "dx", "dw", "db", "d(dx, dw)/dx", "d(dx, dw)/dw", "d(dx, dw)/dg"};
  for (std::size_t i = 0; i < single.size(); ++i) {
    INFO(names[i]);
    test::require_close(as<double>(single[i]), reference[i], 1e-4);
  }
}

template <class T>
std::function<Variable<T>(Variable<T>, Variable<T>, Variable<T>)> conv(Options o) {
  return [o](Variable<T> x, Variable<T> w, Variable<T> b) {
    return conv2d(x, w, b, o.stride, o.padding, o.dilation, o.groups);
  };
}

void check_conv(const Shape& xs, const Shape& ws, Options o, std::uint64_t seed) {
  check_float_against_double(conv<float>(o), conv<double>(o), xs, ws, ws[0], seed);
}

std::ptrdiff_t threads_in_process() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator());
}

}  // namespace

TEST_CASE("conv2d: float with 16 or more channels per group agrees with double, both derivative orders") {
  check_conv({3, 16, 9, 8}, {16, 16, 3, 3}, {1, 1, 1, 1}, 1);    // a ResNet block's 3x3, same size
  check_conv({2, 16, 10, 11}, {32, 16, 3, 3}, {2, 1, 1, 1}, 2);  // stride 2, widening
  check_conv({2, 24, 9, 9}, {20, 24, 3, 3}, {1, 0, 1, 1}, 3);    // channel counts off the 16-blocks, no padding
  check_conv({2, 32, 11, 10}, {24, 16, 3, 2}, {1, 2, 2, 2}, 4);  // dilation 2, groups 2, non-square kernel
  check_conv({2, 16, 7, 7}, {16, 16, 5, 5}, {3, 2, 1, 1}, 5);    // stride 3, kernel 5
  check_conv({2, 16, 8, 8}, {16, 16, 3, 3}, {3, 0, 1, 1}, 7);    // stride 3 leaves the last rows unread
  check_conv({1, 16, 3, 3}, {8, 16, 3, 3}, {1, 0, 1, 1}, 6);     // a one-pixel output
}

TEST_CASE("conv2d: float 3x3 stride-1 layers of 32 or more channels (Winograd, where oneDNN has it) agree with double") {
  check_conv({4, 64, 7, 7}, {64, 64, 3, 3}, {1, 1, 1, 1}, 8);    // fashion_resnet's last stage
  check_conv({2, 32, 14, 14}, {48, 32, 3, 3}, {1, 1, 1, 1}, 9);  // widening
  check_conv({2, 32, 9, 10}, {32, 32, 3, 3}, {1, 0, 1, 1}, 10);  // no padding, odd sizes
}

TEST_CASE("conv2d: float without bias or with only some inputs requiring grad, 16 channels") {
  Generator gen(11);
  const Tensor<float> xv = test::uniform<float>({2, 16, 6, 6}, gen), wv = test::uniform<float>({16, 16, 3, 3}, gen);
  const Tensor<double> xd = as<double>(xv), wd = as<double>(wv);
  for (int needs : {1, 2, 3}) {
    Variable<float> x(xv, (needs & 1) != 0), w(wv, (needs & 2) != 0);
    Variable<double> x2(xd, (needs & 1) != 0), w2(wd, (needs & 2) != 0);
    Variable<float> y = conv2d(x, w, Variable<float>(), 1, 1);
    Variable<double> y2 = conv2d(x2, w2, Variable<double>(), 1, 1);
    test::require_close(as<double>(y.value()), y2.value(), 1e-4);
    y.backward(xt::ones<float>(y.shape()));
    y2.backward(xt::ones<double>(y2.shape()));
    CHECK(x.has_grad() == ((needs & 1) != 0));
    CHECK(w.has_grad() == ((needs & 2) != 0));
    if (needs & 1) test::require_close(as<double>(x.grad()), x2.grad(), 1e-4);
    if (needs & 2) test::require_close(as<double>(w.grad()), w2.grad(), 1e-4);
  }
}

TEST_CASE("conv_transpose2d: float with 16 or more channels agrees with double, both derivative orders") {
  const auto transpose = [](std::size_t stride, std::size_t padding, std::size_t output_padding) {
    return std::make_pair(std::function<Variable<float>(Variable<float>, Variable<float>, Variable<float>)>(
                              [=](Variable<float> x, Variable<float> w, Variable<float> b) {
                                return conv_transpose2d(x, w, b, stride, padding, output_padding);
                              }),
                          std::function<Variable<double>(Variable<double>, Variable<double>, Variable<double>)>(
                              [=](Variable<double> x, Variable<double> w, Variable<double> b) {
                                return conv_transpose2d(x, w, b, stride, padding, output_padding);
                              }));
  };
  // w (C_in, C_out, kH, kW): the convolution it is the adjoint of reads C_out = 16 or 32 channels.
  auto [f1, d1] = transpose(1, 1, 0);
  check_float_against_double(f1, d1, {2, 16, 6, 7}, {16, 16, 3, 3}, 16, 21);
  auto [f2, d2] = transpose(2, 1, 1);  // stride 2 with output_padding 1
  check_float_against_double(f2, d2, {2, 8, 5, 5}, {8, 32, 3, 3}, 32, 22);
}

TEST_CASE("conv2d: float, 16 channels, on eight threads at once gives each thread's result alone") {
  Generator gen(12);
  std::vector<Tensor<float>> xs, expected;
  const Tensor<float> wv = test::uniform<float>({16, 16, 3, 3}, gen);
  for (int t = 0; t < 8; ++t) xs.push_back(test::uniform<float>({2 + std::size_t(t % 3), 16, 8, 8}, gen));
  const auto gradients = [&](const Tensor<float>& xv) {
    Variable<float> x(xv, true), w(wv, true);
    Variable<float> y = conv2d(x, w, Variable<float>(), 1, 1);
    sum(y * y).backward();
    return std::vector<Tensor<float>>{y.value(), x.grad(), w.grad()};
  };
  std::vector<std::vector<Tensor<float>>> alone, together(8);
  for (const auto& x : xs) alone.push_back(gradients(x));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back([&, t] { together[t] = gradients(xs[t]); });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    for (std::size_t i = 0; i < 3; ++i) test::require_close(together[t][i], alone[t][i], 0.0);
  }
}

// oneDNN fixes a primitive's thread count when it creates one; the library creates them on a
// thread of its own, which must use the caller's count. ctest runs each case in a new process,
// where OpenMP has started no worker yet, so a new thread can only come from this convolution.
TEST_CASE("conv2d: float, 16 channels, after set_num_threads(1) starts no other thread") {
  const int before = get_num_threads();
  set_num_threads(1);
  const std::ptrdiff_t threads_before = threads_in_process();
  Generator gen(13);
  Variable<float> x(test::uniform<float>({16, 16, 16, 16}, gen), true),
      w(test::uniform<float>({16, 16, 3, 3}, gen), true);
  sum(conv2d(x, w, Variable<float>(), 1, 1)).backward();
  const std::ptrdiff_t threads_after = threads_in_process();
  set_num_threads(before);
  CHECK(threads_after == threads_before);
}
