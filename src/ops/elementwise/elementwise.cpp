#include "primer/ops/elementwise.h"

#include "primer/autograd/record.h"
#include "primer/backend/backend.h"
#include "primer/backend/op_profiler.h"

namespace primer::ops {
namespace {

Backend& kernels(const Tensor& t) {
  return backend_for(t.device());
}

Tensor scaled(const Tensor& x, double factor) {
  Tensor out = Tensor::empty_like(x);
  kernels(x).scale(x, factor, out);
  return out;
}

Tensor elementwise_product(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty_like(a);
  kernels(a).multiply(a, b, out);
  return out;
}

Tensor combine(const Tensor& a, double alpha, const Tensor& b, double beta, const char* op) {
  check_same_shape(a, b, op);
  Tensor out = Tensor::empty_like(a);
  kernels(a).add_scaled(a.contiguous(), alpha, b.contiguous(), beta, out);
  return out;
}

std::vector<std::int64_t> inverse(const std::vector<std::int64_t>& order) {
  std::vector<std::int64_t> result(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::int64_t source = order[i] < 0 ? order[i] + static_cast<std::int64_t>(order.size()) : order[i];
    result[static_cast<std::size_t>(source)] = static_cast<std::int64_t>(i);
  }
  return result;
}

}  // namespace

Variable add(const Variable& a, const Variable& b) {
  const ProfileScope profile("add", a.device());
  return record(combine(a.value(), 1.0, b.value(), 1.0, "add"), "add", {a, b}, [](const Tensor& g) {
    return std::vector<Tensor>{g, g};
  });
}

Variable sub(const Variable& a, const Variable& b) {
  const ProfileScope profile("sub", a.device());
  return record(combine(a.value(), 1.0, b.value(), -1.0, "sub"), "sub", {a, b}, [](const Tensor& g) {
    return std::vector<Tensor>{g, scaled(g, -1.0)};
  });
}

Variable mul(const Variable& a, const Variable& b) {
  const ProfileScope profile("mul", a.device());
  check_same_shape(a.value(), b.value(), "mul");
  const Tensor av = a.value().contiguous();
  const Tensor bv = b.value().contiguous();
  return record(elementwise_product(av, bv), "mul", {a, b}, [av, bv](const Tensor& g) {
    return std::vector<Tensor>{elementwise_product(g, bv), elementwise_product(g, av)};
  });
}

Variable scale(const Variable& x, double factor) {
  const ProfileScope profile("scale", x.device());
  return record(scaled(x.value().contiguous(), factor), "scale", {x},
                [factor](const Tensor& g) { return std::vector<Tensor>{scaled(g, factor)}; });
}

Variable sum(const Variable& x) {
  const ProfileScope profile("sum", x.device());
  const Tensor xv = x.value().contiguous();
  Tensor out = Tensor::empty({1}, xv.dtype(), xv.device());
  kernels(xv).sum(xv, out);
  return record(out, "sum", {x},
                [shape = xv.shape(), dtype = xv.dtype(), device = xv.device()](const Tensor& g) {
                  return std::vector<Tensor>{Tensor::full(shape, g.item(), dtype, device)};
                });
}

Variable mean(const Variable& x) {
  const ProfileScope profile("mean", x.device());
  return scale(sum(x), 1.0 / static_cast<double>(x.value().numel()));
}

Variable reshape(const Variable& x, const Shape& shape) {
  return record(x.value().reshape(shape), "reshape", {x},
                [original = x.shape()](const Tensor& g) { return std::vector<Tensor>{g.reshape(original)}; });
}

Variable permute(const Variable& x, const std::vector<std::int64_t>& order) {
  return record(
      x.value().permute(order).contiguous(), "permute", {x},
      [back = inverse(order)](const Tensor& g) { return std::vector<Tensor>{g.permute(back).contiguous()}; });
}

Variable transpose(const Variable& x, std::int64_t dim0, std::int64_t dim1) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(x.value().dim()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  const auto rank = static_cast<std::int64_t>(order.size());
  std::swap(order[static_cast<std::size_t>((dim0 + rank) % rank)],
            order[static_cast<std::size_t>((dim1 + rank) % rank)]);
  return permute(x, order);
}

}  // namespace primer::ops
