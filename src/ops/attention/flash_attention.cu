// Causal attention on tensor cores, FlashAttention-2's tiling: a block takes 64 query rows (forward, and
// the query gradient) or 64 keys (the key and value gradients) of one (batch, head) and walks the tiles of
// the other side through shared memory. Products run on bf16 tiles with f32 accumulation (WMMA 16x16x16,
// each of the 4 warps owning 16 rows); scores, the online softmax, lse and every accumulator stay f32.
// The f32 inputs are rounded to bf16 as the tiles are loaded, so no converted copy exists in memory.
// Scores go through shared memory between the products, which keeps the code free of any assumption on
// the fragments' register layout. The query gradient has a kernel of its own that recomputes the scores
// (no atomics: deterministic); the bias gradient is summed over the batch with atomics as before.
#include <mma.h>

#include <algorithm>
#include <type_traits>

#include "device_support.cuh"
#include "ops/attention/attention.cuh"

namespace primer::kernels {
namespace {

using bf16 = __nv_bfloat16;

constexpr int kTile = 64;           // query rows and keys per tile
constexpr int kWarps = kTile / 16;  // each warp owns 16 rows of a tile
constexpr int kBlockThreads = 32 * kWarps;
constexpr int kRowsPerWarp = 16;

// out[16 x width] (row-major, ld_out; f32) = (accumulate ? out : 0) + a[16 x depth] b[depth x width], for
// the calling warp. a is row-major with leading dimension lda, or, transposed, the column-major view of a
// row-major [depth x 16] block; b likewise row-major [depth x width] or transposed from [width x depth].
template <bool kTransposedA, bool kTransposedB>
__device__ void warp_product(const bf16* a, int lda, const bf16* b, int ldb, int depth, int width, float* out,
                             int ld_out, bool accumulate) {
  using LayoutA = std::conditional_t<kTransposedA, nvcuda::wmma::col_major, nvcuda::wmma::row_major>;
  using LayoutB = std::conditional_t<kTransposedB, nvcuda::wmma::col_major, nvcuda::wmma::row_major>;
  nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, bf16, LayoutA> fa;
  nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, bf16, LayoutB> fb;
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc;
  for (int n = 0; n < width; n += 16) {
    if (accumulate) {
      nvcuda::wmma::load_matrix_sync(acc, out + n, ld_out, nvcuda::wmma::mem_row_major);
    } else {
      nvcuda::wmma::fill_fragment(acc, 0.0f);
    }
    for (int k = 0; k < depth; k += 16) {
      nvcuda::wmma::load_matrix_sync(fa, kTransposedA ? a + k * lda : a + k, lda);
      nvcuda::wmma::load_matrix_sync(fb, kTransposedB ? b + n * ldb + k : b + k * ldb + n, ldb);
      nvcuda::wmma::mma_sync(acc, fa, fb, acc);
    }
    nvcuda::wmma::store_matrix_sync(out + n, acc, ld_out, nvcuda::wmma::mem_row_major);
  }
  __syncwarp();
}

// Rows [first, first + kTile) of head h of batch b of a [B, time, H, D] f32 tensor, as bf16 [kTile x D];
// rows at or past `time` read as zero. The whole block loads.
template <int D>
__device__ void load_tile(const float* x, std::int64_t b, std::int64_t h, std::int64_t first,
                          std::int64_t time, std::int64_t heads, bf16* tile) {
  constexpr int kVectors = D / 4;
  for (int index = threadIdx.x; index < kTile * kVectors; index += blockDim.x) {
    const int row = index / kVectors, column = (index % kVectors) * 4;
    const std::int64_t t = first + row;
    float4 value = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (t < time) value = *reinterpret_cast<const float4*>(x + ((b * time + t) * heads + h) * D + column);
    auto* pair = reinterpret_cast<__nv_bfloat162*>(tile + row * D + column);
    pair[0] = __floats2bfloat162_rn(value.x, value.y);
    pair[1] = __floats2bfloat162_rn(value.z, value.w);
  }
}

__device__ void zero(float* buffer, int count) {
  for (int i = threadIdx.x; i < count; i += blockDim.x) buffer[i] = 0.0f;
}

// Where query i and key j meet: the scaled score plus bias when key j is visible from query i (causal,
// the queries being the last q_time of the k_time positions), else nothing.
struct Scores {
  const float* bias;
  float scale;
  AttentionShape s;
  std::int64_t h;

  __device__ bool visible(std::int64_t i, std::int64_t j) const {
    return i < s.q_time && j < s.k_time && j <= i + (s.k_time - s.q_time);
  }
  __device__ float logit(float product, std::int64_t i, std::int64_t j) const {
    const float value = product * scale;
    return bias != nullptr ? value + bias[(h * s.q_time + i) * s.k_time + j] : value;
  }
};

// The rows' statistics [B, H, Tq] (lse, delta) at query i.
__device__ std::int64_t stat_index(const AttentionShape& s, std::int64_t b, std::int64_t h, std::int64_t i) {
  return (b * s.heads + h) * s.q_time + i;
}

// The last key any query of the tile starting at first_query sees.
__device__ std::int64_t last_key_seen(const AttentionShape& s, std::int64_t first_query) {
  const std::int64_t last = first_query + kTile - 1 + (s.k_time - s.q_time);
  return last < s.k_time - 1 ? last : s.k_time - 1;
}

// grid (query tiles, H, B).
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    forward_kernel(const float* q, const float* k, const float* v, const float* bias, float scale,
                   AttentionShape s, float* out, float* lse) {
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* q_tile = reinterpret_cast<bf16*>(shared);
  bf16* k_tile = q_tile + kTile * D;
  bf16* v_tile = k_tile + kTile * D;
  bf16* p_tile = v_tile + kTile * D;
  float* s_tile = reinterpret_cast<float*>(p_tile + kTile * kTile);
  float* o_tile = s_tile + kTile * kTile;

  const std::int64_t b = blockIdx.z, h = blockIdx.y,
                     first_query = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const Scores scores{bias, scale, s, h};
  const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
  zero(o_tile, kTile * D);
  // Every lane keeps the statistics of its warp's 16 rows (the warp reductions give all lanes the same).
  float row_max[kRowsPerWarp], row_sum[kRowsPerWarp];
  for (int r = 0; r < kRowsPerWarp; ++r) {
    row_max[r] = -INFINITY;
    row_sum[r] = 0.0f;
  }
  const std::int64_t last_key = last_key_seen(s, first_query);
  for (std::int64_t first_key = 0; first_key <= last_key; first_key += kTile) {
    __syncthreads();  // every warp is done with the previous K and V tiles
    load_tile<D>(k, b, h, first_key, s.k_time, s.heads, k_tile);
    load_tile<D>(v, b, h, first_key, s.k_time, s.heads, v_tile);
    __syncthreads();
    warp_product<false, true>(q_tile + r0 * D, D, k_tile, D, D, kTile, s_tile + r0 * kTile, kTile, false);
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const std::int64_t i = first_query + r0 + r;
      float score[2];
      float tile_max = -INFINITY;
      for (int half = 0; half < 2; ++half) {
        const int c = lane + 32 * half;
        const std::int64_t j = first_key + c;
        score[half] = scores.visible(i, j) ? scores.logit(s_tile[(r0 + r) * kTile + c], i, j) : -INFINITY;
        tile_max = fmaxf(tile_max, score[half]);
      }
      const float new_max = fmaxf(row_max[r], warp_reduce(tile_max, Max{}));
      // A row that has seen no key yet (or lies past q_time) keeps zeros rather than exp(-inf + inf).
      const float base = new_max == -INFINITY ? 0.0f : new_max;
      float tile_sum = 0.0f;
      for (int half = 0; half < 2; ++half) {
        const float p = expf(score[half] - base);
        p_tile[(r0 + r) * kTile + lane + 32 * half] = __float2bfloat16(p);
        tile_sum += p;
      }
      const float correction = expf(row_max[r] - base);
      for (int d = lane; d < D; d += 32) o_tile[(r0 + r) * D + d] *= correction;
      row_sum[r] = row_sum[r] * correction + warp_reduce(tile_sum, Add{});
      row_max[r] = new_max;
    }
    __syncwarp();
    warp_product<false, false>(p_tile + r0 * kTile, kTile, v_tile, D, kTile, D, o_tile + r0 * D, D, true);
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    if (i >= s.q_time) continue;
    const float inverse = 1.0f / row_sum[r];
    for (int d = lane; d < D; d += 32)
      out[((b * s.q_time + i) * s.heads + h) * D + d] = o_tile[(r0 + r) * D + d] * inverse;
    if (lane == 0) lse[stat_index(s, b, h, i)] = row_max[r] + logf(row_sum[r]);
  }
}

// dS = P (dP - delta) for the warp's 16 query rows of a (query tile, key tile) pair, from the scores in
// s_tile and dO V^T in dp_tile: written as bf16 to ds_tile and, when p_tile is given, P as bf16 too; the
// bias gradient gets dS through atomics when grad_bias is given.
__device__ void score_gradients(const Scores& scores, std::int64_t b, std::int64_t first_query,
                                std::int64_t first_key, int r0, const float* lse, const float* delta,
                                const float* s_tile, const float* dp_tile, bf16* p_tile, bf16* ds_tile,
                                float* grad_bias) {
  const int lane = threadIdx.x % 32;
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    const bool row = i < scores.s.q_time;
    const float row_lse = row ? lse[stat_index(scores.s, b, scores.h, i)] : 0.0f;
    const float row_delta = row ? delta[stat_index(scores.s, b, scores.h, i)] : 0.0f;
    for (int half = 0; half < 2; ++half) {
      const int c = lane + 32 * half;
      const std::int64_t j = first_key + c;
      const int at = (r0 + r) * kTile + c;
      float p = 0.0f, ds = 0.0f;
      if (scores.visible(i, j)) {
        p = expf(scores.logit(s_tile[at], i, j) - row_lse);
        ds = p * (dp_tile[at] - row_delta);
        if (grad_bias != nullptr)
          atomicAdd(grad_bias + (scores.h * scores.s.q_time + i) * scores.s.k_time + j, ds);
      }
      if (p_tile != nullptr) p_tile[at] = __float2bfloat16(p);
      ds_tile[at] = __float2bfloat16(ds);
    }
  }
  __syncwarp();
}

// delta = rowsum(dO * O) and dQ = scale dS K over every key tile the query tile sees. grid (query tiles, H,
// B).
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    query_gradient_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                          const float* bias, float scale, const float* out, const float* lse,
                          AttentionShape s, float* delta, float* grad_q) {
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* q_tile = reinterpret_cast<bf16*>(shared);
  bf16* do_tile = q_tile + kTile * D;
  bf16* k_tile = do_tile + kTile * D;
  bf16* v_tile = k_tile + kTile * D;
  bf16* ds_tile = v_tile + kTile * D;
  float* s_tile = reinterpret_cast<float*>(ds_tile + kTile * kTile);
  float* dp_tile = s_tile + kTile * kTile;
  float* dq_tile = dp_tile + kTile * kTile;

  const std::int64_t b = blockIdx.z, h = blockIdx.y,
                     first_query = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const Scores scores{bias, scale, s, h};
  const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
  load_tile<D>(grad_out, b, h, first_query, s.q_time, s.heads, do_tile);
  zero(dq_tile, kTile * D);
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    if (i >= s.q_time) continue;
    const std::int64_t row = ((b * s.q_time + i) * s.heads + h) * D;
    float total = 0.0f;
    for (int d = lane; d < D; d += 32) total += grad_out[row + d] * out[row + d];
    total = warp_sum(total);
    if (lane == 0) delta[stat_index(s, b, h, i)] = total;
  }
  const std::int64_t last_key = last_key_seen(s, first_query);
  for (std::int64_t first_key = 0; first_key <= last_key; first_key += kTile) {
    __syncthreads();
    load_tile<D>(k, b, h, first_key, s.k_time, s.heads, k_tile);
    load_tile<D>(v, b, h, first_key, s.k_time, s.heads, v_tile);
    __syncthreads();
    warp_product<false, true>(q_tile + r0 * D, D, k_tile, D, D, kTile, s_tile + r0 * kTile, kTile, false);
    warp_product<false, true>(do_tile + r0 * D, D, v_tile, D, D, kTile, dp_tile + r0 * kTile, kTile, false);
    score_gradients(scores, b, first_query, first_key, r0, lse, delta, s_tile, dp_tile, nullptr, ds_tile,
                    nullptr);
    warp_product<false, false>(ds_tile + r0 * kTile, kTile, k_tile, D, kTile, D, dq_tile + r0 * D, D, true);
  }
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    if (i >= s.q_time) continue;
    for (int d = lane; d < D; d += 32)
      grad_q[((b * s.q_time + i) * s.heads + h) * D + d] = scale * dq_tile[(r0 + r) * D + d];
  }
}

// dV = P^T dO and dK = scale dS^T Q over every query tile that sees the key tile. grid (key tiles, H, B);
// runs after query_gradient_kernel, which wrote delta.
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    key_value_gradient_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                              const float* bias, float scale, const float* lse, const float* delta,
                              AttentionShape s, float* grad_k, float* grad_v, float* grad_bias) {
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* k_tile = reinterpret_cast<bf16*>(shared);
  bf16* v_tile = k_tile + kTile * D;
  bf16* q_tile = v_tile + kTile * D;
  bf16* do_tile = q_tile + kTile * D;
  bf16* p_tile = do_tile + kTile * D;
  bf16* ds_tile = p_tile + kTile * kTile;
  float* s_tile = reinterpret_cast<float*>(ds_tile + kTile * kTile);
  float* dp_tile = s_tile + kTile * kTile;
  float* dk_tile = dp_tile + kTile * kTile;
  float* dv_tile = dk_tile + kTile * D;

  const std::int64_t b = blockIdx.z, h = blockIdx.y,
                     first_key = static_cast<std::int64_t>(blockIdx.x) * kTile;
  const Scores scores{bias, scale, s, h};
  const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(k, b, h, first_key, s.k_time, s.heads, k_tile);
  load_tile<D>(v, b, h, first_key, s.k_time, s.heads, v_tile);
  zero(dk_tile, kTile * D);
  zero(dv_tile, kTile * D);
  // Query i sees key j when i >= j - (k_time - q_time): start at the tile holding the first such query.
  const std::int64_t first_seeing = first_key > s.k_time - s.q_time ? first_key - (s.k_time - s.q_time) : 0;
  for (std::int64_t first_query = first_seeing / kTile * kTile; first_query < s.q_time;
       first_query += kTile) {
    __syncthreads();
    load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
    load_tile<D>(grad_out, b, h, first_query, s.q_time, s.heads, do_tile);
    __syncthreads();
    // Scores for the warp's 16 query rows against the 64 keys.
    warp_product<false, true>(q_tile + r0 * D, D, k_tile, D, D, kTile, s_tile + r0 * kTile, kTile, false);
    warp_product<false, true>(do_tile + r0 * D, D, v_tile, D, D, kTile, dp_tile + r0 * kTile, kTile, false);
    score_gradients(scores, b, first_query, first_key, r0, lse, delta, s_tile, dp_tile, p_tile, ds_tile,
                    grad_bias);
    __syncthreads();  // the products below read every query row of P and dS
    // Now the warp owns 16 keys: dV[keys] += P^T dO, dK[keys] += dS^T Q.
    warp_product<true, false>(p_tile + r0, kTile, do_tile, D, kTile, D, dv_tile + r0 * D, D, true);
    warp_product<true, false>(ds_tile + r0, kTile, q_tile, D, kTile, D, dk_tile + r0 * D, D, true);
  }
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t j = first_key + r0 + r;
    if (j >= s.k_time) continue;
    const std::int64_t row = ((b * s.k_time + j) * s.heads + h) * D;
    for (int d = lane; d < D; d += 32) {
      grad_k[row + d] = scale * dk_tile[(r0 + r) * D + d];
      grad_v[row + d] = dv_tile[(r0 + r) * D + d];
    }
  }
}

template <int D>
constexpr std::size_t forward_shared_bytes() {
  return (3 * kTile * D + kTile * kTile) * sizeof(bf16) + (kTile * kTile + kTile * D) * sizeof(float);
}
template <int D>
constexpr std::size_t query_gradient_shared_bytes() {
  return (4 * kTile * D + kTile * kTile) * sizeof(bf16) + (2 * kTile * kTile + kTile * D) * sizeof(float);
}
template <int D>
constexpr std::size_t key_value_gradient_shared_bytes() {
  return (4 * kTile * D + 2 * kTile * kTile) * sizeof(bf16) +
         (2 * kTile * kTile + 2 * kTile * D) * sizeof(float);
}

// Kernels that take more than 48 KB of dynamic shared memory must say so once.
template <class Kernel>
cudaError_t allow_shared_bytes(Kernel kernel, std::size_t bytes) {
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
}

dim3 grid_for(std::int64_t rows, const AttentionShape& s) {
  return dim3(static_cast<unsigned>((rows + kTile - 1) / kTile), static_cast<unsigned>(s.heads),
              static_cast<unsigned>(s.batch));
}

template <int D>
cudaError_t forward(const float* q, const float* k, const float* v, const float* bias, float scale,
                    const AttentionShape& s, float* out, float* lse, cudaStream_t stream) {
  static const cudaError_t allowed = allow_shared_bytes(forward_kernel<D>, forward_shared_bytes<D>());
  if (allowed != cudaSuccess) return allowed;
  PRIMER_LAUNCH(forward_kernel<D>, grid_for(s.q_time, s), kBlockThreads, forward_shared_bytes<D>(), stream, q,
                k, v, bias, scale, s, out, lse);
  return cudaGetLastError();
}

template <int D>
cudaError_t backward(const float* grad_out, const float* q, const float* k, const float* v, const float* bias,
                     float scale, const float* out, const float* lse, const AttentionShape& s, float* delta,
                     float* grad_q, float* grad_k, float* grad_v, float* grad_bias, cudaStream_t stream) {
  static const cudaError_t allowed_query =
      allow_shared_bytes(query_gradient_kernel<D>, query_gradient_shared_bytes<D>());
  static const cudaError_t allowed_key_value =
      allow_shared_bytes(key_value_gradient_kernel<D>, key_value_gradient_shared_bytes<D>());
  if (allowed_query != cudaSuccess) return allowed_query;
  if (allowed_key_value != cudaSuccess) return allowed_key_value;
  PRIMER_LAUNCH(query_gradient_kernel<D>, grid_for(s.q_time, s), kBlockThreads,
                query_gradient_shared_bytes<D>(), stream, grad_out, q, k, v, bias, scale, out, lse, s, delta,
                grad_q);
  PRIMER_LAUNCH(key_value_gradient_kernel<D>, grid_for(s.k_time, s), kBlockThreads,
                key_value_gradient_shared_bytes<D>(), stream, grad_out, q, k, v, bias, scale, lse, delta, s,
                grad_k, grad_v, grad_bias);
  return cudaGetLastError();
}

}  // namespace

std::size_t flash_attention_shared_bytes(const AttentionShape& shape, bool backward) {
  const auto bytes = [backward](auto forward_bytes, auto query_bytes, auto key_value_bytes) {
    return backward ? std::max(query_bytes, key_value_bytes) : forward_bytes;
  };
  switch (shape.head_dim) {
    case 32:
      return bytes(forward_shared_bytes<32>(), query_gradient_shared_bytes<32>(),
                   key_value_gradient_shared_bytes<32>());
    case 64:
      return bytes(forward_shared_bytes<64>(), query_gradient_shared_bytes<64>(),
                   key_value_gradient_shared_bytes<64>());
    case 128:
      return bytes(forward_shared_bytes<128>(), query_gradient_shared_bytes<128>(),
                   key_value_gradient_shared_bytes<128>());
    default: return 0;
  }
}

cudaError_t flash_attention_forward(const float* q, const float* k, const float* v, const float* bias,
                                    float scale, const AttentionShape& shape, float* out, float* lse,
                                    cudaStream_t stream) {
  if (shape.batch * shape.heads * shape.q_time == 0) return cudaSuccess;
  switch (shape.head_dim) {
    case 32: return forward<32>(q, k, v, bias, scale, shape, out, lse, stream);
    case 64: return forward<64>(q, k, v, bias, scale, shape, out, lse, stream);
    case 128: return forward<128>(q, k, v, bias, scale, shape, out, lse, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t flash_attention_backward(const float* grad_out, const float* q, const float* k, const float* v,
                                     const float* bias, float scale, const float* out, const float* lse,
                                     const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                                     float* grad_v, float* grad_bias, cudaStream_t stream) {
  if (shape.batch * shape.heads * shape.q_time == 0) return cudaSuccess;
  switch (shape.head_dim) {
    case 32:
      return backward<32>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                          grad_bias, stream);
    case 64:
      return backward<64>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                          grad_bias, stream);
    case 128:
      return backward<128>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                           grad_bias, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace primer::kernels
