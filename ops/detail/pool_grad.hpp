// Max pooling's gradient as a recorded op, for max_pool2d and the ops that end in one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../../core/variable.hpp"
#include "pool_kernels.hpp"

namespace tg::detail {

// Where each window of a max pooling took its value from.
struct MaxPoolIndex {
  PoolGeometry g;
  Shape in_shape, out_shape;
  bool two_by_two = false;           // 2x2 windows, stride 2, no padding: `choice`, else `argmax`
  std::vector<std::uint8_t> choice;  // the winning tap (0-3), or 4: the window passes no gradient
  std::vector<std::int64_t> argmax;  // the flat index within the plane
};

// g (out_shape) scattered to the windows' maxima (in_shape, zeros elsewhere), recorded as
// "max_pool2d_backward"; its derivative gathers from the same positions (and that one's scatters).
template <class T>
Variable<T> max_pool_scatter(const Variable<T>& g, std::shared_ptr<const MaxPoolIndex> index);

}  // namespace tg::detail
