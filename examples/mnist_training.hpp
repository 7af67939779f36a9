// What mnist_mlp and mnist_cnn share: their command line, the training loop with a progress
// bar, evaluation, the metrics file and the checkpoint. Each example only builds its model.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include "augment.hpp"
#include "program.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace example {

struct Config {
  std::string data = "data/mnist";
  std::string dataset = "mnist";
  int epochs = 10;
  std::size_t batch_size = 128;
  double lr = 1e-3;
  std::string optimizer = "adam";
  std::uint64_t seed = 1;
  int threads = 0;
  std::string save;
  std::string metrics_json;
  std::string dot;
  bool augment = false;  // random shift and horizontal flip of the training images (augment.hpp)
  int augment_pad = 2;   // the largest shift, in pixels
  double label_smoothing = 0.0;  // cross_entropy's: the target is (1 - eps) onehot + eps / 10
};

// Adds the options both examples take; the defaults in `config` are shown by --help.
inline void add_options(CLI::App& app, Config& config) {
  app.add_option("--data", config.data, "folder with the idx files (raw or .gz)")->capture_default_str();
  app.add_option("--dataset", config.dataset, "which data set")
      ->check(CLI::IsMember({"mnist", "fashion"}))
      ->capture_default_str();
  app.add_option("--epochs", config.epochs, "passes over the training set")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch-size", config.batch_size, "images per step")->check(CLI::Range(std::size_t{1}, std::size_t{60000}))->capture_default_str();
  app.add_option("--lr", config.lr, "initial learning rate (cosine-annealed to 0 over the epochs)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--optimizer", config.optimizer, "sgd (momentum 0.9, nesterov) or adam")
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  app.add_option("--seed", config.seed, "seed for initialisation and shuffling")->capture_default_str();
  app.add_option("--threads", config.threads, "worker threads (0: all cores)")->capture_default_str();
  app.add_option("--save", config.save, "write the trained parameters to this .npz file");
  app.add_option("--metrics-json", config.metrics_json, "write per-epoch metrics to this JSON file");
  app.add_flag("--augment,!--no-augment", config.augment,
               std::string("mirror the training images left-right at random and shift them by up to --augment-pad "
                           "pixels (zero padding), like torchvision's RandomHorizontalFlip + RandomCrop(28, padding) "
                           "(default: ") +
                   (config.augment ? "on" : "off") + ")");
  app.add_option("--augment-pad", config.augment_pad, "with --augment: the largest shift in pixels (0: flips only)")
      ->check(CLI::Range(0, 27))
      ->capture_default_str();
  app.add_option("--label-smoothing", config.label_smoothing,
                 "cross_entropy's label smoothing eps: the target is (1 - eps) onehot + eps / 10")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--dot", config.dot, "write the first training step's loss graph to this Graphviz file (dot -Tpng)");
}

// Fashion-MNIST comes from Debian's dataset-fashion-mnist unless --data names another folder.
inline std::string data_folder(const Config& config) {
  if (config.dataset == "fashion" && config.data == Config().data) return "/usr/share/datasets/fashion-mnist";
  return config.data;
}

inline tg::data::MNIST load_split(const Config& config, tg::data::Split split) {
  const auto kind = config.dataset == "fashion" ? tg::data::MnistKind::fashion : tg::data::MnistKind::mnist;
  return tg::data::MNIST(data_folder(config), split, kind);
}

// SGD (momentum 0.9, Nesterov) or Adam over the model's parameters, at config.lr.
inline std::unique_ptr<tg::optim::Optimizer<float>> make_optimizer(tg::nn::Module<float>& model, const Config& config) {
  if (config.optimizer == "sgd") {
    tg::optim::SGDOptions o;
    o.lr = config.lr;
    o.momentum = 0.9;
    o.nesterov = true;
    return std::make_unique<tg::optim::SGD<float>>(model.parameters(), o);
  }
  tg::optim::AdamOptions o;
  o.lr = config.lr;
  return std::make_unique<tg::optim::Adam<float>>(model.parameters(), o);
}

struct EpochMetrics {
  int epoch;
  double train_loss, train_accuracy, test_accuracy, seconds, lr;
};

// Shows an epoch's progress on one line of a terminal, or a plain line every quarter epoch
// otherwise, and keeps its running totals.
class Progress {
 public:
  Progress(int epoch, int epochs, std::size_t batches) : epoch_(epoch), epochs_(epochs), batches_(batches) {}
  // After batch number `batch` (from 0) of `images` images, whose mean loss was `loss`.
  void update(std::size_t batch, double loss, std::size_t images) {
    loss_sum_ += loss * static_cast<double>(images);
    images_ += images;
    const double images_per_second = static_cast<double>(images_) / stopwatch_.seconds();
    if (tty_) {
      const int width = 30, filled = static_cast<int>(width * (batch + 1) / batches_);
      std::printf("\repoch %d/%d [%s%s] %zu/%zu  loss %.4f  %.0f images/s ", epoch_, epochs_,
                  std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), batch + 1, batches_, loss,
                  images_per_second);
      std::fflush(stdout);
    } else if ((batch + 1) % std::max<std::size_t>(1, batches_ / 4) == 0 && batch + 1 < batches_) {
      std::printf("epoch %d/%d  batch %zu/%zu  loss %.4f  %.0f images/s\n", epoch_, epochs_, batch + 1, batches_, loss,
                  images_per_second);
      std::fflush(stdout);
    }
  }
  void finish() {
    if (tty_) std::printf("\r%*s\r", 100, "");
  }
  std::size_t images() const { return images_; }
  double mean_loss() const { return loss_sum_ / static_cast<double>(images_); }

 private:
  int epoch_, epochs_;
  std::size_t batches_;
  bool tty_ = isatty(fileno(stdout)) != 0;
  Stopwatch stopwatch_;
  double loss_sum_ = 0;
  std::size_t images_ = 0;
};

// Share of correct predictions over a whole split, without recording a tape, in eval mode.
inline double accuracy(tg::nn::Module<float>& model, const tg::data::MNIST& split, std::size_t batch_size) {
  tg::NoGradGuard no_grad;
  model.eval();
  tg::data::DataLoader<float> loader(split, batch_size);
  std::size_t correct = 0;
  for (auto& batch : loader) {
    const tg::Tensor<float>& logits = model(batch.images).value();
    const std::size_t classes = logits.shape()[1];
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const float* row = logits.data() + i * classes;
      correct += static_cast<std::int64_t>(std::max_element(row, row + classes) - row) == batch.labels[i];
    }
  }
  model.train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(split.size());
}

// Writes `text` to a temporary file, then renames it into place, so readers never see half a file.
inline void write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path);
}

inline void write_metrics(const std::string& path, const std::string& model_name, const Config& config,
                          const std::vector<EpochMetrics>& epochs) {
  std::string json = fmt::format("{{\n  \"model\": \"{}\",\n  \"dataset\": \"{}\",\n  \"optimizer\": \"{}\",\n"
                                 "  \"batch_size\": {},\n  \"seed\": {},\n  \"epochs\": [\n",
                                 model_name, config.dataset, config.optimizer, config.batch_size, config.seed);
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    const auto& e = epochs[i];
    json += fmt::format("    {{\"epoch\": {}, \"train_loss\": {:.6f}, \"train_accuracy\": {:.4f}, \"test_accuracy\": {:.4f}, "
                        "\"seconds\": {:.3f}, \"lr\": {:.6g}}}{}\n",
                        e.epoch, e.train_loss, e.train_accuracy, e.test_accuracy, e.seconds, e.lr,
                        i + 1 < epochs.size() ? "," : "");
  }
  json += fmt::format("  ],\n  \"test_accuracy\": {:.4f}\n}}\n", epochs.empty() ? 0.0 : epochs.back().test_accuracy);
  write_file(path, json);
}

// Writes the trained parameters to --save's file, when given.
inline void save_if_asked(tg::nn::Module<float>& model, const Config& config) {
  if (config.save.empty()) return;
  tg::nn::save(model, config.save);
  std::printf("saved parameters to %s\n", config.save.c_str());
}

// Trains `model` with cross-entropy, printing per epoch the train loss and accuracy, the test
// accuracy and the seconds, and at the end `test accuracy: NN.NN%`.
inline int train(tg::nn::Module<float>& model, const std::string& model_name, const Config& config) {
  tg::set_num_threads(config.threads);
  const tg::data::MNIST train_set = load_split(config, tg::data::Split::train);
  const tg::data::MNIST test_set = load_split(config, tg::data::Split::test);
  tg::data::DataLoader<float> loader(train_set, config.batch_size, /*shuffle=*/true, config.seed);

  std::unique_ptr<tg::optim::Optimizer<float>> optimizer = make_optimizer(model, config);
  tg::optim::CosineAnnealingLR schedule(*optimizer, static_cast<std::size_t>(config.epochs));
  // Its own stream, so turning augmentation on leaves the initialisation and the batch order alone.
  BatchAugmenter augment(config.augment_pad, config.seed ^ 0x6175676d656e74ULL);

  std::printf("%s on %s (%zu training, %zu test images), %s lr %g, batch %zu, %d threads\n", model_name.c_str(),
              config.dataset.c_str(), train_set.size(), test_set.size(), config.optimizer.c_str(), config.lr,
              config.batch_size, tg::get_num_threads());
  if (config.augment)
    std::printf("augmentation: random horizontal flip, random shift up to %d pixel%s\n", config.augment_pad,
                config.augment_pad == 1 ? "" : "s");
  std::vector<EpochMetrics> history;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const Stopwatch epoch_time;
    const double lr = optimizer->lr();
    Progress progress(epoch, config.epochs, loader.num_batches());
    std::size_t correct = 0;
    for (auto it = loader.begin(); it != loader.end(); ++it) {
      auto& batch = *it;
      // In place: the loader's buffer holds only this batch, and is not yet part of any graph.
      if (config.augment) augment(batch.images.value());
      optimizer->zero_grad();
      tg::Variable<float> logits = model(batch.images);
      tg::CrossEntropyOptions loss_options;
      loss_options.label_smoothing = config.label_smoothing;
      tg::Variable<float> loss = tg::cross_entropy(logits, batch.labels, loss_options);
      if (!config.dot.empty() && epoch == 1 && it.index() == 0) {  // before backward(), which releases the graph
        write_file(config.dot, tg::to_dot(loss));
        std::printf("wrote the graph of one training step to %s\n", config.dot.c_str());
      }
      loss.backward();
      optimizer->step();

      const std::size_t classes = logits.shape()[1];
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const float* row = logits.value().data() + i * classes;
        correct += static_cast<std::int64_t>(std::max_element(row, row + classes) - row) == batch.labels[i];
      }
      progress.update(it.index(), loss.item(), batch.size());
    }
    progress.finish();
    schedule.step();
    const double test_accuracy = accuracy(model, test_set, 1000);
    const double seconds = epoch_time.seconds();
    history.push_back({epoch, progress.mean_loss(),
                       100.0 * static_cast<double>(correct) / static_cast<double>(progress.images()), test_accuracy,
                       seconds, lr});
    const auto& m = history.back();
    std::printf("epoch %2d/%d  train loss %.4f  train accuracy %6.2f%%  test accuracy %6.2f%%  %.1f s\n", epoch,
                config.epochs, m.train_loss, m.train_accuracy, m.test_accuracy, m.seconds);
    std::fflush(stdout);
    if (!config.metrics_json.empty()) write_metrics(config.metrics_json, model_name, config, history);
  }
  save_if_asked(model, config);
  std::printf("test accuracy: %.2f%%\n", history.back().test_accuracy);
  return 0;
}

// Parses the command line and trains; errors are printed, not thrown.
inline int run(int argc, char** argv, const std::string& model_name, const std::string& description, Config config,
               const std::function<std::shared_ptr<tg::nn::Module<float>>()>& make_model) {
  CLI::App app(description, model_name);
  add_options(app, config);
  return parse_and_run(app, argc, argv, [&] {
    tg::manual_seed(config.seed);
    auto model = make_model();
    std::printf("%s", tg::nn::summary(*model, tg::Shape{1, 1, 28, 28}).c_str());
    return train(*model, model_name, config);
  });
}

}  // namespace example
