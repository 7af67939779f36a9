// Optimiser checkpoints: save/load of the state and learning rate, and training that resumes
// from a checkpoint (model + optimiser) with exactly the losses of an uninterrupted run.
#include "test_util.hpp"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>

using namespace tg;
using Catch::Matchers::Contains;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tapegrad_resume_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

nn::Sequential<float> small_net() {
  return nn::Sequential<float>{nn::Linear(6, 16), nn::Tanh(), nn::Linear(16, 3)};
}

// Batch `step` of a fixed synthetic problem: the same inputs for a given step in every run.
std::pair<Variable<float>, Labels> batch_of(int step) {
  Generator gen(1000 + static_cast<std::uint64_t>(step));
  Tensor<float> x = test::uniform<float>({8, 6}, gen);
  Labels y(8);
  for (std::size_t i = 0; i < 8; ++i) y[i] = (x(i, 0) + x(i, 1) > 0 ? 1 : 0) + (x(i, 2) > 0.5f ? 1 : 0);
  return {Variable<float>(x), y};
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer<float>>(std::vector<Variable<float>>)>;

// Runs steps [from, to) and returns their losses. At step `lr_change` the learning rate is
// halved, so the checkpoint must carry the learning rate too.
std::vector<float> train(nn::Sequential<float>& net, optim::Optimizer<float>& opt, int from, int to, int lr_change) {
  std::vector<float> losses;
  for (int step = from; step < to; ++step) {
    if (step == lr_change) opt.set_lr(opt.lr() / 2);
    auto [x, y] = batch_of(step);
    opt.zero_grad();
    auto loss = cross_entropy(net(x), y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

// Uninterrupted: N steps. Resumed: N/2 steps, save model and optimiser, build fresh objects
// (other initial weights), load both, N/2 more steps. The second halves must be bit-identical.
void check_resume(const MakeOptimizer& make, const std::string& tag) {
  set_num_threads(1);
  constexpr int kSteps = 40, kHalf = kSteps / 2, kLrChange = 10;
  manual_seed(7);
  auto reference_net = small_net();
  auto reference_opt = make(reference_net.parameters());
  const std::vector<float> reference = train(reference_net, *reference_opt, 0, kSteps, kLrChange);

  const std::string model_path = temp_path(tag + "_model.npz"), opt_path = temp_path(tag + "_opt.npz");
  manual_seed(7);
  auto first_net = small_net();
  auto first_opt = make(first_net.parameters());
  std::vector<float> resumed = train(first_net, *first_opt, 0, kHalf, kLrChange);
  nn::save(first_net, model_path);
  optim::save(*first_opt, opt_path);

  manual_seed(99);  // different initial weights: only the checkpoint can make them equal
  auto net = small_net();
  auto opt = make(net.parameters());
  REQUIRE(opt->lr() != first_opt->lr());
  nn::load(net, model_path);
  optim::load(*opt, opt_path);
  CHECK(opt->lr() == first_opt->lr());
  const std::vector<float> second = train(net, *opt, kHalf, kSteps, kLrChange);
  resumed.insert(resumed.end(), second.begin(), second.end());
  for (int i = 0; i < kSteps; ++i) {
    INFO(tag << " step " << i);
    REQUIRE(resumed[i] == reference[i]);  // bit-identical
  }
  CHECK(reference.back() < reference.front());

  // The same resume without the optimiser's state diverges: the test can tell.
  manual_seed(99);
  auto stateless_net = small_net();
  auto stateless_opt = make(stateless_net.parameters());
  nn::load(stateless_net, model_path);
  stateless_opt->set_lr(first_opt->lr());
  const std::vector<float> stateless = train(stateless_net, *stateless_opt, kHalf, kSteps, kLrChange);
  CHECK(stateless[1] != reference[kHalf + 1]);

  std::filesystem::remove(model_path);
  std::filesystem::remove(opt_path);
  set_num_threads(0);
}

}  // namespace

TEST_CASE("resuming Adam from a checkpoint gives the losses of an uninterrupted run") {
  check_resume(
      [](std::vector<Variable<float>> params) {
        optim::AdamOptions o;
        o.lr = 0.01;
        return std::make_unique<optim::Adam<float>>(std::move(params), o);
      },
      "adam");
}

TEST_CASE("resuming SGD with momentum from a checkpoint gives the losses of an uninterrupted run") {
  check_resume(
      [](std::vector<Variable<float>> params) {
        optim::SGDOptions o;
        o.lr = 0.1;
        o.momentum = 0.9;
        o.nesterov = true;
        return std::make_unique<optim::SGD<float>>(std::move(params), o);
      },
      "sgd");
}

TEST_CASE("optim save then load restores the state and the learning rate exactly") {
  Generator gen(3);
  Variable<double> w(test::uniform<double>({3, 2}, gen), true), b(test::uniform<double>({2}, gen), true);
  optim::Adam<double> adam({w, b}, optim::AdamOptions{0.05});
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    auto loss = sum(matmul(Variable<double>(test::uniform<double>({4, 3}, gen)), w) + b);
    loss.backward();
    adam.step();
  }
  adam.set_lr(0.0125);
  const std::string path = temp_path("adam_state.npz");
  optim::save(adam, path);
  auto entries = read_npz(path);
  CHECK(entries.count("lr") == 1);
  CHECK(entries.count("optimizer.Adam") == 1);
  CHECK(entries.count("0.exp_avg") == 1);

  optim::Adam<double> fresh({w, b}, optim::AdamOptions{0.05});
  optim::load(fresh, path);
  CHECK(fresh.lr() == 0.0125);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(fresh.param_state(i).step == 3);
    for (const auto& [name, buffer] : adam.param_state(i).buffers) {
      CHECK((fresh.param_state(i).buffers.at(name) == buffer));
    }
  }
  std::filesystem::remove(path);
}

TEST_CASE("optim load refuses another optimiser's or another model's state and changes nothing") {
  Generator gen(4);
  Variable<float> w(test::uniform<float>({3, 2}, gen), true);
  optim::SGD<float> sgd({w}, optim::SGDOptions{0.1, 0.9});
  w.zero_grad();
  sum(w * w).backward();
  sgd.step();
  const std::string path = temp_path("sgd_state.npz");
  optim::save(sgd, path);

  optim::Adam<float> adam({w}, optim::AdamOptions{0.3});
  CHECK_THAT(test::message_of<std::invalid_argument>([&] { optim::load(adam, path); }),
             Contains("optim::load") && Contains("SGD state but the optimiser is Adam") && Contains("nothing was loaded"));
  CHECK(adam.lr() == Approx(0.3));

  Variable<float> other(test::uniform<float>({5}, gen), true);
  optim::SGD<float> mismatched({other}, optim::SGDOptions{0.7, 0.9});
  CHECK_THAT(test::message_of<std::invalid_argument>([&] { optim::load(mismatched, path); }),
             Contains("optim::load") && Contains("shape (3, 2)") && Contains("nothing was loaded"));
  CHECK(mismatched.lr() == Approx(0.7));
  CHECK(mismatched.state().empty());

  optim::SGD<float> same({w}, optim::SGDOptions{0.7, 0.9});
  optim::load(same, path);
  CHECK(same.lr() == Approx(0.1));
  CHECK(same.state().size() == 1);
  std::filesystem::remove(path);
}
