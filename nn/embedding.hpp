// Embedding: a lookup table of num_embeddings vectors of embedding_dim, as PyTorch's nn.Embedding
// (weight (num_embeddings, embedding_dim) drawn from N(0, 1)).
#pragma once

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/generator.hpp"
#include "../ops/indexing.hpp"
#include "init.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class Embedding : public Module<T> {
 public:
  Embedding(std::size_t num_embeddings, std::size_t embedding_dim)
      : Embedding(num_embeddings, embedding_dim, default_generator()) {}
  // The same, drawing the initial weight from `gen`.
  Embedding(std::size_t num_embeddings, std::size_t embedding_dim, Generator& gen)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
    weight_ = this->register_parameter("weight", init::normal<T>({num_embeddings, embedding_dim}, 0.0, 1.0, gen));
  }

  // The rows of the weight at `ids`: shape ids.shape + (embedding_dim,).
  Variable<T> operator()(const Indices& ids) { return embedding(ids, weight_); }
  using Module<T>::operator();  // operator()(const Variable<T>&), which calls forward

  // Reads x's values as ids, so that an Embedding can sit in a Sequential or under summary: each
  // must be a whole number in [0, num_embeddings). No gradient flows into x.
  Variable<T> forward(const Variable<T>& x) override { return embedding(ids_of(x.value()), weight_); }

  std::string describe() const override { return fmt::format("Embedding({}, {})", num_embeddings_, embedding_dim_); }

  std::size_t num_embeddings() const { return num_embeddings_; }
  std::size_t embedding_dim() const { return embedding_dim_; }
  Variable<T>& weight() { return weight_; }
  const Variable<T>& weight() const { return weight_; }

 private:
  Indices ids_of(const Tensor<T>& x) const {
    Indices ids = Indices::from_shape(x.shape());
    const T* values = x.data();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T v = values[i];
      // checked as a floating-point value first: converting one outside int64's range is undefined
      if (!(v >= T(0) && v < static_cast<T>(num_embeddings_) && std::floor(v) == v)) {
        fail("Embedding", "input value {} at flat index {} is not an id: ids are whole numbers from 0 to {} "
             "(num_embeddings = {})", v, i, static_cast<std::int64_t>(num_embeddings_) - 1, num_embeddings_);
      }
      ids.data()[i] = static_cast<std::int64_t>(v);
    }
    return ids;
  }

  std::size_t num_embeddings_, embedding_dim_;
  Variable<T> weight_;
};

}  // namespace tg::nn
