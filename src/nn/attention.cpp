#include "primer/nn/attention.h"

#include <cmath>

#include "primer/ops/attention.h"
#include "primer/ops/elementwise.h"
#include "primer/ops/rotary.h"

namespace primer::nn {

Attention::Attention(const AttentionOptions& options, Generator& generator)
    : heads_(options.heads),
      head_dim_(options.head_dim),
      scale_(options.fold_scale ? 1.0 : 1.0 / std::sqrt(static_cast<double>(options.head_dim))),
      rotary_base_(options.rotary_base) {
  const std::int64_t width = options.heads * options.head_dim;
  const std::int64_t d_model = options.d_model;
  const double input_std = 1.0 / std::sqrt(static_cast<double>(d_model));
  // Mesh-TF folds 1/sqrt(head_dim) into the initial query weights instead of scaling the logits.
  const double query_fold = options.fold_scale ? 1.0 / std::sqrt(static_cast<double>(head_dim_)) : 1.0;

  if (options.dconv == DConvMode::shared_qk) {
    // The official code builds the shared projection as the query's (`self.wq`), so the fold goes there;
    // the mix is a plain dense layer with the default 1/sqrt(fan_in).
    register_module("qk_proj", qk_proj_.emplace(d_model, width, false, input_std * query_fold, generator));
    register_module("qk_dconv", qk_dconv_.emplace(width));
    register_module(
        "q_mix", q_mix_.emplace(width, width, false, 1.0 / std::sqrt(static_cast<double>(width)), generator));
  } else {
    register_module("q_proj", q_proj_.emplace(d_model, width, false, input_std * query_fold, generator));
    register_module("k_proj", k_proj_.emplace(d_model, width, false, input_std, generator));
  }
  register_module("v_proj", v_proj_.emplace(d_model, width, false, input_std, generator));
  if (options.dconv == DConvMode::separate) {
    register_module("q_dconv", q_dconv_.emplace(width));
    register_module("k_dconv", k_dconv_.emplace(width));
  }
  if (options.dconv != DConvMode::none) register_module("v_dconv", v_dconv_.emplace(width));
  register_module("o_proj", o_proj_.emplace(width, d_model, false,
                                            1.0 / std::sqrt(static_cast<double>(width)), generator));
}

std::size_t Attention::convolution_count() const {
  return (qk_dconv_ ? 1 : 0) + (q_dconv_ ? 2 : 0) + (v_dconv_ ? 1 : 0);
}

Variable Attention::convolve(const CausalDConv& dconv, std::size_t index, const Variable& x,
                             const std::vector<AttentionCache*>* caches) const {
  if (caches == nullptr) return dconv(x);
  std::vector<Tensor*> histories;
  for (AttentionCache* cache : *caches) histories.push_back(&cache->conv_history.at(index));
  return dconv.extend(x, histories);
}

Attention::Projections Attention::project(const Variable& x,
                                          const std::vector<AttentionCache*>* caches) const {
  Projections p;
  std::size_t next_conv = 0;
  if (qk_proj_) {
    p.k = convolve(*qk_dconv_, next_conv++, (*qk_proj_)(x), caches);
    p.q = (*q_mix_)(p.k);
  } else {
    p.q = (*q_proj_)(x);
    p.k = (*k_proj_)(x);
    if (q_dconv_) {
      p.q = convolve(*q_dconv_, next_conv++, p.q, caches);
      p.k = convolve(*k_dconv_, next_conv++, p.k, caches);
    }
  }
  p.v = (*v_proj_)(x);
  if (v_dconv_) p.v = convolve(*v_dconv_, next_conv, p.v, caches);
  return p;
}

Variable Attention::split_heads(const Variable& x) const {
  return ops::reshape(x, {x.size(0), x.size(1), heads_, head_dim_});
}

Variable Attention::rotate(const Variable& x, std::int64_t position_offset) const {
  const Variable heads = split_heads(x);
  return rotary_base_ ? ops::rotary(heads, position_offset, *rotary_base_) : heads;
}

Variable Attention::operator()(const Variable& x, const ops::RelativeBias& position_bias) const {
  return (*o_proj_)(ops::reshape(attend(x, position_bias), {x.size(0), x.size(1), heads_ * head_dim_}));
}

Variable Attention::attend(const Variable& x, const ops::RelativeBias& position_bias) const {
  // Primer-EZ's convolutions run inside attention's kernels, which convolve a head at a time in cache,
  // unless rotary must turn q and k between the two.
  if (q_dconv_ && !rotary_base_) {
    return ops::dconv_causal_attention(
        split_heads((*q_proj_)(x)), split_heads((*k_proj_)(x)), split_heads((*v_proj_)(x)),
        {q_dconv_->weight(), k_dconv_->weight(), v_dconv_->weight()}, position_bias, scale_);
  }
  const Projections p = project(x, nullptr);
  return ops::causal_attention(rotate(p.q, 0), rotate(p.k, 0), split_heads(p.v), position_bias, scale_);
}

AttentionCache Attention::new_cache(std::int64_t capacity, Device device) const {
  AttentionCache cache;
  cache.keys = Tensor::zeros({1, capacity, heads_, head_dim_}, DType::f32, device);
  cache.values = Tensor::zeros_like(cache.keys);
  for (std::size_t i = 0; i < convolution_count(); ++i) {
    cache.conv_history.push_back(Tensor::zeros({1, 2, heads_ * head_dim_}, DType::f32, device));
  }
  return cache;
}

Variable Attention::extend(const Variable& x, const std::vector<AttentionCache*>& caches,
                           const std::vector<std::int64_t>& lengths,
                           const std::vector<ops::RelativeBias>& position_biases) const {
  const std::int64_t batch = x.size(0), time = x.size(1);
  const Projections p = project(x, &caches);
  const Tensor attended = Tensor::empty({batch, time, heads_ * head_dim_}, x.dtype(), x.device());
  // Each sequence has its own length, so attention runs one sequence at a time; the projections
  // around it, where the work is, ran batched.
  for (std::int64_t b = 0; b < batch; ++b) {
    AttentionCache& cache = *caches[static_cast<std::size_t>(b)];
    const std::int64_t start = lengths[static_cast<std::size_t>(b)], end = start + time;
    PRIMER_CHECK(end <= cache.keys.size(1), "attention cache of {} positions cannot take {}",
                 cache.keys.size(1), end);
    const auto row = [&](const Variable& projection) {
      return Variable(projection.value().slice(0, b, b + 1));
    };
    cache.keys.slice(1, start, end).copy_from(rotate(row(p.k), start).value());
    cache.values.slice(1, start, end).copy_from(split_heads(row(p.v)).value());
    const Variable out = ops::causal_attention(rotate(row(p.q), start), Variable(cache.keys.slice(1, 0, end)),
                                               Variable(cache.values.slice(1, 0, end)),
                                               position_biases[static_cast<std::size_t>(b)], scale_);
    attended.slice(0, b, b + 1).copy_from(out.value().reshape({1, time, heads_ * head_dim_}));
  }
  return (*o_proj_)(Variable(attended));
}

}  // namespace primer::nn
