#include "detail/npy_format.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "npz.hpp"

namespace tg {

// ---- NpyArray ----

Shape NpyArray::shape() const {
  return std::visit([](const auto& t) { return shape_of(t); }, value_);
}

template <class T>
const Tensor<T>& NpyArray::get() const {
  if (const Tensor<T>* t = std::get_if<Tensor<T>>(&value_)) return *t;
  throw std::invalid_argument(fmt::format("NpyArray::get: the array holds {} but {} was asked for", dtype(),
                                          sizeof(T) == 4 ? "<f4" : "<f8"));
}

template <class T>
Tensor<T> NpyArray::to() const {
  return std::visit([](const auto& t) { return Tensor<T>(xt::cast<T>(t)); }, value_);
}

template const Tensor<float>& NpyArray::get<float>() const;
template const Tensor<double>& NpyArray::get<double>() const;
template Tensor<float> NpyArray::to<float>() const;
template Tensor<double> NpyArray::to<double>() const;

namespace detail {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;
constexpr std::size_t kMaxHeaderLength = 1 << 20;  // numpy itself refuses more than 10000 by default

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  throw std::invalid_argument(where + ": " + problem);
}

// A strict reader of the Python literal numpy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(const char* text, std::size_t length, const std::string& where)
      : p_(text), end_(text + length), where_(where) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr" && !have_descr) {
        const std::string descr = string_literal();
        if (descr == "<f4") h.item_size = 4;
        else if (descr == "<f8") h.item_size = 8;
        else fail(fmt::format("unsupported dtype '{}' (only '<f4' float32 and '<f8' float64 are read)", descr));
        have_descr = true;
      } else if (key == "fortran_order" && !have_order) {
        if (word("False")) {
        } else if (word("True")) {
          fail("Fortran-order arrays are not supported (save a C-order array)");
        } else {
          fail("'fortran_order' must be True or False");
        }
        have_order = true;
      } else if (key == "shape" && !have_shape) {
        h.shape = shape_tuple();
        have_shape = true;
      } else {
        fail(fmt::format("unexpected or repeated key '{}' in the header", key));
      }
      skip_space();
      if (peek() == ',') { ++p_; continue; }
      if (peek() != '}') fail("expected ',' or '}' in the header");
    }
    ++p_;
    skip_space();
    if (p_ != end_) fail("unexpected text after the header dict");
    if (!have_descr || !have_order || !have_shape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    std::size_t count = 1;
    for (std::size_t d : h.shape) {
      if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d) fail("the shape's element count overflows");
      count *= d;
    }
    if (count > std::numeric_limits<std::size_t>::max() / h.item_size) fail("the shape's byte count overflows");
    h.data_bytes = count * h.item_size;
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { bad(where_, "bad NPY header: " + problem); }
  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++p_;
  }
  bool word(const char* w) {
    const std::size_t n = std::strlen(w);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, w, n) != 0) return false;
    p_ += n;
    return true;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const char* start = ++p_;
    while (p_ < end_ && *p_ != quote) {
      if (*p_ == '\\' || *p_ == '\n') fail("unexpected character in a string");
      ++p_;
    }
    if (p_ == end_) fail("unterminated string");
    return std::string(start, p_++);
  }
  std::size_t integer() {
    if (peek() < '0' || peek() > '9') fail("expected a non-negative integer in the shape");
    std::size_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const std::size_t digit = static_cast<std::size_t>(*p_++ - '0');
      if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("a dimension is too large");
      value = value * 10 + digit;
    }
    if (peek() == 'L') ++p_;  // Python 2 long literals
    return value;
  }
  Shape shape_tuple() {
    Shape shape;
    expect('(');
    skip_space();
    while (peek() != ')') {
      if (shape.size() >= 64) fail("more than 64 dimensions");
      shape.push_back(integer());
      skip_space();
      if (peek() == ',') {
        ++p_;
        skip_space();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
    ++p_;
    return shape;
  }

  const char* p_;
  const char* end_;
  const std::string& where_;
};

std::string shape_literal(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

std::string npy_preamble(const char* descr, const Shape& shape) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape_literal(shape));
  const std::size_t unpadded = kMagicLength + 4 + dict.size() + 1;  // + the final newline
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  if (dict.size() > 65535) throw std::invalid_argument("write_npz: an NPY header longer than 65535 bytes");
  std::string out(kMagic, kMagicLength);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict;
}

std::size_t npy_preamble_length(const unsigned char* prefix, std::size_t available, std::size_t size,
                                const std::string& where) {
  if (available < 10 || std::memcmp(prefix, kMagic, kMagicLength) != 0) bad(where, "not an NPY file (bad magic)");
  const unsigned major = prefix[6], minor = prefix[7];
  std::size_t fixed = 0, header = 0;
  if (major == 1 && minor == 0) {
    fixed = 10;
    header = prefix[8] | (std::size_t(prefix[9]) << 8);
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (available < 12) bad(where, "truncated NPY preamble");
    fixed = 12;
    header = prefix[8] | (std::size_t(prefix[9]) << 8) | (std::size_t(prefix[10]) << 16) |
             (std::size_t(prefix[11]) << 24);
  } else {
    bad(where, fmt::format("unsupported NPY format version {}.{}", major, minor));
  }
  if (header > kMaxHeaderLength) bad(where, fmt::format("NPY header length {} is implausibly large", header));
  if (fixed + header > size) {
    bad(where, fmt::format("NPY header of {} bytes runs past the end of the {}-byte entry", header, size));
  }
  return fixed + header;
}

NpyHeader parse_npy_preamble(const unsigned char* preamble, std::size_t length, const std::string& where) {
  const std::size_t fixed = preamble[6] == 1 ? 10 : 12;
  return HeaderParser(reinterpret_cast<const char*>(preamble) + fixed, length - fixed, where).parse();
}

}  // namespace detail
}  // namespace tg
