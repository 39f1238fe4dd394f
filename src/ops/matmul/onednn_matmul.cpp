#include "ops/matmul/onednn_matmul.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <mutex>
#include <string>
#include <unordered_map>

#include "primer/core/error.h"

namespace primer::cpu {
namespace {

dnnl::memory::data_type onednn_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::bf16: return dnnl::memory::data_type::bf16;
    default: PRIMER_FAIL("matmul: oneDNN path has no {} support", dtype_name(dtype));
  }
}

dnnl::memory::desc describe(const StridedMatrices& m) {
  return dnnl::memory::desc(m.dims, onednn_type(m.dtype), m.strides);
}

std::string key_part(const StridedMatrices& m) {
  return fmt::format("{}:{}:{}", fmt::join(m.dims, ","), fmt::join(m.strides, ","),
                     static_cast<int>(m.dtype));
}

// What the GEMM does to each tile as it writes it: the sum post-op adds what out holds; an activation is
// one eltwise post-op, or two for squared ReLU (relu, then square).
dnnl::post_ops post_ops(bool accumulate, std::optional<Activation> activation) {
  PRIMER_CHECK(!(accumulate && activation), "matmul: an activation cannot follow an accumulating product");
  dnnl::post_ops ops;
  if (accumulate) ops.append_sum(1.0f);
  if (!activation) return ops;
  switch (*activation) {
    case Activation::relu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
    case Activation::squared_relu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_square, 0.0f, 0.0f);
      break;
    case Activation::gelu_tanh:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f);
      break;
    case Activation::silu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f); break;
  }
  return ops;
}

class PrimitiveCache {
 public:
  static PrimitiveCache& instance() {
    static PrimitiveCache cache;
    return cache;
  }

  void run(const StridedMatrices& a, const StridedMatrices& b, const StridedMatrices* bias,
           const StridedMatrices& out, bool accumulate, std::optional<Activation> activation) {
    const std::string key = fmt::format("{}|{}|{}|{}|{}|{}", key_part(a), key_part(b), key_part(out),
                                        bias != nullptr ? key_part(*bias) : "-", accumulate,
                                        activation ? static_cast<int>(*activation) : -1);
    dnnl::matmul* primitive = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto found = cache_.find(key);
      if (found == cache_.end()) {
        const dnnl::matmul::desc desc =
            bias != nullptr ? dnnl::matmul::desc(describe(a), describe(b), describe(*bias), describe(out))
                            : dnnl::matmul::desc(describe(a), describe(b), describe(out));
        dnnl::primitive_attr attributes;
        attributes.set_post_ops(post_ops(accumulate, activation));
        found =
            cache_.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(desc, attributes, engine_))).first;
      }
      primitive = &found->second;
    }
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(describe(a), engine_, a.data)},
        {DNNL_ARG_WEIGHTS, dnnl::memory(describe(b), engine_, b.data)},
        {DNNL_ARG_DST, dnnl::memory(describe(out), engine_, out.data)},
    };
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, dnnl::memory(describe(*bias), engine_, bias->data));
    primitive->execute(stream_, args);
    stream_.wait();
  }

 private:
  PrimitiveCache() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::mutex mutex_;
  std::unordered_map<std::string, dnnl::matmul> cache_;
};

}  // namespace

void onednn_matmul(const StridedMatrices& a, const StridedMatrices& b, const StridedMatrices* bias,
                   const StridedMatrices& out, bool accumulate, std::optional<Activation> activation) {
  PrimitiveCache::instance().run(a, b, bias, out, accumulate, activation);
}

}  // namespace primer::cpu
