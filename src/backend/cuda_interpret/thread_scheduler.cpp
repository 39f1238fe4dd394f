// Runs a grid: blocks one after another, each block's threads as fibers (Boost.Context) on the calling OS
// thread, switched only where a thread waits: at __syncthreads, which releases when every live thread of
// the block has arrived, and at the warp's collective steps, which release when every lane in the mask
// has. Which waiting thread runs next is a policy (PRIMER_INTERPRET=order=...): `forward` and `reverse` go
// round the threads in index order, `warp` runs the lowest warp as far as it can get before any other,
// which is what exposes a missing __syncthreads at the top of a loop. When nothing can run, the scheduler
// says why instead of hanging.
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sys/mman.h>
#include <boost/context/fiber.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "device_memory.h"
#include "device_profile.h"
#include "options.h"
#include "primer_interpret/execution.h"
#include "race_check.h"
#include "runtime_state.h"
#include "stream_queue.h"

namespace primer::interpret {
namespace {

namespace context = boost::context;

enum class Order { forward, reverse, warp };

Order order_from_environment() {
  const std::string wanted = interpret_option("order", "forward");
  if (wanted == "forward") return Order::forward;
  if (wanted == "reverse") return Order::reverse;
  if (wanted == "warp") return Order::warp;
  throw std::runtime_error("PRIMER_INTERPRET: order=" + wanted +
                           " is not a thread order (forward, reverse, warp)");
}

Order order() {
  static const Order chosen = order_from_environment();
  return chosen;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kStackBytes = std::size_t{512} << 10;
#else
constexpr std::size_t kStackBytes = std::size_t{128} << 10;
#endif
constexpr std::size_t kGuardBytes = 4096;

// Fiber stacks, kept for the next block: mmap'd with a guard page below each, so an overflow faults.
class StackPool {
 public:
  ~StackPool() {
    for (void* region : free_) munmap(region, kStackBytes + kGuardBytes);
  }
  context::stack_context allocate() {
    void* region = nullptr;
    if (!free_.empty()) {
      region = free_.back();
      free_.pop_back();
    } else {
      region = mmap(nullptr, kStackBytes + kGuardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
      if (region == MAP_FAILED) throw std::bad_alloc();
      mprotect(region, kGuardBytes, PROT_NONE);
    }
    context::stack_context stack;
    stack.size = kStackBytes;
    stack.sp = static_cast<char*>(region) + kGuardBytes + kStackBytes;
    return stack;
  }
  void deallocate(context::stack_context& stack) {
    char* region = static_cast<char*>(stack.sp) - kStackBytes - kGuardBytes;
    ASAN_UNPOISON_MEMORY_REGION(region + kGuardBytes, kStackBytes);
    free_.push_back(region);
  }

 private:
  std::vector<void*> free_;
};

StackPool& stack_pool() {
  static thread_local StackPool pool;
  return pool;
}

// Where a stack lies, for AddressSanitizer's fiber annotations.
struct StackBounds {
  const void* bottom = nullptr;
  std::size_t size = 0;
};

struct PooledStack {
  StackBounds* bounds;  // told where the stack it hands out lies
  context::stack_context allocate() {
    context::stack_context stack = stack_pool().allocate();
    *bounds = {static_cast<char*>(stack.sp) - stack.size, stack.size};
    return stack;
  }
  void deallocate(context::stack_context& stack) { stack_pool().deallocate(stack); }
};

constexpr std::size_t kSharedAlignment = 128;

struct AlignedDelete {
  void operator()(unsigned char* pointer) const {
    ::operator delete[](pointer, std::align_val_t{kSharedAlignment});
  }
};

class DeviceFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure that already names its kernel, block and thread.
class LocatedFailure : public DeviceFailure {
 public:
  using DeviceFailure::DeviceFailure;
};

enum class State { runnable, block_barrier, warp_collective, exited };

struct Worker;

struct Thread {
  ThreadPosition position{};
  Worker* worker = nullptr;  // the fiber running it, unless it runs on the scheduler's stack
  State state = State::runnable;
  const char* file = "";
  int line = 0;
  unsigned mask = 0;
  WarpCombine combine = nullptr;
  void* input = nullptr;
  void* output = nullptr;
  std::exception_ptr failure;
  bool started = false;
  bool direct = false;  // runs on the scheduler's own stack (see Block::run)
  // The race checker orders a block after the one before it (they reuse one static shared memory, which
  // on a GPU each block has for itself): a thread acquires the previous block's token, releases its own.
  const void* previous_block_token = nullptr;
  const void* block_token = nullptr;
};

// What orders a launch's threads after the host's work before it, and the host's work after it after them.
char launch_token, grid_done_token;

// A fiber that runs one emulated thread after another: kept for the next block and the next launch, so a
// thread costs a fiber switch, not a fiber.
// Under AddressSanitizer every switch is announced (Boost 1.74 does so for its ucontext fibers only, which
// cost a system call a switch), so ASan knows the stack it runs on when a kernel thread throws.
struct Worker {
  context::fiber fiber;
  context::fiber scheduler;
  Thread* thread = nullptr;
  const std::function<void()>* body = nullptr;
  StackBounds own;
  StackBounds scheduler_stack;
  void* scheduler_race_context = nullptr;
  // The worker's ThreadSanitizer context, one per worker: the threads it runs one after another are in
  // consecutive blocks, which the race checker orders anyway (Thread::block_token).
  void* race_context = nullptr;

  // From the scheduler's stack into this worker, until it waits or finishes its thread.
  void enter() {
#if defined(__SANITIZE_ADDRESS__)
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, own.bottom, own.size);
    fiber = std::move(fiber).resume();
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
    fiber = std::move(fiber).resume();
#endif
  }

  // From this worker back to the scheduler, until the scheduler enters it again.
  void leave() {
    race_check::switching_to(scheduler_race_context);
#if defined(__SANITIZE_ADDRESS__)
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, scheduler_stack.bottom, scheduler_stack.size);
    scheduler = std::move(scheduler).resume();
    __sanitizer_finish_switch_fiber(fake_stack, &scheduler_stack.bottom, &scheduler_stack.size);
#else
    scheduler = std::move(scheduler).resume();
#endif
  }

  // Makes the fiber: it runs the thread it is given, then waits for the next.
  void start() {
    race_context = race_check::new_context();
    fiber = context::fiber(std::allocator_arg, PooledStack{&own}, [this](context::fiber&& caller) {
      arrived();
      scheduler = std::move(caller);
      for (;;) {
        run_thread();
        leave();
      }
      return std::move(scheduler);
    });
  }

  void run_thread() {
    race_check::acquire(&launch_token);
    race_check::acquire(thread->previous_block_token);
    try {
      (*body)();
    } catch (const context::detail::forced_unwind&) {
      throw;
    } catch (...) {
      thread->failure = std::current_exception();
    }
    race_check::release(&grid_done_token);
    race_check::release(thread->block_token);
    const race_check::Unchecked bookkeeping;
    thread->state = State::exited;
  }

  // The first thing the worker does on its own stack.
  void arrived() {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack.bottom, &scheduler_stack.size);
#endif
  }
};

class WorkerPool {
 public:
  // Worker `index`, made on first use; it runs whatever thread and body it is given when resumed.
  Worker& get(std::size_t index) {
    while (workers_.size() <= index) workers_.push_back(std::make_unique<Worker>());
    Worker& worker = *workers_[index];
    if (!worker.fiber) worker.start();
    return worker;
  }

  // A worker whose thread never finished (its launch failed) is parked for good and replaced: unwinding
  // its stack would run the kernel's code past its failure.
  void discard(const Worker& worker) {
    for (auto& owned : workers_) {
      if (owned.get() != &worker) continue;
      parked_.push_back(std::move(owned));
      owned = std::make_unique<Worker>();
    }
  }

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Worker>> parked_;
};

// Never destroyed: its fibers' stacks come from the stack pool, which may be gone by then.
WorkerPool& worker_pool() {
  static thread_local WorkerPool* pool = new WorkerPool();
  return *pool;
}

class Block;
thread_local Thread* current_thread = nullptr;
thread_local Block* current_block = nullptr;

// The running thread, whose position device code reads.
void set_current(Thread* thread) {
  current_thread = thread;
  current_position = thread != nullptr ? &thread->position : nullptr;
}

Thread& calling_thread(const char* what) {
  if (current_thread == nullptr) outside_a_kernel(what);
  return *current_thread;
}

std::string site(const Thread& thread) {
  return std::string(thread.file) + ":" + std::to_string(thread.line);
}

std::string describe(const uint3& index) {
  std::ostringstream text;
  text << "(" << index.x << "," << index.y << "," << index.z << ")";
  return text.str();
}

// One block's threads and the rules that release them. Threads start on the scheduler's own stack, one
// after another, so a block whose threads never wait (a grid-stride loop) costs no fiber; the first time
// such a thread waits, every thread not yet started gets a fiber and the scheduler runs them from inside
// that wait until it is released.
class Block {
 public:
  Block(const KernelLaunch& launch, unsigned char* shared, const std::function<void()>& body)
      : launch_(launch), body_(body), threads_(launch.block.x * launch.block.y * launch.block.z) {
    const dim3 dim = launch.block;
    for (unsigned linear = 0; linear < threads_.size(); ++linear) {
      ThreadPosition& p = threads_[linear].position;
      p.thread_idx = uint3{linear % dim.x, linear / dim.x % dim.y, linear / (dim.x * dim.y)};
      p.block_dim = dim;
      p.grid_dim = launch.grid;
      p.lane = linear % 32;
      p.warp = linear / 32;
      p.dynamic_shared = shared;
    }
  }

  ~Block() {
    for (const Thread& thread : threads_) {
      if (thread.worker != nullptr && thread.state != State::exited) worker_pool().discard(*thread.worker);
    }
  }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Runs block `index` to its end; the same Block then runs the next one.
  void run(uint3 index) {
    ++blocks_run_;
    for (Thread& thread : threads_) {
      thread.previous_block_token = &block_tokens_[(blocks_run_ + 1) % 2];
      thread.block_token = &block_tokens_[blocks_run_ % 2];
      thread.position.block_idx = index;
      thread.state = State::runnable;
      thread.started = thread.direct = false;
      thread.worker = nullptr;
      thread.failure = nullptr;
    }
    live_ = static_cast<unsigned>(threads_.size());
    at_barrier_ = 0;
    warp_waiting_.assign((threads_.size() + 31) / 32, 0);
    fibers_started_ = false;
    current_block = this;
    const auto count = static_cast<int>(threads_.size());
    // The race checker needs every thread in a context of its own: no thread runs on this stack.
    if (race_check::kEnabled) start_fibers();
    for (int n = 0; n < count && !fibers_started_; ++n) {
      run_direct(threads_[order() == Order::reverse ? count - 1 - n : n]);
    }
    while (live_ > 0) schedule_once();
    current_block = nullptr;
  }

  // An address that stands for warp `warp` of this block (the race checker's synchronisation object).
  const void* warp_token(unsigned warp) const { return &warp_waiting_[warp]; }

  // Counts a thread that starts to wait, so releases need not look at every thread.
  void arrive(const Thread& thread) {
    if (thread.state == State::block_barrier) ++at_barrier_;
    if (thread.state == State::warp_collective) ++warp_waiting_[thread.position.warp];
  }

  // Called from a wait of the thread running on this stack: runs the others until it is released.
  void drive_until_released(Thread& waiting) {
    if (!fibers_started_) start_fibers();
    while (waiting.state != State::runnable) schedule_once();
    set_current(&waiting);
  }

 private:
  void run_direct(Thread& thread) {
    thread.started = thread.direct = true;
    set_current(&thread);
    try {
      body_();
    } catch (const LocatedFailure&) {
      throw;
    } catch (...) {
      thread.failure = std::current_exception();
    }
    set_current(nullptr);
    thread.state = State::exited;
    --live_;
    if (thread.failure) fail(thread);
  }

  void start_fibers() {
    fibers_started_ = true;
    std::size_t next_worker = 0;
    for (Thread& thread : threads_) {
      if (thread.started) continue;
      thread.started = true;
      thread.worker = &worker_pool().get(next_worker++);
      thread.worker->thread = &thread;
      thread.worker->body = &body_;
    }
  }

  void schedule_once() {
    bool progressed = run_runnable();
    progressed = release_warps() || progressed;
    if (!progressed && !release_block_barrier()) stuck();
  }

  // Resumes, once each, the threads the order policy picks among those that can run; true if any ran.
  bool run_runnable() {
    const auto count = static_cast<int>(threads_.size());
    bool ran = false;
    switch (order()) {
      case Order::forward:
        for (int i = 0; i < count; ++i) ran = resume_if_runnable(threads_[i]) || ran;
        break;
      case Order::reverse:
        for (int i = count - 1; i >= 0; --i) ran = resume_if_runnable(threads_[i]) || ran;
        break;
      case Order::warp:
        for (int first = 0; first < count && !ran; first += 32) {
          for (int i = first; i < std::min(first + 32, count); ++i)
            ran = resume_if_runnable(threads_[i]) || ran;
        }
        break;
    }
    return ran;
  }

  bool resume_if_runnable(Thread& thread) {
    if (!runs_as_fiber(thread)) return false;
    resume(thread);
    return true;
  }

  static bool runs_as_fiber(const Thread& thread) {
    return thread.state == State::runnable && !thread.direct;
  }

  void resume(Thread& thread) {
    set_current(&thread);
    thread.worker->scheduler_race_context = race_check::current_context();
    race_check::switching_to(thread.worker->race_context);
    thread.worker->enter();
    set_current(nullptr);
    if (thread.state == State::exited) {
      --live_;
      if (thread.failure) fail(thread);
    }
  }

  [[noreturn]] void fail(const Thread& thread) {
    std::string message;
    try {
      std::rethrow_exception(thread.failure);
    } catch (const std::exception& error) {
      message = error.what();
    } catch (...) {
      message = "an unknown exception";
    }
    throw LocatedFailure(where(thread) + ": " + message);
  }

  std::string where(const Thread& thread) const {
    return std::string("kernel ") + launch_.name + " (" + launch_.file + ") block " +
           describe(thread.position.block_idx) + " thread " + describe(thread.position.thread_idx);
  }

  [[noreturn]] void fail_block(const std::string& message) const {
    throw LocatedFailure(std::string("kernel ") + launch_.name + " (" + launch_.file + ") block " +
                         describe(threads_.front().position.block_idx) + ": " + message);
  }

  // Releases every warp step whose lanes have all arrived; true when one was released.
  bool release_warps() {
    bool released = false;
    for (std::size_t warp = 0; warp < warp_waiting_.size(); ++warp) {
      if (warp_waiting_[warp] == 0) continue;
      const std::size_t first = warp * 32;
      Thread* waiting = nullptr;
      for (std::size_t i = first; waiting == nullptr && i < std::min(first + 32, threads_.size()); ++i) {
        if (threads_[i].state == State::warp_collective) waiting = &threads_[i];
      }
      const unsigned mask = waiting->mask;
      if (static_cast<unsigned>(__builtin_popcount(mask)) > warp_waiting_[warp]) continue;
      void* inputs[32] = {};
      void* outputs[32] = {};
      if (!gather_warp(first, *waiting, inputs, outputs)) continue;
      if (waiting->combine != nullptr) {
        set_current(waiting);  // device_failure from the combine names a thread of this warp
        try {
          waiting->combine(inputs, outputs, mask);
        } catch (const std::exception& error) {
          set_current(nullptr);
          throw LocatedFailure(where(*waiting) + ": " + error.what());
        }
        set_current(nullptr);
      }
      for (unsigned lane = 0; lane < 32; ++lane) {
        if (mask >> lane & 1u) threads_[first + lane].state = State::runnable;
      }
      warp_waiting_[warp] -= static_cast<unsigned>(__builtin_popcount(mask));
      released = true;
    }
    return released;
  }

  // Checks the lanes in the mask of `waiting`'s step: false while one has yet to arrive; an error when one
  // has exited or waits at another step. Fills the lanes' inputs and outputs.
  bool gather_warp(std::size_t first, const Thread& waiting, void** inputs, void** outputs) const {
    for (unsigned lane = 0; lane < 32; ++lane) {
      if (!(waiting.mask >> lane & 1u)) continue;
      if (first + lane >= threads_.size()) {
        fail_block("the warp step at " + site(waiting) + " names lane " + std::to_string(lane) +
                   " in its mask, beyond the block's last thread");
      }
      const Thread& other = threads_[first + lane];
      if (other.state == State::exited) {
        fail_block("the warp step at " + site(waiting) + " names lane " + std::to_string(lane) + " of warp " +
                   std::to_string(first / 32) + " in its mask, which has exited");
      }
      if (other.state != State::warp_collective) return false;
      if (other.mask != waiting.mask || other.file != waiting.file || other.line != waiting.line) {
        fail_block("lanes of warp " + std::to_string(first / 32) +
                   " wait at different warp steps: " + site(waiting) + " and " + site(other));
      }
      inputs[lane] = other.input;
      outputs[lane] = other.output;
    }
    return true;
  }

  bool release_block_barrier() {
    if (at_barrier_ == 0 || at_barrier_ != live_) return false;
    const Thread* first = nullptr;
    for (Thread& thread : threads_) {
      if (thread.state != State::block_barrier) continue;
      if (first == nullptr) {
        first = &thread;
      } else if (thread.file != first->file || thread.line != first->line) {
        fail_block("threads wait at different __syncthreads: " + site(*first) + " (thread " +
                   describe(first->position.thread_idx) + ") and " + site(thread) + " (thread " +
                   describe(thread.position.thread_idx) + ")");
      }
      thread.state = State::runnable;
    }
    at_barrier_ = 0;
    return true;
  }

  [[noreturn]] void stuck() const {
    // A lane that exited or waits elsewhere is the likeliest cause: say so if it is.
    for (std::size_t first = 0; first < threads_.size(); first += 32) {
      for (std::size_t i = first; i < std::min(first + 32, threads_.size()); ++i) {
        if (threads_[i].state != State::warp_collective) continue;
        void* inputs[32] = {};
        void* outputs[32] = {};
        gather_warp(first, threads_[i], inputs, outputs);
        break;
      }
    }
    std::map<std::string, std::vector<unsigned>> waits;
    for (unsigned i = 0; i < threads_.size(); ++i) {
      const Thread& thread = threads_[i];
      if (thread.state == State::block_barrier) waits["__syncthreads at " + site(thread)].push_back(i);
      if (thread.state == State::warp_collective) waits["a warp step at " + site(thread)].push_back(i);
    }
    std::ostringstream message;
    message << "no thread can go on (a deadlock):";
    for (const auto& [what, ids] : waits) {
      message << " " << ids.size() << " thread(s) wait at " << what << " (first: thread " << ids.front()
              << ");";
    }
    message << " a warp step waits for lanes held at a block barrier, or a barrier is not reached by all";
    fail_block(message.str());
  }

  const KernelLaunch& launch_;
  const std::function<void()>& body_;
  std::vector<Thread> threads_;
  unsigned live_ = 0;
  unsigned at_barrier_ = 0;             // threads waiting at __syncthreads
  std::vector<unsigned> warp_waiting_;  // per warp, lanes waiting at a warp step
  unsigned long long blocks_run_ = 0;
  char block_tokens_[2] = {};
  bool fibers_started_ = false;
};

void wait(Thread& thread, State state, const char* file, int line) {
  // A barrier orders what its threads did before it before what they do after it, for the race checker.
  const void* barrier = state == State::block_barrier ? static_cast<const void*>(current_block)
                                                      : current_block->warp_token(thread.position.warp);
  race_check::release(barrier);
  {
    const race_check::Unchecked bookkeeping;
    thread.state = state;
    thread.file = file;
    thread.line = line;
    current_block->arrive(thread);
    if (thread.direct) {
      current_block->drive_until_released(thread);
    } else {
      thread.worker->leave();
    }
  }
  race_check::acquire(barrier);
}

std::string launch_problem(const KernelLaunch& launch, const std::vector<PointerArgument>& pointers) {
  const DeviceProfile& profile = device_profile();
  const dim3 b = launch.block, g = launch.grid;
  const unsigned long long threads = static_cast<unsigned long long>(b.x) * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || g.x == 0 || g.y == 0 || g.z == 0) return "an empty grid or block";
  if (threads > static_cast<unsigned long long>(profile.max_threads_per_block) || b.z > 64) {
    return std::to_string(threads) + " threads per block, more than " + profile.name + " allows";
  }
  if (g.y > 65535 || g.z > 65535) return "a grid's y or z dimension above 65535";
  if (launch.shared_bytes > dynamic_shared_allowed(launch.kernel)) {
    return std::to_string(launch.shared_bytes) + " bytes of dynamic shared memory, more than the " +
           std::to_string(dynamic_shared_allowed(launch.kernel)) +
           " the kernel was allowed (cudaFuncSetAttribute) on " + profile.name;
  }
  for (const PointerArgument& argument : pointers) {
    if (argument.pointer != nullptr && !device_allocation_of(argument.pointer)) {
      return "argument " + std::to_string(argument.index) + " is a pointer outside device memory" +
             (in_device_range(argument.pointer) ? " (freed or past an allocation's end)"
                                                : " (a host pointer?)");
    }
  }
  return "";
}

void run_grid(const KernelLaunch& launch, const std::function<void()>& thread_body) {
  const DeviceAccess access;
  const dim3 g = launch.grid;
  const unsigned long long blocks = static_cast<unsigned long long>(g.x) * g.y * g.z;
  // Dynamic shared memory of exactly the launch's size (so AddressSanitizer sees a read past it), filled
  // with 0xff bytes (NaN as f32 and bf16) so a read before any write shows.
  const std::unique_ptr<unsigned char[], AlignedDelete> shared(
      launch.shared_bytes > 0 ? static_cast<unsigned char*>(
                                    ::operator new[](launch.shared_bytes, std::align_val_t{kSharedAlignment}))
                              : nullptr);
  race_check::release(&launch_token);
  const race_check::Unchecked scheduling;
  Block block(launch, shared.get(), thread_body);
  for (unsigned long long n = 0; n < blocks; ++n) {
    const unsigned long long linear = order() == Order::reverse ? blocks - 1 - n : n;
    const uint3 index{static_cast<unsigned>(linear % g.x), static_cast<unsigned>(linear / g.x % g.y),
                      static_cast<unsigned>(linear / (static_cast<unsigned long long>(g.x) * g.y))};
    if (shared) std::memset(shared.get(), 0xff, launch.shared_bytes);
    block.run(index);
  }
  race_check::acquire(&grid_done_token);
}

}  // namespace

thread_local const ThreadPosition* current_position = nullptr;

void outside_a_kernel(const char* what) {
  throw std::logic_error(std::string("CUDA interpret: ") + what + " used outside a kernel");
}

void sync_threads(const char* file, int line) {
  wait(calling_thread("__syncthreads"), State::block_barrier, file, line);
}

void warp_collective(unsigned mask, WarpCombine combine, void* input, void* output, const char* file,
                     int line) {
  Thread& thread = calling_thread("a warp step");
  if (!(mask >> thread.position.lane & 1u)) {
    device_failure("a warp step at " + std::string(file) + ":" + std::to_string(line) +
                   " by a lane outside its own mask");
  }
  {
    const race_check::Unchecked bookkeeping;
    thread.mask = mask;
    thread.combine = combine;
    thread.input = input;
    thread.output = output;
  }
  wait(thread, State::warp_collective, file, line);
}

void device_failure(const std::string& what) {
  throw DeviceFailure(what);
}

void launch(const KernelLaunch& launch, const std::vector<PointerArgument>& pointers,
            std::function<void()> thread_body) {
  if (const std::string problem = launch_problem(launch, pointers); !problem.empty()) {
    std::fprintf(stderr, "CUDA interpret: launch of %s (%s) refused: %s\n", launch.name, launch.file,
                 problem.c_str());
    set_last_error(launch.shared_bytes > dynamic_shared_allowed(launch.kernel)
                       ? cudaErrorInvalidValue
                       : cudaErrorInvalidConfiguration);
    return;
  }
  count_launch(launch.file, launch.name);
  enqueue(launch.stream, [launch, thread_body = std::move(thread_body)] { run_grid(launch, thread_body); });
}

}  // namespace primer::interpret
