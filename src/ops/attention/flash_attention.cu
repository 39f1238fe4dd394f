// Causal attention on tensor cores, FlashAttention-2's tiling: a block takes 64 query rows (forward, and
// the query gradient) or 64 keys (the key and value gradients) of one (batch, head) and walks the tiles of
// the other side through shared memory. Products run on bf16 tiles with f32 accumulation (WMMA 16x16x16,
// each of the 4 warps owning 16 rows); scores, the online softmax, lse and every accumulator stay f32.
// The f32 inputs are rounded to bf16 as the tiles are loaded, so no converted copy exists in memory.
// Scores go through shared memory between the products, which keeps the code free of any assumption on
// the fragments' register layout; the gradients' sums stay in accumulator fragments across tiles. The query
// gradient has a kernel of its own that recomputes the scores (no atomics: deterministic); the relative
// bias's gradient is summed along the diagonals of each dS tile in the key/value kernel (DistanceSums), also
// without atomics.
#include <mma.h>

#include <algorithm>
#include <type_traits>

#include "device_support.cuh"
#include "ops/attention/attention.cuh"
#include "ops/attention/relative_bias.cuh"

namespace primer::kernels {
namespace {

using bf16 = __nv_bfloat16;

constexpr int kTile = kFlashAttentionTile;
constexpr int kWarps = kTile / 16;  // each warp owns 16 rows of a tile
constexpr int kBlockThreads = 32 * kWarps;
constexpr int kRowsPerWarp = 16;

// Shared-memory rows carry 16 bytes of padding: unpadded, rows of 64 bf16 (128 B) or 64 floats (256 B) all
// start on bank 0, and the 16 rows a WMMA load or store touches conflict 8- or 16-fold. The padded strides
// keep every fragment pointer 32-byte aligned, as WMMA requires.
template <int D>
constexpr int kInputStride = D + 8;            // bf16 tiles of q, k, v and dO
constexpr int kProbabilityStride = kTile + 8;  // bf16 tiles of P and dS
constexpr int kScoreStride = kTile + 4;        // f32 tiles of scores and dO V^T
template <int D>
constexpr int kAccumulatorStride = D + 4;  // f32 accumulators of O, dQ, dK, dV

// out[16 x width] (row-major, ld_out; f32) = (accumulate ? out : 0) + a[16 x depth] b[depth x width], for
// the calling warp. a is row-major with leading dimension lda; b is row-major [depth x width] or,
// transposed, read from a row-major [width x depth].
template <bool kTransposedB>
__device__ void warp_product(const bf16* a, int lda, const bf16* b, int ldb, int depth, int width, float* out,
                             int ld_out, bool accumulate) {
  using LayoutB = std::conditional_t<kTransposedB, nvcuda::wmma::col_major, nvcuda::wmma::row_major>;
  nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, bf16, nvcuda::wmma::row_major> fa;
  nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, bf16, LayoutB> fb;
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc;
  for (int n = 0; n < width; n += 16) {
    if (accumulate) {
      nvcuda::wmma::load_matrix_sync(acc, out + n, ld_out, nvcuda::wmma::mem_row_major);
    } else {
      nvcuda::wmma::fill_fragment(acc, 0.0f);
    }
    for (int k = 0; k < depth; k += 16) {
      nvcuda::wmma::load_matrix_sync(fa, a + k, lda);
      nvcuda::wmma::load_matrix_sync(fb, kTransposedB ? b + n * ldb + k : b + k * ldb + n, ldb);
      nvcuda::wmma::mma_sync(acc, fa, fb, acc);
    }
    nvcuda::wmma::store_matrix_sync(out + n, acc, ld_out, nvcuda::wmma::mem_row_major);
  }
  __syncwarp();
}

// A warp's [16 x D] f32 sum of products, kept in WMMA accumulator fragments (registers) across the tiles it
// adds up: no shared memory and no load and store per tile. Only what never needs rescaling row by row
// lives here (dQ, dK, dV); the forward's output, rescaled per row, stays in shared memory.
template <int D>
struct WarpAccumulator {
  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> part[D / 16];

  __device__ void zero() {
#pragma unroll
    for (int n = 0; n < D / 16; ++n) nvcuda::wmma::fill_fragment(part[n], 0.0f);
  }

  // += a[16 x kTile] b[kTile x D], b row-major; a row-major or, transposed, the column-major view of a
  // row-major [kTile x 16] block.
  template <bool kTransposedA>
  __device__ void add_product(const bf16* a, int lda, const bf16* b, int ldb) {
    using LayoutA = std::conditional_t<kTransposedA, nvcuda::wmma::col_major, nvcuda::wmma::row_major>;
    nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, bf16, LayoutA> fa;
    nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, bf16, nvcuda::wmma::row_major> fb;
#pragma unroll
    for (int k = 0; k < kTile; k += 16) {
      nvcuda::wmma::load_matrix_sync(fa, kTransposedA ? a + k * lda : a + k, lda);
#pragma unroll
      for (int n = 0; n < D / 16; ++n) {
        nvcuda::wmma::load_matrix_sync(fb, b + k * ldb + n * 16, ldb);
        nvcuda::wmma::mma_sync(part[n], fa, fb, part[n]);
      }
    }
  }

  // scale times the sum, as the warp's 16 rows of [B, time, H, D] from row `first` on (rows at or past
  // `time` are left out), through the warp's rows of `stage` (kTile x kAccumulatorStride<D> floats).
  __device__ void write(float scale, float* stage, float* x, std::int64_t b, std::int64_t h,
                        std::int64_t first, std::int64_t time, std::int64_t heads) {
    constexpr int ld = kAccumulatorStride<D>;
    const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
#pragma unroll
    for (int n = 0; n < D / 16; ++n) {
      for (int e = 0; e < part[n].num_elements; ++e) part[n].x[e] *= scale;
      nvcuda::wmma::store_matrix_sync(stage + r0 * ld + n * 16, part[n], ld, nvcuda::wmma::mem_row_major);
    }
    __syncwarp();
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const std::int64_t t = first + r0 + r;
      if (t >= time) break;
      for (int d = lane; d < D; d += 32) x[((b * time + t) * heads + h) * D + d] = stage[(r0 + r) * ld + d];
    }
    __syncwarp();
  }
};

// Rows [first, first + kTile) of head h of batch b of a [B, time, H, D] f32 tensor, as bf16 [kTile x D]
// with row stride kInputStride; rows at or past `time` read as zero. The whole block loads.
template <int D>
__device__ void load_tile(const float* x, std::int64_t b, std::int64_t h, std::int64_t first,
                          std::int64_t time, std::int64_t heads, bf16* tile) {
  constexpr int kVectors = D / 4;
  for (int index = threadIdx.x; index < kTile * kVectors; index += blockDim.x) {
    const int row = index / kVectors, column = (index % kVectors) * 4;
    const std::int64_t t = first + row;
    float4 value = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (t < time) value = *reinterpret_cast<const float4*>(x + ((b * time + t) * heads + h) * D + column);
    auto* pair = reinterpret_cast<__nv_bfloat162*>(tile + row * kInputStride<D> + column);
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
  RelativeBiasTable bias;
  float scale;
  AttentionShape s;
  std::int64_t h;

  __device__ bool visible(std::int64_t i, std::int64_t j) const {
    return i < s.q_time && j < s.k_time && j <= i + (s.k_time - s.q_time);
  }
  __device__ float logit(float product, std::int64_t i, std::int64_t j) const {
    const float value = product * scale;
    return bias.table != nullptr ? value + relative_bias(bias, s, h, i, j) : value;
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

// Blocks start in the order of their index, x fastest: with the tiles along z, every (batch, head)'s
// heaviest tiles (those that meet the most of the other side under the causal mask) start first, and the
// light ones fill in at the end instead of leaving the last wave with a few long blocks.
__device__ std::int64_t heaviest_last_tile() {
  return static_cast<std::int64_t>(gridDim.z - 1 - blockIdx.z) * kTile;
}

// grid (H, B, query tiles), the tiles of the last queries first.
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    forward_kernel(const float* q, const float* k, const float* v, RelativeBiasTable bias, float scale,
                   AttentionShape s, float* out, float* lse) {
  constexpr int ldi = kInputStride<D>, ldo = kAccumulatorStride<D>;
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* q_tile = reinterpret_cast<bf16*>(shared);
  bf16* k_tile = q_tile + kTile * ldi;
  bf16* v_tile = k_tile + kTile * ldi;
  bf16* p_tile = v_tile + kTile * ldi;
  float* s_tile = reinterpret_cast<float*>(p_tile + kTile * kProbabilityStride);
  float* o_tile = s_tile + kTile * kScoreStride;

  const std::int64_t h = blockIdx.x, b = blockIdx.y, first_query = heaviest_last_tile();
  const Scores scores{bias, scale, s, h};
  const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
  zero(o_tile, kTile * ldo);
  // Lane r keeps row r's running max and sum (the warp reductions give every lane the same values, read
  // back with a shuffle): arrays of 16 of each in every lane held the kernel at over 200 registers.
  float lane_max = -INFINITY, lane_sum = 0.0f;
  const std::int64_t last_key = last_key_seen(s, first_query);
  for (std::int64_t first_key = 0; first_key <= last_key; first_key += kTile) {
    __syncthreads();  // every warp is done with the previous K and V tiles
    load_tile<D>(k, b, h, first_key, s.k_time, s.heads, k_tile);
    load_tile<D>(v, b, h, first_key, s.k_time, s.heads, v_tile);
    __syncthreads();
    warp_product<true>(q_tile + r0 * ldi, ldi, k_tile, ldi, D, kTile, s_tile + r0 * kScoreStride,
                       kScoreStride, false);
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const std::int64_t i = first_query + r0 + r;
      const float row_max = __shfl_sync(0xffffffffu, lane_max, r);
      float score[2];
      float tile_max = -INFINITY;
      for (int half = 0; half < 2; ++half) {
        const int c = lane + 32 * half;
        const std::int64_t j = first_key + c;
        score[half] =
            scores.visible(i, j) ? scores.logit(s_tile[(r0 + r) * kScoreStride + c], i, j) : -INFINITY;
        tile_max = fmaxf(tile_max, score[half]);
      }
      const float new_max = fmaxf(row_max, warp_reduce(tile_max, Max{}));
      // A row that has seen no key yet (or lies past q_time) keeps zeros rather than exp(-inf + inf).
      const float base = new_max == -INFINITY ? 0.0f : new_max;
      float tile_sum = 0.0f;
      for (int half = 0; half < 2; ++half) {
        const float p = expf(score[half] - base);
        p_tile[(r0 + r) * kProbabilityStride + lane + 32 * half] = __float2bfloat16(p);
        tile_sum += p;
      }
      const float correction = expf(row_max - base);
      for (int d = lane; d < D; d += 32) o_tile[(r0 + r) * ldo + d] *= correction;
      const float new_sum = __shfl_sync(0xffffffffu, lane_sum, r) * correction + warp_reduce(tile_sum, Add{});
      if (lane == r) {
        lane_max = new_max;
        lane_sum = new_sum;
      }
    }
    __syncwarp();
    warp_product<false>(p_tile + r0 * kProbabilityStride, kProbabilityStride, v_tile, ldi, kTile, D,
                        o_tile + r0 * ldo, ldo, true);
  }
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    const float row_max = __shfl_sync(0xffffffffu, lane_max, r);
    const float row_sum = __shfl_sync(0xffffffffu, lane_sum, r);
    if (i >= s.q_time) break;
    const float inverse = 1.0f / row_sum;
    for (int d = lane; d < D; d += 32)
      out[((b * s.q_time + i) * s.heads + h) * D + d] = o_tile[(r0 + r) * ldo + d] * inverse;
    if (lane == 0) lse[stat_index(s, b, h, i)] = row_max + logf(row_sum);
  }
}

// dS = P (dP - delta) for the warp's 16 query rows of a (query tile, key tile) pair, from the scores in
// s_tile and dO V^T in dp_tile: written as bf16 to ds_tile and, when p_tile is given, P as bf16 too; when
// keep_f32 is set, dS also replaces the scores in s_tile in f32 (zero where masked), for DistanceSums.
__device__ void score_gradients(const Scores& scores, std::int64_t b, std::int64_t first_query,
                                std::int64_t first_key, int r0, const float* lse, const float* delta,
                                float* s_tile, const float* dp_tile, bf16* p_tile, bf16* ds_tile,
                                bool keep_f32) {
  const int lane = threadIdx.x % 32;
#pragma unroll 1
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    const bool row = i < scores.s.q_time;
    const float row_lse = row ? lse[stat_index(scores.s, b, scores.h, i)] : 0.0f;
    const float row_delta = row ? delta[stat_index(scores.s, b, scores.h, i)] : 0.0f;
    for (int half = 0; half < 2; ++half) {
      const int c = lane + 32 * half;
      const std::int64_t j = first_key + c;
      const int at = (r0 + r) * kScoreStride + c;
      float p = 0.0f, ds = 0.0f;
      if (scores.visible(i, j)) {
        p = expf(scores.logit(s_tile[at], i, j) - row_lse);
        ds = p * (dp_tile[at] - row_delta);
      }
      if (keep_f32) s_tile[at] = ds;
      if (p_tile != nullptr) p_tile[(r0 + r) * kProbabilityStride + c] = __float2bfloat16(p);
      ds_tile[(r0 + r) * kProbabilityStride + c] = __float2bfloat16(ds);
    }
  }
  __syncwarp();
}

// delta = rowsum(dO * O) and dQ = scale dS K over every key tile the query tile sees. grid (H, B, query
// tiles), the tiles of the last queries first.
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    query_gradient_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                          RelativeBiasTable bias, float scale, const float* out, const float* lse,
                          AttentionShape s, float* delta, float* grad_q) {
  constexpr int ldi = kInputStride<D>;
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* q_tile = reinterpret_cast<bf16*>(shared);
  bf16* do_tile = q_tile + kTile * ldi;
  bf16* k_tile = do_tile + kTile * ldi;
  bf16* v_tile = k_tile + kTile * ldi;
  bf16* ds_tile = v_tile + kTile * ldi;
  float* s_tile = reinterpret_cast<float*>(ds_tile + kTile * kProbabilityStride);
  float* dp_tile = s_tile + kTile * kScoreStride;

  const std::int64_t h = blockIdx.x, b = blockIdx.y, first_query = heaviest_last_tile();
  const Scores scores{bias, scale, s, h};
  const int lane = threadIdx.x % 32, r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
  load_tile<D>(grad_out, b, h, first_query, s.q_time, s.heads, do_tile);
  WarpAccumulator<D> dq;
  dq.zero();
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const std::int64_t i = first_query + r0 + r;
    if (i >= s.q_time) break;
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
    warp_product<true>(q_tile + r0 * ldi, ldi, k_tile, ldi, D, kTile, s_tile + r0 * kScoreStride,
                       kScoreStride, false);
    warp_product<true>(do_tile + r0 * ldi, ldi, v_tile, ldi, D, kTile, dp_tile + r0 * kScoreStride,
                       kScoreStride, false);
    score_gradients(scores, b, first_query, first_key, r0, lse, delta, s_tile, dp_tile, nullptr, ds_tile,
                    false);
    dq.template add_product<false>(ds_tile + r0 * kProbabilityStride, kProbabilityStride, k_tile, ldi);
  }
  __syncthreads();  // the q and dO tiles become the staging rows of the write below
  dq.write(scale, reinterpret_cast<float*>(q_tile), grad_q, b, h, first_query, s.q_time, s.heads);
}

// The key/value kernel's share of the relative bias table's gradient: for each (query tile, key tile) the
// sums of dS along the tile's 2 kTile - 1 diagonals (each one distance), a thread per diagonal. The next
// query tile (64 queries on) meets a diagonal's distance again exactly when the diagonal lies above the
// main one: that sum is carried over to it in shared memory (two buffers, read and written alternately);
// the others are final and go to the block's row of distance_partials. Each distance is written once.
struct DistanceSums {
  float* carry;  // [2 kTile] shared floats, zeroed; entry kTile - 1 of each half is never written
  float* row;    // the block's [k_time] floats of distance_partials
  std::int64_t k_time;
  int parity;

  // ds: the tile's dS in f32 (row stride kScoreStride), complete in shared memory; base: the distance
  // of its element (0, 0), that is (k_time - q_time) + first_query - first_key.
  __device__ void add_tile(const float* ds, std::int64_t base) {
    const int t = threadIdx.x;
    if (t < 2 * kTile - 1) {
      const int diagonal = t - (kTile - 1);  // row - column
      float total = 0.0f;
      const int first_row = diagonal > 0 ? diagonal : 0, end_row = diagonal < 0 ? kTile + diagonal : kTile;
      for (int r = first_row; r < end_row; ++r) total += ds[r * kScoreStride + r - diagonal];
      if (diagonal <= 0) {
        write(base + diagonal, total + carry[parity * kTile + t]);
      } else {
        carry[(1 - parity) * kTile + t - kTile] = total;
      }
    }
    parity = 1 - parity;
  }

  // After the last tile: next_base is the base the next query tile would have had.
  __device__ void finish(std::int64_t next_base) {
    __syncthreads();
    const int t = threadIdx.x;
    if (t < kTile - 1) write(next_base + t - (kTile - 1), carry[parity * kTile + t]);
  }

  __device__ void write(std::int64_t distance, float total) const {
    if (distance >= 0 && distance < k_time) row[distance] = total;
  }
};

// dV = P^T dO and dK = scale dS^T Q over every query tile that sees the key tile. grid (H, B, key tiles),
// the first keys (seen by the most queries) first; runs after query_gradient_kernel, which wrote delta.
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    key_value_gradient_kernel(const float* grad_out, const float* q, const float* k, const float* v,
                              RelativeBiasTable bias, float scale, const float* lse, const float* delta,
                              AttentionShape s, float* grad_k, float* grad_v, float* distance_partials) {
  constexpr int ldi = kInputStride<D>;
  PRIMER_DYNAMIC_SHARED(unsigned char, shared);
  bf16* q_tile = reinterpret_cast<bf16*>(shared);
  bf16* do_tile = q_tile + kTile * ldi;
  bf16* k_tile = do_tile + kTile * ldi;
  bf16* v_tile = k_tile + kTile * ldi;
  bf16* p_tile = v_tile + kTile * ldi;
  bf16* ds_tile = p_tile + kTile * kProbabilityStride;
  float* s_tile = reinterpret_cast<float*>(ds_tile + kTile * kProbabilityStride);
  float* dp_tile = s_tile + kTile * kScoreStride;
  float* carry = dp_tile + kTile * kScoreStride;

  const std::int64_t h = blockIdx.x, b = blockIdx.y,
                     first_key = static_cast<std::int64_t>(blockIdx.z) * kTile;
  const bool bias_gradient = distance_partials != nullptr;
  DistanceSums distances{
      carry,
      bias_gradient ? distance_partials + ((b * gridDim.z + blockIdx.z) * s.heads + h) * s.k_time : nullptr,
      s.k_time, 0};
  zero(carry, 2 * kTile);
  const Scores scores{bias, scale, s, h};
  const int r0 = (threadIdx.x / 32) * kRowsPerWarp;
  load_tile<D>(k, b, h, first_key, s.k_time, s.heads, k_tile);
  load_tile<D>(v, b, h, first_key, s.k_time, s.heads, v_tile);
  WarpAccumulator<D> dk, dv;
  dk.zero();
  dv.zero();
  // Query i sees key j when i >= j - (k_time - q_time): start at the tile holding the first such query.
  const std::int64_t offset = s.k_time - s.q_time;
  const std::int64_t first_seeing = first_key > offset ? first_key - offset : 0;
  std::int64_t first_query = first_seeing / kTile * kTile;
  for (; first_query < s.q_time; first_query += kTile) {
    __syncthreads();
    load_tile<D>(q, b, h, first_query, s.q_time, s.heads, q_tile);
    load_tile<D>(grad_out, b, h, first_query, s.q_time, s.heads, do_tile);
    __syncthreads();
    // Scores for the warp's 16 query rows against the 64 keys.
    warp_product<true>(q_tile + r0 * ldi, ldi, k_tile, ldi, D, kTile, s_tile + r0 * kScoreStride,
                       kScoreStride, false);
    warp_product<true>(do_tile + r0 * ldi, ldi, v_tile, ldi, D, kTile, dp_tile + r0 * kScoreStride,
                       kScoreStride, false);
    score_gradients(scores, b, first_query, first_key, r0, lse, delta, s_tile, dp_tile, p_tile, ds_tile,
                    bias_gradient);
    __syncthreads();  // the products below read every query row of P and dS, DistanceSums all of dS
    if (bias_gradient) distances.add_tile(s_tile, offset + first_query - first_key);
    // Now the warp owns 16 keys: dV[keys] += P^T dO, dK[keys] += dS^T Q.
    dv.template add_product<true>(p_tile + r0, kProbabilityStride, do_tile, ldi);
    dk.template add_product<true>(ds_tile + r0, kProbabilityStride, q_tile, ldi);
  }
  if (bias_gradient) distances.finish(offset + first_query - first_key);
  __syncthreads();  // the q and dO tiles become the staging rows of the writes below
  float* stage = reinterpret_cast<float*>(q_tile);
  dk.write(scale, stage, grad_k, b, h, first_key, s.k_time, s.heads);
  dv.write(1.0f, stage, grad_v, b, h, first_key, s.k_time, s.heads);
}

template <int D>
constexpr std::size_t forward_shared_bytes() {
  return (3 * kTile * kInputStride<D> + kTile * kProbabilityStride) * sizeof(bf16) +
         (kTile * kScoreStride + kTile * kAccumulatorStride<D>)*sizeof(float);
}
template <int D>
constexpr std::size_t query_gradient_shared_bytes() {
  return (4 * kTile * kInputStride<D> + kTile * kProbabilityStride) * sizeof(bf16) +
         2 * kTile * kScoreStride * sizeof(float);
}
template <int D>
constexpr std::size_t key_value_gradient_shared_bytes() {
  return (4 * kTile * kInputStride<D> + 2 * kTile * kProbabilityStride) * sizeof(bf16) +
         (2 * kTile * kScoreStride + 2 * kTile) * sizeof(float);
}
// The staging rows of WarpAccumulator::write fit in the q and dO tiles.
static_assert(kAccumulatorStride<32> * sizeof(float) <= 2 * kInputStride<32> * sizeof(bf16));
static_assert(kAccumulatorStride<128> * sizeof(float) <= 2 * kInputStride<128> * sizeof(bf16));

// Kernels that take more than 48 KB of dynamic shared memory must say so once.
template <class Kernel>
cudaError_t allow_shared_bytes(Kernel kernel, std::size_t bytes) {
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
}

dim3 grid_for(std::int64_t rows, const AttentionShape& s) {
  return dim3(static_cast<unsigned>(s.heads), static_cast<unsigned>(s.batch),
              static_cast<unsigned>((rows + kTile - 1) / kTile));
}

template <int D>
cudaError_t forward(const float* q, const float* k, const float* v, RelativeBiasTable bias, float scale,
                    const AttentionShape& s, float* out, float* lse, cudaStream_t stream) {
  static const cudaError_t allowed = allow_shared_bytes(forward_kernel<D>, forward_shared_bytes<D>());
  if (allowed != cudaSuccess) return allowed;
  PRIMER_LAUNCH(forward_kernel<D>, grid_for(s.q_time, s), kBlockThreads, forward_shared_bytes<D>(), stream, q,
                k, v, bias, scale, s, out, lse);
  return cudaGetLastError();
}

template <int D>
cudaError_t backward(const float* grad_out, const float* q, const float* k, const float* v,
                     RelativeBiasTable bias, float scale, const float* out, const float* lse,
                     const AttentionShape& s, float* delta, float* grad_q, float* grad_k, float* grad_v,
                     float* distance_partials, cudaStream_t stream) {
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
                grad_k, grad_v, distance_partials);
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

cudaError_t flash_attention_forward(const float* q, const float* k, const float* v, RelativeBiasTable bias,
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
                                     RelativeBiasTable bias, float scale, const float* out, const float* lse,
                                     const AttentionShape& shape, float* delta, float* grad_q, float* grad_k,
                                     float* grad_v, float* distance_partials, cudaStream_t stream) {
  if (shape.batch * shape.heads * shape.q_time == 0) return cudaSuccess;
  switch (shape.head_dim) {
    case 32:
      return backward<32>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                          distance_partials, stream);
    case 64:
      return backward<64>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                          distance_partials, stream);
    case 128:
      return backward<128>(grad_out, q, k, v, bias, scale, out, lse, shape, delta, grad_q, grad_k, grad_v,
                           distance_partials, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace primer::kernels
