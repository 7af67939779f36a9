// A physics-informed neural network: solves the boundary-value problem
//
//   -u''(x) = pi^2 sin(pi x) on [0, 1],   u(0) = u(1) = 0       (exact solution: u = sin(pi x))
//
// without ever seeing the solution. A small tanh MLP u(x) is trained so that the equation holds at
// collocation points and the boundary values vanish. u'' comes from two nested tg::grad calls with
// create_graph, so the loss itself contains second derivatives of the network, and loss.backward()
// differentiates through them to the weights.
//
// At the end it prints the largest |u(x) - sin(pi x)| over 1,000 evenly spaced points and writes a
// plot of the learned and the exact solution as a PNG. Run with --help for the options.
#include <tapegrad/tapegrad.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "png_writer.hpp"
#include "program.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

// Measured with these defaults (seeds 1, 2, 3): max error 1.0e-4, 1.2e-4, 9.2e-5 after 8,000
// steps, 18-25 s on one core of a busy machine; the error first falls below 1e-3 near step 250.
struct Config {
  int steps = 8000;
  double lr = 3e-3;
  double final_lr = 1e-5;
  std::size_t hidden = 32;
  std::size_t layers = 3;
  std::size_t points = 128;
  double boundary_weight = 10;
  int log_every = 500;
  std::uint64_t seed = 1;
  int threads = 1;
  std::string out = "pinn.png";
};

// `layers` hidden tanh layers of width `hidden`, 1 -> ... -> 1.
tg::nn::Sequential<double> make_mlp(std::size_t hidden, std::size_t layers) {
  using namespace tg::nn;
  Sequential<double> net;
  net.push_back(Linear<double>(1, hidden));
  net.push_back(Tanh<double>());
  for (std::size_t i = 1; i < layers; ++i) {
    net.push_back(Linear<double>(hidden, hidden));
    net.push_back(Tanh<double>());
  }
  net.push_back(Linear<double>(hidden, 1));
  return net;
}

// Column vector (n, 1).
tg::Tensor<double> column(const std::vector<double>& values) {
  tg::Tensor<double> t = xt::zeros<double>({values.size(), std::size_t{1}});
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

// n collocation points, one drawn uniformly from each of n equal cells of (0, 1): the whole
// interval is covered every step, and no point is visited twice, so the net cannot overfit a grid.
std::vector<double> stratified_points(std::size_t n, tg::Generator& generator) {
  std::vector<double> x(n);
  auto draws = generator.draws();
  for (std::size_t i = 0; i < n; ++i) x[i] = (static_cast<double>(i) + draws.uniform()) / static_cast<double>(n);
  return x;
}

struct Losses {
  tg::Variable<double> total;
  double residual, boundary;
};

Losses pinn_loss(tg::nn::Module<double>& net, const std::vector<double>& points, double boundary_weight) {
  // d/dx of a column u(x) seeded with ones gives u'(x_i) in row i: each output row depends on
  // its own x_i only.
  const tg::Tensor<double> x_values = column(points);
  tg::Variable<double> x(x_values, /*requires_grad=*/true);
  tg::Variable<double> u = net(x);
  const tg::Variable<double> ones(tg::Tensor<double>(xt::ones<double>(u.shape())));
  tg::Variable<double> du = tg::grad<double>({u}, {x}, {ones}, std::nullopt, /*create_graph=*/true)[0];
  tg::Variable<double> d2u = tg::grad<double>({du}, {x}, {ones}, std::nullopt, /*create_graph=*/true)[0];
  tg::Tensor<double> source = kPi * kPi * xt::sin(kPi * x_values);
  tg::Variable<double> residual = tg::mean(tg::pow(d2u + tg::Variable<double>(source), 2.0));  // -u'' - f = 0

  tg::Variable<double> ends(column({0.0, 1.0}));
  tg::Variable<double> boundary = tg::mean(tg::pow(net(ends), 2.0));
  return {residual + boundary_weight * boundary, residual.item(), boundary.item()};
}

// The learned solution at `x`, without recording a tape.
std::vector<double> evaluate(tg::nn::Module<double>& net, const std::vector<double>& x) {
  tg::NoGradGuard no_grad;
  const tg::Tensor<double> u = net(tg::Variable<double>(column(x))).value();
  return std::vector<double>(u.data(), u.data() + x.size());
}

std::vector<double> linspace(double a, double b, std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = a + (b - a) * static_cast<double>(i) / static_cast<double>(n - 1);
  return x;
}

double max_error(tg::nn::Module<double>& net) {
  const std::vector<double> x = linspace(0, 1, 1000);
  const std::vector<double> u = evaluate(net, x);
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(u[i] - std::sin(kPi * x[i])));
  return worst;
}

// --- the plot: axes, ticks and two curves drawn into a pixel buffer ---------------------------

using Rgb = std::array<std::uint8_t, 3>;
constexpr Rgb kExactColour{110, 170, 255};   // light blue, drawn thick underneath
constexpr Rgb kLearnedColour{200, 30, 30};   // red, drawn thin on top
constexpr Rgb kAxisColour{0, 0, 0};
constexpr Rgb kGridColour{225, 225, 225};

void dot(example::Image& image, long x, long y, int radius, const Rgb& colour) {
  for (long dy = -radius; dy <= radius; ++dy) {
    for (long dx = -radius; dx <= radius; ++dx) {
      const long px = x + dx, py = y + dy;
      if (dx * dx + dy * dy > radius * radius + radius) continue;
      if (px >= 0 && py >= 0 && px < static_cast<long>(image.width) && py < static_cast<long>(image.height)) {
        image.set(static_cast<std::size_t>(px), static_cast<std::size_t>(py), colour);
      }
    }
  }
}

// A straight line of round dots, one per pixel step.
void line(example::Image& image, double x0, double y0, double x1, double y1, int radius, const Rgb& colour) {
  const int steps = std::max(1, static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))));
  for (int s = 0; s <= steps; ++s) {
    const double t = static_cast<double>(s) / steps;
    dot(image, std::lround(x0 + t * (x1 - x0)), std::lround(y0 + t * (y1 - y0)), radius, colour);
  }
}

// Tick labels in a 3 x 5 pixel font, each pixel drawn as a scale x scale block: digits and '.'.
void text(example::Image& image, long x, long y, const std::string& label, long scale, const Rgb& colour) {
  static const std::array<std::array<const char*, 5>, 11> glyphs{{
      {"###", "#.#", "#.#", "#.#", "###"}, {".#.", "##.", ".#.", ".#.", "###"}, {"###", "..#", "###", "#..", "###"},
      {"###", "..#", "###", "..#", "###"}, {"#.#", "#.#", "###", "..#", "..#"}, {"###", "#..", "###", "..#", "###"},
      {"###", "#..", "###", "#.#", "###"}, {"###", "..#", "..#", "..#", "..#"}, {"###", "#.#", "###", "#.#", "###"},
      {"###", "#.#", "###", "..#", "###"}, {"...", "...", "...", "...", ".#."}}};
  for (char c : label) {
    const auto& glyph = glyphs[c == '.' ? 10 : static_cast<std::size_t>(c - '0')];
    for (long row = 0; row < 5; ++row) {
      for (long col = 0; col < 3; ++col) {
        if (glyph[row][col] != '#') continue;
        for (long dy = 0; dy < scale; ++dy) {
          for (long dx = 0; dx < scale; ++dx) dot(image, x + col * scale + dx, y + row * scale + dy, 0, colour);
        }
      }
    }
    x += 4 * scale;
  }
}

// Plots u_exact and u_learned (sampled at x) over [0, 1] x [-0.1, 1.1]: a light grid every 0.25,
// black axes through 0 with ticks, the exact curve thick light blue, the learned curve thin red
// on top of it (where they agree the red line runs inside the blue one).
example::Image plot(const std::vector<double>& x, const std::vector<double>& exact, const std::vector<double>& learned) {
  const std::size_t width = 640, height = 400, margin = 48;
  example::Image image(width, height, 3, 255);
  const double y_min = -0.1, y_max = 1.1;
  auto px = [&](double v) { return margin + v * static_cast<double>(width - 2 * margin); };
  auto py = [&](double v) { return static_cast<double>(height - margin) - (v - y_min) / (y_max - y_min) * static_cast<double>(height - 2 * margin); };
  for (double g = 0; g <= 1.0001; g += 0.25) {
    line(image, px(g), py(y_min), px(g), py(y_max), 0, kGridColour);
    line(image, px(0), py(g), px(1), py(g), 0, kGridColour);
  }
  line(image, px(0), py(0), px(1), py(0), 0, kAxisColour);        // x axis
  line(image, px(0), py(y_min), px(0), py(y_max), 0, kAxisColour);  // y axis
  for (double g = 0; g <= 1.0001; g += 0.25) {
    line(image, px(g), py(0) - 4, px(g), py(0) + 4, 0, kAxisColour);
    line(image, px(0) - 4, py(g), px(0) + 4, py(g), 0, kAxisColour);
    const std::string label = g == 0 ? "0" : g == 1 ? "1" : g == 0.5 ? "0.5" : g == 0.25 ? "0.25" : "0.75";
    const long label_width = static_cast<long>(label.size()) * 8 - 2;
    if (g > 0) text(image, std::lround(px(g)) - label_width / 2, std::lround(py(0)) + 8, label, 2, kAxisColour);  // x
    text(image, std::lround(px(0)) - 8 - label_width, std::lround(py(g)) - 5, label, 2, kAxisColour);          // y
  }
  for (std::size_t i = 1; i < x.size(); ++i) line(image, px(x[i - 1]), py(exact[i - 1]), px(x[i]), py(exact[i]), 4, kExactColour);
  for (std::size_t i = 1; i < x.size(); ++i) line(image, px(x[i - 1]), py(learned[i - 1]), px(x[i]), py(learned[i]), 1, kLearnedColour);
  return image;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app(
      "Solves -u''(x) = pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0, with a physics-informed tanh MLP: u'' "
      "comes from two nested tg::grad calls with create_graph. Prints the largest error against the exact "
      "solution sin(pi x) and plots both.",
      "pinn");
  app.add_option("--steps", config.steps, "Adam steps")->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--lr", config.lr, "initial learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--final-lr", config.final_lr, "learning rate at the last step (decays exponentially from --lr)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hidden", config.hidden, "width of each hidden layer")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--layers", config.layers, "hidden tanh layers")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--points", config.points, "collocation points per step")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--boundary-weight", config.boundary_weight, "weight of the boundary term u(0)^2 + u(1)^2 (mean)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--log-every", config.log_every, "print progress every this many steps")->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--seed", config.seed, "seed for initialisation and collocation points")->capture_default_str();
  app.add_option("--threads", config.threads, "worker threads (0: all cores; the net is small, one is fastest)")->capture_default_str();
  app.add_option("--out", config.out, "PNG plot of the learned against the exact solution")->capture_default_str();
  return example::parse_and_run(app, argc, argv, [&] {
    const example::Stopwatch stopwatch;
    tg::set_num_threads(config.threads);
    tg::manual_seed(config.seed);
    tg::Generator points_generator(config.seed + 1);
    auto net = make_mlp(config.hidden, config.layers);
    tg::optim::AdamOptions options;
    options.lr = config.lr;
    tg::optim::Adam<double> optimizer(net.parameters(), options);
    // lr(step) = lr * (final_lr / lr)^(step / steps)
    const double decay = std::pow(config.final_lr / config.lr, 1.0 / std::max(1, config.steps - 1));

    std::printf("pinn: %zu x %zu tanh MLP, %zu collocation points, Adam lr %g -> %g over %d steps\n", config.layers,
                config.hidden, config.points, config.lr, config.final_lr, config.steps);
    for (int step = 1; step <= config.steps; ++step) {
      optimizer.set_lr(config.lr * std::pow(decay, step - 1));
      optimizer.zero_grad();
      Losses loss = pinn_loss(net, stratified_points(config.points, points_generator), config.boundary_weight);
      loss.total.backward();
      optimizer.step();
      if (step % config.log_every == 0 || step == config.steps) {
        std::printf("step %6d  residual %.3e  boundary %.3e  lr %.2e  max error %.3e\n", step, loss.residual,
                    loss.boundary, optimizer.lr(), max_error(net));
        std::fflush(stdout);
      }
    }
    const double seconds = stopwatch.seconds();
    const double error = max_error(net);
    std::printf("max |u(x) - sin(pi x)| over 1000 points: %.3e after %d steps in %.1f s\n", error, config.steps, seconds);

    const std::vector<double> x = linspace(0, 1, 1000);
    std::vector<double> exact(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) exact[i] = std::sin(kPi * x[i]);
    example::write_png(config.out, plot(x, exact, evaluate(net, x)));
    std::printf("wrote %s (light blue: exact sin(pi x), red: learned u(x))\n", config.out.c_str());
    return 0;
  });
}
