// nn::MultiheadAttention: values against torch.nn.MultiheadAttention, parameters, derivatives, errors.
#include "test_prelude.hpp"

#include <cmath>

namespace {

constexpr std::size_t E = 4, H = 2, L = 3, S = 4, N = 2;

// The script's make(): embed_dim 4, 2 heads, parameters from pattern().
template <class T = double>
nn::MultiheadAttention<T> make(bool bias = true, bool batch_first = false) {
  nn::MultiheadAttention<T> m(E, H, 0.0, bias, batch_first);
  m.in_proj_weight().value() = pattern<T>({3 * E, E}, 7, 11, 5, 8.0);
  m.out_proj().weight().value() = pattern<T>({E, E}, 5, 9, 4, 6.0);
  if (bias) {
    m.in_proj_bias().value() = pattern<T>({3 * E}, 3, 7, 3, 10.0);
    m.out_proj().bias().value() = pattern<T>({E}, 2, 5, 2, 10.0);
  }
  return m;
}

// (L, N, E) -> (N, L, E).
template <class T>
Tensor<T> batch_major(const Tensor<T>& x) {
  return Tensor<T>(xt::transpose(x, {1, 0, 2}));
}

// x[:, 0] of an (L, N, E) tensor: the first sequence, unbatched (L, E).
template <class T>
Tensor<T> first_sequence(const Tensor<T>& x) {
  Tensor<T> out = Tensor<T>::from_shape({x.shape()[0], x.shape()[2]});
  for (std::size_t l = 0; l < x.shape()[0]; ++l)
    for (std::size_t e = 0; e < x.shape()[2]; ++e) out(l, e) = x(l, 0, e);
  return out;
}

// Checks a forward's output and its attention weights against PyTorch's.
template <class T, class Out>
void require_like_torch(const Out& out, const Tensor<T>& output, const Tensor<T>& weights, double tol) {
  test::require_close(out.output.value(), output, tol);
  test::require_close(out.weights.value(), weights, tol);
}

}  // namespace

// Expected values printed by PyTorch 1.13 (Debian's python3-torch) in float64, train mode (dropout 0,
// so the reference path, not the inference fast path), average_attn_weights=True:
//   def make(bias=True, batch_first=False):
//       m = torch.nn.MultiheadAttention(4, 2, bias=bias, batch_first=batch_first).double()
//       m.in_proj_weight <- pattern((12, 4), 7, 11, 5, 8.0); m.out_proj.weight <- pattern((4, 4), 5, 9, 4, 6.0)
//       m.in_proj_bias <- pattern((12,), 3, 7, 3, 10.0); m.out_proj.bias <- pattern((4,), 2, 5, 2, 10.0)
//   q = pattern((3, 2, 4), 7, 13, 6, 5.0); k = pattern((4, 2, 4), 5, 11, 5, 4.0); v = pattern((4, 2, 4), 3, 7, 3, 3.0)
//   kpm = [[False, False, True, False], [True, False, False, False]]; am = pattern((3, 4), 2, 5, 2, 4.0)
//   am3 = pattern((4, 3, 4), 3, 7, 3, 4.0)
//   A: make()(q, k, v)                                B: make(batch_first=True)(q^T, k^T, v^T, key_padding_mask=kpm, attn_mask=am)
//   C: make()(q, k, v, key_padding_mask=kpm, attn_mask=am3)     D: make()(q[:, 0], k[:, 0], v[:, 0], key_padding_mask=kpm[0])
//   E: make(bias=False)(q, k, v)                      F: make()(q, q, q)[0]
// with pattern(shape, a, m, c, d) = tensor([((i*a) % m - c) / d for i in range(numel)]).reshape(shape)
// and ^T swapping the first two dimensions.
TEMPLATE_TEST_CASE("MultiheadAttention: outputs and weights equal torch.nn.MultiheadAttention's", "[multihead_attention]",
                   float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
  const Variable<T> q(pattern<T>({L, N, E}, 7, 13, 6, 5.0)), k(pattern<T>({S, N, E}, 5, 11, 5, 4.0)),
      v(pattern<T>({S, N, E}, 3, 7, 3, 3.0));
  Mask kpm = Mask::from_shape({N, S});
  std::fill(kpm.begin(), kpm.end(), false);
  kpm(0, 2) = true;
  kpm(1, 0) = true;
  auto m = make<T>();

  SECTION("A: no masks") {
    const auto out = m.forward(q, k, v);
    require_like_torch(out,
                       values<T>({L, N, E}, {-0.14772890898737598, 0.13669045603369795, 0.12306203717268016, -0.09251859780624594,
                                            -0.3840094456255605, 0.03493160849498429, 0.07480833639371437, -0.006250609485740882,
                                            -0.044783301787846064, 0.19964078682110215, 0.05767713005892269, -0.19789878133212913,
                                            -0.3509876581497725, 0.03882007316332657, 0.09945822398463895, -0.010734044702261941,
                                            0.2659159899006942, 0.5106307403425775, -0.24482625574988748, -0.5001115053080042,
                                            -0.3395400751454464, 0.048967630396844056, 0.08891394722203669, -0.02257834723567291}),
                       values<T>({N, L, S}, {0.5254629308729274, 0.16876017265424442, 0.16040755428402803, 0.1453693421888003,
                                            0.3990592243345442, 0.20986046689176646, 0.2036756250522691, 0.18740468372142008,
                                            0.13644030108369223, 0.265138669541118, 0.2858497455160974, 0.3125712838590924,
                                            0.2406596501961133, 0.23102097995020515, 0.2767558702721619, 0.2515634995815197,
                                            0.2573906806296121, 0.2711560726878853, 0.22680590005129725, 0.24464734663120535,
                                            0.25593767224730135, 0.2797544944718459, 0.22296599117682553, 0.2413418421040272}), tol);
    CHECK_FALSE(m.forward(q, k, v, nullptr, false).weights.defined());
  }
  SECTION("B: batch_first with key_padding_mask and a 2-D attn_mask") {
    auto mb = make<T>(true, true);
    const Tensor<T> am = pattern<T>({L, S}, 2, 5, 2, 4.0);
    const auto out = mb.forward(Variable<T>(batch_major(q.value())), Variable<T>(batch_major(k.value())),
                                Variable<T>(batch_major(v.value())), &kpm, true, &am);
    require_like_torch(out,
                       values<T>({N, L, E}, {0.1823031974598852, 0.46286753433172684, -0.0984078612738491, -0.31784352440200747,
                                            0.10156125812513184, 0.358368645912041, -0.003865162329817845, -0.2470577745429087,
                                            0.8846826756888932, 1.161335601165983, -0.7069116980854249, -0.9302587726083351,
                                            -0.1030747587848636, 0.46756727613663884, -0.30109551036145427, -0.2304534754399518,
                                            -0.296643113710792, 0.1130564247595549, 0.11779181956373122, 0.027491358034078067,
                                            0.07286472125879351, 0.4398572199667269, -0.14047499005837266, -0.2734824913504393}),
                       values<T>({N, L, S}, {0.5303189515780362, 0.2811045766526019, 0.0, 0.18857647176936188,
                                            0.5396869646402903, 0.1342770086822016, 0.0, 0.3260360266775082,
                                            0.14304089718408147, 0.4474321614713338, 0.0, 0.40952694134458467,
                                            0.0, 0.26152777030699315, 0.5160119358931723, 0.22246029379983445,
                                            0.0, 0.20681796506567024, 0.2849144342601031, 0.5082676006742267,
                                            0.0, 0.4874960588029055, 0.18331022407042946, 0.329193717126665}), tol);
  }
  SECTION("C: key_padding_mask and a per-head 3-D attn_mask") {
    const Tensor<T> am3 = pattern<T>({N * H, L, S}, 3, 7, 3, 4.0);
    const auto out = m.forward(q, k, v, &kpm, true, &am3);
    require_like_torch(out,
                       values<T>({L, N, E}, {0.2966299529587045, 0.5749435304020384, -0.19577092009349845, -0.41745734265016454,
                                            0.016776748933777785, 0.41300019483697165, -0.1324367157257303, -0.2362132698225364,
                                            -0.24451229840820984, 0.02300303366899925, 0.2868360375977179, 0.054351369674927014,
                                            0.06103884024942968, 0.5675668911246518, -0.3552074117571887, -0.34867936088196655,
                                            0.8506682835442425, 1.1471570674722427, -0.6958140087958755, -0.8993252248678754,
                                            -0.07454003418993405, 0.46102690060130275, -0.2727941036006535, -0.2372271688094167}),
                       values<T>({N, L, S}, {0.46799365762967193, 0.31840530443775494, 0.0, 0.21360103793257307,
                                            0.7494869075470785, 0.1475708097658841, 0.0, 0.10294228268703744,
                                            0.16260109819897106, 0.2988810018188709, 0.0, 0.5385178999821579,
                                            0.0, 0.43679554662813147, 0.1924386556597501, 0.37076579771211843,
                                            0.0, 0.4067909856803058, 0.3184715315188556, 0.27473748280083865,
                                            0.0, 0.2974331185289927, 0.500531926339741, 0.2020349551312664}), tol);
  }
  SECTION("D: one unbatched sequence with a 1-D key_padding_mask") {
    const Variable<T> q0(first_sequence(q.value())), k0(first_sequence(k.value())), v0(first_sequence(v.value()));
    Mask kpm0 = Mask::from_shape({S});
    std::fill(kpm0.begin(), kpm0.end(), false);
    kpm0(2) = true;
    const auto out = m.forward(q0, k0, v0, &kpm0);
    require_like_torch(out,
                       values<T>({L, E}, {0.001242145670397904, 0.2851564863960543, 0.05595507614436279, -0.1601305831299808,
                                         0.19769757400166033, 0.4516407600561897, -0.0847899194513097, -0.3308467333967803,
                                         0.7841864328909793, 1.0676781011669403, -0.6263801214284577, -0.8428884531524965}),
                       values<T>({L, S}, {0.6254770127216949, 0.2012086421508944, 0.0, 0.17331434512741067,
                                         0.501097649889342, 0.26354932775516815, 0.0, 0.23535302235548983,
                                         0.19376134106519532, 0.37044177387329646, 0.0, 0.4357968850615082}), tol);
  }
  SECTION("E: without biases") {
    auto mn = make<T>(false);
    CHECK(mn.named_parameters().size() == 2);
    const auto out = mn.forward(q, k, v);
    require_like_torch(out,
                       values<T>({L, N, E}, {-0.11977711781232442, -0.18476170301290462, 0.2589372693062987, 0.19395268410571853,
                                            -0.3505535551825757, -0.2587454696950491, 0.1790699702708617, 0.27087805575838836,
                                            -0.015167670277239488, -0.11703882142386834, 0.18974803682213326, 0.08787688567550445,
                                            -0.31762188701465116, -0.25803345179860904, 0.2087494485356533, 0.2683378837516955,
                                            0.2991735381709762, 0.20930267006440179, -0.12964238055403157, -0.21951324866060595,
                                            -0.306601617462285, -0.24804314296103433, 0.19810881592957624, 0.2566672904308269}),
                       values<T>({N, L, S}, {0.5138764385816394, 0.17443495940909598, 0.16540357510523523, 0.14628502690402925,
                                            0.39061692035500817, 0.2147430834656426, 0.20642818660668755, 0.18821180957266168,
                                            0.12797720024554038, 0.2707922510249421, 0.292857341721374, 0.3083732070081435,
                                            0.23716491815088492, 0.2276135547502695, 0.28518732173667766, 0.2500342053621679,
                                            0.25390610051970125, 0.2693175416305124, 0.23258043013212887, 0.24419592771765739,
                                            0.2525198985515601, 0.27750754675867945, 0.22923906963646862, 0.24073348505329184}), tol);
  }
  SECTION("F: forward(x) is self-attention") {
    const Tensor<T> expected =
        values<T>({L, N, E}, {0.3273780368630628, 0.7181276353763772, -0.3930035968667453, -0.5022539983534309,
                              -0.4809404669507378, -0.1099780680165915, 0.1890675661485035, 0.06002996508264977,
                              0.33294535435016553, 0.7169307260582269, -0.38915920901260787, -0.5051738373045466,
                              -0.4103671622026708, 0.003478910175652305, 0.0832152635923869, -0.0029386640292900362,
                              0.397059141718382, 0.8229557061983642, -0.4892544439887389, -0.5633578795087566,
                              -0.4056718294762863, 0.0014946186417663552, 0.08760293445453644, -0.005230617427410905});
    test::require_close(m(q).value(), expected, tol);
    test::require_close(m.forward(q, q, q).output.value(), expected, tol);
  }
}

TEST_CASE("MultiheadAttention: parameters, names, shapes and initialisation like PyTorch's", "[multihead_attention]") {
  Generator gen(301);
  nn::MultiheadAttention<float> m(8, 2, 0.0, true, false, gen);
  const auto named = m.named_parameters();
  check_named_parameters(named, {{"in_proj_weight", {24, 8}}, {"in_proj_bias", {24}},
                                 {"out_proj.weight", {8, 8}}, {"out_proj.bias", {8}}});
  // xavier_uniform: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 32); biases zero.
  const double bound = std::sqrt(6.0 / 32.0);
  CHECK(xt::amax(xt::abs(named[0].second.value()))() <= bound);
  CHECK(xt::amax(xt::abs(named[0].second.value()))() > 0.5 * bound);
  CHECK(xt::amax(xt::abs(named[1].second.value()))() == 0);
  CHECK(xt::amax(xt::abs(named[3].second.value()))() == 0);
  // out_proj.weight keeps Linear's default: U(-1/sqrt(8), 1/sqrt(8)).
  CHECK(xt::amax(xt::abs(named[2].second.value()))() <= 1 / std::sqrt(8.0));
  CHECK(m.named_modules().size() == 2);
  CHECK(m.named_modules()[1].first == "out_proj");
  Generator same(301);
  nn::MultiheadAttention<float> again(8, 2, 0.0, true, false, same);
  const bool same_draws = again.named_parameters()[0].second.value() == named[0].second.value();
  CHECK(same_draws);
  nn::MultiheadAttention<double> no_bias(8, 2, 0.0, false);
  CHECK(no_bias.named_parameters().size() == 2);
}

TEST_CASE("MultiheadAttention: gradcheck and gradgradcheck through inputs and parameters", "[multihead_attention]") {
  Generator gen(302);
  auto m = std::make_shared<nn::MultiheadAttention<double>>(4, 2, 0.0, true, false, gen);
  for (auto& p : m->parameters()) p.value() = test::uniform(p.shape(), gen);  // non-zero biases too
  auto q = test::param(test::uniform({2, 2, 4}, gen)), k = test::param(test::uniform({3, 2, 4}, gen));
  auto v = test::param(test::uniform({3, 2, 4}, gen));
  Mask kpm = Mask::from_shape({2, 3});
  std::fill(kpm.begin(), kpm.end(), false);
  kpm(1, 0) = true;
  const Tensor<double> am = test::uniform({2, 3}, gen);
  const auto params = m->parameters();
  std::vector<Variable<double>> inputs{q, k, v};
  inputs.insert(inputs.end(), params.begin(), params.end());
  // The checks perturb the inputs' values in place, so f may reach the parameters through the module.
  test::require_grad_and_gradgrad([m, kpm, am](auto& x) { return m->forward(x[0], x[1], x[2], &kpm, true, &am).output; },
                                  inputs);
  // The weights depend on the query and key projections only (in_proj_weight's first two blocks).
  test::require_grad_and_gradgrad([m, v, kpm, am](auto& x) { return m->forward(x[0], x[1], v, &kpm, true, &am).weights; },
                                  {q, k, params[0]});
}

TEST_CASE("MultiheadAttention: dropout on the weights only while training, seeded", "[multihead_attention]") {
  Generator gen_a(9), gen_b(9);
  nn::MultiheadAttention<double> a(4, 2, 0.5, true, true, gen_a), b(4, 2, 0.5, true, true, gen_b);
  Generator data(304);
  const Variable<double> x(test::uniform({2, 5, 4}, data));
  const auto ya = a.forward(x, x, x), yb = b.forward(x, x, x);  // same seed, same draws
  test::require_close(ya.output.value(), yb.output.value(), 0);
  std::size_t zeros = 0;
  for (double w : ya.weights.value()) zeros += w == 0;
  CHECK(zeros > 0);  // averaged over 2 heads, a weight is 0 only where both heads dropped it
  a.eval();
  const auto eval_out = a.forward(x, x, x);
  test::require_close(Tensor<double>(xt::sum(eval_out.weights.value(), {2})), Tensor<double>(xt::ones<double>({2, 5})), 1e-12);
  test::require_close(eval_out.output.value(), a.forward(x, x, x).output.value(), 0);
}

TEST_CASE("MultiheadAttention: errors name the module and the shapes", "[multihead_attention]") {
  CHECK(message_of<std::invalid_argument>([] { nn::MultiheadAttention<float>(10, 3); }) ==
        "MultiheadAttention: embed_dim 10 is not divisible by num_heads 3");
  CHECK(message_of<std::invalid_argument>([] { nn::MultiheadAttention<float>(8, 0); }) ==
        "MultiheadAttention: embed_dim 8 is not divisible by num_heads 0");
  CHECK(message_of<std::invalid_argument>([] { nn::MultiheadAttention<float>(8, 2, 1.0); }) ==
        "MultiheadAttention: dropout must be in [0, 1), got 1");
  nn::MultiheadAttention<double> m(4, 2);
  const Variable<double> q(xt::zeros<double>({3, 2, 4})), k(xt::zeros<double>({5, 2, 4}));
  Mask wrong = Mask::from_shape({2, 4});
  CHECK(message_of<std::invalid_argument>([&] { m.forward(q, k, k, &wrong); }) ==
        "MultiheadAttention: key_padding_mask has shape (2, 4) but must be (2, 5) (batch, key length)");
  const Tensor<double> am = xt::zeros<double>({3, 4});
  CHECK(message_of<std::invalid_argument>([&] { m.forward(q, k, k, nullptr, true, &am); }) ==
        "MultiheadAttention: attn_mask has shape (3, 4) but must be (3, 5) or (4, 3, 5) (num_heads 2)");
  const Variable<double> bad(xt::zeros<double>({5, 2, 6}));
  CHECK(message_of<std::invalid_argument>([&] { m.forward(q, bad, bad); }) ==
        "MultiheadAttention: embed_dim 4: query (3, 2, 4), key (5, 2, 6) and value (5, 2, 6) do not fit ((L, N, E), "
        "(S, N, E) for key and value)");
  const Variable<double> flat(xt::zeros<double>({4}));
  CHECK(message_of<std::invalid_argument>([&] { m.forward(flat, k, k); }) ==
        "MultiheadAttention: query, key and value must all be 3-D (L, N, E) or all 2-D (unbatched), got query (4,), "
        "key (5, 2, 4), value (5, 2, 4)");
}
