// The one header that brings in xtensor: the tensor type and the small vocabulary types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <type_traits>

#include <xsimd/xsimd.hpp>

// xtensor's default allocator aligns to the SIMD width the compiler targets, and the allocator is
// part of the type xt::xarray<T>: a program built for another CPU than the library (-march=x86-64
// against a native build) would see another Tensor<T>. 64 bytes, AVX-512's width, for everyone.
#ifndef XTENSOR_DEFAULT_ALLOCATOR
#define XTENSOR_DEFAULT_ALLOCATOR(T) xsimd::aligned_allocator<T, 64>
#endif
#include <xtensor/xarray.hpp>

static_assert(std::is_same_v<xt::xarray<float>::allocator_type, xsimd::aligned_allocator<float, 64>>,
              "tapegrad: include <tapegrad/tapegrad.hpp> before any xtensor header, so that xt::xarray "
              "uses the 64-byte aligned allocator the library was built with");

namespace tg {

template <class T>
using Tensor = xt::xarray<T>;  // row-major, T = float or double

using Shape = std::vector<std::size_t>;
using Axes = std::vector<int>;               // negative = counted from the end
using Labels = std::vector<std::int64_t>;    // class indices
using Indices = xt::xarray<std::int64_t>;  // integer tensors: embedding ids, gather/index_select indices
using Mask = xt::xarray<bool>;             // where / masked_fill conditions, attention padding masks

// The shape of a tensor as a tg::Shape (xtensor keeps its own small-vector type).
template <class T>
Shape shape_of(const Tensor<T>& t) {
  return Shape(t.shape().begin(), t.shape().end());
}

// Number of elements a shape holds (1 for the 0-d shape {}).
inline std::size_t element_count(const Shape& s) {
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  return n;
}

template <class U>
struct NonDeduced {
  using type = U;
};
// A scalar argument of type T that takes no part in deducing T, so that `x * 2.0` and
// `leaky_relu(x, 0.2)` work for a float x (the double converts to float).
template <class T>
using Scalar = typename NonDeduced<T>::type;

}  // namespace tg
