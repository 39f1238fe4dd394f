#include "backend/cpu/kernel_support.h"
#include "optim/adamw/adamw_kernels.h"
#include "optim/master_weights.h"

namespace primer::cpu {

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const optim::AdamWStep& step) {
  dispatch_master(param, "adamw", [&](auto tag) {
    using T = decltype(tag);
    check_operands({&param, &grad, &m, &v}, param.dtype(), "adamw");
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const optim::AdamWConstants<T> constants = optim::adamw_constants<T>(step);
    const std::int64_t count = param.numel();
// Each thread copies the constants, so the compiler knows no store can change them and vectorises.
#pragma omp parallel for simd schedule(static) firstprivate(constants)
    for (std::int64_t i = 0; i < count; ++i) optim::adamw_update_element(p[i], g[i], pm[i], pv[i], constants);
  });
}

}  // namespace primer::cpu
