#include "optim/adamw/adamw_kernels.h"
#include "optim/optimizer_state.h"
#include "primer/backend/kernel_table.h"
#include "primer/backend/op_profiler.h"
#include "primer/optim/optimizer.h"

namespace primer::optim {
namespace {

const KernelTable<AdamWKernel*> adamw_kernels = PRIMER_KERNEL_TABLE("adamw", adamw_update);

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<nn::NamedParameter> parameters, const AdamWOptions& options) : options_(options) {
    for (nn::NamedParameter& parameter : parameters) {
      const Tensor value = parameter.variable.value();
      const bool decay = decays_by_default(parameter);
      slots_.push_back({std::move(parameter), Tensor::zeros_like(value), Tensor::zeros_like(value), decay});
    }
  }

  void step(double lr, double gradient_scale) override {
    ++steps_;
    if (slots_.empty()) return;
    const Device device = slots_.front().parameter.variable.device();
    const ProfileScope profile("adamw", device);
    std::vector<AdamWTensors> updates;
    updates.reserve(slots_.size());
    for (const Slot& slot : slots_) {
      const Tensor& grad = slot.parameter.variable.grad();
      if (!grad.defined()) continue;
      const Tensor& value = slot.parameter.variable.value();
      check_same_shape(value, grad, "adamw");
      PRIMER_CHECK(value.device() == device, "adamw: parameter '{}' is on {}, the others on {}",
                   slot.parameter.name, value.device().name(), device.name());
      updates.push_back({value, grad, slot.m, slot.v, slot.decay});
    }
    adamw_kernels.at(device)(updates, {lr, options_.beta1, options_.beta2, options_.eps,
                                       options_.weight_decay, steps_, gradient_scale});
  }

  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> tensors{{"step", step_tensor(steps_)}};
    for (const Slot& slot : slots_) {
      tensors.emplace_back(slot.parameter.name + ".m", slot.m);
      tensors.emplace_back(slot.parameter.name + ".v", slot.v);
    }
    return tensors;
  }

  void load_state(const std::map<std::string, Tensor>& state) override {
    steps_ = static_cast<std::int64_t>(find_state(state, "step", {1}).item());
    for (Slot& slot : slots_) {
      slot.m.copy_from(find_state(state, slot.parameter.name + ".m", slot.m.shape()));
      slot.v.copy_from(find_state(state, slot.parameter.name + ".v", slot.v.shape()));
    }
  }

 private:
  struct Slot {
    nn::NamedParameter parameter;
    Tensor m;
    Tensor v;
    bool decay;
  };
  AdamWOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adamw(std::vector<nn::NamedParameter> parameters,
                                      const AdamWOptions& options) {
  return std::make_unique<AdamW>(std::move(parameters), options);
}

}  // namespace primer::optim
