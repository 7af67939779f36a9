// A Wasserstein GAN with gradient penalty (Gulrajani et al., 2017) that learns to draw MNIST digits.
//
// The critic D scores images; it is trained to score real digits high and generated ones low,
// while keeping its gradient norm near 1 on points x_hat between real and generated images:
//
//   critic loss    = mean D(fake) - mean D(real) + lambda * mean((||dD(x_hat)/dx_hat||_2 - 1)^2)
//   generator loss = -mean D(G(z))
//
// The penalty contains a gradient of D, so D's own training differentiates through a backward
// pass: tg::grad with create_graph = true. The critic takes n_critic steps per generator step.
//
// After each epoch it writes a grid of 64 generated digits to --out-dir and lets a trained
// mnist_cnn classify 1,000 generated samples: the share of each digit (are all ten drawn?) and the
// mean softmax confidence (do they look like digits at all?). The classifier is read from
// --classifier (an .npz from `mnist_cnn --save PATH`), or from mnist_cnn.npz in --out-dir, or
// else trained for one epoch first and saved there for the next run. Run with --help for the options.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "mnist_models.hpp"
#include "mnist_training.hpp"
#include "png_writer.hpp"
#include "program.hpp"

namespace {

// Measured with these defaults on a busy 2-core machine: 115 s in all (the CNN's epoch 18 s, each
// GAN epoch about 6 s); after 15 epochs all ten digits appear, mean confidence 0.77.
struct Config {
  std::string data = example::Config().data;
  std::string out_dir = "wgan_gp";
  std::string classifier;
  int epochs = 15;
  std::size_t train_size = 0;
  std::size_t batch_size = 64;
  int n_critic = 5;
  double lambda = 10;
  double lr = 1e-4;
  std::size_t latent = 64;
  std::size_t hidden = 256;
  std::size_t samples = 1000;
  std::uint64_t seed = 1;
  int threads = 1;
};

// z (latent) -> 784 pixels in [-1, 1].
std::shared_ptr<tg::nn::Sequential<float>> make_generator(std::size_t latent, std::size_t hidden) {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Linear(latent, hidden), ReLU(), Linear(hidden, hidden), ReLU(),
                                             Linear(hidden, 784), Tanh());
}

// 784 pixels -> one unbounded score. No normalisation layer: the penalty is per sample, and batch
// statistics would couple the samples (as the paper notes).
std::shared_ptr<tg::nn::Sequential<float>> make_critic(std::size_t hidden) {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Linear(784, hidden), LeakyReLU(0.2), Linear(hidden, hidden),
                                             LeakyReLU(0.2), Linear(hidden, 1));
}

tg::Tensor<float> normal_noise(std::size_t rows, std::size_t cols, tg::Generator& generator) {
  tg::Tensor<float> z = xt::zeros<float>({rows, cols});
  auto draws = generator.draws();
  for (float& v : z) v = static_cast<float>(draws.normal());
  return z;
}

tg::Tensor<float> uniform_column(std::size_t rows, tg::Generator& generator) {
  tg::Tensor<float> u = xt::zeros<float>({rows, std::size_t{1}});
  auto draws = generator.draws();
  for (float& v : u) v = static_cast<float>(draws.uniform());
  return u;
}

// mean((||dD(x_hat)/dx_hat||_2 - 1)^2) for x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1)
// per sample. create_graph: the gradient stays on the tape, so the penalty trains D.
tg::Variable<float> gradient_penalty(tg::nn::Module<float>& critic, const tg::Tensor<float>& real,
                                     const tg::Tensor<float>& fake, tg::Generator& generator) {
  const tg::Tensor<float> eps = uniform_column(real.shape()[0], generator);
  tg::Variable<float> x_hat(tg::Tensor<float>(eps * real + (1.0f - eps) * fake), /*requires_grad=*/true);
  tg::Variable<float> score = critic(x_hat);
  const tg::Variable<float> ones(tg::Tensor<float>(xt::ones<float>(score.shape())));
  tg::Variable<float> g = tg::grad<float>({score}, {x_hat}, {ones}, std::nullopt, /*create_graph=*/true)[0];
  tg::Variable<float> norm = tg::sqrt(tg::sum(g * g, tg::Axes{1}) + 1e-12f);  // eps keeps sqrt's derivative finite
  return tg::mean(tg::pow(norm - 1.0f, 2.0f));
}

tg::Tensor<float> generate(tg::nn::Module<float>& generator, const tg::Tensor<float>& z) {
  tg::NoGradGuard no_grad;
  return generator(tg::Variable<float>(z)).value();
}

// 8 x 8 digits, each enlarged 2x, on a dark grey background; pixels in [-1, 1] -> 0..255.
example::Image digit_grid(const tg::Tensor<float>& images) {
  const std::size_t per_row = 8, scale = 2, gap = 2, side = 28 * scale;
  const std::size_t n = std::min<std::size_t>(images.shape()[0], 64), rows = (n + per_row - 1) / per_row;
  example::Image image(per_row * (side + gap) + gap, rows * (side + gap) + gap, 1, 64);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t x0 = gap + (i % per_row) * (side + gap), y0 = gap + (i / per_row) * (side + gap);
    for (std::size_t y = 0; y < side; ++y) {
      for (std::size_t x = 0; x < side; ++x) {
        const float v = images(i, (y / scale) * 28 + x / scale);
        const auto grey = static_cast<std::uint8_t>(std::lround(std::clamp((v + 1.0f) * 0.5f, 0.0f, 1.0f) * 255.0f));
        image.set(x0 + x, y0 + y, {grey, grey, grey});
      }
    }
  }
  return image;
}

struct Verdict {
  std::array<double, 10> share{};  // percent of samples classified as each digit
  double confidence = 0;           // mean largest softmax probability
};

// How the classifier sees `count` fresh samples of the generator.
Verdict classify_samples(tg::nn::Module<float>& generator, tg::nn::Module<float>& classifier, std::size_t count,
                         std::size_t latent, tg::Generator& noise) {
  tg::NoGradGuard no_grad;
  classifier.eval();
  Verdict verdict;
  std::array<std::size_t, 10> counts{};
  double confidence_sum = 0;
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min<std::size_t>(250, count - done);
    tg::Tensor<float> pixels = generate(generator, normal_noise(n, latent, noise));
    tg::Tensor<float> images = (pixels + 1.0f) * 0.5f;  // the classifier was trained on [0, 1]
    images.reshape({n, std::size_t{1}, std::size_t{28}, std::size_t{28}});
    const tg::Tensor<float> probs = tg::softmax(classifier(tg::Variable<float>(images)), 1).value();
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = probs.data() + i * 10;
      const auto best = static_cast<std::size_t>(std::max_element(row, row + 10) - row);
      ++counts[best];
      confidence_sum += row[best];
    }
    done += n;
  }
  for (std::size_t d = 0; d < 10; ++d) verdict.share[d] = 100.0 * static_cast<double>(counts[d]) / static_cast<double>(count);
  verdict.confidence = confidence_sum / static_cast<double>(count);
  return verdict;
}

// The classifier: from --classifier, else from mnist_cnn.npz in the output folder, else trained
// for one epoch (as `mnist_cnn --epochs 1`) and saved there.
std::shared_ptr<tg::nn::Sequential<float>> load_or_train_classifier(const Config& config) {
  auto cnn = example::make_mnist_cnn();
  std::string path = config.classifier;
  if (path.empty()) {
    const std::string cached = (std::filesystem::path(config.out_dir) / "mnist_cnn.npz").string();
    if (std::filesystem::exists(cached)) {
      path = cached;
    } else {
      std::printf("no --classifier given: training mnist_cnn for 1 epoch to judge the samples, saving it to %s\n",
                  cached.c_str());
      example::Config cnn_config;
      cnn_config.data = config.data;
      cnn_config.epochs = 1;
      cnn_config.lr = 2e-3;  // mnist_cnn's defaults
      cnn_config.batch_size = 64;
      cnn_config.seed = config.seed;
      cnn_config.threads = config.threads;
      cnn_config.save = cached;
      example::train(*cnn, "mnist_cnn", cnn_config);
      return cnn;
    }
  }
  tg::nn::load(*cnn, path);
  std::printf("classifier: %s\n", path.c_str());
  return cnn;
}

// The first `count` training images as rows of 784 values in [-1, 1] (tanh's range).
tg::Tensor<float> real_images(const tg::data::MNIST& train, std::size_t count) {
  tg::Tensor<float> images = xt::zeros<float>({count, std::size_t{784}});
  const std::uint8_t* bytes = train.images().data();
  for (std::size_t i = 0; i < count * 784; ++i) images.data()[i] = static_cast<float>(bytes[i]) / 127.5f - 1.0f;
  return images;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app(
      "Trains a WGAN with gradient penalty (MLP generator and critic) on MNIST; after each epoch writes a grid of "
      "64 generated digits and reports how a trained mnist_cnn classifies 1,000 samples.",
      "wgan_gp");
  app.add_option("--data", config.data, "folder with the MNIST idx files (raw or .gz)")->capture_default_str();
  app.add_option("--out-dir", config.out_dir, "folder for the epoch_NN.png grids (and mnist_cnn.npz when trained here)")
      ->capture_default_str();
  app.add_option("--classifier", config.classifier,
                 "mnist_cnn parameters (.npz from `mnist_cnn --save PATH`); default: OUT_DIR/mnist_cnn.npz, trained "
                 "for 1 epoch first when missing");
  app.add_option("--epochs", config.epochs, "passes of the critic over the training images")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--train-size", config.train_size, "use the first this many training images (0: all 60,000)")
      ->capture_default_str();
  app.add_option("--batch-size", config.batch_size, "images per critic step")->check(CLI::Range(std::size_t{1}, std::size_t{60000}))->capture_default_str();
  app.add_option("--n-critic", config.n_critic, "critic steps per generator step")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--lambda", config.lambda, "weight of the gradient penalty")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--lr", config.lr, "Adam learning rate of both networks (betas 0.5, 0.9)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--latent", config.latent, "size of the generator's input noise")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--hidden", config.hidden, "width of the hidden layers")->check(CLI::Range(1, 8192))->capture_default_str();
  app.add_option("--samples", config.samples, "generated samples the classifier judges per epoch")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--seed", config.seed, "seed for initialisation, noise and shuffling")->capture_default_str();
  app.add_option("--threads", config.threads, "worker threads (0: all cores; the MLPs are small, one is fastest)")->capture_default_str();
  return example::parse_and_run(app, argc, argv, [&] {
    const example::Stopwatch stopwatch;
    tg::set_num_threads(config.threads);
    tg::manual_seed(config.seed);
    std::filesystem::create_directories(config.out_dir);
    auto classifier = load_or_train_classifier(config);
    tg::set_num_threads(config.threads);

    const tg::data::MNIST train_set(config.data, tg::data::Split::train);
    const std::size_t n = config.train_size == 0 ? train_set.size() : std::min(config.train_size, train_set.size());
    const tg::Tensor<float> real = real_images(train_set, n);

    tg::manual_seed(config.seed);
    auto generator = make_generator(config.latent, config.hidden);
    auto critic = make_critic(config.hidden);
    tg::optim::AdamOptions options;
    options.lr = config.lr;
    options.beta1 = 0.5;
    options.beta2 = 0.9;
    tg::optim::Adam<float> generator_optimizer(generator->parameters(), options);
    tg::optim::Adam<float> critic_optimizer(critic->parameters(), options);
    tg::Generator noise(config.seed + 1), judge_noise(config.seed + 2);
    const tg::Tensor<float> grid_noise = normal_noise(64, config.latent, noise);  // the same 64 digits every epoch
    std::mt19937_64 shuffler(config.seed + 3);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});

    std::printf("wgan_gp: %zu training images, batch %zu, n_critic %d, lambda %g, Adam lr %g (0.5, 0.9), %d threads\n",
                n, config.batch_size, config.n_critic, config.lambda, config.lr, tg::get_num_threads());
    const std::size_t batches = (n + config.batch_size - 1) / config.batch_size;
    tg::Tensor<float> batch = xt::zeros<float>({config.batch_size, std::size_t{784}});
    for (int epoch = 1; epoch <= config.epochs; ++epoch) {
      const example::Stopwatch epoch_time;
      std::shuffle(order.begin(), order.end(), shuffler);
      double distance_sum = 0, penalty_sum = 0, generator_loss_sum = 0;
      std::size_t critic_steps = 0, generator_steps = 0;
      example::Progress progress(epoch, config.epochs, batches);
      for (std::size_t b = 0; b < batches; ++b) {
        const std::size_t first = b * config.batch_size, size = std::min(config.batch_size, n - first);
        if (batch.shape()[0] != size) batch = xt::zeros<float>({size, std::size_t{784}});
        for (std::size_t i = 0; i < size; ++i) {
          std::copy_n(real.data() + order[first + i] * 784, 784, batch.data() + i * 784);
        }
        // Critic step: the fake images are plain tensors, so nothing flows back into G.
        const tg::Tensor<float> fake = generate(*generator, normal_noise(size, config.latent, noise));
        tg::Variable<float> distance = tg::mean((*critic)(tg::Variable<float>(batch))) -
                                       tg::mean((*critic)(tg::Variable<float>(fake)));  // the Wasserstein estimate
        tg::Variable<float> penalty = gradient_penalty(*critic, batch, fake, noise);
        tg::Variable<float> critic_loss = -distance + static_cast<float>(config.lambda) * penalty;
        critic_optimizer.zero_grad();
        critic_loss.backward();
        critic_optimizer.step();
        distance_sum += distance.item();
        penalty_sum += penalty.item();
        ++critic_steps;

        if (critic_steps % static_cast<std::size_t>(config.n_critic) == 0) {
          tg::Variable<float> generated = (*generator)(tg::Variable<float>(normal_noise(config.batch_size, config.latent, noise)));
          tg::Variable<float> generator_loss = -tg::mean((*critic)(generated));
          generator_optimizer.zero_grad();
          generator_loss.backward();  // also fills the critic's gradients; its next zero_grad clears them
          generator_optimizer.step();
          generator_loss_sum += generator_loss.item();
          ++generator_steps;
        }
        progress.update(b, critic_loss.item(), size);
      }
      progress.finish();

      const std::string grid_path = (std::filesystem::path(config.out_dir) / fmt::format("epoch_{:02d}.png", epoch)).string();
      example::write_png(grid_path, digit_grid(generate(*generator, grid_noise)));
      const Verdict verdict = classify_samples(*generator, *classifier, config.samples, config.latent, judge_noise);
      const double seconds = epoch_time.seconds();
      std::printf("epoch %d/%d  W-distance %.4f  penalty %.4f  generator loss %.4f  (%zu critic, %zu generator steps)  %.1f s\n",
                  epoch, config.epochs, distance_sum / static_cast<double>(critic_steps),
                  penalty_sum / static_cast<double>(critic_steps),
                  generator_steps ? generator_loss_sum / static_cast<double>(generator_steps) : 0.0, critic_steps,
                  generator_steps, seconds);
      std::string shares;
      for (std::size_t d = 0; d < 10; ++d) shares += fmt::format("  {}: {:.1f}%", d, verdict.share[d]);
      std::printf("epoch %d digits (%zu samples):%s\n", epoch, config.samples, shares.c_str());
      std::printf("epoch %d mean confidence: %.3f\n", epoch, verdict.confidence);
      std::printf("wrote %s\n", grid_path.c_str());
      std::fflush(stdout);
    }
    std::printf("total time: %.1f s\n", stopwatch.seconds());
    return 0;
  });
}
