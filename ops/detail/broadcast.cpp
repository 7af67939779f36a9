#include "broadcast.hpp"

namespace tg::detail {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {  // align from the trailing dimension
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail(op, "shapes {} and {} cannot be broadcast together (dimension {} is {} vs {})", format_shape(a),
           format_shape(b), i, da, db);
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace tg::detail
