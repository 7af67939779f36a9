// A small residual network on Fashion-MNIST: a convolution stem, then residual blocks of two
// 3x3 Conv-BatchNorm layers whose input is added back (through a strided 1x1 Conv-BatchNorm
// where the block halves the size or widens the channels), global average pooling and a linear
// classifier. Run with --help for the options.
#include "mnist_training.hpp"

namespace {

using tg::nn::BatchNorm2d;
using tg::nn::Conv2d;
using tg::nn::ReLU;
using tg::nn::Sequential;

// relu(main(x) + shortcut(x)), main = Conv-BN-ReLU-Conv-BN; the shortcut is the identity when
// shapes match, else a strided 1x1 Conv-BN. The convolutions have no bias: BatchNorm adds one.
class ResidualBlock : public tg::nn::Module<float> {
 public:
  ResidualBlock(std::size_t in, std::size_t out, std::size_t stride) : in_(in), out_(out), stride_(stride) {
    main_ = std::make_shared<Sequential<float>>(
        Conv2d(in, out, 3, stride, /*padding=*/1, /*dilation=*/1, /*groups=*/1, /*bias=*/false), BatchNorm2d(out), ReLU(),
        Conv2d(out, out, 3, 1, /*padding=*/1, 1, 1, /*bias=*/false), BatchNorm2d(out));
    register_module("main", main_);
    if (stride != 1 || in != out) {
      shortcut_ = std::make_shared<Sequential<float>>(Conv2d(in, out, 1, stride, 0, 1, 1, /*bias=*/false), BatchNorm2d(out));
      register_module("shortcut", shortcut_);
    }
  }

  tg::Variable<float> forward(const tg::Variable<float>& x) override {
    return tg::relu((*main_)(x) + (shortcut_ ? (*shortcut_)(x) : x));
  }

  std::string describe() const override {
    return fmt::format("ResidualBlock({}, {}, stride={}{})", in_, out_, stride_, shortcut_ ? ", 1x1 shortcut" : "");
  }

 private:
  std::size_t in_, out_, stride_;
  std::shared_ptr<Sequential<float>> main_, shortcut_;
};

// 16 channels at 28x28, 32 at 14x14, 64 at 7x7.
std::shared_ptr<tg::nn::Module<float>> make_resnet() {
  using namespace tg::nn;
  auto net = std::make_shared<Sequential<float>>(
      Conv2d(1, 16, 3, 1, /*padding=*/1, 1, 1, /*bias=*/false), BatchNorm2d(16), ReLU());
  net->push_back(std::make_shared<ResidualBlock>(16, 16, 1));
  net->push_back(std::make_shared<ResidualBlock>(16, 32, 2));
  net->push_back(std::make_shared<ResidualBlock>(32, 64, 2));
  net->push_back(std::make_shared<ResidualBlock>(64, 64, 1));
  net->push_back(std::make_shared<AdaptiveAvgPool2d<float>>(tg::Shape{1, 1}));
  net->push_back(std::make_shared<Flatten<float>>());
  net->push_back(std::make_shared<Linear<float>>(64, 10));
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.dataset = "fashion";
  defaults.epochs = 10;
  defaults.lr = 2e-3;
  defaults.batch_size = 128;
  return example::run(argc, argv, "fashion_resnet", "Trains a small residual network on Fashion-MNIST.", defaults,
                      make_resnet);
}
