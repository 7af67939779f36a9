#include "test_util.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace tg;
using Catch::Matchers::Contains;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_serialize_" + name)).string();
}

nn::Sequential<float> small_net() {
  return nn::Sequential<float>{nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2)};
}

}  // namespace

TEST_CASE("save then load restores every parameter exactly") {
  const std::string path = temp_path("roundtrip.npz");
  manual_seed(1);
  auto a = small_net();
  nn::save(a, path);
  manual_seed(2);
  auto b = small_net();
  REQUIRE((a.parameters()[0].value() != b.parameters()[0].value()));
  nn::load(b, path);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    CHECK((a.parameters()[i].value() == b.parameters()[i].value()));
  }
  auto entries = read_npz(path);
  CHECK(entries.size() == 4);
  CHECK(entries.count("0.weight") == 1);
  CHECK(entries.at("2.bias").shape() == Shape{2});
  std::filesystem::remove(path);
}

TEST_CASE("numpy.load reads a saved module with its names and values") {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    WARN("python3-numpy is not installed; skipping");
    return;
  }
  const std::string path = temp_path("numpy.npz"), out = temp_path("numpy.txt");
  nn::Linear<double> fc(2, 3);
  fc.weight().value() = Tensor<double>{{1.5, -2.0}, {0.25, 3.0}, {4.0, -0.5}};
  fc.bias().value() = Tensor<double>{0.1, 0.2, 0.3};
  nn::save(fc, path);
  const std::string script = "import numpy as np; d = np.load('" + path +
                             "'); print(sorted(d.files)); print(d['weight'].shape, d['weight'].dtype, "
                             "d['weight'].sum(), d['bias'][2])";
  REQUIRE(std::system(("/usr/bin/python3 -c \"" + script + "\" > " + out).c_str()) == 0);
  std::ifstream in(out);
  std::string files, line;
  std::getline(in, files);
  std::getline(in, line);
  CHECK(files == "['bias', 'weight']");
  CHECK(line == "(3, 2) float64 6.25 0.3");
  std::filesystem::remove(path);
  std::filesystem::remove(out);
}

TEST_CASE("load lists every missing unexpected and mis-shaped parameter and changes nothing") {
  const std::string path = temp_path("mismatch.npz");
  write_npz(path, std::vector<std::pair<std::string, Tensor<float>>>{
                          {"0.weight", xt::zeros<float>({3, 5})},  // wrong shape
                          {"0.bias", xt::zeros<float>({3})},
                          {"extra", xt::zeros<float>({1})}});      // unexpected; 2.weight, 2.bias missing
  auto net = small_net();
  const Tensor<float> before = net.parameters()[1].value();
  std::string msg = test::message_of<std::invalid_argument>([&] { nn::load(net, path); });
  CHECK_THAT(msg, Contains("load") && Contains(path) && Contains("4 problems"));
  CHECK_THAT(msg, Contains("\"0.weight\" has shape (3, 5) in the file but (3, 4) in the module"));
  CHECK_THAT(msg, Contains("missing \"2.weight\" (2, 3)") && Contains("missing \"2.bias\" (2,)"));
  CHECK_THAT(msg, Contains("unexpected \"extra\" (1,)"));
  CHECK((net.parameters()[1].value() == before));  // 0.bias matched but was not loaded
  std::filesystem::remove(path);
}

TEST_CASE("load converts between float and double checkpoints") {
  const std::string path = temp_path("precision.npz");
  nn::Linear<double> d(2, 2);
  nn::save(d, path);
  nn::Linear<float> f(2, 2);
  nn::load(f, path);
  CHECK(f.weight().value()(1, 0) == static_cast<float>(d.weight().value()(1, 0)));
  std::filesystem::remove(path);
}

TEST_CASE("load of a missing file is a runtime_error naming it") {
  auto net = small_net();
  std::string msg = test::message_of<std::runtime_error>([&] { nn::load(net, "/nonexistent/x.npz"); });
  CHECK_THAT(msg, Contains("/nonexistent/x.npz"));
}
