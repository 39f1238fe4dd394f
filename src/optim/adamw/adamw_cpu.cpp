#include "backend/cpu/kernel_support.h"
#include "optim/adamw/adamw_kernels.h"
#include "optim/master_weights.h"

namespace primer::cpu {

void adamw_update(std::span<const optim::AdamWTensors> tensors, const optim::AdamWStep& step) {
  for (const optim::AdamWTensors& t : tensors) {
    dispatch_master(t.param, "adamw", [&](auto tag) {
      using T = decltype(tag);
      check_operands({&t.param, &t.grad, &t.m, &t.v}, t.param.dtype(), "adamw");
      T* p = t.param.data<T>();
      const T* g = t.grad.data<T>();
      T* pm = t.m.data<T>();
      T* pv = t.v.data<T>();
      const optim::AdamWConstants<T> constants = optim::adamw_constants<T>(step, t.decay);
      const std::int64_t count = t.param.numel();
// Each thread copies the constants, so the compiler knows no store can change them and vectorises.
#pragma omp parallel for simd schedule(static) firstprivate(constants)
      for (std::int64_t i = 0; i < count; ++i)
        optim::adamw_update_element(p[i], g[i], pm[i], pv[i], constants);
    });
  }
}

}  // namespace primer::cpu
