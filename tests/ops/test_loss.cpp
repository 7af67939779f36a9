#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::all_finite;
using tg::test::message_of;

// ---------------------------------------------------------------- mse_loss

TEST_CASE("mse_loss matches numpy broadcasting target (3) against pred (2 3)") {
  Variable<double> pred(Tensor<double>{{0.5, -1.0, 2.0}, {1.5, 0.0, -0.5}});
  Variable<double> target(Tensor<double>{1.0, -0.5, 0.25});
  Variable<double> loss = mse_loss(pred, target);
  CHECK(loss.shape().empty());
  CHECK(loss.item() == Approx(0.7708333333333334).epsilon(1e-14));  // numpy: ((pred - tgt)**2).mean()
}

TEST_CASE("mse_loss passes gradcheck and gradgradcheck to both inputs with and without broadcasting") {
  Generator gen(21);
  SECTION("same shape") {
    auto p = test::param(test::uniform({3, 4}, gen)), t = test::param(test::uniform({3, 4}, gen));
    test::require_higher_order([](auto& v) { return mse_loss(v[0], v[1]); }, {p, t});
  }
  SECTION("broadcast target") {
    auto p = test::param(test::uniform({3, 4}, gen)), t = test::param(test::uniform({4}, gen));
    test::require_higher_order([](auto& v) { return mse_loss(v[0], v[1]); }, {p, t});
  }
  SECTION("broadcast pred (3,1) against (1,4)") {
    auto p = test::param(test::uniform({3, 1}, gen)), t = test::param(test::uniform({1, 4}, gen));
    test::require_higher_order([](auto& v) { return mse_loss(v[0], v[1]); }, {p, t});
  }
  SECTION("only pred requires grad") {
    auto p = test::param(test::uniform({5}, gen));
    Variable<double> t(test::uniform({5}, gen));
    test::require_higher_order([](auto& v) { return mse_loss(v[0], v[1]); }, {p, t});
  }
}

TEST_CASE("mse_loss gradient is 2 (pred - target) / N negated for target") {
  auto p = test::param(Tensor<double>{1.0, 2.0, 4.0, 0.0});
  auto t = test::param(Tensor<double>{0.0, 2.0, 1.0, 1.0});
  mse_loss(p, t).backward();
  test::require_close(p.grad(), Tensor<double>{0.5, 0.0, 1.5, -0.5}, 1e-15);
  test::require_close(t.grad(), Tensor<double>{-0.5, 0.0, -1.5, 0.5}, 1e-15);
}

TEST_CASE("mse_loss rejects shapes that do not broadcast naming the function and both shapes") {
  Variable<double> p(xt::zeros<double>({3, 4})), t(xt::zeros<double>({3}));
  std::string msg = message_of<std::invalid_argument>([&] { mse_loss(p, t); });
  CHECK_THAT(msg, Contains("mse_loss") && Contains("(3, 4)") && Contains("(3,)"));
}

// ---------------------------------------------------------------- cross_entropy

TEST_CASE("cross_entropy matches numpy value and gradient (softmax - onehot) / N") {
  auto x = test::param(Tensor<double>{{2.0, -1.0, 0.5}, {0.1, 0.2, 0.3}});
  Variable<double> loss = cross_entropy(x, Labels{2, 0});
  CHECK(loss.shape().empty());
  CHECK(loss.op() == "cross_entropy");  // one fused op
  // numpy 1.24: -mean(log_softmax(x)[i, label_i]) and (softmax(x) - eye(3)[labels]) / 2
  CHECK(loss.item() == Approx(1.4716270724432006).epsilon(1e-14));
  loss.backward();
  test::require_close(x.grad(), Tensor<double>{{0.39279851729463794, 0.019556286635343725, -0.41235480392998164},
                                               {-0.3496951973221364, 0.16611249676667364, 0.18358270055546275}},
                      1e-14);
}

TEST_CASE("cross_entropy passes gradcheck and gradgradcheck and equals nll_loss(log_softmax(x))") {
  Generator gen(22);
  auto x = test::param(test::uniform({5, 4}, gen, -3.0, 3.0));
  const Labels labels{3, 0, 1, 1, 2};
  test::require_higher_order([labels](auto& v) { return cross_entropy(v[0], labels); }, {x});
  test::require_higher_order([labels](auto& v) { return nll_loss(log_softmax(v[0], 1), labels); }, {x});
  CHECK(cross_entropy(x, labels).item() == Approx(nll_loss(log_softmax(x), labels).item()).epsilon(1e-14));
}

TEST_CASE("cross_entropy is finite and exact at logits of +-1000") {
  const Tensor<double> big{{1000.0, -1000.0, 0.0}, {-1000.0, -1000.0, 1000.0}};
  SECTION("double") {
    auto x = test::param(big);
    Variable<double> loss = cross_entropy(x, Labels{1, 2});
    // row 0: logsumexp = 1000, minus x[1] = -1000 -> 2000; row 1: the label holds the max -> 0; mean 1000
    CHECK(loss.item() == Approx(1000.0).epsilon(1e-15));
    loss.backward();
    REQUIRE(all_finite(x.grad()));
    test::require_close(x.grad(), Tensor<double>{{0.5, -0.5, 0.0}, {0.0, 0.0, 0.0}}, 1e-15);
  }
  SECTION("float") {
    Variable<float> x(Tensor<float>(big), true);
    Variable<float> loss = cross_entropy(x, Labels{1, 2});
    CHECK(loss.item() == 1000.0f);
    loss.backward();
    for (float v : x.grad()) CHECK(std::isfinite(v));
    CHECK(x.grad()(0, 0) == 0.5f);
    CHECK(x.grad()(0, 1) == -0.5f);
    CHECK(x.grad()(1, 2) == 0.0f);
  }
}

TEST_CASE("cross_entropy on float matches the double result") {
  Generator gen(23);
  Tensor<double> xd = test::uniform({6, 10}, gen, -4.0, 4.0);
  const Labels labels{0, 9, 3, 3, 7, 1};
  Variable<float> xf(Tensor<float>(xd), true);
  auto loss_f = cross_entropy(xf, labels);
  auto xv = test::param(xd);
  auto loss_d = cross_entropy(xv, labels);
  CHECK(loss_f.item() == Approx(loss_d.item()).epsilon(1e-6));
  loss_f.backward();
  loss_d.backward();
  for (std::size_t i = 0; i < xd.size(); ++i) {
    CHECK(xf.grad().data()[i] == Approx(xv.grad().data()[i]).margin(1e-7));
  }
}

// ---------------------------------------------------------------- nll_loss

TEST_CASE("nll_loss is -mean(log_probs[i label_i]) with gradient -1/N at the labels") {
  auto lp = test::param(Tensor<double>{{-0.5, -1.2, -2.0}, {-0.1, -3.0, -2.5}});
  Variable<double> loss = nll_loss(lp, Labels{1, 0});
  CHECK(loss.shape().empty());
  CHECK(loss.item() == Approx(0.65).epsilon(1e-15));  // by hand: (1.2 + 0.1) / 2
  loss.backward();
  test::require_close(lp.grad(), Tensor<double>{{0.0, -0.5, 0.0}, {-0.5, 0.0, 0.0}}, 0);
}

TEST_CASE("nll_loss passes gradcheck and gradgradcheck") {
  Generator gen(24);
  auto lp = test::param(test::uniform({4, 3}, gen, -3.0, 0.0));
  test::require_higher_order([](auto& v) { return nll_loss(v[0], Labels{2, 2, 0, 1}); }, {lp});
}

// ---------------------------------------------------------------- errors shared by cross_entropy and nll_loss

TEST_CASE("cross_entropy and nll_loss reject bad inputs with messages naming the function and values") {
  for (const char* name : {"cross_entropy", "nll_loss"}) {
    INFO(name);
    auto call = [name](const Variable<double>& x, const Labels& labels) {
      return std::string(name) == "cross_entropy" ? cross_entropy(x, labels) : nll_loss(x, labels);
    };
    SECTION(std::string("not 2-D: ") + name) {
      Variable<double> v1(xt::zeros<double>({6})), v3(xt::zeros<double>({2, 3, 4}));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(v1, Labels{0}); }),
                 Contains(name) && Contains("2-D") && Contains("(6,)"));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(v3, Labels{0, 0}); }),
                 Contains(name) && Contains("2-D") && Contains("(2, 3, 4)"));
    }
    SECTION(std::string("label count: ") + name) {
      Variable<double> x(xt::zeros<double>({2, 3}));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(x, Labels{0, 1, 2}); }),
                 Contains(name) && Contains("3 labels") && Contains("(2, 3)"));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(x, Labels{}); }),
                 Contains(name) && Contains("0 labels"));
    }
    SECTION(std::string("label out of range: ") + name) {
      Variable<double> x(xt::zeros<double>({2, 3}));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(x, Labels{0, 3}); }),
                 Contains(name) && Contains("label 3") && Contains("index 1") && Contains("3 classes"));
      CHECK_THAT(message_of<std::invalid_argument>([&] { call(x, Labels{-1, 0}); }),
                 Contains(name) && Contains("label -1") && Contains("index 0") && Contains("3 classes"));
    }
  }
}

// ---------------------------------------------------------------- binary_cross_entropy_with_logits

TEST_CASE("binary_cross_entropy_with_logits matches the textbook formula computed in numpy") {
  Variable<double> x(Tensor<double>{{-1.5, 0.3}, {2.0, -0.2}});
  Variable<double> t(Tensor<double>{{0.0, 1.0}, {1.0, 0.5}});
  Variable<double> loss = binary_cross_entropy_with_logits(x, t);
  CHECK(loss.shape().empty());
  // numpy 1.24: s = 1/(1+exp(-x)); mean(-(t log s + (1-t) log(1-s)))
  CHECK(loss.item() == Approx(0.3952088507189609).epsilon(1e-14));
}

TEST_CASE("binary_cross_entropy_with_logits passes gradcheck and gradgradcheck for logits and targets") {
  Generator gen(25);
  auto x = test::param(test::uniform({3, 4}, gen, -3.0, 3.0));
  auto t = test::param(test::uniform({3, 4}, gen, 0.0, 1.0));
  test::require_higher_order([](auto& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {x, t});
  Variable<double> fixed(test::uniform({3, 4}, gen, 0.0, 1.0));
  test::require_higher_order([](auto& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {x, fixed});
}

TEST_CASE("binary_cross_entropy_with_logits gradient to targets is -x / N") {
  Variable<double> x(Tensor<double>{1.0, -2.0, 0.5, 4.0});
  auto t = test::param(Tensor<double>{0.0, 1.0, 0.5, 1.0});
  binary_cross_entropy_with_logits(x, t).backward();
  test::require_close(t.grad(), Tensor<double>{-0.25, 0.5, -0.125, -1.0}, 1e-15);
}

TEST_CASE("binary_cross_entropy_with_logits is finite and correct at logits of +-100") {
  const Tensor<double> xb{100.0, -100.0, 100.0, -100.0};
  const Tensor<double> tb{1.0, 0.0, 0.0, 1.0};
  SECTION("double") {
    auto x = test::param(xb);
    Variable<double> t(tb);
    Variable<double> loss = binary_cross_entropy_with_logits(x, t);
    CHECK(loss.item() == Approx(50.0).epsilon(1e-15));  // terms 0, 0, 100, 100 (+ log1p(e^-100))
    loss.backward();
    REQUIRE(all_finite(x.grad()));
    // numpy 1.24: (sigmoid(x) - t) / 4
    test::require_close(x.grad(), Tensor<double>{0.0, 9.300189940052089e-45, 0.25, -0.25}, 1e-15);
    CHECK(x.grad()(1) == Approx(9.300189940052089e-45).epsilon(1e-12));
  }
  SECTION("float") {
    Variable<float> x(Tensor<float>(xb), true);
    Variable<float> t(Tensor<float>{1.0f, 0.0f, 0.0f, 1.0f});
    Variable<float> loss = binary_cross_entropy_with_logits(x, t);
    CHECK(loss.item() == Approx(50.0f));
    loss.backward();
    for (float v : x.grad()) CHECK(std::isfinite(v));
    CHECK(x.grad()(2) == Approx(0.25f));
    CHECK(x.grad()(3) == Approx(-0.25f));
  }
}

TEST_CASE("binary_cross_entropy_with_logits requires equal shapes naming the function and both shapes") {
  Variable<double> x(xt::zeros<double>({2, 2})), t1(xt::zeros<double>({2})), t2(xt::zeros<double>({2, 1}));
  CHECK_THAT(message_of<std::invalid_argument>([&] { binary_cross_entropy_with_logits(x, t1); }),
             Contains("binary_cross_entropy_with_logits") && Contains("(2, 2)") && Contains("(2,)"));
  CHECK_THAT(message_of<std::invalid_argument>([&] { binary_cross_entropy_with_logits(x, t2); }),
             Contains("binary_cross_entropy_with_logits") && Contains("(2, 2)") && Contains("(2, 1)"));
}

TEST_CASE("losses release their graph after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    auto x = test::param(Tensor<double>{{1.0, 2.0}, {0.5, -0.5}});
    cross_entropy(x, Labels{0, 1}).backward();
    mse_loss(x, Variable<double>(Tensor<double>{0.0, 1.0})).backward();
  }
  CHECK(tape_stats().live_nodes == before);
}

// ---------------------------------------------------------------- higher order

TEST_CASE("losses: second derivatives by hand") {
  const Tensor<double> p{{0.5, -1.0, 2.0}, {1.5, 0.0, -0.5}}, t{0.25, 1.0, -1.0};
  SECTION("mse_loss: 2/N I for pred; the broadcast target meets two rows: 2 * 2/N I") {
    const Tensor<double> Hp = functional::hessian([&t](const Variable<double>& v) { return mse_loss(v, Variable<double>(t)); }, p);
    const Tensor<double> Ht = functional::hessian([&p](const Variable<double>& v) { return mse_loss(Variable<double>(p), v); }, t);
    Tensor<double> eye6 = xt::eye<double>(6) * (2.0 / 6.0);
    eye6.reshape({2, 3, 2, 3});
    test::require_close(Hp, eye6, 1e-12);
    test::require_close(Ht, Tensor<double>(xt::eye<double>(3) * (4.0 / 6.0)), 1e-12);
    // mixed: d/dt of d/dpred = -2/N where the columns match
    Variable<double> pv(p, true), tv(t, true);
    Variable<double> gp = grad<double>({mse_loss(pv, tv)}, {pv}, {}, std::nullopt, true)[0];
    test::require_close(grad<double>({sum(gp)}, {tv})[0].value(), Tensor<double>{-4.0 / 6, -4.0 / 6, -4.0 / 6}, 1e-12);
  }
  SECTION("cross_entropy: (diag(p_n) - p_n p_n^T) / N for each row n, and nll_loss(log_softmax) agrees") {
    const Labels labels{2, 0};
    const Tensor<double> H = functional::hessian([&labels](const Variable<double>& v) { return cross_entropy(v, labels); }, p);
    const Tensor<double> H2 = functional::hessian(
        [&labels](const Variable<double>& v) { return nll_loss(log_softmax(v, 1), labels); }, p);
    for (std::size_t n = 0; n < 2; ++n) {
      Tensor<double> q = Tensor<double>::from_shape({3});  // softmax of row n
      for (std::size_t i = 0; i < 3; ++i) q(i) = std::exp(p(n, i));
      q /= xt::sum(q)();
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t m = 0; m < 2; ++m)
          for (std::size_t j = 0; j < 3; ++j) {
            const double expected = n == m ? ((i == j ? q(i) : 0.0) - q(i) * q(j)) / 2.0 : 0.0;
            REQUIRE(H(n, i, m, j) == Approx(expected).margin(1e-12));
            REQUIRE(H2(n, i, m, j) == Approx(expected).margin(1e-12));
          }
    }
    // nll_loss itself is linear: a zero Hessian
    const Tensor<double> Hn = functional::hessian([&labels](const Variable<double>& v) { return nll_loss(v, labels); }, p);
    CHECK(xt::all(xt::equal(Hn, 0.0)));
  }
  SECTION("binary_cross_entropy_with_logits: diag(s (1 - s)) / N in the logits, -1/N mixed, 0 in the targets") {
    const Tensor<double> targets{{0.0, 1.0, 0.5}, {1.0, 0.25, 0.0}};
    const Tensor<double> H = functional::hessian(
        [&targets](const Variable<double>& v) { return binary_cross_entropy_with_logits(v, Variable<double>(targets)); }, p);
    const Tensor<double> s = 1.0 / (1.0 + xt::exp(-p));
    Tensor<double> expected = xt::zeros<double>({2, 3, 2, 3});
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j) expected(i, j, i, j) = s(i, j) * (1.0 - s(i, j)) / 6.0;
    test::require_close(H, expected, 1e-12);
    Variable<double> x(p, true), tv(targets, true);
    Variable<double> gx = grad<double>({binary_cross_entropy_with_logits(x, tv)}, {x}, {}, std::nullopt, true)[0];
    test::require_close(grad<double>({sum(gx)}, {tv})[0].value(), Tensor<double>(xt::ones<double>({2, 3}) * (-1.0 / 6.0)), 1e-12);
    Variable<double> gt = grad<double>({binary_cross_entropy_with_logits(x, tv)}, {tv}, {}, std::nullopt, true)[0];
    CHECK_FALSE(grad<double>({sum(gt)}, {tv}, {}, std::nullopt, false, true)[0].defined());  // -x / N: no t in it
  }
}

TEST_CASE("losses: third derivatives pass gradcheck and gradgradcheck, for both inputs") {
  Generator gen(17);
  auto x = test::param(test::uniform({3, 4}, gen, -2.0, 2.0));
  auto t = test::param(test::uniform({3, 4}, gen, 0.0, 1.0));
  auto row = test::param(test::uniform({4}, gen));
  const Labels labels{1, 3, 0};
  using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;
  const std::vector<std::tuple<std::string, Fn, std::vector<Variable<double>>>> cases = {
      {"cross_entropy", [labels](auto& v) { return cross_entropy(v[0], labels); }, {x}},
      {"cross_entropy of a product", [labels](auto& v) { return cross_entropy(v[0] * v[1], labels); }, {x, t}},
      {"nll_loss of log_softmax", [labels](auto& v) { return nll_loss(log_softmax(v[0], 1), labels); }, {x}},
      {"nll_loss of a cube", [labels](auto& v) { return nll_loss(v[0] * v[0] * v[0], labels); }, {x}},
      {"bce with logits, d/dlogits", [](auto& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {x, t}},
      {"bce with logits, d/dtargets", [](auto& v) { return binary_cross_entropy_with_logits(v[1] * v[0], v[0]); }, {t, x}},
      {"mse_loss, broadcast target", [](auto& v) { return mse_loss(tg::tanh(v[0]), v[1]); }, {x, row}},
      {"mse_loss, d/dtarget", [](auto& v) { return mse_loss(v[1], tg::tanh(v[0])); }, {row, x}},
  };
  for (const auto& [name, f, inputs] : cases) {
    INFO(name);
    test::require_grad_and_gradgrad(test::gradient_of(f), inputs);
  }
}
