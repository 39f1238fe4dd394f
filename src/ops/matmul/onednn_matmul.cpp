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

class PrimitiveCache {
 public:
  static PrimitiveCache& instance() {
    static PrimitiveCache cache;
    return cache;
  }

  void run(const StridedMatrices& a, const StridedMatrices& b, const StridedMatrices* bias,
           const StridedMatrices& out, bool accumulate) {
    const std::string key = fmt::format("{}|{}|{}|{}|{}", key_part(a), key_part(b), key_part(out),
                                        bias != nullptr ? key_part(*bias) : "-", accumulate);
    dnnl::matmul* primitive = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto found = cache_.find(key);
      if (found == cache_.end()) {
        const dnnl::matmul::desc desc =
            bias != nullptr ? dnnl::matmul::desc(describe(a), describe(b), describe(*bias), describe(out))
                            : dnnl::matmul::desc(describe(a), describe(b), describe(out));
        // The sum post-op adds what out holds to the product as each tile is written.
        dnnl::post_ops sum;
        if (accumulate) sum.append_sum(1.0f);
        dnnl::primitive_attr attributes;
        attributes.set_post_ops(sum);
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
                   const StridedMatrices& out, bool accumulate) {
  PrimitiveCache::instance().run(a, b, bias, out, accumulate);
}

}  // namespace primer::cpu
