// The 0.2 losses: l1_loss, huber_loss, binary_cross_entropy, and cross_entropy / nll_loss with
// CrossEntropyOptions. Values and gradients printed by PyTorch, gradcheck and gradgradcheck,
// gradients at kinks and clamps, and every error message.
#include <cmath>

#include "test_prelude.hpp"

namespace {

constexpr double twelfth = 0.08333333333333333, twenty_fourth = 0.041666666666666664;
constexpr double forty_eighth = 0.020833333333333332;

using LossFn = std::function<Variable<double>(const Variable<double>&, const Variable<double>&)>;

// pred, target and the gradients of both, for a loss of the two.
struct Gradients2 {
  double loss;
  Tensor<double> pred_grad, target_grad;
};
Gradients2 run(const LossFn& f, const Tensor<double>& pred, const Tensor<double>& target) {
  auto p = test::param(pred), t = test::param(target);
  Variable<double> loss = f(p, t);
  REQUIRE(loss.shape().empty());
  loss.backward();
  return {loss.item(), p.grad(), t.grad()};
}

// Logits (4, 5) of the cross-entropy cases: pattern((4, 5), 7, 11, 5, 4).
Tensor<double> logits() { return pattern({4, 5}, 7, 11, 5, 4); }

}  // namespace

// PyTorch 1.13 (python3-torch): pred = pattern((3, 4), 7, 11, 5, 4), target = pattern((3, 4), 3, 7, 3, 4), both
// requiring grad; l = F.l1_loss(pred, target) / F.huber_loss(pred, target[, delta=0.5]);
// torch.autograd.grad(l, [pred, target]). pred == target at flat elements 9 and 10 (the kink).
TEST_CASE("l1_loss and huber_loss: values and gradients printed by PyTorch", "[loss_api]") {
  const Tensor<double> pred = pattern({3, 4}, 7, 11, 5, 4), target = pattern({3, 4}, 3, 7, 3, 4);
  const double a = twelfth, b = twenty_fourth, c = forty_eighth;
  SECTION("l1_loss: the gradient is 0 where pred == target") {
    Gradients2 r = run([](auto& p, auto& t) { return l1_loss(p, t); }, pred, target);
    CHECK(r.loss == Approx(0.7083333333333334).epsilon(1e-15));
    const Tensor<double> g = values({3, 4}, {-a, a, -a, a, -a, -a, a, a, -a, 0, 0, -a});
    test::require_close(r.pred_grad, g, 1e-16);
    test::require_close(r.target_grad, Tensor<double>(-g), 1e-16);
  }
  SECTION("huber_loss, delta 1") {
    Gradients2 r = run([](auto& p, auto& t) { return huber_loss(p, t); }, pred, target);
    CHECK(r.loss == Approx(0.3645833333333333).epsilon(1e-15));
    const Tensor<double> g = values({3, 4}, {-b, b, -a, a, -c, -c, 0.0625, 0.0625, -a, 0, 0, -a});
    test::require_close(r.pred_grad, g, 1e-16);
    test::require_close(r.target_grad, Tensor<double>(-g), 1e-16);
  }
  SECTION("huber_loss, delta 0.5") {
    Gradients2 r = run([](auto& p, auto& t) { return huber_loss(p, t, 0.5); }, pred, target);
    CHECK(r.loss == Approx(0.2552083333333333).epsilon(1e-15));
    const Tensor<double> g = values({3, 4}, {-b, b, -b, b, -c, -c, b, b, -b, 0, 0, -b});
    test::require_close(r.pred_grad, g, 1e-16);
    test::require_close(r.target_grad, Tensor<double>(-g), 1e-16);
  }
}

// PyTorch 1.13: tb = pattern((4,), 1, 5, 2, 2) = [-1, -0.5, 0, 0.5]; l = F.l1_loss(pred, tb.expand(3, 4)) (and
// F.huber_loss); torch.autograd.grad(l, [pred, tb]).
TEST_CASE("l1_loss and huber_loss broadcast the target, its gradient summed back", "[loss_api]") {
  const Tensor<double> pred = pattern({3, 4}, 7, 11, 5, 4), target = pattern({4}, 1, 5, 2, 2);
  const double a = twelfth, b = twenty_fourth, c = forty_eighth;
  SECTION("l1_loss") {
    Gradients2 r = run([](auto& p, auto& t) { return l1_loss(p, t); }, pred, target);
    CHECK(r.loss == Approx(0.7291666666666666).epsilon(1e-15));
    test::require_close(r.pred_grad, values({3, 4}, {-a, a, -a, a, a, -a, a, -a, 0, a, -a, -a}), 1e-16);
    test::require_close(r.target_grad, values({4}, {0, -a, a, a}), 1e-16);
  }
  SECTION("huber_loss") {
    Gradients2 r = run([](auto& p, auto& t) { return huber_loss(p, t); }, pred, target);
    CHECK(r.loss == Approx(0.3645833333333333).epsilon(1e-15));
    test::require_close(r.pred_grad, values({3, 4}, {-c, a, -b, 0.0625, a, -c, a, -b, 0, a, -c, -a}), 1e-16);
    test::require_close(r.target_grad,
                        values({4}, {-0.0625, -0.14583333333333331, -0.020833333333333332, 0.06249999999999999}), 1e-15);
  }
}

// PyTorch 1.13: x = torch.tensor([1.0, -1.0, 0.5, 2.0], dtype=torch.double, requires_grad=True);
// g, = torch.autograd.grad(F.huber_loss(x, torch.zeros(4)), x, create_graph=True) -> [0.25, -0.25, 0.125, 0.25];
// torch.autograd.grad(g.sum(), x) -> [0, 0, 0.25, 0]: at |d| == delta the second derivative is 0.
TEST_CASE("huber_loss: second derivative 0 at |d| == delta, as PyTorch", "[loss_api]") {
  auto x = test::param(Tensor<double>{1.0, -1.0, 0.5, 2.0});
  Variable<double> zero(Tensor<double>(xt::zeros<double>({4})));
  auto g = grad<double>({huber_loss(x, zero)}, {x}, {}, std::nullopt, true)[0];
  test::require_close(g.value(), Tensor<double>{0.25, -0.25, 0.125, 0.25}, 1e-16);
  auto gg = grad<double>({sum(g)}, {x})[0];
  test::require_close(gg.value(), Tensor<double>{0.0, 0.0, 0.25, 0.0}, 1e-16);
}

TEST_CASE("l1_loss and huber_loss pass gradcheck and gradgradcheck, target broadcast", "[loss_api]") {
  // d = pred - target keeps at least 0.1 from the kinks (0, and +-delta for delta 1 and 0.5)
  auto pred = test::param(Tensor<double>(pattern({3, 4}, 7, 11, 5, 4) + 0.1));
  auto target = test::param(pattern({4}, 1, 5, 2, 2));
  Generator gen(141);
  for (double delta : {0.0, 1.0, 0.5}) {
    INFO("delta " << delta << " (0: l1_loss)");
    auto f = [delta](auto& v) { return delta == 0 ? l1_loss(v[0], v[1]) : huber_loss(v[0], v[1], delta); };
    test::require_higher_order(f, {pred, target});
    test::require_grad_and_gradgrad(test::gradient_function(f), {pred, target, test::param(Tensor<double>(0.7))});
  }
}

// PyTorch 1.13: p = [[0.1, 0.5, 0.9], [0.3, 0.0, 1.0]], t = [[0, 1, 0.25], [1, 1, 0.5]], both double requiring grad;
// l = F.binary_cross_entropy(p, t); torch.autograd.grad(l, [p, t]). p = 0 and 1: logs clamped at -100, gradient
// denominators at PyTorch's floor (1e-12 as a float), target gradients infinite (-logit(p)).
TEST_CASE("binary_cross_entropy: values and gradients printed by PyTorch, at the clamps too", "[loss_api]") {
  const Tensor<double> t = values({2, 3}, {0.0, 1.0, 0.25, 1.0, 1.0, 0.5});
  SECTION("with p = 0 and p = 1") {
    Gradients2 r = run([](auto& p, auto& tt) { return binary_cross_entropy(p, tt); },
                       values({2, 3}, {0.1, 0.5, 0.9, 0.3, 0.0, 1.0}), t);
    CHECK(r.loss == Approx(25.625959908200613).epsilon(1e-14));
    test::require_close(r.pred_grad, values({2, 3}, {0.18518518518518515, -0.3333333333333333, 1.203703703703704,
                                                     -0.5555555555555555, -166666667332.63382, 83333333666.31691}),
                        1e-14);
    CHECK(r.target_grad(0, 0) == Approx(0.36620409622270317).epsilon(1e-14));
    CHECK(r.target_grad(0, 1) == 0.0);
    CHECK(r.target_grad(0, 2) == Approx(-0.3662040962227033).epsilon(1e-14));
    CHECK(r.target_grad(1, 0) == Approx(0.14121631006453395).epsilon(1e-14));
    CHECK(r.target_grad(1, 1) == std::numeric_limits<double>::infinity());
    CHECK(r.target_grad(1, 2) == -std::numeric_limits<double>::infinity());
  }
  // PyTorch 1.13: p2 = [[0.1, 0.5, 0.9], [0.3, 0.2, 0.7]]; gp, gt = torch.autograd.grad(l, [p2, t], create_graph=True);
  // torch.autograd.grad(gp.sum(), [p2]) and ([t]): PyTorch's double backward.
  SECTION("inside (0, 1), with second derivatives") {
    auto p = test::param(values({2, 3}, {0.1, 0.5, 0.9, 0.3, 0.2, 0.7})), tt = test::param(t);
    Variable<double> loss = binary_cross_entropy(p, tt);
    CHECK(loss.item() == Approx(1.024253539295022).epsilon(1e-14));
    auto g = grad<double>({loss}, {p, tt}, {}, std::nullopt, true);
    test::require_close(g[0].value(), values({2, 3}, {0.18518518518518515, -0.3333333333333333, 1.203703703703704,
                                                      -0.5555555555555555, -0.8333333333333331, 0.1587301587301587}),
                        1e-14);
    test::require_close(g[1].value(), values({2, 3}, {0.36620409622270317, 0.0, -0.3662040962227033, 0.14121631006453395,
                                                      0.23104906018664842, -0.14121631006453392}), 1e-14);
    auto h = grad<double>({sum(g[0])}, {p, tt});
    test::require_close(h[0].value(), values({2, 3}, {0.2057613168678555, 0.6666666666613335, 12.551440328939194,
                                                      1.8518518518342157, 4.166666666614582, 1.095993953126372}),
                        1e-12);
    test::require_close(h[1].value(), values({2, 3}, {-1.8518518518518514, -0.6666666666666666, -1.851851851851852,
                                                      -0.7936507936507936, -1.0416666666666665, -0.7936507936507936}),
                        1e-14);
  }
}

TEST_CASE("binary_cross_entropy passes gradcheck and gradgradcheck for probs and targets", "[loss_api]") {
  Generator gen(142);
  auto p = test::param(test::uniform({3, 4}, gen, 0.1, 0.9));
  auto t = test::param(test::uniform({3, 4}, gen, 0.0, 1.0));
  auto f = [](auto& v) { return binary_cross_entropy(v[0], v[1]); };
  test::require_higher_order(f, {p, t});
  test::require_grad_and_gradgrad(test::gradient_function(f), {p, t, test::param(Tensor<double>(1.3))});
  Variable<double> fixed(t.value());
  test::require_higher_order(f, {p, fixed});
}

// PyTorch 1.13: x = pattern((4, 5), 7, 11, 5, 4).requires_grad_(); l = F.cross_entropy(x, labels, **options);
// torch.autograd.grad(l, x).
TEST_CASE("cross_entropy with options: values and gradients printed by PyTorch", "[loss_api]") {
  auto check = [](const Labels& labels, const CrossEntropyOptions& options, double loss_value,
                  const std::vector<double>& gradient) {
    auto x = test::param(logits());
    Variable<double> loss = cross_entropy(x, labels, options);
    CHECK(loss.op() == "cross_entropy");  // still one fused op
    CHECK(loss.item() == Approx(loss_value).epsilon(1e-14));
    loss.backward();
    test::require_close(x.grad(), values({4, 5}, gradient), 1e-15);
  };
  SECTION("default options: the fused loss as before") {
    check({0, 2, 4, 1}, {}, 2.0805553366790797,
          {-0.24020981759850982, 0.05633860984619964, 0.020725816306595844, 0.11926883798033966, 0.04387655346537465,
           0.01769023229827828, 0.10180025812283518, -0.21254977793066282, 0.013777166766614182, 0.07928212074293518,
           0.028586557194332996, 0.010516406685666696, 0.06051774205530212, 0.022263233128262037, -0.12188393906356385,
           0.05494282055076716, -0.22978766587940094, 0.11631395201872127, 0.042789511669089134, 0.01574138164082342});
  }
  SECTION("ignore_index 2 (a valid class): its row leaves the mean") {
    CrossEntropyOptions o;
    o.ignore_index = 2;
    check({0, 2, 4, 1}, o, 2.141257689518351,
          {-0.32027975679801307, 0.07511814646159952, 0.02763442174212779, 0.15902511730711955, 0.058502071287166196,
           0.0, 0.0, 0.0, 0.0, 0.0, 0.03811540959244399, 0.014021875580888927, 0.08069032274040283,
           0.029684310837682713, -0.16251191875141846, 0.07325709406768954, -0.3063835545058679, 0.15508526935829503,
           0.05705268222545218, 0.020988508854431227});
  }
  SECTION("label_smoothing 0.2") {
    CrossEntropyOptions o;
    o.label_smoothing = 0.2;
    check({0, 2, 4, 1}, o, 2.0480553366790795,
          {-0.20020981759850984, 0.046338609846199655, 0.010725816306595849, 0.10926883798033969, 0.03387655346537466,
           0.0076902322982782805, 0.09180025812283518, -0.17254977793066284, 0.003777166766614182, 0.06928212074293519,
           0.018586557194333, 0.0005164066856666982, 0.050517742055302135, 0.012263233128262042, -0.08188393906356384,
           0.044942820550767155, -0.18978766587940096, 0.10631395201872128, 0.03278951166908913, 0.005741381640823421});
  }
  SECTION("ignore_index -1 and label_smoothing 0.1 together") {
    check({0, -1, 4, 1}, CrossEntropyOptions{-1, 0.1}, 2.1195910228516843,
          {-0.2936130901313464, 0.06845147979493284, 0.020967755075461118, 0.15235845064045284, 0.051835404620499514,
           0.0, 0.0, 0.0, 0.0, 0.0, 0.03144874292577732, 0.007355208914222258, 0.07402365607373615,
           0.023017644171016042, -0.13584525208475182, 0.06659042740102286, -0.27971688783920123, 0.14841860269162832,
           0.050386015558785496, 0.014321842187764555});
  }
}

// PyTorch 1.13: F.cross_entropy(x, torch.tensor([0, -100, 4, -100])) -- -100 is PyTorch's default ignore_index,
// so the two-argument cross_entropy ignores those rows too.
TEST_CASE("cross_entropy without options ignores labels equal to -100, as PyTorch", "[loss_api]") {
  const std::vector<double> expected{
      -0.48041963519701963, 0.11267721969239929, 0.04145163261319169, 0.23853767596067932, 0.0877531069307493,
      0.0, 0.0, 0.0, 0.0, 0.0, 0.05717311438866599, 0.021032813371333392, 0.12103548411060425, 0.044526466256524073,
      -0.2437678781271277, 0.0, 0.0, 0.0, 0.0, 0.0};
  for (bool with_options : {false, true}) {
    auto x = test::param(logits());
    Variable<double> loss = with_options ? cross_entropy(x, Labels{0, -100, 4, -100}, CrossEntropyOptions{})
                                         : cross_entropy(x, Labels{0, -100, 4, -100});
    CHECK(loss.item() == Approx(1.9543025843946358).epsilon(1e-14));
    loss.backward();
    test::require_close(x.grad(), values({4, 5}, expected), 1e-15);
  }
}

// PyTorch 1.13: F.nll_loss(F.log_softmax(x, 1), torch.tensor([3, 2, 0, 2]), ignore_index=2), gradient w.r.t. x;
// and lp2 = pattern((4, 5), 3, 7, 6, 2): F.nll_loss(lp2, the same labels, ignore_index=2) = 2, gradient -1/2 at
// the labels of rows 0 and 2.
TEST_CASE("nll_loss with ignore_index: values and gradients printed by PyTorch", "[loss_api]") {
  CrossEntropyOptions o;
  o.ignore_index = 2;
  const Labels labels{3, 2, 0, 2};
  auto lp = test::param(pattern({4, 5}, 3, 7, 6, 2));
  Variable<double> loss = nll_loss(lp, labels, o);
  CHECK(loss.item() == 2.0);
  loss.backward();
  Tensor<double> expected = xt::zeros<double>({4, 5});
  expected(0, 3) = expected(2, 0) = -0.5;
  test::require_close(lp.grad(), expected, 0);

  auto x = test::param(logits());
  Variable<double> through_log_softmax = nll_loss(log_softmax(x, 1), labels, o);
  CHECK(through_log_softmax.item() == Approx(1.4543025843946358).epsilon(1e-14));
  through_log_softmax.backward();
  test::require_close(x.grad(), values({4, 5}, {0.019580364802980376, 0.11267721969239929, 0.04145163261319169,
                                                -0.2614623240393207, 0.0877531069307493, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                -0.442826885611334, 0.021032813371333392, 0.12103548411060425,
                                                0.044526466256524073, 0.2562321218728723, 0.0, 0.0, 0.0, 0.0, 0.0}),
                      1e-15);
}

// PyTorch 1.13: with every label ignored, cross_entropy (with or without smoothing) and nll_loss are NaN and their
// gradient is zero.
TEST_CASE("cross_entropy and nll_loss with every row ignored: NaN loss, zero gradient at every order",
          "[loss_api]") {
  const Labels labels{-100, -100};
  for (int which = 0; which < 3; ++which) {
    INFO("case " << which);
    auto x = test::param(pattern({2, 3}, 7, 11, 5, 4));
    Variable<double> loss = which == 0   ? cross_entropy(x, labels)
                            : which == 1 ? cross_entropy(x, labels, CrossEntropyOptions{-100, 0.2})
                                         : nll_loss(x, labels);
    CHECK(std::isnan(loss.item()));
    auto g = grad<double>({loss}, {x}, {}, std::nullopt, true)[0];
    test::require_close(g.value(), Tensor<double>(xt::zeros<double>({2, 3})), 0);
    const Variable<double> second = sum(g * g) + sum(g);
    if (!second.requires_grad()) continue;  // nll_loss's gradient does not depend on x
    auto gg = grad<double>({second}, {x}, {}, std::nullopt, false, true)[0];
    if (gg.defined()) test::require_close(gg.value(), Tensor<double>(xt::zeros<double>({2, 3})), 0);
  }
}

TEST_CASE("cross_entropy and nll_loss with options pass gradcheck and gradgradcheck", "[loss_api]") {
  Generator gen(143);
  auto x = test::param(test::uniform({4, 5}, gen, -2.0, 2.0));
  auto seed = test::param(Tensor<double>(0.8));
  for (const CrossEntropyOptions& o : {CrossEntropyOptions{-1, 0.0}, CrossEntropyOptions{-100, 0.3},
                                       CrossEntropyOptions{-1, 0.1}, CrossEntropyOptions{2, 1.0}}) {
    INFO("ignore_index " << o.ignore_index << ", label_smoothing " << o.label_smoothing);
    const Labels labels{0, -1, 4, 2};
    const Labels valid = o.ignore_index == -1 ? labels : Labels{0, 3, 4, 2};
    auto ce = [valid, o](auto& v) { return cross_entropy(v[0], valid, o); };
    test::require_higher_order(ce, {x});
    test::require_grad_and_gradgrad(test::gradient_function(ce), {x, seed});
    if (o.label_smoothing == 0) {
      auto nll = [valid, o](auto& v) { return nll_loss(log_softmax(v[0], 1), valid, o); };
      test::require_higher_order(nll, {x});
      test::require_grad_and_gradgrad(test::gradient_function(nll), {x, seed});
      CHECK(nll_loss(log_softmax(x, 1), valid, o).item() == Approx(cross_entropy(x, valid, o).item()).epsilon(1e-14));
    }
  }
}

TEST_CASE("the 0.2 losses: float matches double", "[loss_api]") {
  Generator gen(144);
  const Tensor<double> a = test::uniform({3, 5}, gen, 0.05, 0.95), b = test::uniform({3, 5}, gen, 0.0, 1.0);
  auto total = [](const auto& p, const auto& t) {
    using V = std::decay_t<decltype(p)>;
    const V ignored_row = cross_entropy(p, Labels{4, -1, 0}, CrossEntropyOptions{-1, 0.25});
    return l1_loss(p, t) + huber_loss(p, t, 0.3) + binary_cross_entropy(p, t) + ignored_row +
           nll_loss(p, Labels{1, 2, 2}, CrossEntropyOptions{2, 0});
  };
  auto pf = Variable<float>(Tensor<float>(xt::cast<float>(a)), true), tf = Variable<float>(Tensor<float>(xt::cast<float>(b)));
  auto pd = test::param(a);
  Variable<double> td(b);
  Variable<float> lf = total(pf, tf);
  Variable<double> ld = total(pd, td);
  CHECK(lf.item() == Approx(ld.item()).epsilon(1e-6));
  lf.backward();
  ld.backward();
  test::require_close(Tensor<double>(xt::cast<double>(pf.grad())), pd.grad(), 1e-5);
}

TEST_CASE("the 0.2 losses reject bad arguments naming the function and the values", "[loss_api]") {
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  Variable<double> p(Tensor<double>{{0.2, 0.5}, {0.7, 1.0}}), t(xt::zeros<double>({2, 2}));
  SECTION("huber_loss: delta must be positive") {
    CHECK(err([&] { huber_loss(p, t, 0.0); }) == "huber_loss: delta must be positive, got 0");
    CHECK(err([&] { huber_loss(p, t, -1.5); }) == "huber_loss: delta must be positive, got -1.5");
  }
  SECTION("l1_loss and huber_loss: shapes that do not broadcast") {
    Variable<double> three(xt::zeros<double>({3}));
    CHECK_THAT(err([&] { l1_loss(p, three); }), Contains("l1_loss") && Contains("(2, 2)") && Contains("(3,)"));
    CHECK_THAT(err([&] { huber_loss(p, three); }), Contains("huber_loss") && Contains("(2, 2)") && Contains("(3,)"));
  }
  SECTION("binary_cross_entropy: shapes and the range of probs") {
    CHECK(err([&] { binary_cross_entropy(p, Variable<double>(xt::zeros<double>({4}))); }) ==
          "binary_cross_entropy: probs (2, 2) and targets (4,) must have the same shape");
    CHECK(err([&] { binary_cross_entropy(Variable<double>(Tensor<double>{0.5, 1.5}), Variable<double>(Tensor<double>{0.0, 1.0})); }) ==
          "binary_cross_entropy: probs must lie in [0, 1], got 1.5 at flat index 1");
    CHECK(err([&] { binary_cross_entropy(Variable<double>(Tensor<double>{-0.25}), Variable<double>(Tensor<double>{0.0})); }) ==
          "binary_cross_entropy: probs must lie in [0, 1], got -0.25 at flat index 0");
    CHECK_THAT(err([&] { binary_cross_entropy(Variable<double>(Tensor<double>{std::nan("")}), Variable<double>(Tensor<double>{0.0})); }),
               Contains("binary_cross_entropy: probs must lie in [0, 1], got nan"));
  }
  SECTION("cross_entropy and nll_loss: labels, ignore_index and label_smoothing") {
    Variable<double> x(xt::zeros<double>({2, 3}));
    CHECK(err([&] { cross_entropy(x, Labels{0, -1}, CrossEntropyOptions{}); }) ==
          "cross_entropy: label -1 at index 1 is out of range for 3 classes (valid: 0 to 2, or ignore_index -100)");
    CHECK(err([&] { cross_entropy(x, Labels{-100, 3}, CrossEntropyOptions{-1, 0}); }) ==
          "cross_entropy: label -100 at index 0 is out of range for 3 classes (valid: 0 to 2, or ignore_index -1)");
    CHECK(err([&] { nll_loss(x, Labels{5, 0}, CrossEntropyOptions{2, 0}); }) ==
          "nll_loss: label 5 at index 0 is out of range for 3 classes (valid: 0 to 2, or ignore_index 2)");
    CHECK(err([&] { cross_entropy(x, Labels{0, 1}, CrossEntropyOptions{-100, 1.5}); }) ==
          "cross_entropy: label_smoothing must be between 0 and 1, got 1.5");
    CHECK(err([&] { cross_entropy(x, Labels{0, 1}, CrossEntropyOptions{-100, -0.1}); }) ==
          "cross_entropy: label_smoothing must be between 0 and 1, got -0.1");
    CHECK(err([&] { nll_loss(x, Labels{0, 1}, CrossEntropyOptions{-100, 0.1}); }) ==
          "nll_loss: label_smoothing 0.1 is not supported (PyTorch's nll_loss has none): use cross_entropy");
    CHECK_THAT(err([&] { cross_entropy(x, Labels{0}, CrossEntropyOptions{}); }),
               Contains("cross_entropy") && Contains("1 labels") && Contains("(2, 3)"));
    CHECK_THAT(err([&] { nll_loss(Variable<double>(xt::zeros<double>({6})), Labels{0}, CrossEntropyOptions{}); }),
               Contains("nll_loss") && Contains("2-D") && Contains("(6,)"));
  }
}
