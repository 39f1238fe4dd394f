#include "primer/tensor/tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "primer/tensor/device_transfers.h"

namespace primer {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (const std::int64_t size : shape) {
    PRIMER_CHECK(size >= 0, "empty: negative size in shape {}", to_string(shape));
  }
  Tensor tensor;
  tensor.storage_ =
      std::make_shared<Storage>(static_cast<std::size_t>(primer::numel(shape)) * dtype_size(dtype), device);
  tensor.shape_ = shape;
  tensor.strides_ = contiguous_strides(shape);
  tensor.dtype_ = dtype;
  return tensor;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor tensor = empty(shape, dtype, device);
  tensor.fill(value);
  return tensor;
}

std::int64_t Tensor::normalize_dim(std::int64_t dim) const {
  const std::int64_t rank = this->dim();
  const std::int64_t normalized = dim < 0 ? dim + rank : dim;
  PRIMER_CHECK(normalized >= 0 && normalized < rank, "dimension {} out of range for {}", dim, describe());
  return normalized;
}

bool Tensor::is_contiguous() const {
  std::int64_t expected = 1;
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Tensor::sole_view_of_its_storage() const {
  return defined() && storage_.use_count() == 1 && offset_ == 0 && is_contiguous() &&
         storage_->nbytes() == static_cast<std::size_t>(numel()) * dtype_size(dtype_);
}

void* Tensor::data_ptr() const {
  PRIMER_CHECK(defined(), "data access on an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(dtype_size(dtype_));
}

Tensor Tensor::view(const Shape& shape) const {
  PRIMER_CHECK(is_contiguous(), "view {} of non-contiguous {}: use reshape", to_string(shape), describe());
  Shape resolved = shape;
  const auto inferred = std::find(resolved.begin(), resolved.end(), -1);
  if (inferred != resolved.end()) {
    *inferred = 1;
    const std::int64_t known = primer::numel(resolved);
    PRIMER_CHECK(known > 0 && numel() % known == 0, "view {} does not fit {}", to_string(shape), describe());
    *inferred = numel() / known;
  }
  PRIMER_CHECK(primer::numel(resolved) == numel(), "view {} has {} elements but {} has {}", to_string(shape),
               primer::numel(resolved), describe(), numel());
  Tensor result = *this;
  result.shape_ = resolved;
  result.strides_ = contiguous_strides(resolved);
  return result;
}

Tensor Tensor::reshape(const Shape& shape) const {
  return contiguous().view(shape);
}

Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(dim()));
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_dim(dim0)], order[normalize_dim(dim1)]);
  return permute(order);
}

Tensor Tensor::permute(const std::vector<std::int64_t>& order) const {
  PRIMER_CHECK(static_cast<std::int64_t>(order.size()) == dim(), "permute of {} needs {} dimensions, got {}",
               describe(), dim(), order.size());
  Tensor result = *this;
  std::vector<bool> seen(order.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::int64_t source = normalize_dim(order[i]);
    PRIMER_CHECK(!seen[source], "permute of {}: dimension {} repeated", describe(), source);
    seen[source] = true;
    result.shape_[i] = shape_[source];
    result.strides_[i] = strides_[source];
  }
  return result;
}

Tensor Tensor::slice(std::int64_t dim, std::int64_t start, std::int64_t end) const {
  const std::int64_t d = normalize_dim(dim);
  PRIMER_CHECK(0 <= start && start <= end && end <= shape_[d], "slice [{}, {}) of dimension {} of {}", start,
               end, d, describe());
  Tensor result = *this;
  result.offset_ += start * strides_[d];
  result.shape_[d] = end - start;
  return result;
}

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape_, dtype_, device());
  copy.copy_from(*this);
  return copy;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor converted = empty(shape_, dtype, device());
  converted.copy_from(*this);
  return converted;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor moved = empty(shape_, dtype_, device);
  moved.copy_from(*this);
  return moved;
}

void Tensor::copy_from(const Tensor& source) const {
  check_same_shape(*this, source, "copy");
  // Between host and a device, the device's transfers move the data.
  const Device mover = device().kind != DeviceKind::cpu ? device() : source.device();
  PRIMER_CHECK(device() == source.device() || device().kind == DeviceKind::cpu ||
                   source.device().kind == DeviceKind::cpu,
               "copy from {} to {}: copies between two devices go through the host", source.describe(),
               describe());
  if (numel() > 0) transfers_for(mover.kind).copy(source, *this);
}

void Tensor::fill(double value) const {
  if (numel() > 0) transfers_for(device().kind).fill(*this, value);
}

double Tensor::item() const {
  PRIMER_CHECK(numel() == 1, "item() of {}: needs exactly one element", describe());
  return to_vector<double>()[0];
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("{}{} {}", dtype_name(dtype_), to_string(shape_), device().name());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  PRIMER_CHECK(a.shape() == b.shape(), "{}: shapes differ: {} vs {}", op, a.describe(), b.describe());
}

}  // namespace primer
