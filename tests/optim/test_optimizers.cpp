// Each optimiser against its update rule worked out here independently: scalar formulas in
// double, element by element, written from the torch.optim documentation.
#include "test_util.hpp"

#include <cmath>
#include <type_traits>

using namespace tg;
using tg::test::message_of;
using Catch::Matchers::Contains;

namespace {

const std::vector<double> kStart{0.5, -1.5, 2.0, 0.0};
// The gradient given to the parameter at each step.
const std::vector<std::vector<double>> kGrads{{0.3, -0.2, 1.1, -0.7},
                                              {0.1, 0.4, -0.5, 0.05},
                                              {-0.6, 0.25, 0.9, 0.3},
                                              {0.2, -0.35, -0.15, 0.8},
                                              {0.45, 0.1, -0.3, -0.2}};

template <class T>
Tensor<T> tensor_of(const std::vector<double>& v) {
  Tensor<T> t = Tensor<T>::from_shape({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) t(i) = static_cast<T>(v[i]);
  return t;
}

template <class T>
void set_grad(Variable<T>& p, const std::vector<double>& g) {
  p.zero_grad();
  p.backward(tensor_of<T>(g));  // a leaf's gradient becomes the seed
}

template <class T>
void require_values(const Variable<T>& p, const std::vector<double>& expected, double tol) {
  test::require_close(Tensor<double>(xt::cast<double>(p.value())), tensor_of<double>(expected), tol);
}

// Runs `steps` steps of `opt` on p (starting at kStart) and after each compares with `reference`,
// which advances its own copy of the values (in double) given the step's gradient.
template <class T, class Opt, class Ref>
void follow(Variable<T>& p, Opt& opt, Ref reference, double tol, std::size_t steps = kGrads.size()) {
  std::vector<double> expected = kStart;
  for (std::size_t t = 0; t < steps; ++t) {
    set_grad(p, kGrads[t]);
    opt.step();
    reference(expected, kGrads[t], t + 1);
    INFO("after step " << t + 1);
    require_values(p, expected, tol);
  }
}

// Reference rules (torch.optim documentation), one element at a time.
struct SgdRef {
  double lr, momentum, dampening, wd;
  bool nesterov;
  std::vector<double> buf{};
  void operator()(std::vector<double>& p, const std::vector<double>& g, std::size_t t) {
    if (buf.empty()) buf.assign(p.size(), 0.0);
    for (std::size_t k = 0; k < p.size(); ++k) {
      double d = g[k] + wd * p[k];
      if (momentum != 0.0) {
        buf[k] = t == 1 ? d : momentum * buf[k] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[k] : buf[k];
      }
      p[k] -= lr * d;
    }
  }
};

struct AdamRef {
  double lr, b1, b2, eps, wd;
  bool decoupled, amsgrad = false;
  std::vector<double> m{}, v{}, vmax{};
  void operator()(std::vector<double>& p, const std::vector<double>& g, std::size_t t) {
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0), vmax.assign(p.size(), 0.0);
    for (std::size_t k = 0; k < p.size(); ++k) {
      double gk = g[k];
      if (decoupled) p[k] *= 1 - lr * wd; else gk += wd * p[k];
      m[k] = b1 * m[k] + (1 - b1) * gk;
      v[k] = b2 * v[k] + (1 - b2) * gk * gk;
      vmax[k] = std::max(vmax[k], v[k]);
      double m_hat = m[k] / (1 - std::pow(b1, double(t)));
      double v_hat = (amsgrad ? vmax[k] : v[k]) / (1 - std::pow(b2, double(t)));
      p[k] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

struct RmsRef {
  double lr, alpha, eps, wd, momentum;
  bool centered;
  std::vector<double> s{}, a{}, buf{};
  void operator()(std::vector<double>& p, const std::vector<double>& g, std::size_t) {
    if (s.empty()) s.assign(p.size(), 0.0), a.assign(p.size(), 0.0), buf.assign(p.size(), 0.0);
    for (std::size_t k = 0; k < p.size(); ++k) {
      double gk = g[k] + wd * p[k];
      s[k] = alpha * s[k] + (1 - alpha) * gk * gk;
      a[k] = alpha * a[k] + (1 - alpha) * gk;
      double avg = std::sqrt(centered ? s[k] - a[k] * a[k] : s[k]) + eps;
      if (momentum > 0) {
        buf[k] = momentum * buf[k] + gk / avg;
        p[k] -= lr * buf[k];
      } else {
        p[k] -= lr * gk / avg;
      }
    }
  }
};

Variable<double> start() { return Variable<double>(tensor_of<double>(kStart), true); }

// The values after `follow` of a fresh Opt(options) from kStart against `reference`.
template <class Opt, class Options, class Ref>
Tensor<double> follow_from_start(const Options& options, Ref reference) {
  auto p = start();
  Opt opt({p}, options);
  follow(p, opt, reference, 1e-12);
  return p.value();
}

// The values after the first `steps` gradients of kGrads, given to a fresh Opt(options) from kStart.
template <class Opt, class Options>
Tensor<double> after_steps(const Options& options, std::size_t steps) {
  auto p = start();
  Opt opt({p}, options);
  for (std::size_t t = 0; t < steps; ++t) {
    set_grad(p, kGrads[t]);
    opt.step();
  }
  return p.value();
}

}  // namespace

TEST_CASE("SGD: plain steps and L2 weight decay follow p -= lr * (g + wd * p)") {
  optim::SGDOptions o; o.lr = 0.1;
  follow_from_start<optim::SGD<double>>(o, SgdRef{0.1, 0, 0, 0, false});
  o.weight_decay = 0.05;
  follow_from_start<optim::SGD<double>>(o, SgdRef{0.1, 0, 0, 0.05, false});
  // Worked by hand: first step of element 0: 0.5 - 0.1 * (0.3 + 0.05 * 0.5) = 0.4675.
  CHECK(after_steps<optim::SGD<double>>(o, 1)(0) == Approx(0.4675).epsilon(1e-14));
}

TEST_CASE("SGD: the momentum buffer starts as the first gradient and then buf = m * buf + (1 - dampening) * g") {
  auto p = start();
  optim::SGDOptions o; o.lr = 0.05; o.momentum = 0.9; o.dampening = 0.3; o.weight_decay = 0.01;
  optim::SGD sgd({p}, o);
  // The first step is plain SGD even with dampening (the buffer is a copy of the gradient).
  set_grad(p, kGrads[0]);
  sgd.step();
  CHECK(p.value()(2) == Approx(2.0 - 0.05 * (1.1 + 0.01 * 2.0)).epsilon(1e-14));
  REQUIRE(sgd.state().size() == 1);
  REQUIRE(sgd.state()[0].first == "0.momentum_buffer");
  CHECK(sgd.state()[0].second(1) == Approx(-0.2 + 0.01 * -1.5).epsilon(1e-14));

  follow_from_start<optim::SGD<double>>(o, SgdRef{0.05, 0.9, 0.3, 0.01, false});
}

TEST_CASE("SGD: nesterov uses g + momentum * buf") {
  optim::SGDOptions o; o.lr = 0.1; o.momentum = 0.8; o.weight_decay = 0.02; o.nesterov = true;
  follow_from_start<optim::SGD<double>>(o, SgdRef{0.1, 0.8, 0, 0.02, true});
  // By hand, element 3 (p = 0): step 1 d = -0.7, buf = -0.7, p = -0.1 * (-0.7 - 0.56) = 0.126.
  CHECK(after_steps<optim::SGD<double>>(o, 1)(3) == Approx(0.126).epsilon(1e-14));
}

TEST_CASE("SGD on float parameters agrees with the double rule") {
  Variable<float> p(tensor_of<float>(kStart), true);
  optim::SGDOptions o; o.lr = 0.1; o.momentum = 0.9;
  optim::SGD sgd(std::vector<Variable<float>>{p}, o);
  static_assert(std::is_same_v<decltype(sgd), optim::SGD<float>>);
  follow(p, sgd, SgdRef{0.1, 0.9, 0, 0, false}, 1e-5);
}

TEST_CASE("Adam: bias correction makes the first step lr * sign(g)") {
  auto p = start();
  optim::AdamOptions o; o.lr = 0.01;
  optim::Adam adam({p}, o);
  set_grad(p, kGrads[0]);
  adam.step();
  // m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps) = lr * sign(g) up to eps.
  require_values(p, {0.5 - 0.01, -1.5 + 0.01, 2.0 - 0.01, 0.0 + 0.01}, 1e-9);
}

TEST_CASE("Adam: several steps with L2 weight decay in the gradient") {
  auto p = start();
  optim::AdamOptions o; o.lr = 0.05; o.beta1 = 0.8; o.beta2 = 0.95; o.eps = 1e-3; o.weight_decay = 0.1;
  optim::Adam adam({p}, o);
  follow(p, adam, AdamRef{0.05, 0.8, 0.95, 1e-3, 0.1, false}, 1e-12);
  auto state = adam.state();
  REQUIRE(state.size() == 3);
  CHECK(state[0].first == "0.step");
  CHECK(state[0].second() == 5.0);
  CHECK(state[1].first == "0.exp_avg");
  CHECK(state[2].first == "0.exp_avg_sq");
}

TEST_CASE("Adam: defaults are PyTorch's and amsgrad uses the running maximum of v") {
  optim::AdamOptions d;
  CHECK(d.lr == 1e-3); CHECK(d.beta1 == 0.9); CHECK(d.beta2 == 0.999); CHECK(d.eps == 1e-8);
  CHECK(d.weight_decay == 0.0); CHECK_FALSE(d.amsgrad);
  optim::AdamOptions o; o.lr = 0.05; o.beta2 = 0.5; o.amsgrad = true;
  const Tensor<double> p = follow_from_start<optim::Adam<double>>(o, AdamRef{0.05, 0.9, 0.5, 1e-8, 0, false, true});
  // The gradients shrink at some steps, so v_max and v differ: the reference without amsgrad differs.
  o.amsgrad = false;
  const Tensor<double> q = after_steps<optim::Adam<double>>(o, kGrads.size());
  CHECK(std::abs(q(3) - p(3)) > 1e-4);
}

TEST_CASE("AdamW: decoupled decay p *= 1 - lr * wd before the Adam update and default weight_decay 0.01") {
  optim::AdamOptions o; o.lr = 0.05; o.weight_decay = 0.2;
  const Tensor<double> p = follow_from_start<optim::AdamW<double>>(o, AdamRef{0.05, 0.9, 0.999, 1e-8, 0.2, true});
  // Not the same as Adam's L2 decay.
  const Tensor<double> q = after_steps<optim::Adam<double>>(o, kGrads.size());
  CHECK(std::abs(q(2) - p(2)) > 1e-3);
  // By hand, element 2 after one step: 2 * (1 - 0.05 * 0.2) - 0.05 * 1.1 / (1.1 + 1e-8) = 1.93.
  CHECK(after_steps<optim::AdamW<double>>(o, 1)(2) == Approx(1.93).epsilon(1e-9));

  auto s = start();
  optim::AdamW defaults({s});
  CHECK(defaults.options().weight_decay == 0.01);
  CHECK(defaults.options().lr == 1e-3);
  CHECK(defaults.name() == "AdamW");
}

TEST_CASE("RMSprop: plain and with weight decay and momentum and centered") {
  optim::RMSpropOptions d;
  CHECK(d.lr == 1e-2); CHECK(d.alpha == 0.99); CHECK(d.eps == 1e-8); CHECK(d.momentum == 0.0);
  struct Case { double wd, momentum; bool centered; };
  for (Case c : {Case{0, 0, false}, Case{0.1, 0, false}, Case{0.05, 0.7, false}, Case{0, 0, true}, Case{0.02, 0.5, true}}) {
    INFO("wd " << c.wd << " momentum " << c.momentum << " centered " << c.centered);
    optim::RMSpropOptions o; o.lr = 0.01; o.alpha = 0.9; o.eps = 1e-6; o.weight_decay = c.wd;
    o.momentum = c.momentum; o.centered = c.centered;
    follow_from_start<optim::RMSprop<double>>(o, RmsRef{0.01, 0.9, 1e-6, c.wd, c.momentum, c.centered});
  }
  // By hand, first plain step of element 0: s = 0.1 * 0.09, p = 0.5 - 0.01 * 0.3 / (sqrt(0.009) + 1e-6).
  optim::RMSpropOptions o; o.lr = 0.01; o.alpha = 0.9; o.eps = 1e-6;
  CHECK(after_steps<optim::RMSprop<double>>(o, 1)(0) ==
        Approx(0.5 - 0.003 / (0.0948683298050514 + 1e-6)).epsilon(1e-14));
}

TEST_CASE("Parameters without a gradient are skipped and step counts are per parameter") {
  auto p = start();
  auto frozen = Variable<double>(tensor_of<double>({1.0, 2.0}), true);
  optim::AdamOptions o; o.lr = 0.1;
  optim::Adam adam({p, frozen}, o);
  set_grad(p, kGrads[0]);
  adam.step();
  require_values(frozen, {1.0, 2.0}, 0);
  CHECK(adam.state().size() == 3);  // only parameter 0 has state
  // Parameter 1 gets its first gradient at the optimiser's second step: its bias correction uses t = 1.
  set_grad(p, kGrads[1]);
  set_grad(frozen, {0.5, -0.25});
  adam.step();
  require_values(frozen, {1.0 - 0.1, 2.0 + 0.1}, 1e-7);
  CHECK(adam.param_state(0).step == 2);
  CHECK(adam.param_state(1).step == 1);
}

TEST_CASE("zero_grad drops gradients and set_lr changes the next step and duplicates update once") {
  auto p = start();
  optim::SGDOptions o; o.lr = 0.1;
  optim::SGD sgd({p, p}, o);
  CHECK(sgd.params().size() == 1);
  set_grad(p, kGrads[0]);
  sgd.zero_grad();
  CHECK_FALSE(p.has_grad());
  sgd.step();  // nothing to do
  require_values(p, kStart, 0);
  sgd.set_lr(0.5);
  CHECK(sgd.lr() == 0.5);
  CHECK(sgd.options().lr == 0.5);
  set_grad(p, {1, 1, 1, 1});
  sgd.step();
  require_values(p, {0.0, -2.0, 1.5, -0.5}, 1e-15);
  std::string msg = message_of<std::invalid_argument>([&] { sgd.set_lr(-1.0); });
  CHECK_THAT(msg, Contains("SGD") && Contains("learning rate") && Contains("-1"));
}

TEST_CASE("Class template argument deduction picks T from the parameters") {
  std::vector<Variable<float>> fparams{Variable<float>(tensor_of<float>({1, 2}), true)};
  optim::SGDOptions so; optim::AdamOptions ao; optim::RMSpropOptions ro;
  optim::SGD sgd(fparams, so);
  optim::Adam adam(fparams, ao);
  optim::AdamW adamw(fparams, ao);
  optim::RMSprop rms(fparams, ro);
  static_assert(std::is_same_v<decltype(sgd), optim::SGD<float>>);
  static_assert(std::is_same_v<decltype(adam), optim::Adam<float>>);
  static_assert(std::is_same_v<decltype(adamw), optim::AdamW<float>>);
  static_assert(std::is_same_v<decltype(rms), optim::RMSprop<float>>);
  auto d = start();
  optim::SGD dsgd({d});
  static_assert(std::is_same_v<decltype(dsgd), optim::SGD<double>>);
  CHECK(dsgd.options().lr == 0.01);
}

TEST_CASE("Invalid options throw std::invalid_argument naming the optimiser and the value") {
  auto p = start();
  auto msg = message_of<std::invalid_argument>([&] { optim::SGDOptions o; o.lr = -0.1; optim::SGD s({p}, o); });
  CHECK_THAT(msg, Contains("SGD") && Contains("learning rate") && Contains("-0.1"));
  msg = message_of<std::invalid_argument>([&] { optim::SGDOptions o; o.nesterov = true; optim::SGD s({p}, o); });
  CHECK_THAT(msg, Contains("SGD") && Contains("nesterov") && Contains("momentum 0"));
  msg = message_of<std::invalid_argument>([&] { optim::SGDOptions o; o.momentum = -0.5; optim::SGD s({p}, o); });
  CHECK_THAT(msg, Contains("SGD") && Contains("momentum") && Contains("-0.5"));
  msg = message_of<std::invalid_argument>([&] { optim::AdamOptions o; o.beta1 = 1.0; optim::Adam s({p}, o); });
  CHECK_THAT(msg, Contains("Adam") && Contains("beta1") && Contains("1"));
  msg = message_of<std::invalid_argument>([&] { optim::AdamOptions o; o.beta2 = -0.2; optim::AdamW s({p}, o); });
  CHECK_THAT(msg, Contains("AdamW") && Contains("beta2") && Contains("-0.2"));
  msg = message_of<std::invalid_argument>([&] { optim::AdamOptions o; o.eps = -1e-8; optim::Adam s({p}, o); });
  CHECK_THAT(msg, Contains("Adam") && Contains("eps") && Contains("-1e-08"));
  msg = message_of<std::invalid_argument>([&] { optim::AdamOptions o; o.lr = std::nan(""); optim::Adam s({p}, o); });
  CHECK_THAT(msg, Contains("Adam") && Contains("learning rate") && Contains("nan"));
  msg = message_of<std::invalid_argument>([&] { optim::RMSpropOptions o; o.alpha = -0.9; optim::RMSprop s({p}, o); });
  CHECK_THAT(msg, Contains("RMSprop") && Contains("alpha") && Contains("-0.9"));
  msg = message_of<std::invalid_argument>([&] { optim::RMSpropOptions o; o.weight_decay = -1; optim::RMSprop s({p}, o); });
  CHECK_THAT(msg, Contains("RMSprop") && Contains("weight_decay") && Contains("-1"));
  msg = message_of<std::invalid_argument>([&] { optim::SGD s({p, Variable<double>()}); });
  CHECK_THAT(msg, Contains("SGD") && Contains("parameter 1") && Contains("undefined"));
  msg = message_of<std::invalid_argument>([&] { optim::Adam s(std::vector<Variable<double>>{}); });
  CHECK_THAT(msg, Contains("Adam") && Contains("empty parameter list"));
}

TEST_CASE("A gradient whose shape no longer matches its parameter is reported") {
  auto p = start();
  optim::SGD sgd({p});
  set_grad(p, kGrads[0]);
  p.value() = xt::zeros<double>({2, 2});
  auto msg = message_of<std::invalid_argument>([&] { sgd.step(); });
  CHECK_THAT(msg, Contains("SGD") && Contains("(2, 2)") && Contains("(4,)"));
}

TEST_CASE("state() and load_state() carry an optimiser's state to a fresh one") {
  auto p = start();
  optim::RMSpropOptions o; o.lr = 0.01; o.momentum = 0.5; o.centered = true;
  optim::RMSprop rms({p}, o);
  for (std::size_t t = 0; t < 3; ++t) { set_grad(p, kGrads[t]); rms.step(); }
  auto saved = rms.state();
  std::vector<std::string> names;
  for (auto& e : saved) names.push_back(e.first);
  CHECK(names == std::vector<std::string>{"0.step", "0.grad_avg", "0.momentum_buffer", "0.square_avg"});

  auto q = Variable<double>(p.value(), true);
  optim::RMSprop resumed({q}, o);
  resumed.load_state(saved);
  set_grad(p, kGrads[3]); rms.step();
  set_grad(q, kGrads[3]); resumed.step();
  require_values(q, std::vector<double>(p.value().begin(), p.value().end()), 0);

  auto bad = saved;
  bad[1].first = "0.exp_avg";
  auto msg = message_of<std::invalid_argument>([&] { resumed.load_state(bad); });
  CHECK_THAT(msg, Contains("RMSprop.load_state") && Contains("0.exp_avg") && Contains("square_avg"));
  bad = saved;
  bad[1].first = "3.grad_avg";
  msg = message_of<std::invalid_argument>([&] { resumed.load_state(bad); });
  CHECK_THAT(msg, Contains("parameter 3") && Contains("1 parameters"));
  bad = saved;
  bad[2].second = xt::zeros<double>({3});
  msg = message_of<std::invalid_argument>([&] { resumed.load_state(bad); });
  CHECK_THAT(msg, Contains("0.momentum_buffer") && Contains("(3,)") && Contains("(4,)"));
  bad = saved;
  bad[0].second = Tensor<double>(2.5);
  msg = message_of<std::invalid_argument>([&] { resumed.load_state(bad); });
  CHECK_THAT(msg, Contains("0.step") && Contains("2.5"));
  bad = saved;
  bad[0].first = "x.step";
  msg = message_of<std::invalid_argument>([&] { resumed.load_state(bad); });
  CHECK_THAT(msg, Contains("x.step"));
  // A failed load changes nothing.
  CHECK(resumed.param_state(0).step == 4);
}
