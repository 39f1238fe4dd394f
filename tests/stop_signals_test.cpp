// SIGTERM sent again and again while f32 products run (oneDNN's GEMMs, as in a training step), in a
// process that takes its stop signals on their own thread as primer-train does: the process lives, every
// product equals the first one bit for bit, and StopRequests heard the signal.
// With --handler-only the signals go to a handler on whichever thread they reach, as primer-train's did
// before: where oneDNN's JIT f32 GEMM runs (x86-64 with AVX2 or AVX-512), the heap is soon corrupted and
// the process dies (uxlfoundation/oneDNN#4845). That mode is for watching this test fail, not for CI.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "primer/ops/linear.h"
#include "primer/tensor/random.h"
#include "primer/train/stop_signals.h"

int main(int argc, char** argv) {
  const bool handler_only = argc > 1 && std::string_view(argv[1]) == "--handler-only";
  if (!handler_only) primer::train::take_stop_signals_on_their_own_thread();
  const primer::train::StopRequests stop_requests;

  // A tiny model's products, forward and backward: a linear layer's y = x w^T, dx = dy w, dw = dy^T x at
  // its FFN's shape and at its LM head's (a vocabulary of 4096), whose products use oneDNN's kernels
  // with and without transposed operands.
  primer::Generator generator(7);
  const auto random = [&](std::int64_t rows, std::int64_t columns) {
    return primer::randn({rows, columns}, primer::DType::f32, generator);
  };
  std::vector<std::pair<primer::Tensor, primer::Tensor>> operands;
  for (const std::int64_t width : {512, 4096}) {
    const primer::Tensor x = random(1024, 128), w = random(width, 128), dy = random(1024, width);
    operands.emplace_back(x, w.transpose(0, 1));
    operands.emplace_back(dy, w);
    operands.emplace_back(dy.transpose(0, 1), x);
  }
  const auto product = [&] {
    std::vector<float> values;
    for (const auto& [a, b] : operands) {
      const primer::Tensor out = primer::Tensor::empty({a.size(0), b.size(1)}, primer::DType::f32);
      primer::ops::matmul_into(a, b, primer::Tensor(), out);
      values.insert(values.end(), out.data<float>(), out.data<float>() + out.numel());
    }
    return values;
  };
  const std::vector<float> expected = product();

  std::atomic<bool> done{false};
  std::atomic<long> sent{0};
  std::thread sender([&] {
    while (!done.load()) {
      ::kill(::getpid(), SIGTERM);
      sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  long products = 0, differing = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (std::chrono::steady_clock::now() < end) {
    const std::vector<float> result = product();
    if (std::memcmp(result.data(), expected.data(), expected.size() * sizeof(float)) != 0) ++differing;
    ++products;
  }
  done.store(true);
  sender.join();
  fmt::print("{} products under {} SIGTERMs ({}): {} differ from the first; the run heard signal {}\n",
             products, sent.load(), handler_only ? "a handler on any thread" : "taken on their own thread",
             differing, stop_requests.signal());
  return differing == 0 && stop_requests.signal() == SIGTERM ? EXIT_SUCCESS : EXIT_FAILURE;
}
