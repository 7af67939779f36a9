// split: one op with several outputs on a tape whose nodes have one.
//
// Each piece is its own node, and a slice's backward is a tensor of the whole input's size, so n
// pieces cut by slices would cost n whole tensors in backward: O(n²) for a sequence cut into its
// steps. Instead the pieces hang off one node, the split itself, whose output is a token scalar:
// a piece's backward hands its gradient to the split node (detail::RunDeposits) and passes a zero
// to the token; the split's backward, which the engine runs after every piece's (they all read
// its token), joins the gradients with one concat. Under create_graph that concat records, so
// second derivatives go through it.
#include <algorithm>
#include <memory>

#include "../core/detail/instantiate.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/run_deposits.hpp"
#include "detail/shape_kernels.hpp"
#include "shape.hpp"

namespace tg {
template <class T>
std::vector<Variable<T>> split(const Variable<T>& a, std::size_t size, int axis_in) {
  const Shape shape = a.shape();
  const std::size_t axis = detail::checked_axis("split", axis_in, shape);
  if (shape.empty()) fail("split", "cannot split a 0-d tensor");
  if (size == 0) fail("split", "size must be positive, got 0 (tensor of shape {})", format_shape(shape));
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::size_t n = shape[axis];
  std::vector<Shape> piece_shapes;
  std::size_t start = 0;
  do {  // an empty axis still gives one (empty) piece, as torch.split does
    piece_shapes.push_back(shape);
    piece_shapes.back()[axis] = std::min(size, n - start);
    start += size;
  } while (start < n);

  auto copy_piece = [&](std::size_t k) {
    Tensor<T> out = Tensor<T>::from_shape(piece_shapes[k]);
    detail::take_middle(a.value().data(), out.data(), outer, n, inner, k * size, piece_shapes[k][axis], 1);
    return out;
  };
  std::vector<Variable<T>> pieces;
  pieces.reserve(piece_shapes.size());
  if (!detail::records(&a, &a + 1)) {
    for (std::size_t k = 0; k < piece_shapes.size(); ++k) pieces.push_back(detail::constant(copy_piece(k)));
    return pieces;
  }

  auto gradients = std::make_shared<detail::RunDeposits<Variable<T>>>();
  const Variable<T> token = detail::record<T>(
      "split_input", detail::token_value<T>(), {a}, detail::saves_nothing(),
      [gradients, piece_shapes, axis](Variable<T>, const Variable<T>&) {
        return detail::single(detail::join_gradients<T>(
            gradients->take(), piece_shapes.size(), [&](std::size_t k) { return piece_shapes[k]; },
            static_cast<int>(axis)));
      });
  for (std::size_t k = 0; k < piece_shapes.size(); ++k) {
    pieces.push_back(detail::record<T>("split", copy_piece(k), {token}, detail::saves_nothing(),
                                       [gradients, k](Variable<T> g, const Variable<T>&) {
                                         gradients->hand_in(k, std::move(g));
                                         return detail::single(detail::token_gradient<T>());
                                       }));
  }
  return pieces;
}

#define TG_FUNCTIONS(T) template std::vector<Variable<T>> split(const Variable<T>&, std::size_t, int);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
