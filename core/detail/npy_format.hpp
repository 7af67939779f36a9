// Internal to the .npz code: the NPY format's preamble (magic, version, header dict).
#pragma once

#include <cstddef>
#include <string>

#include "../tensor.hpp"

namespace tg::detail {

// The preamble of an NPY 1.0 file holding a C-order array: magic, version, header length and
// the header dict, padded with spaces and a newline so the data starts at a multiple of 64.
std::string npy_preamble(const char* descr, const Shape& shape);

// The fixed part before the header dict: 10 bytes for version 1.0, 12 for 2.0 and 3.0.
constexpr std::size_t kNpyPrefixMax = 12;

// Given the first min(size, 12) bytes of an NPY file of `size` bytes, checks the magic and the
// version and returns the preamble's total length (prefix + header dict), checked against `size`.
// Problems throw std::invalid_argument with "<where>: <problem>".
std::size_t npy_preamble_length(const unsigned char* prefix, std::size_t available, std::size_t size,
                                const std::string& where);

struct NpyHeader {
  std::size_t item_size = 0;  // 4 ('<f4') or 8 ('<f8')
  Shape shape;
  std::size_t data_bytes = 0;  // item_size * the product of shape, overflow-checked
};

// Parses the whole preamble (as measured by npy_preamble_length): the header dict must hold exactly
// 'descr' ('<f4' or '<f8'), 'fortran_order' (False) and 'shape' (a tuple of non-negative integers).
NpyHeader parse_npy_preamble(const unsigned char* preamble, std::size_t length, const std::string& where);

}  // namespace tg::detail
