// The CUDA interpret mode against kernels with the defects it exists to catch, each planted on purpose:
// a missing __syncthreads, a missing __syncwarp, a missing __syncthreads at the top of a loop (caught
// under the warp-first thread order only), barriers a block cannot all reach, a warp step naming an exited
// lane, a launch beyond the device's shared memory, a pointer argument from the host, a missing
// cudaStreamWaitEvent between two streams and a pinned buffer refilled before its copy ran (both in the
// deferred stream mode), and (in the AddressSanitizer build) reads one past a shared or a global buffer
// and a host read of device memory.
// Each kernel also runs in a correct form, so a test fails if the emulator stops running good code. Compiled
// with primer_interpret/device.h force-included, like the project's .cu files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "launch.cuh"

namespace {

constexpr int kThreads = 64;

// out[i] = in[i + 1 (mod 64)] through shared memory; `synchronized` puts the barrier between the write
// and the read.
__global__ void rotate_kernel(const float* in, float* out, bool synchronized) {
  PRIMER_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x] = in[threadIdx.x];
  if (synchronized) __syncthreads();
  out[threadIdx.x] = tile[(threadIdx.x + 1) % kThreads];
}

// The same within a warp, with __syncwarp as the barrier.
__global__ void warp_rotate_kernel(const float* in, float* out, bool synchronized) {
  PRIMER_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x] = in[threadIdx.x];
  if (synchronized) __syncwarp();
  out[threadIdx.x] = tile[(threadIdx.x + 1) % 32];
}

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// Tiles of 64 through shared memory: each warp sums the other warp's half of every tile. Without the
// barrier at the top of the loop a warp may load the next tile while the other still reads this one.
__global__ void tiled_sum_kernel(const float* in, int tiles, float* out, bool synchronized) {
  PRIMER_DYNAMIC_SHARED(float, tile);
  float total = 0.0f;
  for (int t = 0; t < tiles; ++t) {
    if (synchronized) __syncthreads();
    tile[threadIdx.x] = in[t * kThreads + threadIdx.x];
    __syncthreads();
    total += warp_sum(tile[(threadIdx.x + 32) % kThreads]);
  }
  out[threadIdx.x] = total;
}

__global__ void fill_kernel(float* out, float value) {
  out[threadIdx.x] = value;
}

__global__ void copy_kernel(const float* in, float* out) {
  out[threadIdx.x] = in[threadIdx.x];
}

__global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x < 32) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void exited_lane_kernel(float* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = warp_sum(1.0f);
}

#if defined(__SANITIZE_ADDRESS__)
__global__ void read_past_kernel(const float* in, float* out, int count) {
  out[threadIdx.x] = in[threadIdx.x + count];
}

__global__ void shared_past_kernel(float* out) {
  PRIMER_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x + 1];
}
#endif

class DeviceBuffer {
 public:
  explicit DeviceBuffer(const std::vector<float>& values) : count_(values.size()) {
    EXPECT_EQ(cudaMalloc(&data_, count_ * sizeof(float)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(data_, values.data(), count_ * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* get() const { return static_cast<float*>(data_); }
  std::vector<float> read() const {
    std::vector<float> values(count_);
    EXPECT_EQ(cudaMemcpy(values.data(), data_, count_ * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return values;
  }

 private:
  void* data_ = nullptr;
  std::size_t count_;
};

std::vector<float> iota(int count) {
  std::vector<float> values(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) values[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return values;
}

// Whether PRIMER_INTERPRET (the interpret mode's settings) holds `setting`.
bool interpret_setting(const std::string& setting) {
  const char* settings = std::getenv("PRIMER_INTERPRET");
  std::istringstream items(settings != nullptr ? settings : "");
  for (std::string item; std::getline(items, item, ',');) {
    if (item == setting) return true;
  }
  return false;
}

std::vector<float> rotated(int count, int period) {
  std::vector<float> expected(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    expected[static_cast<std::size_t>(i)] = static_cast<float>((i + 1) % period);
  return expected;
}

TEST(PlantedDefects, AMissingSyncthreadsReadsUnwrittenSharedMemory) {
  const DeviceBuffer in(iota(kThreads)), out{std::vector<float>(kThreads)};
  PRIMER_LAUNCH(rotate_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in.get(), out.get(), true);
  EXPECT_EQ(out.read(), rotated(kThreads, kThreads));
  PRIMER_LAUNCH(rotate_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in.get(), out.get(), false);
  EXPECT_NE(out.read(), rotated(kThreads, kThreads)) << "the missing __syncthreads went unseen";
}

TEST(PlantedDefects, AMissingSyncwarpReadsUnwrittenSharedMemory) {
  const DeviceBuffer in(iota(32)), out{std::vector<float>(32)};
  PRIMER_LAUNCH(warp_rotate_kernel, 1, 32, 32 * sizeof(float), nullptr, in.get(), out.get(), true);
  EXPECT_EQ(out.read(), rotated(32, 32));
  PRIMER_LAUNCH(warp_rotate_kernel, 1, 32, 32 * sizeof(float), nullptr, in.get(), out.get(), false);
  EXPECT_NE(out.read(), rotated(32, 32)) << "the missing __syncwarp went unseen";
}

TEST(PlantedDefects, AMissingLoopTopSyncthreadsShowsUnderTheWarpOrder) {
  constexpr int kTiles = 4;
  const DeviceBuffer in(iota(kTiles * kThreads)), out{std::vector<float>(kThreads)};
  std::vector<float> expected(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    const int other_half = i < 32 ? 32 : 0;
    for (int t = 0; t < kTiles; ++t) {
      for (int j = 0; j < 32; ++j)
        expected[static_cast<std::size_t>(i)] += static_cast<float>(t * kThreads + other_half + j);
    }
  }
  PRIMER_LAUNCH(tiled_sum_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in.get(), kTiles, out.get(),
                true);
  EXPECT_EQ(out.read(), expected);
  PRIMER_LAUNCH(tiled_sum_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, in.get(), kTiles, out.get(),
                false);
  if (interpret_setting("order=warp")) {
    EXPECT_NE(out.read(), expected) << "the missing loop-top __syncthreads went unseen under the warp order";
  } else {
    GTEST_SKIP() << "shows under PRIMER_INTERPRET=order=warp only (ctest runs it so)";
  }
}

TEST(PlantedDefects, BarriersAtDifferentPlacesAreNamed) {
  const DeviceBuffer out{std::vector<float>(kThreads)};
  try {
    PRIMER_LAUNCH(divergent_barrier_kernel, 1, kThreads, 0, nullptr, out.get());
    cudaDeviceSynchronize();  // where a deferred launch runs
    ADD_FAILURE() << "divergent __syncthreads went unseen";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("threads wait at different __syncthreads"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("divergent_barrier_kernel"), std::string::npos) << error.what();
  }
}

TEST(PlantedDefects, AWarpStepNamingAnExitedLaneIsNamed) {
  const DeviceBuffer out{std::vector<float>(32)};
  try {
    PRIMER_LAUNCH(exited_lane_kernel, 1, 32, 0, nullptr, out.get());
    cudaDeviceSynchronize();
    ADD_FAILURE() << "a shuffle over an exited lane went unseen";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("which has exited"), std::string::npos) << error.what();
  }
}

TEST(PlantedDefects, LaunchesBeyondTheDeviceAreRefused) {
  const DeviceBuffer out{std::vector<float>(kThreads)};
  (void)cudaGetLastError();
  PRIMER_LAUNCH(rotate_kernel, 1, kThreads, 64 * 1024, nullptr, out.get(), out.get(), true);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue) << "64 KiB of dynamic shared memory without opting in";
  EXPECT_EQ(cudaFuncSetAttribute(rotate_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 240 * 1024),
            cudaErrorInvalidValue)
      << "240 KiB is more than any profile allows";
  PRIMER_LAUNCH(rotate_kernel, 1, 2048, 0, nullptr, out.get(), out.get(), true);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration) << "2048 threads in a block";
  std::vector<float> host(kThreads);
  PRIMER_LAUNCH(rotate_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, host.data(), out.get(), true);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration) << "a host pointer as a kernel argument";
}

// A copy from pinned host memory reads the buffer when it runs: a buffer refilled before its queued copy
// has run sends the new bytes, not the ones there at the call (what a pinned staging pool must prevent).
TEST(PlantedDefects, APinnedBufferChangedBeforeItsCopyRunsShowsInTheDeferredStreamMode) {
  if (!interpret_setting("streams=deferred"))
    GTEST_SKIP() << "shows under PRIMER_INTERPRET=streams=deferred only (ctest runs it so)";
  const DeviceBuffer out{std::vector<float>(4)};
  float* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(reinterpret_cast<void**>(&pinned), 4 * sizeof(float), cudaHostAllocDefault),
            cudaSuccess);
  std::fill(pinned, pinned + 4, 1.0f);
  ASSERT_EQ(cudaMemcpyAsync(out.get(), pinned, 4 * sizeof(float), cudaMemcpyHostToDevice, nullptr),
            cudaSuccess);
  std::fill(pinned, pinned + 4, 2.0f);
  EXPECT_EQ(out.read(), std::vector<float>(4, 2.0f)) << "the copy read the pinned buffer when it was queued";
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
}

// One stream fills a buffer, another copies it: only cudaStreamWaitEvent orders them.
TEST(PlantedDefects, AMissingStreamWaitShowsInTheDeferredStreamMode) {
  if (!interpret_setting("streams=deferred"))
    GTEST_SKIP() << "shows under PRIMER_INTERPRET=streams=deferred only (ctest runs it so)";
  const DeviceBuffer buffer{std::vector<float>(32)}, out{std::vector<float>(32)};
  cudaStream_t producer = nullptr, consumer = nullptr;
  cudaEvent_t filled = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&consumer, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&filled, cudaEventDisableTiming), cudaSuccess);
  for (const bool waits : {true, false}) {
    PRIMER_LAUNCH(fill_kernel, 1, 32, 0, producer, buffer.get(), waits ? 1.0f : 2.0f);
    cudaEventRecord(filled, producer);
    if (waits) cudaStreamWaitEvent(consumer, filled, 0);
    PRIMER_LAUNCH(copy_kernel, 1, 32, 0, consumer, buffer.get(), out.get());
    cudaStreamSynchronize(consumer);
    cudaDeviceSynchronize();
    if (waits) {
      EXPECT_EQ(out.read(), std::vector<float>(32, 1.0f));
    } else {
      EXPECT_NE(out.read(), std::vector<float>(32, 2.0f)) << "the missing cudaStreamWaitEvent went unseen";
    }
  }
  cudaEventDestroy(filled);
  cudaStreamDestroy(consumer);
  cudaStreamDestroy(producer);
}

#if defined(__SANITIZE_ADDRESS__)
TEST(PlantedDefectsDeathTest, AReadPastAGlobalBufferIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const DeviceBuffer in(iota(kThreads)), out{std::vector<float>(kThreads)};
  EXPECT_DEATH(PRIMER_LAUNCH(read_past_kernel, 1, kThreads, 0, nullptr, in.get(), out.get(), 1),
               "AddressSanitizer");
}

TEST(PlantedDefectsDeathTest, AReadPastDynamicSharedMemoryIsReported) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const DeviceBuffer out{std::vector<float>(kThreads)};
  EXPECT_DEATH(PRIMER_LAUNCH(shared_past_kernel, 1, kThreads, kThreads * sizeof(float), nullptr, out.get()),
               "AddressSanitizer");
}
#endif

TEST(PlantedDefectsDeathTest, AHostReadOfDevicePointerIsNamed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const DeviceBuffer buffer(iota(4));
  const volatile float* device = buffer.get();
  EXPECT_DEATH((void)device[1], "the host touched device memory");
}

}  // namespace
