#include "primer/train/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::train {
namespace {

Tensor step_tensor(std::int64_t steps) {
  return Tensor::full({1}, static_cast<double>(steps), DType::f64);
}

const Tensor& find_state(const std::map<std::string, Tensor>& state, const std::string& name,
                         const Shape& shape) {
  const auto found = state.find(name);
  PRIMER_CHECK(found != state.end(), "optimizer state has no '{}' (another optimizer or model?)", name);
  PRIMER_CHECK(found->second.shape() == shape, "optimizer state '{}' has shape {}, expected {}", name,
               to_string(found->second.shape()), to_string(shape));
  return found->second;
}

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<nn::NamedParameter> parameters, const AdamWOptions& options) : options_(options) {
    for (nn::NamedParameter& parameter : parameters) {
      const Tensor value = parameter.variable.value();
      const bool decay = decays_by_default(parameter);
      slots_.push_back({std::move(parameter), Tensor::zeros_like(value), Tensor::zeros_like(value), decay});
    }
  }

  void step(double lr) override {
    ++steps_;
    if (slots_.empty()) return;
    const ProfileScope profile("adamw", slots_.front().parameter.variable.device());
    for (Slot& slot : slots_) {
      const Tensor& grad = slot.parameter.variable.grad();
      if (!grad.defined()) continue;
      const Tensor& value = slot.parameter.variable.value();
      backend_for(value.device())
          .adamw_update(value, grad, slot.m, slot.v,
                        {lr, options_.beta1, options_.beta2, options_.eps,
                         slot.decay ? options_.weight_decay : 0.0, steps_});
    }
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

  void step(double lr) override {
    ++steps_;
    const double decay = 1.0 - std::pow(static_cast<double>(steps_), -options_.decay_exponent);
    if (slots_.empty()) return;
    const ProfileScope profile("adafactor", slots_.front().parameter.variable.device());
    for (Slot& slot : slots_) {
      const Tensor& grad = slot.parameter.variable.grad();
      if (!grad.defined()) continue;
      const Tensor& value = slot.parameter.variable.value();
      backend_for(value.device())
          .adafactor_update(slot.part(value), slot.part(grad), slot.rows, slot.columns, slot.second_moment,
                            {lr, decay, options_.epsilon1, options_.epsilon2, options_.clip_threshold,
                             options_.relative_step});
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

bool decays_by_default(const nn::NamedParameter& parameter) {
  return parameter.role == nn::ParameterRole::dense;
}

bool adafactor_factors(const Shape& shape) {
  PRIMER_CHECK(shape.size() <= 2, "adafactor: parameters of {} dimensions are not supported ({})",
               shape.size(), to_string(shape));
  return shape.size() == 2 && std::min(shape[0], shape[1]) >= kAdafactorMinDimToFactor;
}

std::unique_ptr<Optimizer> make_adamw(std::vector<nn::NamedParameter> parameters,
                                      const AdamWOptions& options) {
  return std::make_unique<AdamW>(std::move(parameters), options);
}

std::unique_ptr<Optimizer> make_adafactor(std::vector<nn::NamedParameter> parameters,
                                          const AdafactorOptions& options) {
  return std::make_unique<Adafactor>(std::move(parameters), options);
}

double clip_gradients(const std::vector<nn::NamedParameter>& parameters, double max_norm) {
  if (parameters.empty()) return 0.0;
  const ProfileScope profile("gradient norm and clipping", parameters.front().variable.device());
  double total = 0.0;
  for (const nn::NamedParameter& parameter : parameters) {
    const Tensor& grad = parameter.variable.grad();
    if (!grad.defined()) continue;
    Tensor squares = Tensor::empty({1}, stats_dtype(grad.dtype()), grad.device());
    backend_for(grad.device()).sum_squares(grad, squares);
    total += squares.item();
  }
  const double norm = std::sqrt(total);
  if (max_norm > 0.0 && std::isfinite(norm) && norm > max_norm) {
    const double factor = max_norm / norm;
    for (const nn::NamedParameter& parameter : parameters) {
      const Tensor& grad = parameter.variable.grad();
      if (grad.defined()) backend_for(grad.device()).scale(grad, factor, grad);
    }
  }
  return norm;
}

}  // namespace primer::train
