#pragma once
// Tensor: a strided view (shape, strides, offset, dtype) over reference-counted device storage.
// Views (view, reshape, transpose, permute, slice) share storage; copies go through the backend of the
// tensor's device, so the same code serves CPU and CUDA tensors.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "primer/core/error.h"
#include "primer/tensor/device.h"
#include "primer/tensor/dtype.h"
#include "primer/tensor/shape.h"
#include "primer/tensor/storage.h"

namespace primer {

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype, Device device = Device::cpu());
  static Tensor empty_like(const Tensor& other) {
    return empty(other.shape(), other.dtype(), other.device());
  }
  static Tensor zeros_like(const Tensor& other) {
    return zeros(other.shape(), other.dtype(), other.device());
  }
  // A CPU tensor holding a copy of values.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  std::int64_t dim() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t size(std::int64_t dim) const { return shape_[normalize_dim(dim)]; }
  std::int64_t stride(std::int64_t dim) const { return strides_[normalize_dim(dim)]; }
  std::int64_t numel() const { return primer::numel(shape_); }
  std::int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  bool is_contiguous() const;
  // No other tensor shares this one's storage, and it spans all of it: whoever holds it may keep it or
  // write into it in place without anyone else seeing the change.
  bool sole_view_of_its_storage() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* data_ptr() const;
  template <class T>
  T* data() const {
    PRIMER_CHECK(dtype_ == dtype_of<T>(), "tensor {} accessed as {}", describe(), dtype_name(dtype_of<T>()));
    return static_cast<T*>(data_ptr());
  }

  Tensor view(const Shape& shape) const;     // contiguous tensors only; one size may be -1
  Tensor reshape(const Shape& shape) const;  // a view when contiguous, a copy otherwise
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor permute(const std::vector<std::int64_t>& order) const;
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end) const;

  Tensor contiguous() const;  // this tensor when already contiguous
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;              // a copy on `device` (this tensor when already there)
  void copy_from(const Tensor& source) const;  // equal shapes; any strides, dtypes, host <-> device
  void fill(double value) const;

  template <class T>
  std::vector<T> to_vector() const;
  double item() const;
  std::string describe() const;  // e.g. "f32[2, 3] cpu"

 private:
  std::int64_t normalize_dim(std::int64_t dim) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  std::int64_t offset_ = 0;
  DType dtype_ = DType::f32;
};

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  PRIMER_CHECK(static_cast<std::int64_t>(values.size()) == primer::numel(shape),
               "from_vector: {} values do not fill shape {}", values.size(), to_string(shape));
  Tensor tensor = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(tensor.data_ptr(), values.data(), values.size() * sizeof(T));
  return tensor;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor host = to(Device::cpu()).to(dtype_of<T>()).contiguous();
  std::vector<T> values(static_cast<std::size_t>(host.numel()));
  if (!values.empty()) std::memcpy(values.data(), host.data_ptr(), values.size() * sizeof(T));
  return values;
}

// Every dimension equal, or a primer::Error naming both tensors and the operation.
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);

}  // namespace primer
