// The emulated device's memory: cudaFree of one block leaves every other block's bytes as they were,
// including blocks that share a page with it (the arena hands pages back to the kernel only where no
// live block touches them).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

namespace {

TEST(DeviceMemory, FreeingABlockLeavesItsNeighboursOnTheSamePage) {
  std::vector<void*> blocks(12);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(cudaMalloc(&blocks[i], 400), cudaSuccess);
    const std::vector<float> values(100, static_cast<float>(i + 1));
    ASSERT_EQ(cudaMemcpy(blocks[i], values.data(), 400, cudaMemcpyHostToDevice), cudaSuccess);
  }
  for (std::size_t i = 0; i < blocks.size(); i += 2) ASSERT_EQ(cudaFree(blocks[i]), cudaSuccess);
  for (std::size_t i = 1; i < blocks.size(); i += 2) {
    std::vector<float> values(100);
    ASSERT_EQ(cudaMemcpy(values.data(), blocks[i], 400, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(values, std::vector<float>(100, static_cast<float>(i + 1))) << "block " << i;
    cudaFree(blocks[i]);
  }
}

}  // namespace
