#include "primer/train/optimizer.h"

#include <cmath>

#include "primer/backend/backend.h"

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
      Slot slot{std::move(parameter), {}, {}, {}};
      if (value.dim() >= 2) {
        const std::int64_t columns = value.size(-1);
        slot.rows = Tensor::zeros({value.numel() / columns}, value.dtype(), value.device());
        slot.columns = Tensor::zeros({columns}, value.dtype(), value.device());
      } else {
        slot.second_moment = Tensor::zeros_like(value);
      }
      slots_.push_back(std::move(slot));
    }
  }

  void step(double lr) override {
    ++steps_;
    const double decay = 1.0 - std::pow(static_cast<double>(steps_), -options_.decay_exponent);
    for (Slot& slot : slots_) {
      const Tensor& grad = slot.parameter.variable.grad();
      if (!grad.defined()) continue;
      const Tensor& value = slot.parameter.variable.value();
      backend_for(value.device())
          .adafactor_update(value, grad, slot.rows, slot.columns, slot.second_moment,
                            {lr, decay, options_.epsilon1, options_.epsilon2, options_.clip_threshold,
                             options_.relative_step});
    }
  }

  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> tensors{{"step", step_tensor(steps_)}};
    for (const Slot& slot : slots_) {
      if (slot.rows.defined()) {
        tensors.emplace_back(slot.parameter.name + ".row_second_moment", slot.rows);
        tensors.emplace_back(slot.parameter.name + ".column_second_moment", slot.columns);
      } else {
        tensors.emplace_back(slot.parameter.name + ".second_moment", slot.second_moment);
      }
    }
    return tensors;
  }

  void load_state(const std::map<std::string, Tensor>& state) override {
    steps_ = static_cast<std::int64_t>(find_state(state, "step", {1}).item());
    for (Slot& slot : slots_) {
      if (slot.rows.defined()) {
        slot.rows.copy_from(find_state(state, slot.parameter.name + ".row_second_moment", slot.rows.shape()));
        slot.columns.copy_from(
            find_state(state, slot.parameter.name + ".column_second_moment", slot.columns.shape()));
      } else {
        slot.second_moment.copy_from(
            find_state(state, slot.parameter.name + ".second_moment", slot.second_moment.shape()));
      }
    }
  }

 private:
  struct Slot {
    nn::NamedParameter parameter;
    Tensor rows;
    Tensor columns;
    Tensor second_moment;
  };
  AdafactorOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace

bool decays_by_default(const nn::NamedParameter& parameter) {
  const bool embedding = parameter.name.find("embedding") != std::string::npos ||
                         parameter.name.find("relative_bias") != std::string::npos;
  return parameter.variable.value().dim() >= 2 && !embedding;
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
