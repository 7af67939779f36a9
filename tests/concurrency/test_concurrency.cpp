// Several threads at once: backward passes into one shared model, models built and trained on
// their own threads, the default generator shared by all, backward through a shared graph.
// scripts/test.sh --tsan runs this program under ThreadSanitizer (each thread then uses one
// OpenMP thread, see scripts/test.sh); the other builds run it as it is.
#include "test_util.hpp"
#include "two_class_images.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <thread>

using namespace tg;
using Catch::Matchers::Contains;

namespace {

constexpr std::size_t threads = 8;

// Runs work(t) for t = 0..threads-1, each on its own std::thread, all at once; rethrows the first
// exception a thread threw.
void on_threads(const std::function<void(std::size_t)>& work, std::size_t count = threads) {
  std::vector<std::exception_ptr> errors(count);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < count; ++t) {
    pool.emplace_back([&, t] {
      try {
        work(t);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// The same work one call at a time, each on a fresh thread: a new thread starts with the same
// OpenMP thread count as those of on_threads, so the kernels split their work the same way.
void one_at_a_time(const std::function<void(std::size_t)>& work, std::size_t count = threads) {
  for (std::size_t t = 0; t < count; ++t) on_threads([&](std::size_t) { work(t); }, 1);
}

struct Pass {
  Variable<float> x;
  Labels y;
};

std::vector<Pass> passes(std::size_t n, const Shape& x_shape, std::size_t classes, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<Pass> out(n);
  for (auto& p : out) {
    p.x = Variable<float>(test::uniform<float>(x_shape, gen));
    for (std::size_t i = 0; i < x_shape[0]; ++i) p.y.push_back(static_cast<std::int64_t>(gen.next() % classes));
  }
  return out;
}

// 1,000 backward passes of cross_entropy(net(x_k), y_k) into the shared parameters of `net`, on
// eight threads at once, against the same passes one after another. The gradients are float sums
// of the same 1,000 per-pass gradients g_k in different orders. Recursive summation of n terms is
// off the exact sum by at most gamma(n-1) * sum_k |g_k| (Higham, Accuracy and Stability of
// Numerical Algorithms, (4.4)), gamma(m) = m u / (1 - m u), u = 2^-24; so two orders differ by at
// most twice that, per element. A lost or doubled update (a race) would change some element by a
// whole |g_k|, which the last check shows is above that bound.
void require_concurrent_sum_is_sequential_sum(nn::Module<float>& net, const std::vector<Pass>& data) {
  const auto params = net.parameters();
  const std::size_t n = data.size();

  // Sequential: each pass's own gradient, the running float sum and the sum of magnitudes.
  std::vector<Tensor<float>> sequential(params.size());
  std::vector<Tensor<double>> magnitude(params.size());
  std::vector<Tensor<float>> first_pass(params.size());
  one_at_a_time([&](std::size_t) {
    for (std::size_t k = 0; k < n; ++k) {
      net.zero_grad();
      cross_entropy(net(data[k].x), data[k].y).backward();
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor<float>& g = params[i].grad();
        if (k == 0) {
          sequential[i] = g;
          magnitude[i] = xt::abs(xt::cast<double>(g));
          first_pass[i] = g;
        } else {
          sequential[i] += g;
          magnitude[i] += xt::abs(xt::cast<double>(g));
        }
      }
    }
  }, 1);

  // Concurrent: thread t runs passes t, t + 8, ... into the shared parameters.
  net.zero_grad();
  on_threads([&](std::size_t t) {
    for (std::size_t k = t; k < n; k += threads) cross_entropy(net(data[k].x), data[k].y).backward();
  });

  const double u = std::ldexp(1.0, -24), m = static_cast<double>(n - 1);
  const double bound = 2 * (m * u / (1 - m * u));
  bool one_pass_detectable = false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i << " of shape " << format_shape(params[i].shape()));
    const Tensor<float>& concurrent = params[i].grad();
    REQUIRE(concurrent.shape() == sequential[i].shape());
    for (std::size_t j = 0; j < concurrent.size(); ++j) {
      const double tolerance = bound * magnitude[i].flat(j);
      INFO("element " << j << ": concurrent " << concurrent.flat(j) << ", sequential " << sequential[i].flat(j));
      REQUIRE(std::abs(static_cast<double>(concurrent.flat(j)) - sequential[i].flat(j)) <= tolerance);
      one_pass_detectable = one_pass_detectable || std::abs(first_pass[i].flat(j)) > tolerance;
    }
  }
  CHECK(one_pass_detectable);
}

}  // namespace

TEST_CASE("eight threads back-propagating 1000 passes into one MLP sum to the sequential gradients") {
  Generator gen(1);
  nn::Sequential<float> net{nn::Linear<float>(16, 32, true, gen), nn::ReLU<float>(), nn::Linear<float>(32, 32, true, gen),
                            nn::ReLU<float>(), nn::Linear<float>(32, 4, true, gen)};
  require_concurrent_sum_is_sequential_sum(net, passes(1000, {4, 16}, 4, 2));
}

TEST_CASE("eight threads back-propagating 1000 passes into one CNN sum to the sequential gradients") {
  Generator gen(3);
  nn::Sequential<float> net{nn::Conv2d<float>(1, 4, 3, 1, 1, 1, 1, true, gen), nn::ReLU<float>(),
                            nn::MaxPool2d<float>(2), nn::Flatten<float>(), nn::Linear<float>(4 * 3 * 3, 3, true, gen)};
  require_concurrent_sum_is_sequential_sum(net, passes(1000, {2, 1, 6, 6}, 3, 4));
}

namespace {

// Builds a small CNN and an MLP from `gen` (Dropout included, drawing from it at every step),
// trains them for a few steps on data drawn from `seed`, and returns every loss and the final
// parameters.
std::vector<float> build_and_train(std::uint64_t seed) {
  Generator gen(seed);
  nn::Sequential<float> cnn{nn::Conv2d<float>(1, 4, 3, 1, 1, 1, 1, true, gen), nn::ReLU<float>(),
                            nn::MaxPool2d<float>(2), nn::Flatten<float>(), nn::Dropout<float>(0.25, gen),
                            nn::Linear<float>(4 * 4 * 4, 2, true, gen)};
  nn::Sequential<float> mlp{nn::Flatten<float>(), nn::Linear<float>(64, 16, true, gen), nn::ReLU<float>(),
                            nn::Dropout<float>(0.5, gen), nn::Linear<float>(16, 2, false, gen)};
  std::vector<float> out;
  for (nn::Sequential<float>* net : {&cnn, &mlp}) {
    optim::SGD<float> sgd(net->parameters(), optim::SGDOptions{0.1, 0.9});
    auto data = test::two_class_images(48, seed, 40);
    for (int epoch = 0; epoch < 2; ++epoch) {
      for (auto& batch : data) {
        sgd.zero_grad();
        auto loss = cross_entropy((*net)(batch.images), batch.labels);
        loss.backward();
        sgd.step();
        out.push_back(loss.item());
      }
    }
    for (const auto& p : net->parameters()) out.insert(out.end(), p.value().begin(), p.value().end());
  }
  return out;
}

}  // namespace

TEST_CASE("eight threads building and training models with their own generators match the same runs done alone") {
  std::vector<std::vector<float>> alone(threads), together(threads);
  one_at_a_time([&](std::size_t t) { alone[t] = build_and_train(100 + t); });
  on_threads([&](std::size_t t) { together[t] = build_and_train(100 + t); });
  for (std::size_t t = 0; t < threads; ++t) {
    INFO("thread " << t);
    REQUIRE(together[t].size() == alone[t].size());
    for (std::size_t i = 0; i < alone[t].size(); ++i) REQUIRE(together[t][i] == alone[t][i]);  // bit-identical
  }
  CHECK(alone[0] != alone[1]);  // the seeds matter, so the comparison can fail
}

TEST_CASE("the default generator shared by eight threads hands out each number of its sequence once") {
  constexpr std::size_t per_thread = 2000;
  manual_seed(7);
  std::vector<std::vector<std::uint64_t>> drawn(threads);
  on_threads([&](std::size_t t) {
    for (std::size_t i = 0; i < per_thread; ++i) drawn[t].push_back(default_generator().next());
  });
  std::vector<std::uint64_t> all;
  for (const auto& d : drawn) all.insert(all.end(), d.begin(), d.end());
  std::sort(all.begin(), all.end());
  Generator fresh(7);
  std::vector<std::uint64_t> expected(threads * per_thread);
  for (auto& e : expected) e = fresh.next();
  std::sort(expected.begin(), expected.end());
  REQUIRE(all == expected);
}

TEST_CASE("modules built with the default generator on eight threads each take an unbroken run of it") {
  // A Linear draws its weight (15 numbers), then its bias (3), a Dropout its mask (64), each under
  // one lock: each weight is 15 consecutive numbers of the default sequence, wherever it started.
  manual_seed(11);
  std::vector<Tensor<double>> weights(threads), masks(threads);
  on_threads([&](std::size_t t) {
    nn::Linear<double> layer(5, 3);
    weights[t] = layer.weight().value();
    nn::Dropout<double> dropout(0.5);  // draws from the default generator at forward time
    masks[t] = dropout(Variable<double>(Tensor<double>(xt::ones<double>({64})))).value();
  });
  std::vector<std::uint64_t> starts;
  for (std::size_t t = 0; t < threads; ++t) {
    INFO("thread " << t);
    for (std::uint64_t start = 0; start <= threads * (15 + 3 + 64); ++start) {
      Generator g(11);
      for (std::uint64_t s = 0; s < start; ++s) g.next();
      if (nn::init::kaiming_uniform<double>({3, 5}, g, std::sqrt(5.0)) == weights[t]) starts.push_back(start);
    }
    for (double m : masks[t]) REQUIRE((m == 0 || m == 2));
  }
  REQUIRE(starts.size() == threads);  // each weight found once, at its own place in the sequence
  std::sort(starts.begin(), starts.end());
  CHECK(std::adjacent_find(starts.begin(), starts.end()) == starts.end());
}

TEST_CASE("eight threads back-propagating through a shared graph with retain_graph get the same gradients") {
  Variable<double> w(Tensor<double>{1, 2, 3}, true);
  const Variable<double> shared = w * 2.0;  // recorded once, used by every thread
  on_threads([&](std::size_t) {
    for (int i = 0; i < 50; ++i) sum(shared * 3.0).backward(/*retain_graph=*/true);
  });
  test::require_close(w.grad(), Tensor<double>{2400, 2400, 2400}, 0.0);  // 8 x 50 passes of 6 each, exact
}

TEST_CASE("eight threads back-propagating through a shared graph without retain_graph succeed or throw logic_error") {
  for (int round = 0; round < 20; ++round) {
    Variable<double> w(Tensor<double>{1, 2, 3}, true);
    const Variable<double> shared = w * 2.0;
    std::atomic<int> succeeded{0};
    std::vector<std::string> refusals(threads);  // Catch's assertions are for the main thread only
    on_threads([&](std::size_t t) {
      try {
        sum(shared * 3.0).backward();
        ++succeeded;
      } catch (const std::logic_error& e) {
        refusals[t] = e.what();
      }
    });
    for (const auto& message : refusals) {
      if (!message.empty()) CHECK_THAT(message, Contains("was already released by an earlier backward()"));
    }
    REQUIRE(succeeded >= 1);
    const double each = 6.0 * succeeded;  // every pass that ran added 6 per element
    test::require_close(w.grad(), Tensor<double>{each, each, each}, 0.0);
  }
}

TEST_CASE("eight threads back-propagating through one LSTM's graph with retain_graph get the same gradients") {
  // The LSTM's steps and cells hand their gradients to joining nodes, kept apart per run of the engine.
  Generator gen(5);
  nn::LSTM<double> lstm(3, 4, 1, true, false, 0, false, gen);
  Variable<double> x(test::uniform({5, 2, 3}, gen), true);
  const Variable<double> loss = sum(lstm(x) * lstm(x));
  const Tensor<double> once = grad<double>({loss}, {x}, {}, true)[0].value();
  std::atomic<int> mismatches{0};
  on_threads([&](std::size_t) {
    for (int i = 0; i < 10; ++i) {
      if (grad<double>({loss}, {x}, {}, true)[0].value() != once) ++mismatches;
    }
  });
  CHECK(mismatches == 0);
}

TEST_CASE("eight threads back-propagating through one fused Conv-BatchNorm chain with retain_graph agree") {
  // The chain's backward reads its tape and writes only the calling thread's buffers.
  auto net = std::make_shared<nn::Sequential<float>>(nn::Conv2d(16, 16, 3, 1, 1), nn::BatchNorm2d(16), nn::ReLU(),
                                                     nn::Conv2d(16, 16, 3, 1, 1), nn::BatchNorm2d(16));
  REQUIRE(nn::fuse_conv_batch_norm(*net) == 1);
  Generator gen(7);
  Variable<float> x(test::uniform<float>({4, 16, 8, 8}, gen), true);
  const Variable<float> y = (*net)(x);
  const Variable<float> loss = sum(y * y);
  const Tensor<float> once = grad<float>({loss}, {x}, {}, true)[0].value();
  std::atomic<int> mismatches{0};
  on_threads([&](std::size_t) {
    for (int i = 0; i < 5; ++i) {
      if (grad<float>({loss}, {x}, {}, true)[0].value() != once) ++mismatches;
    }
  });
  CHECK(mismatches == 0);
}
