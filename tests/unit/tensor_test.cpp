// Tensor: shapes, strides, views, copies, dtype conversion, allocator, and the errors they raise.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "counting_allocator.h"
#include "primer/backend/backend.h"
#include "primer/backend/cuda_info.h"
#include "primer/tensor/allocator.h"
#include "primer/tensor/random.h"
#include "primer/tensor/tensor.h"

namespace primer {
namespace {

Tensor arange(std::int64_t count, const Shape& shape) {
  std::vector<float> values(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) values[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return Tensor::from_vector(values, shape);
}

TEST(Tensor, EmptyHasContiguousRowMajorStrides) {
  const Tensor t = Tensor::empty({2, 3, 5}, DType::f32);
  EXPECT_EQ(t.strides(), (Strides{15, 5, 1}));
  EXPECT_EQ(t.numel(), 30);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.describe(), "f32[2, 3, 5] cpu");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 64, 0u);
}

TEST(Tensor, TransposeIsAViewAndContiguousCopies) {
  const Tensor t = arange(6, {2, 3});
  const Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.storage(), t.storage());
  EXPECT_EQ(tt.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  const Tensor c = tt.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.storage(), t.storage());
}

TEST(Tensor, PermuteSliceAndReshape) {
  const Tensor t = arange(2 * 3 * 4, {2, 3, 4});
  const Tensor p = t.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.to_vector<float>()[1], 4.0f);   // p[0, 0, 1] = t[0, 1, 0]
  EXPECT_EQ(p.to_vector<float>()[3], 12.0f);  // p[0, 1, 0] = t[1, 0, 0]
  const Tensor s = t.slice(2, 1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.to_vector<float>()[0], 1.0f);
  EXPECT_EQ(s.to_vector<float>()[3], 6.0f);
  const Tensor r = s.reshape({-1});
  EXPECT_EQ(r.shape(), (Shape{12}));
  EXPECT_EQ(t.view({4, -1}).shape(), (Shape{4, 6}));
}

TEST(Tensor, CopyConvertsBetweenDtypesThroughStrides) {
  const Tensor t = arange(6, {2, 3});
  const Tensor as_double = t.transpose(0, 1).to(DType::f64);
  EXPECT_EQ(as_double.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  const Tensor as_int = t.to(DType::i32);
  EXPECT_EQ(as_int.to_vector<std::int32_t>()[5], 5);
  Tensor target = Tensor::zeros({3, 2}, DType::bf16);
  target.copy_from(t.transpose(0, 1));
  EXPECT_EQ(target.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, FillWritesThroughAStridedView) {
  const Tensor t = Tensor::zeros({3, 4}, DType::f32);
  t.slice(1, 1, 2).fill(7.0);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0}));
}

TEST(BFloat16, RoundsToNearestEvenAndKeepsSpecials) {
  EXPECT_EQ(static_cast<float>(bfloat16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(bfloat16(1.00390625f)), 1.0f);       // halfway: ties to even
  EXPECT_EQ(static_cast<float>(bfloat16(1.01171875f)), 1.015625f);  // halfway: ties to even (up)
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isinf(static_cast<float>(bfloat16(std::numeric_limits<float>::infinity()))));
  EXPECT_EQ(Tensor::zeros({3}, DType::bf16).storage()->nbytes(), 6u);
}

TEST(Tensor, ErrorsNameTheShapes) {
  const Tensor t = Tensor::empty({2, 3}, DType::f32);
  try {
    (void)t.view({4, 2});
    FAIL() << "view with the wrong element count must throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("f32[2, 3] cpu"), std::string::npos) << error.what();
  }
  EXPECT_THROW((void)t.transpose(0, 1).view({6}), Error);
  EXPECT_THROW((void)t.slice(1, 2, 4), Error);
  EXPECT_THROW((void)t.data<double>(), Error);
  EXPECT_THROW(t.copy_from(Tensor::empty({3, 2}, DType::f32)), Error);
  if (cuda_info().device_count == 0) {
    EXPECT_THROW((void)Tensor::empty({2, 3}, DType::f32, Device::cuda()).numel(), Error);
  }
}

TEST(Allocator, IsPluggableAndStorageIsReferenceCounted) {
  testing::CountingAllocator counting(DeviceKind::cpu);
  {
    const Tensor t = Tensor::empty({4, 4}, DType::f32);
    const Tensor view = t.transpose(0, 1);
    EXPECT_EQ(counting.allocations, 1);
    EXPECT_EQ(counting.deallocations, 0);
  }
  EXPECT_EQ(counting.deallocations, 1);
}

#if !defined(__SANITIZE_ADDRESS__)
// A training step allocates the same activations and weight gradients every time; the CPU allocator
// hands a freed block back, untouched, for the next request of its size instead of returning it to the
// kernel (whose fresh pages would fault in again). 256 KiB: a 256 x 256 weight's gradient.
TEST(Allocator, ReusesAFreedBlockOfTheSameSizeUntouched) {
  Allocator& cpu = allocator_for(DeviceKind::cpu);
  for (const std::size_t size : {std::size_t{256} << 10, std::size_t{3} << 20}) {
    SCOPED_TRACE(size);
    auto* first = static_cast<unsigned char*>(cpu.allocate(size, Device::cpu()));
    std::memset(first, 0xAB, size);
    cpu.deallocate(first, size, Device::cpu());
    auto* second = static_cast<unsigned char*>(cpu.allocate(size, Device::cpu()));
    EXPECT_EQ(second, first);
    EXPECT_TRUE(std::all_of(second, second + 64, [](unsigned char b) { return b == 0xAB; }));
    void* other_size = cpu.allocate(size + 4096, Device::cpu());
    EXPECT_NE(other_size, first);
    cpu.deallocate(second, size, Device::cpu());
    cpu.deallocate(other_size, size + 4096, Device::cpu());
  }
}
#endif

TEST(Generator, IsDeterministicBySeed) {
  Generator a(7), b(7), c(8);
  EXPECT_EQ(randn({5}, DType::f32, a).to_vector<float>(), randn({5}, DType::f32, b).to_vector<float>());
  EXPECT_NE(randn({5}, DType::f32, a).to_vector<float>(), randn({5}, DType::f32, c).to_vector<float>());
  Generator d(3);
  const std::vector<double> normals = randn({20000}, DType::f64, d).to_vector<double>();
  double mean = 0.0, squares = 0.0;
  for (const double v : normals) {
    mean += v;
    squares += v * v;
  }
  mean /= 20000.0;
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(squares / 20000.0 - mean * mean, 1.0, 0.05);
}

}  // namespace
}  // namespace primer

// Denormal operands cost a microcode assist per element on x86 (a training step seven times slower once
// attention's probabilities fell under 1.2e-38): the CPU backend flushes them to zero on every thread.
TEST(CpuBackend, FlushesDenormalsToZeroOnEveryThread) {
  primer::backend_for(primer::Device::cpu());
  const float smallest_normal = std::numeric_limits<float>::min();
  std::vector<float> products(static_cast<std::size_t>(omp_get_max_threads()), -1.0f);
#pragma omp parallel
  {
    volatile float operand = smallest_normal;
    products[static_cast<std::size_t>(omp_get_thread_num())] = operand * 0.5f;
  }
  volatile float operand = smallest_normal;
  EXPECT_EQ(operand * 0.5f, 0.0f) << "the main thread keeps denormals";
  for (std::size_t thread = 0; thread < products.size(); ++thread)
    EXPECT_EQ(products[thread], 0.0f) << "OpenMP thread " << thread << " keeps denormals";
}
