// PyTorch state_dicts in tapegrad, end to end, with the modules tapegrad has had since 0.1: a
// Conv2d/ReLU/MaxPool2d/Flatten/Linear network whose torch weights went through
// scripts/torch_state_dict.py (fixtures by scripts/make_torch_fixtures.py; see
// tests/support/torch_fixture.hpp), and the converter's .npz side on tapegrad's own checkpoints.
#include "torch_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace tg;
using Catch::Matchers::Contains;

namespace {

// torch: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 4))
template <class T>
nn::Sequential<T> torch_cnn(std::size_t classes = 4) {
  return nn::Sequential<T>{nn::Conv2d<T>(2, 3, 3, 1, 1), nn::ReLU<T>(), nn::MaxPool2d<T>(2), nn::Flatten<T>(),
                           nn::Linear<T>(27, classes)};
}

}  // namespace

TEMPLATE_TEST_CASE("torch fixtures: a Conv2d/MaxPool2d/Linear CNN gives PyTorch's output and gradients",
                   "[torch-fixtures]", float, double) {
  manual_seed(3);  // any weights: the fixture's replace them
  auto cnn = torch_cnn<TestType>();
  test::check_against_torch(cnn, "cnn");
}

TEST_CASE("torch fixtures: the float32 weights loaded into a double module give torch's float64 results",
          "[torch-fixtures]") {
  // make_torch_fixtures.py builds each model in float32 and converts it, so the f32 and f64
  // files hold the same weights; tg::nn::load converts float32 to double exactly.
  auto cnn = torch_cnn<double>();
  nn::load(cnn, test::torch_fixture_path("cnn_f32_params.npz"));
  const NpzEntries io = read_npz(test::torch_fixture_path("cnn_f64_io.npz"));
  const Variable<double> output = cnn(Variable<double>(io.at("input").get<double>()));
  test::require_close<double>(output.value(), io.at("output").get<double>(), 1e-10);
}

TEST_CASE("torch fixtures: a module that does not match the state_dict is refused naming the tensor",
          "[torch-fixtures]") {
  auto cnn = torch_cnn<float>(5);
  const std::string path = test::torch_fixture_path("cnn_f32_params.npz");
  REQUIRE_THROWS_WITH(nn::load(cnn, path),
                      Contains("\"4.weight\" has shape (4, 27) in the file but (5, 27) in the module") &&
                          Contains("\"4.bias\" has shape (4,) in the file but (5,) in the module"));
}

namespace {

// A module whose state has what the converter must keep 0-d: a 0-d parameter and a 0-d
// num_batches_tracked buffer (as BatchNorm's), beside a nested Sequential's tensors.
template <class T>
struct WithScalars : nn::Module<T> {
  WithScalars() {
    net = std::make_shared<nn::Sequential<T>>(
        nn::Sequential<T>{nn::Conv2d<T>(2, 3, 3), nn::ReLU<T>(), nn::Flatten<T>(), nn::Linear<T>(12, 2)});
    this->register_module("net", net);
    scale = this->register_parameter("scale", Tensor<T>(T(0.75)));
    this->register_buffer("num_batches_tracked", Tensor<T>(T(7)));
  }
  Variable<T> forward(const Variable<T>& x) override { return (*net)(x) * scale; }
  std::shared_ptr<nn::Sequential<T>> net;
  Variable<T> scale;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEMPLATE_TEST_CASE("torch_state_dict.py: tapegrad's checkpoint through the converter's .npz reader and writer "
                   "loads back unchanged without torch", "[torch-fixtures]", float, double) {
  using T = TestType;
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    WARN("python3-numpy is not installed; skipping");
    return;
  }
  namespace fs = std::filesystem;
  // Per process: other builds of the suite may run this test at the same time.
  const fs::path dir = fs::temp_directory_path() / ("tapegrad_torch_state_dict_" + test::torch_fixture_precision<T>() +
                                                    "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string saved = (dir / "saved.npz").string(), converted = (dir / "converted.npz").string();
  const std::string script = (dir / "roundtrip.py").string(), out = (dir / "out.txt").string();

  manual_seed(21);
  WithScalars<T> original;
  nn::save(original, saved);
  // The script blocks `import torch`: the .npz side of the converter must work without it, and the
  // .pt side must say what is missing.
  std::ofstream(script) << "import sys\n"
                           "sys.modules['torch'] = None\n"
                           "sys.path.insert(0, '" TAPEGRAD_SOURCE_DIR "/scripts')\n"
                           "import torch_state_dict as converter\n"
                           "arrays = converter.read_npz(sys.argv[1])\n"
                           "print({name: a.shape for name, a in arrays.items()})\n"
                           "converter.write_npz(arrays, sys.argv[2])\n"
                           "try:\n"
                           "    converter.arrays_to_state_dict(arrays)\n"
                           "except converter.ConversionError as e:\n"
                           "    print(e)\n";
  const std::string command = "/usr/bin/python3 " + script + " " + saved + " " + converted + " > " + out + " 2>&1";
  const int rc = std::system(command.c_str());
  const std::string printed = read_text(out);
  INFO(printed);
  REQUIRE(rc == 0);
  CHECK_THAT(printed, Contains("'scale': ()") && Contains("'num_batches_tracked': ()") &&
                          Contains("'net.0.weight': (3, 2, 3, 3)"));
  CHECK_THAT(printed, Contains("the .pt side needs PyTorch: install python3-torch"));

  // Shapes (0-d included) and dtype survive, and the values load back bit for bit.
  const NpzEntries entries = read_npz(converted);
  CHECK(entries.at("scale").shape() == Shape{});
  CHECK(entries.at("num_batches_tracked").shape() == Shape{});
  CHECK(std::string(entries.at("net.3.bias").dtype()) == (sizeof(T) == 4 ? "<f4" : "<f8"));
  manual_seed(22);
  WithScalars<T> restored;
  restored.named_buffers().at(0).second.value() = Tensor<T>(T(0));
  nn::load(restored, converted);
  const auto expected = original.named_parameters(), actual = restored.named_parameters();
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO(actual[i].first);
    CHECK((actual[i].second.value() == expected[i].second.value()));
  }
  CHECK(restored.named_buffers().at(0).second.value()() == T(7));
  fs::remove_all(dir);
}
