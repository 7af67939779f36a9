// to_dot: one node per op and leaf, each edge once, leaves named, released graphs refused.
#include <map>
#include <regex>
#include <set>

#include "test_util.hpp"

namespace {

struct Dot {
  std::map<std::string, std::string> label;  // node id -> "name\nshape" (with the literal backslash-n)
  std::multiset<std::pair<std::string, std::string>> edges;
  std::multiset<std::string> names;  // the first line of every label
};

Dot parse(const std::string& dot) {
  Dot d;
  const std::regex node(R"re((n\d+) \[label="([^"\\]*)\\n([^"]*)")re");
  const std::regex edge(R"re((n\d+) -> (n\d+);)re");
  for (std::sregex_iterator it(dot.begin(), dot.end(), node), end; it != end; ++it) {
    d.label[(*it)[1]] = std::string((*it)[2]) + " " + std::string((*it)[3]);
    d.names.insert((*it)[2]);
  }
  for (std::sregex_iterator it(dot.begin(), dot.end(), edge), end; it != end; ++it)
    d.edges.insert({(*it)[1], (*it)[2]});
  return d;
}

// The id of the one node whose label is `label` ("mul (2, 3)").
std::string id_of(const Dot& d, const std::string& label) {
  std::string found;
  for (const auto& [id, l] : d.label) {
    if (l == label) {
      REQUIRE(found.empty());
      found = id;
    }
  }
  INFO("no node labelled " << label);
  REQUIRE(!found.empty());
  return found;
}

}  // namespace

TEST_CASE("to_dot draws each op and leaf once and each edge once in data-flow direction") {
  using V = tg::Variable<double>;
  V w(tg::Tensor<double>{{1, 2, 3}, {4, 5, 6}}, true);
  w.set_name("layer.weight");
  V x(tg::Tensor<double>{0.1, 0.2, 0.3}, true);
  V c(tg::Tensor<double>{{1, 1, 1}, {2, 2, 2}});     // data: needs no gradient
  V loss = tg::sum((tg::exp(w * x) + w) - c) / 2.0;  // w feeds two ops; 2.0 becomes a constant leaf

  const std::string dot = tg::to_dot(loss);
  INFO(dot);
  CHECK(dot.rfind("digraph", 0) == 0);
  const Dot d = parse(dot);
  CHECK(d.label.size() == 10);
  for (const char* op : {"mul", "exp", "add", "sub", "sum", "div"}) CHECK(d.names.count(op) == 1);
  CHECK(d.names.count("layer.weight") == 1);
  CHECK(d.names.count("input") == 2);
  CHECK(d.names.count("constant") == 1);

  const std::string nw = id_of(d, "layer.weight (2, 3)"), nx = id_of(d, "input (3,)"), nc = id_of(d, "input (2, 3)"),
                    two = id_of(d, "constant ()");
  const std::string mul = id_of(d, "mul (2, 3)"), exp = id_of(d, "exp (2, 3)"), add = id_of(d, "add (2, 3)"),
                    sub = id_of(d, "sub (2, 3)"), sum = id_of(d, "sum ()"), div = id_of(d, "div ()");
  const std::multiset<std::pair<std::string, std::string>> expected{{nw, mul},  {nx, mul},  {mul, exp}, {exp, add},
                                                                    {nw, add},  {add, sub}, {nc, sub},  {sub, sum},
                                                                    {sum, div}, {two, div}};
  CHECK(d.edges == expected);
  // Leaves without a gradient are dashed; the root is drawn bold, and only the root.
  CHECK(std::regex_search(dot, std::regex(nc + R"( \[.*dashed)")));
  CHECK_FALSE(std::regex_search(dot, std::regex(nx + R"( \[.*dashed)")));
  CHECK(std::regex_search(dot, std::regex(div + R"( \[.*penwidth)")));
  CHECK(dot.find("penwidth") == dot.rfind("penwidth"));
}

TEST_CASE("to_dot draws an input used twice by one op with a single edge") {
  tg::Variable<float> x(tg::Tensor<float>{1, 2}, true);
  const Dot d = parse(tg::to_dot(tg::sum(x * x)));
  CHECK(d.label.size() == 3);
  CHECK(d.edges.size() == 2);
  CHECK(std::set<std::pair<std::string, std::string>>(d.edges.begin(), d.edges.end()).size() == 2);
}

TEST_CASE("to_dot of a leaf is one node and an undefined variable is refused") {
  tg::Variable<double> p(tg::Tensor<double>{1.0}, true);
  p.set_name("bias \"b\"");
  const std::string dot = tg::to_dot(p);
  CHECK_THAT(dot, Catch::Matchers::Contains(R"x(label="bias \"b\"\n(1,)")x"));
  CHECK(dot.find("->") == std::string::npos);
  CHECK_THAT(tg::test::message_of<std::invalid_argument>([&] { tg::to_dot(tg::Variable<double>()); }),
             Catch::Matchers::Equals("to_dot: the variable is undefined"));
}

TEST_CASE("to_dot refuses a graph that backward released and works with retain_graph") {
  tg::Variable<double> x(tg::Tensor<double>{1, 2}, true);
  tg::Variable<double> y = tg::sum(tg::exp(x));
  y.backward(/*retain_graph=*/true);
  CHECK(parse(tg::to_dot(y)).label.size() == 3);
  y.backward();
  CHECK_THAT(
      tg::test::message_of<std::logic_error>([&] { tg::to_dot(y); }),
      Catch::Matchers::Contains("to_dot: the graph through 'sum'") && Catch::Matchers::Contains("before backward()"));
}

TEST_CASE("to_dot walks a chain of 100000 ops without recursion") {
  tg::Variable<float> x(tg::Tensor<float>{1.0f}, true);
  tg::Variable<float> y = x;
  for (int i = 0; i < 100000; ++i) y = -y;
  const std::string dot = tg::to_dot(y);
  auto count = [&dot](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = dot.find(what); at != std::string::npos; at = dot.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("[label=\"neg\\n") == 100000);
  CHECK(count("[label=\"input\\n") == 1);
  CHECK(count(" -> ") == 100000);
}
