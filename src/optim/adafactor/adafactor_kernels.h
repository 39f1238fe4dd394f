#pragma once
// The Adafactor update kernel, defined once per device (adafactor_cpu.cpp, adafactor_cuda.cpp);
// adafactor.cpp checks the operands. Matrices [R, C]: row_state [R] and column_state [C], second_moment
// undefined. Vectors: second_moment like param, row and column state undefined. In place, f32 (f64 in tests).
#include "optim/adafactor/adafactor_formulas.h"
#include "primer/backend/kernel_table.h"
#include "primer/tensor/tensor.h"

namespace primer::optim {

using AdafactorKernel = void(const Tensor& param, const Tensor& grad, const Tensor& row_state,
                             const Tensor& column_state, const Tensor& second_moment,
                             const AdafactorStep& step);

}  // namespace primer::optim

namespace primer {

PRIMER_DECLARE_KERNEL(optim::AdafactorKernel, adafactor_update)

}  // namespace primer
