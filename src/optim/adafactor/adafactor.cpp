#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "optim/adafactor/adafactor_kernels.h"
#include "optim/optimizer_state.h"
#include "primer/backend/backend.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/optim/optimizer.h"

namespace primer::optim {
namespace {

const KernelTable<AdafactorKernel*> adafactor_kernels = PRIMER_KERNEL_TABLE("adafactor", adafactor_update);

class Adafactor final : public Optimizer {
 public:
  Adafactor(std::vector<nn::NamedParameter> parameters, const AdafactorOptions& options) : options_(options) {
    for (nn::NamedParameter& parameter : parameters) {
      const Tensor value = parameter.variable.value();
      if (parameter.role == nn::ParameterRole::convolution_taps) {
        for (std::int64_t tap = 0; tap < value.size(0); ++tap)
          add_slot(parameter, tap, value.slice(0, tap, tap + 1));
      } else {
        add_slot(parameter, -1, value);
      }
    }
  }

  void step(double lr, double gradient_scale) override {
    ++steps_;
    const double decay = 1.0 - std::pow(static_cast<double>(steps_), -options_.decay_exponent);
    if (slots_.empty()) return;
    const ProfileScope profile("adafactor", slots_.front().parameter.variable.device());
    // Adafactor's kernels take the gradient as it is, so a clipped step scales it first, once a
    // parameter (a convolution's taps share one gradient).
    if (gradient_scale != 1.0) {
      for (const Slot& slot : slots_) {
        const Tensor& grad = slot.parameter.variable.grad();
        if (grad.defined() && slot.tap <= 0) backend_for(grad.device()).scale(grad, gradient_scale, grad);
      }
    }
    for (Slot& slot : slots_) {
      const Tensor& grad = slot.parameter.variable.grad();
      if (!grad.defined()) continue;
      const Tensor& value = slot.parameter.variable.value();
      check_same_shape(value, grad, "adafactor");
      adafactor_kernels.at(value.device())(
          slot.part(value), slot.part(grad), slot.rows, slot.columns, slot.second_moment,
          {lr, decay, options_.epsilon1, options_.epsilon2, options_.clip_threshold, options_.relative_step});
    }
  }

  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> tensors{{"step", step_tensor(steps_)}};
    for (const Slot& slot : slots_) {
      if (slot.rows.defined()) {
        tensors.emplace_back(slot.name + ".row_second_moment", slot.rows);
        tensors.emplace_back(slot.name + ".column_second_moment", slot.columns);
      } else {
        tensors.emplace_back(slot.name + ".second_moment", slot.second_moment);
      }
    }
    return tensors;
  }

  void load_state(const std::map<std::string, Tensor>& state) override {
    steps_ = static_cast<std::int64_t>(find_state(state, "step", {1}).item());
    for (Slot& slot : slots_) {
      if (slot.rows.defined()) {
        slot.rows.copy_from(find_state(state, slot.name + ".row_second_moment", slot.rows.shape()));
        slot.columns.copy_from(find_state(state, slot.name + ".column_second_moment", slot.columns.shape()));
      } else {
        slot.second_moment.copy_from(
            find_state(state, slot.name + ".second_moment", slot.second_moment.shape()));
      }
    }
  }

 private:
  // One Adafactor parameter: a whole model parameter, or one tap (row) of a convolution's weight.
  struct Slot {
    nn::NamedParameter parameter;
    std::int64_t tap;  // -1: the whole parameter
    std::string name;  // the state's prefix: the parameter's name, ".tap<k>" added for a tap
    Tensor rows;
    Tensor columns;
    Tensor second_moment;

    Tensor part(const Tensor& whole) const { return tap < 0 ? whole : whole.slice(0, tap, tap + 1); }
  };

  void add_slot(const nn::NamedParameter& parameter, std::int64_t tap, const Tensor& value) {
    Slot slot{parameter, tap, tap < 0 ? parameter.name : fmt::format("{}.tap{}", parameter.name, tap),
              {},        {},  {}};
    if (adafactor_factors(value.shape())) {
      slot.rows = Tensor::zeros({value.size(0)}, value.dtype(), value.device());
      slot.columns = Tensor::zeros({value.size(1)}, value.dtype(), value.device());
    } else {
      slot.second_moment = Tensor::zeros_like(value);
    }
    slots_.push_back(std::move(slot));
  }

  AdafactorOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace

bool adafactor_factors(const Shape& shape) {
  PRIMER_CHECK(shape.size() <= 2, "adafactor: parameters of {} dimensions are not supported ({})",
               shape.size(), to_string(shape));
  return shape.size() == 2 && std::min(shape[0], shape[1]) >= kAdafactorMinDimToFactor;
}

std::unique_ptr<Optimizer> make_adafactor(std::vector<nn::NamedParameter> parameters,
                                          const AdafactorOptions& options) {
  return std::make_unique<Adafactor>(std::move(parameters), options);
}

}  // namespace primer::optim
