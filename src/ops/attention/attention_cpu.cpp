// Causal softmax attention with an optional T5 relative bias. Each thread takes one (batch, head) pair at
// a time and a block of its query rows at a time, so that the block's scores, probabilities and their
// gradients ([block, Tk] floats) stay in that core's cache beside the head's transposed keys and values;
// the products run through small_product's register-tiled kernels, which skip what the causal mask zeroes;
// backward rebuilds the probabilities from the saved log-sum-exp instead of keeping a [B, H, T, T] tensor
// alive. f64 (the gradient checks) runs the same code with plain loops for the products.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/kernel_support.h"
#include "backend/cpu/small_product.h"
#include "backend/cpu/vector_math.h"
#include "ops/attention/attention_kernels.h"

namespace primer::cpu {
namespace {

template <class T>
using RowArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstRowArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Queries are the last q_time of the k_time positions the keys cover: query i sits at position
// (k_time - q_time) + i and sees keys 0 ..= that position. Training has q_time == k_time; decoding with a
// cache has fewer queries than keys.
struct Dims {
  std::int64_t batch, q_time, k_time, heads, head_dim;
  std::int64_t pairs() const { return batch * heads; }
  std::int64_t query_offset() const { return k_time - q_time; }
  // Rows of one head in a [B, T, H, D] tensor are this far apart.
  std::int64_t row_stride() const { return heads * head_dim; }
};

Dims dims_of(const Tensor& q, const Tensor& k) {
  return {q.size(0), q.size(1), k.size(1), q.size(2), q.size(3)};
}

// One (batch, head) pair: its index b * H + h, its head, and where its rows start in [B, Tq, H, D] and
// [B, Tk, H, D] tensors.
struct HeadPair {
  std::int64_t index, head, q_offset, k_offset;
};

HeadPair head_pair(const Dims& d, std::int64_t index) {
  const std::int64_t b = index / d.heads, h = index % d.heads;
  return {index, h, (b * d.q_time * d.heads + h) * d.head_dim, (b * d.k_time * d.heads + h) * d.head_dim};
}

// The relative bias by distance, per head, laid out backwards (entry m of a head's run: distance Tk - 1 - m),
// so that the bias of query i's keys 0, 1, ... is one contiguous run: entries Tk - 1 - (offset + i) on.
// Its gradient gathers per (batch, head) pair in the same layout, row by row, and goes to the buckets at
// the end, summed in a fixed order.
template <class T>
class BiasByDistance {
 public:
  BiasByDistance(const ops::AttentionBias& bias, const Dims& d) : d_(d) {
    if (!bias.defined()) return;
    const std::int64_t buckets = bias.table.size(0);
    const T* table = bias.table.data<T>();
    const std::int32_t* bucket_of = bias.distance_buckets.data<std::int32_t>();
    values_.resize(static_cast<std::size_t>(d.heads * d.k_time));
    for (std::int64_t distance = 0; distance < d.k_time; ++distance) {
      const std::int32_t bucket = bucket_of[distance];
      PRIMER_CHECK(bucket >= 0 && bucket < buckets, "attention: distance {} has bucket {}, outside [0, {})",
                   distance, bucket, buckets);
      for (std::int64_t h = 0; h < d.heads; ++h) values_[index(h, distance)] = table[bucket * d.heads + h];
    }
  }

  bool defined() const { return !values_.empty(); }
  // Query i's bias for keys 0 ..= offset + i of head h, or null without a bias.
  const T* row(std::int64_t h, std::int64_t i) const {
    return defined() ? values_.data() + index(h, d_.query_offset() + i) : nullptr;
  }

  // Gradients, one run per pair: start them, add query i's run of key gradients, then hand them to the
  // table, each bucket summing its pairs and distances in order (in double).
  void start_gradients() { gradients_.assign(static_cast<std::size_t>(d_.pairs() * d_.k_time), T(0)); }
  void add_gradient_row(std::int64_t pair, std::int64_t i, const T* grad) {
    const std::int64_t seen = d_.query_offset() + i + 1;
    RowArray<T>(gradients_.data() + index(pair, seen - 1), seen) += ConstRowArray<T>(grad, seen);
  }
  void write_table_gradient(const ops::AttentionBias& bias, const Tensor& grad_table) const {
    std::vector<double> sums(static_cast<std::size_t>(grad_table.numel()), 0.0);
    const std::int32_t* bucket_of = bias.distance_buckets.data<std::int32_t>();
    for (std::int64_t pair = 0; pair < d_.pairs(); ++pair) {
      const std::int64_t h = pair % d_.heads;
      for (std::int64_t distance = 0; distance < d_.k_time; ++distance)
        sums[static_cast<std::size_t>(bucket_of[distance] * d_.heads + h)] +=
            gradients_[index(pair, distance)];
    }
    T* out = grad_table.data<T>();
    for (std::size_t i = 0; i < sums.size(); ++i) out[i] = static_cast<T>(sums[i]);
  }

 private:
  // Where run r's (a head's, or a pair's) entry for `distance` sits; a query's run of keys 0 .. starts at
  // its own distance to key 0.
  std::size_t index(std::int64_t run, std::int64_t distance) const {
    return static_cast<std::size_t>(run * d_.k_time + d_.k_time - 1 - distance);
  }

  Dims d_;
  std::vector<T> values_, gradients_;
};

// A block's scores are [kQueryBlock, Tk]: 64 KB at T = 256 in f32, 256 KB at T = 1024.
constexpr std::int64_t kQueryBlock = 64;

// Query rows [begin, begin + rows) and the keys [0, keys) they see between them; `diagonal` is the last
// key its first row sees, which is where the causal structure of its products starts.
struct QueryBlock {
  std::int64_t begin, rows, keys, diagonal;
};

template <class Body>
void for_each_query_block(const Dims& d, Body&& body) {
  for (std::int64_t begin = 0; begin < d.q_time; begin += kQueryBlock) {
    const std::int64_t end = std::min(d.q_time, begin + kQueryBlock);
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

// Zeroes the entries past a row's `seen` keys that the causal products read (within the block's keys).
template <class T>
void clear_past_triangle(T* row, std::int64_t seen, std::int64_t keys) {
  std::fill(row + seen, row + std::min(keys, seen + kCausalOverreach), T(0));
}

// A thread's scratch matrices, each [max(block rows, D), Tk]: a block's scores or their gradients, or a
// head's keys or values transposed to [D, Tk]. (Decoding has one query row a block.)
template <class T>
class Workspace {
 public:
  Workspace(const Dims& d, int matrices)
      : size_(std::max(std::min(kQueryBlock, d.q_time), d.head_dim) * d.k_time),
        storage_(static_cast<std::size_t>(matrices * size_)) {}
  T* matrix(int i) { return storage_.data() + i * size_; }

 private:
  std::int64_t size_;
  std::vector<T> storage_;
};

// Calls body(pair, workspace) for every (batch, head) pair, spread over the threads, each thread with its
// own workspace of `matrices` matrices.
template <class T, class Body>
void for_each_pair(const Dims& d, int matrices, Body&& body) {
#pragma omp parallel
  {
    Workspace<T> workspace(d, matrices);
#pragma omp for schedule(static)
    for (std::int64_t pair = 0; pair < d.pairs(); ++pair) body(head_pair(d, pair), workspace);
  }
}

// The block's scores against the keys its rows see: c[r, j] = rows[r] . head[j], with the head given
// transposed ([D, Tk]); Q K^T, or dO V^T for the probabilities' gradient.
template <class T>
void block_scores(const Dims& d, const QueryBlock& block, const T* rows, const T* transposed_head, T* c) {
  multiply(SmallProduct<T>{.m = block.rows,
                           .n = block.keys,
                           .k = d.head_dim,
                           .a = rows,
                           .a_row_stride = d.row_stride(),
                           .a_column_stride = 1,
                           .b = transposed_head,
                           .b_row_stride = d.k_time,
                           .c = c,
                           .c_row_stride = d.k_time,
                           .causal = Causal::columns,
                           .diagonal = block.diagonal});
}

// The block's rows of a [rows, keys] matrix (probabilities or their gradient) times the head's rows:
// P V, or dS K.
template <class T>
void block_times_head(const Dims& d, const QueryBlock& block, const T* matrix, const T* head, T* c) {
  multiply(SmallProduct<T>{.m = block.rows,
                           .n = d.head_dim,
                           .k = block.keys,
                           .a = matrix,
                           .a_row_stride = d.k_time,
                           .a_column_stride = 1,
                           .b = head,
                           .b_row_stride = d.row_stride(),
                           .c = c,
                           .c_row_stride = d.row_stride(),
                           .causal = Causal::upper_inner,
                           .diagonal = block.diagonal});
}

// The transpose of such a matrix times the block's rows, into the head's rows of the keys the block sees:
// dV += P^T dO, dK += dS^T Q. Keys from the block's first new one on get their first terms here, so they
// are written rather than added to (and need no zeroing first).
template <class T>
void add_transposed_block_times_rows(const Dims& d, const QueryBlock& block, const T* matrix, const T* rows,
                                     T* head) {
  const std::int64_t first_new = block.begin == 0 ? 0 : block.diagonal;
  for (const bool accumulate : {true, false}) {
    const std::int64_t first = accumulate ? 0 : first_new, end = accumulate ? first_new : block.keys;
    if (first == end) continue;
    multiply(SmallProduct<T>{.m = end - first,
                             .n = d.head_dim,
                             .k = block.rows,
                             .a = matrix + first,
                             .a_row_stride = 1,
                             .a_column_stride = d.k_time,
                             .b = rows,
                             .b_row_stride = d.row_stride(),
                             .c = head + first * d.row_stride(),
                             .c_row_stride = d.row_stride(),
                             .accumulate = accumulate,
                             .causal = Causal::lower_inner,
                             .diagonal = block.diagonal - first});
  }
}

template <class T>
void attention_forward_typed(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v,
                             const BiasByDistance<T>& bias, T scale, const Tensor& out, const Tensor& lse) {
  const std::int64_t stride = d.row_stride();
  for_each_pair<T>(d, 2, [&](const HeadPair& pair, Workspace<T>& workspace) {
    T* keys_t = workspace.matrix(0);
    T* scores = workspace.matrix(1);
    T* row_lse = lse.data<T>() + pair.index * d.q_time;
    T totals[kQueryBlock];
    transpose(k.data<T>() + pair.k_offset, d.k_time, d.head_dim, stride, keys_t, d.k_time);
    for_each_query_block(d, [&](const QueryBlock& block) {
      block_scores(d, block, q.data<T>() + pair.q_offset + block.begin * stride, keys_t, scores);
      for (std::int64_t r = 0; r < block.rows; ++r) {
        const std::int64_t i = block.begin + r, seen = block.diagonal + r + 1;
        row_lse[i] =
            softmax_numerators(scores + r * d.k_time, seen, scale, bias.row(pair.head, i), totals[r]);
        clear_past_triangle(scores + r * d.k_time, seen, block.keys);
      }
      T* out_rows = out.data<T>() + pair.q_offset + block.begin * stride;
      block_times_head(d, block, scores, v.data<T>() + pair.k_offset, out_rows);
      for (std::int64_t r = 0; r < block.rows; ++r)
        RowArray<T>(out_rows + r * stride, d.head_dim) /= totals[r];
    });
  });
}

template <class T>
void attention_backward_typed(const Dims& d, const Tensor& grad_out, const Tensor& q, const Tensor& k,
                              const Tensor& v, BiasByDistance<T>& bias, T scale, const Tensor& out,
                              const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k,
                              const Tensor& grad_v) {
  const std::int64_t stride = d.row_stride();
  if (bias.defined()) bias.start_gradients();
  for_each_pair<T>(d, 4, [&](const HeadPair& pair, Workspace<T>& workspace) {
    T* keys_t = workspace.matrix(0);
    T* values_t = workspace.matrix(1);
    T* probs = workspace.matrix(2);
    T* grad_scores = workspace.matrix(3);
    const T* row_lse = lse.data<T>() + pair.index * d.q_time;
    transpose(k.data<T>() + pair.k_offset, d.k_time, d.head_dim, stride, keys_t, d.k_time);
    transpose(v.data<T>() + pair.k_offset, d.k_time, d.head_dim, stride, values_t, d.k_time);
    for_each_query_block(d, [&](const QueryBlock& block) {
      const std::int64_t rows_at = pair.q_offset + block.begin * stride;
      const T* q_rows = q.data<T>() + rows_at;
      const T* do_rows = grad_out.data<T>() + rows_at;
      const T* o_rows = out.data<T>() + rows_at;
      block_scores(d, block, q_rows, keys_t, probs);
      block_scores(d, block, do_rows, values_t, grad_scores);
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
      add_transposed_block_times_rows(d, block, probs, do_rows, grad_v.data<T>() + pair.k_offset);
      add_transposed_block_times_rows(d, block, grad_scores, q_rows, grad_k.data<T>() + pair.k_offset);
      block_times_head(d, block, grad_scores, k.data<T>() + pair.k_offset, grad_q.data<T>() + rows_at);
    });
  });
}

// bf16 runs the f32 kernel on converted copies: correct, not fast; the GPU has the real bf16 path.
Tensor as_f32(const Tensor& t) {
  return t.defined() ? t.to(DType::f32) : Tensor();
}
Tensor f32_like(const Tensor& t) {
  return t.defined() ? Tensor::empty(t.shape(), DType::f32) : Tensor();
}
ops::AttentionBias as_f32(const ops::AttentionBias& bias) {
  return {as_f32(bias.table), bias.distance_buckets};
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const ops::AttentionBias& bias,
                       double scale, DType precision, const Tensor& out, const Tensor& lse) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor out32 = f32_like(out);
    attention_forward(as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision, out32, lse);
    out.copy_from(out32);
    return;
  }
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&q, &k, &v, &bias.table, &out, &lse}, q.dtype(), "attention");
    attention_forward_typed<T>(d, q, k, v, BiasByDistance<T>(bias, d), static_cast<T>(scale), out, lse);
  });
}

void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                        const ops::AttentionBias& bias, double scale, DType precision, const Tensor& out,
                        const Tensor& lse, const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                        const Tensor& grad_table) {
  const Dims d = dims_of(q, k);
  if (q.dtype() == DType::bf16) {
    const Tensor dq = f32_like(grad_q), dk = f32_like(grad_k), dv = f32_like(grad_v),
                 dtable = f32_like(grad_table);
    attention_backward(as_f32(grad_out), as_f32(q), as_f32(k), as_f32(v), as_f32(bias), scale, precision,
                       as_f32(out), lse, dq, dk, dv, dtable);
    grad_q.copy_from(dq);
    grad_k.copy_from(dk);
    grad_v.copy_from(dv);
    if (grad_table.defined()) grad_table.copy_from(dtable);
    return;
  }
  dispatch_floating(q.dtype(), "attention backward", [&](auto tag) {
    using T = compute_type<decltype(tag)>;
    check_operands({&grad_out, &q, &k, &v, &bias.table, &out, &lse, &grad_q, &grad_k, &grad_v, &grad_table},
                   q.dtype(), "attention backward");
    BiasByDistance<T> bias_rows(bias, d);
    attention_backward_typed<T>(d, grad_out, q, k, v, bias_rows, static_cast<T>(scale), out, lse, grad_q,
                                grad_k, grad_v);
    if (bias.defined()) bias_rows.write_table_gradient(bias, grad_table);
  });
}

}  // namespace primer::cpu
