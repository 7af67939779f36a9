// What the MNIST CNN looks at. Trains the CNN of mnist_cnn (or loads one saved by
// `mnist_cnn --save PATH`), then for the first --count test images computes the saliency
// |d score_class / d input| with one backward pass and writes two pictures to --out:
//   saliency.png  the images (top row) above their saliency maps (black -> red -> yellow -> white)
//   filters.png   the first convolution's 3x3 filters (blue negative, white 0, red positive)
// Run with --help for the options.
#include <algorithm>
#include <cmath>

#include "mnist_models.hpp"
#include "mnist_training.hpp"
#include "png_writer.hpp"

namespace {

using Rgb = std::array<std::uint8_t, 3>;

std::uint8_t byte(float v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

Rgb grey(float v) { return {byte(v), byte(v), byte(v)}; }
Rgb hot(float v) { return {byte(3 * v), byte(3 * v - 1), byte(3 * v - 2)}; }                  // v in [0, 1]
Rgb diverging(float v) { return v < 0 ? Rgb{byte(1 + v), byte(1 + v), 255} : Rgb{255, byte(1 - v), byte(1 - v)}; }

// Draws a rows x cols array of values at (x0, y0), each value a scale x scale block coloured by `colour`.
template <class Colour>
void paste(example::Image& image, std::size_t x0, std::size_t y0, const float* values, std::size_t rows,
           std::size_t cols, std::size_t scale, Colour colour) {
  for (std::size_t y = 0; y < rows * scale; ++y) {
    for (std::size_t x = 0; x < cols * scale; ++x) image.set(x0 + x, y0 + y, colour(values[(y / scale) * cols + x / scale]));
  }
}

// Up to 8 pairs per band: the input images in one row, their saliency maps (each scaled so its
// largest value is white) in the row below.
example::Image saliency_grid(const tg::Tensor<float>& images, const tg::Tensor<float>& maps) {
  const std::size_t n = images.shape()[0], rows = images.shape()[2], cols = images.shape()[3];
  const std::size_t per_band = std::min<std::size_t>(n, 8), bands = (n + per_band - 1) / per_band;
  const std::size_t scale = 4, gap = 4, cell_w = cols * scale, cell_h = rows * scale;
  example::Image image(per_band * (cell_w + gap) + gap, bands * (2 * cell_h + 3 * gap) + gap, 3, 255);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t x0 = gap + (i % per_band) * (cell_w + gap), y0 = gap + (i / per_band) * (2 * cell_h + 3 * gap);
    const float* input = images.data() + i * rows * cols;
    const float* map = maps.data() + i * rows * cols;
    const float peak = *std::max_element(map, map + rows * cols);
    paste(image, x0, y0, input, rows, cols, scale, grey);
    paste(image, x0, y0 + cell_h + gap, map, rows, cols, scale, [peak](float v) { return hot(peak > 0 ? v / peak : 0); });
  }
  return image;
}

// The filters of a (O, C, kH, kW) weight, input channel 0, 8 per row, each scaled by its own
// largest magnitude and enlarged 12x, on a grey background.
example::Image filter_grid(const tg::Tensor<float>& weight) {
  const std::size_t n = weight.shape()[0], channels = weight.shape()[1], kh = weight.shape()[2], kw = weight.shape()[3];
  const std::size_t per_row = std::min<std::size_t>(n, 8), grid_rows = (n + per_row - 1) / per_row;
  const std::size_t scale = 12, gap = 4;
  example::Image image(per_row * (kw * scale + gap) + gap, grid_rows * (kh * scale + gap) + gap, 3, 96);
  for (std::size_t f = 0; f < n; ++f) {
    const float* w = weight.data() + f * channels * kh * kw;
    float peak = 0;
    for (std::size_t k = 0; k < kh * kw; ++k) peak = std::max(peak, std::abs(w[k]));
    paste(image, gap + (f % per_row) * (kw * scale + gap), gap + (f / per_row) * (kh * scale + gap), w, kh, kw, scale,
          [peak](float v) { return diverging(peak > 0 ? v / peak : 0); });
  }
  return image;
}

std::int64_t argmax_row(const tg::Tensor<float>& logits, std::size_t i) {
  const std::size_t classes = logits.shape()[1];
  const float* row = logits.data() + i * classes;
  return std::max_element(row, row + classes) - row;
}

}  // namespace

int main(int argc, char** argv) {
  example::Config config;
  config.epochs = 1;
  config.lr = 1e-3;
  std::string load, out = ".", target = "predicted";
  std::size_t count = 8;
  CLI::App app("Saliency maps and first-layer filters of the MNIST CNN, as PNG files.", "saliency");
  example::add_options(app, config);
  app.add_option("--load", load, "load the CNN from this .npz (from mnist_cnn --save) instead of training it");
  app.add_option("--count", count, "test images to explain")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--out", out, "folder for saliency.png and filters.png")->capture_default_str();
  app.add_option("--target", target, "whose score to explain: the predicted or the true class")
      ->check(CLI::IsMember({"predicted", "true"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto start = std::chrono::steady_clock::now();
    tg::manual_seed(config.seed);
    auto model = example::make_mnist_cnn();
    if (load.empty()) {
      example::train(*model, "saliency", config);
    } else {
      tg::set_num_threads(config.threads);
      tg::nn::load(*model, load);
      std::printf("loaded %s\n", load.c_str());
    }
    const auto kind = config.dataset == "fashion" ? tg::data::MnistKind::fashion : tg::data::MnistKind::mnist;
    const tg::data::MNIST test_set(example::data_folder(config), tg::data::Split::test, kind);
    count = std::min(count, test_set.size());
    tg::data::DataLoader<float> loader(test_set, count);
    auto first = loader.begin();  // owns the batch
    const tg::data::Batch<float>& batch = *first;

    // One backward pass explains every image: the images do not interact in eval mode, so
    // d (sum_i score_i) / d image_i = d score_i / d image_i.
    model->eval();
    tg::Variable<float> x(batch.images.value(), /*requires_grad=*/true);
    tg::Variable<float> logits = (*model)(x);
    tg::Tensor<float> onehot = xt::zeros<float>(logits.shape());
    std::vector<std::int64_t> explained(count);
    for (std::size_t i = 0; i < count; ++i) {
      explained[i] = target == "true" ? batch.labels[i] : argmax_row(logits.value(), i);
      onehot(i, explained[i]) = 1;
    }
    tg::sum(logits * tg::Variable<float>(onehot)).backward();
    const tg::Tensor<float> maps = xt::abs(x.grad());

    // How much of each map falls on the digit's strokes (pixels above 0.5) against their share of the image.
    const auto& names = tg::data::MNIST::class_names(kind);
    const std::size_t pixels = test_set.image_size();
    double mass_share = 0, stroke_share = 0;
    for (std::size_t i = 0; i < count; ++i) {
      double on_strokes = 0, total = 0, strokes = 0;
      for (std::size_t p = 0; p < pixels; ++p) {
        const bool stroke = x.value().data()[i * pixels + p] > 0.5f;
        total += maps.data()[i * pixels + p];
        on_strokes += stroke ? maps.data()[i * pixels + p] : 0.0f;
        strokes += stroke ? 1 : 0;
      }
      mass_share += total > 0 ? on_strokes / total : 0;
      stroke_share += strokes / static_cast<double>(pixels);
      std::printf("image %zu: label %s, predicted %s, explaining %s\n", batch.indices[i],
                  names[static_cast<std::size_t>(batch.labels[i])].c_str(),
                  names[static_cast<std::size_t>(argmax_row(logits.value(), i))].c_str(),
                  names[static_cast<std::size_t>(explained[i])].c_str());
    }
    std::printf("saliency on the strokes: %.0f%% of the total, on %.0f%% of the pixels\n", 100 * mass_share / count,
                100 * stroke_share / count);

    std::filesystem::create_directories(out);
    const std::string saliency_path = (std::filesystem::path(out) / "saliency.png").string();
    const std::string filters_path = (std::filesystem::path(out) / "filters.png").string();
    example::write_png(saliency_path, saliency_grid(x.value(), maps));
    for (const auto& [name, p] : model->named_parameters()) {
      if (name == "0.weight") example::write_png(filters_path, filter_grid(p.value()));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wrote %s and %s in %.1f s\n", saliency_path.c_str(), filters_path.c_str(), seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "saliency: %s\n", e.what());
    return 1;
  }
}
