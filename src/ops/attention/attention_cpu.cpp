// Causal softmax attention with an optional T5 relative bias. Each thread takes one (batch, head) pair at
// a time and a block of its query rows at a time, so that the block's scores, probabilities and their
// gradients ([block, Tk] floats) stay in that core's cache beside the head's transposed keys and values;
// the products run through small_product's register-tiled kernels, which skip what the causal mask zeroes;
// backward rebuilds the probabilities from the saved log-sum-exp instead of keeping a [B, H, T, T] tensor
// alive. f64 (the gradient checks) runs the same code with plain loops for the products. Under bf16
// products (matmul_precision() bf16) on a CPU with AVX512-BF16 the products take bf16 roundings of their
// operands, as the GPU's tensor-core kernels do (1.4-1.7x the f32 attention on an AMD Zen 5,
// primer-bench-ops); softmax, its sums, the gradients of the scores and every accumulator stay f32.
#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>
#include <vector>

#include "backend/cpu/aligned_scratch.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/kernel_support.h"
#include "backend/cpu/small_product.h"
#include "backend/cpu/vector_math.h"
#include "ops/attention/attention_cpu_layout.h"
#include "ops/attention/attention_kernels.h"
#include "ops/causal_dconv/causal_dconv_rows.h"

namespace primer::cpu {
namespace {

using namespace attention_layout;

// Query rows [begin, begin + rows) and the keys [0, keys) they see between them; `diagonal` is the last
// key its first row sees, which is where the causal structure of its products starts.
struct QueryBlock {
  std::int64_t begin, rows, keys, diagonal;
};

template <class Body>
void for_each_query_block(const Dims& d, Body&& body) {
  for (std::int64_t begin = 0; begin < d.q_time; begin += d.query_block()) {
    const std::int64_t end = std::min(d.q_time, begin + d.query_block());
    body(
        QueryBlock{begin, end - begin, std::min(d.k_time, d.query_offset() + end), d.query_offset() + begin});
  }
}

// The causal part of a row of raw scores (Q K^T, in place) with the bias added: scale * score + bias; or,
// without a bias, left as it is. Returns the factor still to apply to the row (1, or the scale).
template <class T>
T add_bias(T* row, std::int64_t seen, T scale, const T* bias) {
  if (bias == nullptr) return scale;
  RowArray<T>(row, seen) = scale * RowArray<T>(row, seen) + ConstRowArray<T>(bias, seen);
  return T(1);
}

// Forward: a row of raw scores becomes exp(logit - max) over its `seen` keys, unnormalised (the output
// row is divided by `total` after the product, D divisions instead of `seen`). Returns the log-sum-exp.
template <class T>
T softmax_numerators(T* row, std::int64_t seen, T scale, const T* bias, T& total) {
  const T factor = add_bias(row, seen, scale, bias);
  const RowArray<T> logits(row, seen);
  const T max = factor * (factor >= T(0) ? logits.maxCoeff() : logits.minCoeff());
  total = exp_shifted(row, row, seen, max, factor);
  return max + std::log(total);
}

// Backward: a row of raw scores becomes the probabilities exp(logit - lse) over its `seen` keys.
template <class T>
void probabilities(T* row, std::int64_t seen, T scale, const T* bias, T lse) {
  exp_shifted(row, row, seen, lse, add_bias(row, seen, scale, bias));
}

// Zeroes the entries past a row's `seen` keys that the causal products read (within the block's keys),
// whole pairs for the bf16 ones.
template <class T>
void clear_past_triangle(T* row, std::int64_t seen, std::int64_t keys) {
  std::fill(row + seen, row + std::min(keys, seen + kCausalOverreach + 1), T(0));
}

// A thread's scratch matrices, each [block rows, Tk]: a block's scores, probabilities or their gradients.
// (Decoding has one query row a block.)
template <class T>
class Workspace {
 public:
  Workspace(const Dims& d, int matrices)
      : size_(d.query_block() * d.k_time), storage_(static_cast<std::size_t>(matrices * size_)) {}
  T* matrix(int i) { return storage_.data() + i * size_; }

 private:
  std::int64_t size_;
  AlignedScratch<T> storage_;
};

enum class Pass { forward, backward };

// The keys a block's transposed products (dV += P^T dO, dK += dS^T Q) reach, as body(first, end,
// accumulate) over two ranges: keys before the block's first new one, added to; from it on, keys that get
// their first terms here, written (so they need no zeroing first).
template <class Body>
void for_each_key_range(const QueryBlock& block, Body&& body) {
  const std::int64_t first_new = block.begin == 0 ? 0 : block.diagonal;
  if (first_new > 0) body(0, first_new, true);
  if (first_new < block.keys) body(first_new, block.keys, false);
}

// The products of a pair in its operands' type: the head's keys (and, backward, values) transposed once to
// [D, Tk] so that the scores read them contiguously, everything else straight from the tensors.
template <class T>
class DirectProducts {
 public:
  DirectProducts(const Dims& d, Pass pass)
      : d_(d),
        keys_t_(static_cast<std::size_t>(d.head_dim * d.k_time)),
        values_t_(pass == Pass::backward ? keys_t_.size() : 0) {}

  // keys, values: the pair's first rows in [B, Tk, H, D].
  void start_pair(const T* keys, const T* values) {
    keys_ = keys;
    values_ = values;
    transpose(keys, d_.k_time, d_.head_dim, d_.input_stride(), keys_t_.data(), d_.k_time);
    if (!values_t_.empty())
      transpose(values, d_.k_time, d_.head_dim, d_.input_stride(), values_t_.data(), d_.k_time);
  }
  // queries, output_gradients: the block's first rows in [B, Tq, H, D] (no gradients forward).
  void start_block(const QueryBlock&, const T* queries, const T* output_gradients) {
    queries_ = queries;
    output_gradients_ = output_gradients;
  }

  // c = Q K^T, or dO V^T: the block's scores against the keys its rows see.
  void query_scores(const QueryBlock& block, T* c) const {
    scores(block, queries_, d_.input_stride(), keys_t_.data(), c);
  }
  void output_gradient_scores(const QueryBlock& block, T* c) const {
    scores(block, output_gradients_, d_.row_stride(), values_t_.data(), c);
  }
  // out = P V, or dS K: a [rows, keys] matrix of the block times the head's rows.
  void times_values(const QueryBlock& block, const T* matrix, T* out) const {
    times_head(block, matrix, values_, out);
  }
  void times_keys(const QueryBlock& block, const T* matrix, T* out) const {
    times_head(block, matrix, keys_, out);
  }
  // dV += P^T dO, dK += dS^T Q, into the head's rows of the keys the block sees.
  void add_transposed_times_output_gradients(const QueryBlock& block, const T* matrix, T* grad_values) const {
    add_transposed_times_rows(block, matrix, output_gradients_, d_.row_stride(), grad_values);
  }
  void add_transposed_times_queries(const QueryBlock& block, const T* matrix, T* grad_keys) const {
    add_transposed_times_rows(block, matrix, queries_, d_.input_stride(), grad_keys);
  }

 private:
  void scores(const QueryBlock& block, const T* rows, std::int64_t rows_stride, const T* transposed_head,
              T* c) const {
    multiply(SmallProduct<T>{.m = block.rows,
                             .n = block.keys,
                             .k = d_.head_dim,
                             .a = rows,
                             .a_row_stride = rows_stride,
                             .a_column_stride = 1,
                             .b = transposed_head,
                             .b_row_stride = d_.k_time,
                             .c = c,
                             .c_row_stride = d_.k_time,
                             .causal = Causal::columns,
                             .diagonal = block.diagonal});
  }

  void times_head(const QueryBlock& block, const T* matrix, const T* head, T* c) const {
    multiply(SmallProduct<T>{.m = block.rows,
                             .n = d_.head_dim,
                             .k = block.keys,
                             .a = matrix,
                             .a_row_stride = d_.k_time,
                             .a_column_stride = 1,
                             .b = head,
                             .b_row_stride = d_.input_stride(),
                             .c = c,
                             .c_row_stride = d_.row_stride(),
                             .causal = Causal::upper_inner,
                             .diagonal = block.diagonal});
  }

  void add_transposed_times_rows(const QueryBlock& block, const T* matrix, const T* rows,
                                 std::int64_t rows_stride, T* head) const {
    for_each_key_range(block, [&](std::int64_t first, std::int64_t end, bool accumulate) {
      multiply(SmallProduct<T>{.m = end - first,
                               .n = d_.head_dim,
                               .k = block.rows,
                               .a = matrix + first,
                               .a_row_stride = 1,
                               .a_column_stride = d_.k_time,
                               .b = rows,
                               .b_row_stride = rows_stride,
                               .c = head + first * d_.row_stride(),
                               .c_row_stride = d_.row_stride(),
                               .accumulate = accumulate,
                               .causal = Causal::lower_inner,
                               .diagonal = block.diagonal - first});
    });
  }

  Dims d_;
  AlignedScratch<T> keys_t_, values_t_;
  const T *keys_ = nullptr, *values_ = nullptr, *queries_ = nullptr, *output_gradients_ = nullptr;
};

// The same products of f32 operands rounded to bf16 and packed in pairs along their inner dimension
// (small_product.h): a head's operands once a pair, a block's once a block, and a [rows, keys] matrix each
// time it is multiplied (along its rows when it is the left operand, across them when transposed).
class PairedBf16Products {
 public:
  PairedBf16Products(const Dims& d, Pass pass)
      : d_(d),
        even_dim_(d.head_dim + d.head_dim % 2),
        even_keys_(d.k_time + d.k_time % 2),
        block_rows_(d.query_block()),
        head_rows_(d.k_time * even_dim_),
        keys_by_dim_(head_rows_.size()),
        values_by_dim_(pass == Pass::backward ? head_rows_.size() : 0),
        keys_across_(pass == Pass::backward ? static_cast<std::size_t>(even_keys_ * d.head_dim) : 0),
        values_across_(pass == Pass::forward ? static_cast<std::size_t>(even_keys_ * d.head_dim) : 0),
        queries_along_(static_cast<std::size_t>(block_rows_ * even_dim_)),
        output_gradients_along_(pass == Pass::backward ? queries_along_.size() : 0),
        queries_across_(pass == Pass::backward ? static_cast<std::size_t>((block_rows_ + 1) * d.head_dim)
                                               : 0),
        output_gradients_across_(queries_across_.size()),
        matrix_(static_cast<std::size_t>((block_rows_ + 1) * even_keys_)) {}

  void start_pair(const float* keys, const float* values) {
    by_dim(keys, keys_by_dim_.data());
    if (!values_by_dim_.empty()) by_dim(values, values_by_dim_.data());
    if (!keys_across_.empty()) across_keys(keys, keys_across_.data());
    if (!values_across_.empty()) across_keys(values, values_across_.data());
  }
  void start_block(const QueryBlock& block, const float* queries, const float* output_gradients) {
    pack_pairs_along_rows(queries, block.rows, d_.head_dim, d_.input_stride(), queries_along_.data(),
                          even_dim_);
    if (output_gradients == nullptr) return;
    pack_pairs_along_rows(output_gradients, block.rows, d_.head_dim, d_.row_stride(),
                          output_gradients_along_.data(), even_dim_);
    pack_pairs_across_rows(queries, block.rows, d_.head_dim, d_.input_stride(), queries_across_.data(),
                           2 * d_.head_dim);
    pack_pairs_across_rows(output_gradients, block.rows, d_.head_dim, d_.row_stride(),
                           output_gradients_across_.data(), 2 * d_.head_dim);
  }

  void query_scores(const QueryBlock& block, float* c) const {
    scores(block, queries_along_, keys_by_dim_, c);
  }
  void output_gradient_scores(const QueryBlock& block, float* c) const {
    scores(block, output_gradients_along_, values_by_dim_, c);
  }
  void times_values(const QueryBlock& block, const float* matrix, float* out) {
    times_head(block, matrix, values_across_, out);
  }
  void times_keys(const QueryBlock& block, const float* matrix, float* out) {
    times_head(block, matrix, keys_across_, out);
  }
  void add_transposed_times_output_gradients(const QueryBlock& block, const float* matrix,
                                             float* grad_values) {
    add_transposed_times_rows(block, matrix, output_gradients_across_, grad_values);
  }
  void add_transposed_times_queries(const QueryBlock& block, const float* matrix, float* grad_keys) {
    add_transposed_times_rows(block, matrix, queries_across_, grad_keys);
  }

 private:
  // A head's rows [Tk, D] as [D / 2, Tk] pairs along D: the right operand of the scores.
  void by_dim(const float* head, bfloat16* out) {
    pack_pairs_along_rows(head, d_.k_time, d_.head_dim, d_.input_stride(), head_rows_.data(), even_dim_);
    transpose_pairs(head_rows_.data(), d_.k_time, even_dim_ / 2, even_dim_, out, 2 * d_.k_time);
  }
  // A head's rows [Tk, D] as [Tk / 2, D] pairs along Tk: the right operand of P V and dS K.
  void across_keys(const float* head, bfloat16* out) const {
    pack_pairs_across_rows(head, d_.k_time, d_.head_dim, d_.input_stride(), out, 2 * d_.head_dim);
  }

  void scores(const QueryBlock& block, const AlignedScratch<bfloat16>& rows,
              const AlignedScratch<bfloat16>& head, float* c) const {
    multiply(PairedBf16Product{.m = block.rows,
                               .n = block.keys,
                               .k = d_.head_dim,
                               .a = rows.data(),
                               .a_row_stride = even_dim_,
                               .a_column_stride = 2,
                               .b = head.data(),
                               .b_row_stride = 2 * d_.k_time,
                               .c = c,
                               .c_row_stride = d_.k_time,
                               .causal = Causal::columns,
                               .diagonal = block.diagonal});
  }

  void times_head(const QueryBlock& block, const float* matrix, const AlignedScratch<bfloat16>& head,
                  float* c) {
    pack_pairs_along_rows(matrix, block.rows, block.keys, d_.k_time, matrix_.data(), even_keys_);
    multiply(PairedBf16Product{.m = block.rows,
                               .n = d_.head_dim,
                               .k = block.keys,
                               .a = matrix_.data(),
                               .a_row_stride = even_keys_,
                               .a_column_stride = 2,
                               .b = head.data(),
                               .b_row_stride = 2 * d_.head_dim,
                               .c = c,
                               .c_row_stride = d_.row_stride(),
                               .causal = Causal::upper_inner,
                               .diagonal = block.diagonal});
  }

  void add_transposed_times_rows(const QueryBlock& block, const float* matrix,
                                 const AlignedScratch<bfloat16>& rows, float* head) {
    pack_pairs_across_rows(matrix, block.rows, block.keys, d_.k_time, matrix_.data(), 2 * d_.k_time);
    for_each_key_range(block, [&](std::int64_t first, std::int64_t end, bool accumulate) {
      multiply(PairedBf16Product{.m = end - first,
                                 .n = d_.head_dim,
                                 .k = block.rows,
                                 .a = matrix_.data() + 2 * first,
                                 .a_row_stride = 2,
                                 .a_column_stride = 2 * d_.k_time,
                                 .b = rows.data(),
                                 .b_row_stride = 2 * d_.head_dim,
                                 .c = head + first * d_.row_stride(),
                                 .c_row_stride = d_.row_stride(),
                                 .accumulate = accumulate,
                                 .causal = Causal::lower_inner,
                                 .diagonal = block.diagonal - first});
    });
  }

  Dims d_;
  std::int64_t even_dim_, even_keys_, block_rows_;
  AlignedScratch<bfloat16> head_rows_, keys_by_dim_, values_by_dim_, keys_across_, values_across_,
      queries_along_, output_gradients_along_, queries_across_, output_gradients_across_, matrix_;
};

// Multi-DConv-Head Attention's convolutions inside the kernels (Dims::convolved): a pair's queries, keys
// and values are convolved into the thread's copies of its head, [T, D] each, which the products then read
// from cache; no convolved [B, T, H, D] tensor is written, read back or kept for backward. Without them,
// a pair's rows are read from the tensors.
template <class T>
class HeadInputs {
 public:
  HeadInputs(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
             const ops::AttentionConvolutions& convolutions)
      : d_(d),
        tensors_{q.data<T>(), k.data<T>(), v.data<T>()},
        copies_(d.convolved ? static_cast<std::size_t>(3 * d.k_time * d.head_dim) : 0) {
    if (d.convolved) taps_ = {convolutions.q.data<T>(), convolutions.k.data<T>(), convolutions.v.data<T>()};
  }

  void start_pair(const HeadPair& pair) {
    const std::array<std::int64_t, 3> offsets{pair.q_offset, pair.k_offset, pair.k_offset};
    for (std::size_t i = 0; i < 3; ++i) {
      rows_[i] = tensors_[i] + offsets[i];
      if (!d_.convolved) continue;
      T* copy = copies_.data() + static_cast<std::int64_t>(i) * d_.k_time * d_.head_dim;
      convolve_head(rows_[i], d_.k_time, d_.head_dim, d_.row_stride(), taps_[i] + pair.head * d_.head_dim,
                    copy);
      rows_[i] = copy;
    }
  }
  // The pair's first rows, Dims::input_stride() apart.
  const T* queries() const { return rows_[0]; }
  const T* keys() const { return rows_[1]; }
  const T* values() const { return rows_[2]; }

 private:
  Dims d_;
  std::array<const T*, 3> tensors_, rows_{}, taps_{};
  AlignedScratch<T> copies_;
};

// Backward's side of them: once a pair's blocks are done, its rows of grad_q, grad_k and grad_v hold the
// gradients of the convolved rows, which become those of the unconvolved rows in place while they are in
// cache; the taps' gradient terms gather per pair and go to the taps at the end, summed over the batch in
// order, as BiasByDistance's do: the same sums on any number of threads.
template <class T>
class ConvolutionGradients {
 public:
  explicit ConvolutionGradients(const Dims& d)
      : d_(d),
        sums_(d.convolved ? static_cast<std::size_t>(d.pairs() * 3 * kConvolutionTaps * d.head_dim) : 0) {}

  // grads: the pair's rows of grad_q, grad_k, grad_v; inputs: of q, k, v; taps: the three [3, H * D].
  void take(const HeadPair& pair, const std::array<T*, 3>& grads, const std::array<const T*, 3>& inputs,
            const std::array<const T*, 3>& taps) {
    std::vector<T> chunk_sums(static_cast<std::size_t>(kConvolutionTaps * d_.head_dim));
    for (std::size_t i = 0; i < 3; ++i) {
      convolve_head_backward(grads[i], inputs[i], d_.k_time, d_.head_dim, d_.row_stride(),
                             taps[i] + pair.head * d_.head_dim, chunk_sums.data(), sums(pair.index, i));
    }
  }

  void write(const ops::AttentionConvolutions& grad_taps) {
    const std::array<T*, 3> outputs{grad_taps.q.data<T>(), grad_taps.k.data<T>(), grad_taps.v.data<T>()};
    const std::int64_t dim = d_.head_dim;
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::int64_t h = 0; h < d_.heads; ++h) {
        for (std::int64_t tap = 0; tap < kConvolutionTaps; ++tap) {
          for (std::int64_t e = 0; e < dim; ++e) {
            double total = 0.0;
            for (std::int64_t b = 0; b < d_.batch; ++b) total += sums(b * d_.heads + h, i)[tap * dim + e];
            outputs[i][tap * d_.row_stride() + h * dim + e] = static_cast<T>(total);
          }
        }
      }
    }
  }

 private:
  // Pair `pair`'s sums [3, D] for the convolution of q (0), k (1) or v (2).
  double* sums(std::int64_t pair, std::size_t which) {
    return sums_.data() + (pair * 3 + static_cast<std::int64_t>(which)) * kConvolutionTaps * d_.head_dim;
  }

  Dims d_;
  std::vector<double> sums_;
};

// Calls body(pair, products, workspace, inputs) for every (batch, head) pair, spread over the threads, each
// thread with its own products' scratch, a workspace of `matrices` matrices and its HeadInputs, started on
// the pair.
template <class T, class Products, class Body>
void for_each_pair(const Dims& d, Pass pass, int matrices, const Tensor& q, const Tensor& k, const Tensor& v,
                   const ops::AttentionConvolutions& convolutions, Body&& body) {
#pragma omp parallel
  {
    Products products(d, pass);
    Workspace<T> workspace(d, matrices);
    HeadInputs<T> inputs(d, q, k, v, convolutions);
#pragma omp for schedule(static)
    for (std::int64_t index = 0; index < d.pairs(); ++index) {
      const HeadPair pair = head_pair(d, index);
      inputs.start_pair(pair);
      body(pair, products, workspace, inputs);
    }
  }
}

template <class T, class Products>
void attention_forward_typed(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                             const ops::AttentionConvolutions& convolutions, const BiasByDistance<T>& bias,
                             T scale, const Tensor& out, const Tensor& lse) {
  const std::int64_t stride = d.row_stride();
  for_each_pair<T, Products>(
      d, Pass::forward, 1, q, k, v, convolutions,
      [&](const HeadPair& pair, Products& products, Workspace<T>& workspace, const HeadInputs<T>& inputs) {
        T* scores = workspace.matrix(0);
        T* row_lse = lse.data<T>() + pair.index * d.q_time;
        T totals[kMaxQueryBlock];
        products.start_pair(inputs.keys(), inputs.values());
        for_each_query_block(d, [&](const QueryBlock& block) {
          products.start_block(block, inputs.queries() + block.begin * d.input_stride(), nullptr);
          products.query_scores(block, scores);
          for (std::int64_t r = 0; r < block.rows; ++r) {
            const std::int64_t i = block.begin + r, seen = block.diagonal + r + 1;
            row_lse[i] =
                softmax_numerators(scores + r * d.k_time, seen, scale, bias.row(pair.head, i), totals[r]);
            clear_past_triangle(scores + r * d.k_time, seen, block.keys);
          }
          T* out_rows = out.data<T>() + pair.q_offset + block.begin * stride;
          products.times_values(block, scores, out_rows);
          for (std::int64_t r = 0; r < block.rows; ++r)
            RowArray<T>(out_rows + r * stride, d.head_dim) /= totals[r];
        });
      });
}

template <class T, class Products>
void attention_backward_typed(const Dims& d, const Tensor& grad_out, const Tensor& q, const Tensor& k,
                              const Tensor& v, const ops::AttentionConvolutions& convolutions,
                              BiasByDistance<T>& bias, ConvolutionGradients<T>& convolution_gradients,
                              T scale, const Tensor& out, const Tensor& lse, const Tensor& grad_q,
                              const Tensor& grad_k, const Tensor& grad_v) {
  const std::int64_t stride = d.row_stride();
  if (bias.defined()) bias.start_gradients();
  for_each_pair<T, Products>(
      d, Pass::backward, 2, q, k, v, convolutions,
      [&](const HeadPair& pair, Products& products, Workspace<T>& workspace, const HeadInputs<T>& inputs) {
        T* probs = workspace.matrix(0);
        T* grad_scores = workspace.matrix(1);
        const T* row_lse = lse.data<T>() + pair.index * d.q_time;
        products.start_pair(inputs.keys(), inputs.values());
        for_each_query_block(d, [&](const QueryBlock& block) {
          const std::int64_t rows_at = pair.q_offset + block.begin * stride;
          const T* do_rows = grad_out.data<T>() + rows_at;
          const T* o_rows = out.data<T>() + rows_at;
          products.start_block(block, inputs.queries() + block.begin * d.input_stride(), do_rows);
          products.query_scores(block, probs);
          products.output_gradient_scores(block, grad_scores);
          // dS = P * (dO V^T - dO . O): the gradient of the biased scores; scaled by `scale` for Q K^T's
          // operands once the bias has taken its share.
          for (std::int64_t r = 0; r < block.rows; ++r) {
            const std::int64_t i = block.begin + r, seen = block.diagonal + r + 1;
            T* p_row = probs + r * d.k_time;
            T* grad_row = grad_scores + r * d.k_time;
            probabilities(p_row, seen, scale, bias.row(pair.head, i), row_lse[i]);
            const T row_dot = (ConstRowArray<T>(do_rows + r * stride, d.head_dim) *
                               ConstRowArray<T>(o_rows + r * stride, d.head_dim))
                                  .sum();
            RowArray<T> grad(grad_row, seen);
            if (bias.defined()) {
              grad = ConstRowArray<T>(p_row, seen) * (grad - row_dot);
              bias.add_gradient_row(pair.index, i, grad_row);
              grad *= scale;
            } else {
              grad = scale * ConstRowArray<T>(p_row, seen) * (grad - row_dot);
            }
            clear_past_triangle(p_row, seen, block.keys);
            clear_past_triangle(grad_row, seen, block.keys);
          }
          products.add_transposed_times_output_gradients(block, probs, grad_v.data<T>() + pair.k_offset);
          products.add_transposed_times_queries(block, grad_scores, grad_k.data<T>() + pair.k_offset);
          products.times_keys(block, grad_scores, grad_q.data<T>() + rows_at);
        });
        if (!d.convolved) return;
        convolution_gradients.take(
            pair,
            {grad_q.data<T>() + pair.q_offset, grad_k.data<T>() + pair.k_offset,
             grad_v.data<T>() + pair.k_offset},
            {q.data<T>() + pair.q_offset, k.data<T>() + pair.k_offset, v.data<T>() + pair.k_offset},
            {convolutions.q.data<T>(), convolutions.k.data<T>(), convolutions.v.data<T>()});
      });
}

// Calls body(std::type_identity<Products>) with the products T's attention runs: bf16 pairs for f32 under
// bf16 products where the CPU has bf16 dot products, else T's own.
template <class T, class Body>
void with_products(DType precision, Body&& body) {
  if constexpr (std::is_same_v<T, float>) {
    if (precision == DType::bf16 && avx512_bf16_available())
      return body(std::type_identity<PairedBf16Products>{});
  }
  body(std::type_identity<DirectProducts<T>>{});
}

// bf16 tensors run the f32 kernels on converted copies: correct, not fast (training keeps attention's
// operands f32, and the GPU has a bf16 path of its own).
Tensor as_f32(const Tensor& t) {
  return t.defined() ? t.to(DType::f32) : Tensor();
}
Tensor f32_like(const Tensor& t) {
  return t.defined() ? Tensor::empty(t.shape(), DType::f32) : Tensor();
}
ops::AttentionBias as_f32(const ops::AttentionBias& bias) {
  return {as_f32(bias.table), bias.distance_buckets};
}
ops::AttentionConvolutions as_f32(const ops::AttentionConvolutions& taps) {
  return {as_f32(taps.q), as_f32(taps.k), as_f32(taps.v)};
}
ops::AttentionConvolutions f32_like(const ops::AttentionConvolutions& taps) {
  return {f32_like(taps.q), f32_like(taps.k), f32_like(taps.v)};
}
void copy_defined(const Tensor& to, const Tensor& from) {
  if (to.defined()) to.copy_from(from);
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                       const ops::AttentionConvolutions& convolutions, const ops::AttentionBias& bias,
                       double scale, DType precision, const Tensor& out, const Tensor& lse) {
  const Dims d = dims_of(q, k, convolutions);
  if (q.dtype() == DType::bf16) {
    const Tensor out32 = f32_like(out);
    attention_forward(as_f32(q), as_f32(k), as_f32(v), as_f32(convolutions), as_f32(bias), scale, precision,
                      out32, lse);
    out.copy_from(out32);
    return;
  }
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&q, &k, &v, &convolutions.q, &convolutions.k, &convolutions.v, &bias.table, &out, &lse},
                   q.dtype(), "attention");
    with_products<T>(precision, [&](auto products) {
      attention_forward_typed<T, typename decltype(products)::type>(
          d, q, k, v, convolutions, BiasByDistance<T>(bias, d), static_cast<T>(scale), out, lse);
    });
  });
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const ops::AttentionConvolutions& convolutions, const ops::AttentionBias& bias,
                        double scale, DType precision, const Tensor& out, const Tensor& lse,
                        const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const ops::AttentionConvolutions& grad_convolutions, const Tensor& grad_table) {
  const Dims d = dims_of(q, k, convolutions);
  if (q.dtype() == DType::bf16) {
    const Tensor dq = f32_like(grad_q), dk = f32_like(grad_k), dv = f32_like(grad_v),
                 dtable = f32_like(grad_table);
    const ops::AttentionConvolutions dtaps = f32_like(grad_convolutions);
    attention_backward(as_f32(grad_out), as_f32(q), as_f32(k), as_f32(v), as_f32(convolutions), as_f32(bias),
                       scale, precision, as_f32(out), lse, dq, dk, dv, dtaps, dtable);
    grad_q.copy_from(dq);
    grad_k.copy_from(dk);
    grad_v.copy_from(dv);
    copy_defined(grad_convolutions.q, dtaps.q);
    copy_defined(grad_convolutions.k, dtaps.k);
    copy_defined(grad_convolutions.v, dtaps.v);
    copy_defined(grad_table, dtable);
    return;
  }
  dispatch_floating(q.dtype(), "attention backward", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&grad_out, &q, &k, &v, &convolutions.q, &convolutions.k, &convolutions.v, &bias.table,
                    &out, &lse, &grad_q, &grad_k, &grad_v, &grad_convolutions.q, &grad_convolutions.k,
                    &grad_convolutions.v, &grad_table},
                   q.dtype(), "attention backward");
    BiasByDistance<T> bias_rows(bias, d);
    ConvolutionGradients<T> convolution_gradients(d);
    with_products<T>(precision, [&](auto products) {
      attention_backward_typed<T, typename decltype(products)::type>(
          d, grad_out, q, k, v, convolutions, bias_rows, convolution_gradients, static_cast<T>(scale), out,
          lse, grad_q, grad_k, grad_v);
    });
    if (bias.defined()) bias_rows.write_table_gradient(bias, grad_table);
    if (d.convolved) convolution_gradients.write(grad_convolutions);
  });
}

}  // namespace primer::cpu
