// A convolutional autoencoder on MNIST: two strided convolutions squeeze each 28x28 digit into
// 32 maps of 7x7, two transposed convolutions draw it back, and the loss is the mean squared
// error between a digit and its reconstruction. At the end it writes a PNG of test digits (top
// row) above their reconstructions (bottom row) and prints `test mse: 0.00NN`.
// Run with --help for the options.
#include "mnist_training.hpp"
#include "png_writer.hpp"
#include "program.hpp"

#include <algorithm>
#include <cmath>

namespace {

std::shared_ptr<tg::nn::Sequential<float>> make_autoencoder() {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(
      Conv2d(1, 16, 3, /*stride=*/2, /*padding=*/1), ReLU(),   // 16 x 14 x 14
      Conv2d(16, 32, 3, /*stride=*/2, /*padding=*/1), ReLU(),  // 32 x 7 x 7: the code
      ConvTranspose2d(32, 16, 3, /*stride=*/2, /*padding=*/1, /*output_padding=*/1), ReLU(),  // 16 x 14 x 14
      ConvTranspose2d(16, 1, 3, /*stride=*/2, /*padding=*/1, /*output_padding=*/1), Sigmoid());  // 1 x 28 x 28, in (0, 1) like the pixels
}

// Mean squared error per pixel over a whole split, without recording a tape.
double test_mse(tg::nn::Module<float>& model, const tg::data::MNIST& split, std::size_t batch_size) {
  tg::NoGradGuard no_grad;
  model.eval();
  tg::data::DataLoader<float> loader(split, batch_size);
  double sum = 0;
  std::size_t images = 0;
  for (auto& batch : loader) {
    sum += tg::mse_loss(model(batch.images), batch.images).item() * static_cast<double>(batch.size());
    images += batch.size();
  }
  model.train();
  return sum / static_cast<double>(images);
}

// The first `count` test digits in one row and their reconstructions in the row below, each
// pixel drawn as a scale x scale block, on a grey background.
example::Image reconstruction_grid(tg::nn::Module<float>& model, const tg::data::MNIST& split, std::size_t count) {
  tg::NoGradGuard no_grad;
  model.eval();
  tg::data::DataLoader<float> loader(split, count);
  auto first = loader.begin();  // the batch lives in the iterator: keep it alive
  const auto& batch = *first;
  const tg::Tensor<float>& originals = batch.images.value();
  const tg::Variable<float> reconstructed = model(batch.images);
  model.train();

  const std::size_t side = 28, scale = 3, gap = 4, cell = side * scale;
  const std::size_t n = batch.size();
  example::Image image(n * (cell + gap) + gap, 2 * (cell + gap) + gap, 1, 128);
  auto paste = [&](const float* pixels, std::size_t x0, std::size_t y0) {
    for (std::size_t y = 0; y < cell; ++y) {
      for (std::size_t x = 0; x < cell; ++x) {
        const float v = std::clamp(pixels[(y / scale) * side + x / scale], 0.0f, 1.0f);
        *image.at(x0 + x, y0 + y) = static_cast<std::uint8_t>(std::lround(255 * v));
      }
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t x0 = gap + i * (cell + gap);
    paste(originals.data() + i * side * side, x0, gap);
    paste(reconstructed.value().data() + i * side * side, x0, 2 * gap + cell);
  }
  return image;
}

int train(tg::nn::Module<float>& model, const example::Config& config, const std::string& png_path) {
  tg::set_num_threads(config.threads);
  const tg::data::MNIST train_set = example::load_split(config, tg::data::Split::train);
  const tg::data::MNIST test_set = example::load_split(config, tg::data::Split::test);
  tg::data::DataLoader<float> loader(train_set, config.batch_size, /*shuffle=*/true, config.seed);
  auto optimizer = example::make_optimizer(model, config);
  tg::optim::CosineAnnealingLR schedule(*optimizer, static_cast<std::size_t>(config.epochs));

  std::printf("mnist_autoencoder on %s (%zu training, %zu test images), %s lr %g, batch %zu, %d threads\n",
              config.dataset.c_str(), train_set.size(), test_set.size(), config.optimizer.c_str(), config.lr,
              config.batch_size, tg::get_num_threads());
  double mse = 0;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const example::Stopwatch epoch_time;
    example::Progress progress(epoch, config.epochs, loader.num_batches());
    for (auto it = loader.begin(); it != loader.end(); ++it) {
      const auto& batch = *it;
      optimizer->zero_grad();
      tg::Variable<float> loss = tg::mse_loss(model(batch.images), batch.images);  // the target is the input
      loss.backward();
      optimizer->step();
      progress.update(it.index(), loss.item(), batch.size());
    }
    progress.finish();
    schedule.step();
    mse = test_mse(model, test_set, 1000);
    std::printf("epoch %2d/%d  train mse %.4f  test mse %.4f  %.1f s\n", epoch, config.epochs, progress.mean_loss(),
                mse, epoch_time.seconds());
    std::fflush(stdout);
  }
  example::save_if_asked(model, config);
  if (!png_path.empty()) {
    example::write_png(png_path, reconstruction_grid(model, test_set, std::min<std::size_t>(10, test_set.size())));
    std::printf("wrote test digits and their reconstructions to %s\n", png_path.c_str());
  }
  std::printf("test mse: %.4f\n", mse);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  example::Config config;
  config.epochs = 5;
  config.lr = 2e-3;
  config.batch_size = 64;
  std::string png_path = "autoencoder.png";
  CLI::App app("Trains a convolutional autoencoder on MNIST and draws test digits above their reconstructions.",
               "mnist_autoencoder");
  example::add_options(app, config);
  for (const char* unused : {"--metrics-json", "--dot"}) app.remove_option(app.get_option(unused));  // the classifiers' options
  app.add_option("--png", png_path, "write test digits and their reconstructions to this PNG file (\"\": none)")
      ->capture_default_str();
  return example::parse_and_run(app, argc, argv, [&] {
    tg::manual_seed(config.seed);
    auto model = make_autoencoder();
    std::printf("%s", tg::nn::summary(*model, tg::Shape{1, 1, 28, 28}).c_str());
    return train(*model, config, png_path);
  });
}
