#include "device_memory.h"

#include <sanitizer/asan_interface.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace primer::interpret {
namespace {

constexpr std::size_t kReserved = std::size_t{64} << 30;  // address space only; pages come on first touch
constexpr std::size_t kAlignment = 256;
constexpr std::size_t kRedzone = 256;  // at least this many poisoned bytes follow every allocation

std::size_t round_up(std::size_t value, std::size_t to) {
  return (value + to - 1) / to * to;
}

struct sigaction previous_segv_action;

// A fault inside the arena is the host touching device memory: say so before dying as a fault does.
void on_segv(int signal, siginfo_t* info, void* context);

class Arena {
 public:
  Arena() {
    void* reserved = mmap(nullptr, kReserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED)
      throw std::runtime_error("CUDA interpret: cannot reserve device address space");
    base_ = static_cast<char*>(reserved);
    struct sigaction action {};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv_action);
  }

  bool contains(const void* pointer) const {
    const char* p = static_cast<const char*>(pointer);
    return p >= base_ && p < base_ + kReserved;
  }

  void* allocate(std::size_t bytes) {
    const std::size_t size = round_up(bytes + kRedzone, kAlignment);
    std::lock_guard lock(mutex_);
    std::size_t offset = 0;
    auto fit = free_.begin();
    while (fit != free_.end() && fit->second < size) ++fit;
    if (fit != free_.end()) {
      offset = fit->first;
      if (fit->second > size) free_.emplace(offset + size, fit->second - size);
      free_.erase(fit);
    } else {
      if (high_water_ + size > kReserved) return nullptr;
      offset = high_water_;
      high_water_ += size;
      if (open_ > 0) protect(base_ + offset, size, true);
    }
    char* pointer = base_ + offset;
    live_.emplace(pointer, Live{bytes, size});
    ASAN_UNPOISON_MEMORY_REGION(pointer, bytes);
    ASAN_POISON_MEMORY_REGION(pointer + bytes, size - bytes);
    return pointer;
  }

  bool free(void* pointer) {
    std::lock_guard lock(mutex_);
    const auto found = live_.find(static_cast<char*>(pointer));
    if (found == live_.end()) return false;
    const std::size_t offset = static_cast<std::size_t>(found->first - base_), size = found->second.size;
    ASAN_POISON_MEMORY_REGION(found->first, size);
    live_.erase(found);
    auto next = free_.emplace(offset, size).first;
    if (const auto after = std::next(next); after != free_.end() && offset + size == after->first) {
      next->second += after->second;
      free_.erase(after);
    }
    if (next != free_.begin()) {
      const auto before = std::prev(next);
      if (before->first + before->second == next->first) {
        before->second += next->second;
        free_.erase(next);
        next = before;
      }
    }
    release_pages_within(next->first, next->second);
    return true;
  }

  // Hands back to the kernel only the pages wholly inside a free range: madvise would round a partial
  // page out to whole ones and zero the live allocations that share them.
  void release_pages_within(std::size_t offset, std::size_t bytes) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t first = round_up(offset, page), end = (offset + bytes) / page * page;
    if (end > first) madvise(base_ + first, end - first, MADV_DONTNEED);
  }

  std::optional<DeviceAllocation> allocation_of(const void* pointer) {
    std::lock_guard lock(mutex_);
    const char* p = static_cast<const char*>(pointer);
    auto found = live_.upper_bound(const_cast<char*>(p));
    if (found == live_.begin()) return std::nullopt;
    --found;
    if (p >= found->first + found->second.bytes && !(p == found->first && found->second.bytes == 0)) {
      return std::nullopt;
    }
    return DeviceAllocation{found->first, found->second.bytes};
  }

  void open() {
    std::lock_guard lock(mutex_);
    if (open_++ == 0 && high_water_ > 0) protect(base_, high_water_, true);
  }

  void close() {
    std::lock_guard lock(mutex_);
    if (--open_ == 0 && high_water_ > 0) protect(base_, high_water_, false);
  }

 private:
  struct Live {
    std::size_t bytes;
    std::size_t size;
  };

  static void protect(char* begin, std::size_t bytes, bool open) {
    if (mprotect(begin, bytes, open ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) {
      throw std::runtime_error("CUDA interpret: mprotect of device memory failed");
    }
  }

  char* base_ = nullptr;
  std::mutex mutex_;
  std::size_t high_water_ = 0;
  std::map<std::size_t, std::size_t> free_;  // offset -> size
  std::map<char*, Live> live_;
  int open_ = 0;
};

Arena& arena() {
  static Arena* instance = new Arena();  // never destroyed: allocations may outlive static destructors
  return *instance;
}

void write_text(const char* text) {
  const ssize_t written = write(STDERR_FILENO, text, std::strlen(text));
  (void)written;
}

// Back to the default action: returning re-runs the faulting access, which now ends the process.
void fault_as_usual() {
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigaction(SIGSEGV, &fallback, nullptr);
}

void on_segv(int signal, siginfo_t* info, void* context) {
  if (arena().contains(info->si_addr)) {
    char address[2 + 16 + 1] = "0x";
    const auto value = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (int digit = 15; digit >= 0; --digit) {
      address[2 + 15 - digit] = "0123456789abcdef"[(value >> (4 * digit)) & 0xf];
    }
    address[18] = '\0';
    write_text("CUDA interpret: the host touched device memory at ");
    write_text(address);
    write_text(" outside a kernel or a copy (a device pointer dereferenced by host code)\n");
    fault_as_usual();
    return;
  }
  if ((previous_segv_action.sa_flags & SA_SIGINFO) != 0 && previous_segv_action.sa_sigaction != nullptr) {
    previous_segv_action.sa_sigaction(signal, info, context);
    return;
  }
  if ((previous_segv_action.sa_flags & SA_SIGINFO) == 0 && previous_segv_action.sa_handler != SIG_DFL &&
      previous_segv_action.sa_handler != SIG_IGN) {
    previous_segv_action.sa_handler(signal);
    return;
  }
  fault_as_usual();
}

}  // namespace

void* device_allocate(std::size_t bytes) {
  return arena().allocate(bytes);
}

bool device_free(void* pointer) {
  return arena().free(pointer);
}

std::optional<DeviceAllocation> device_allocation_of(const void* pointer) {
  return arena().allocation_of(pointer);
}

bool in_device_range(const void* pointer) {
  return arena().contains(pointer);
}

DeviceAccess::DeviceAccess() {
  arena().open();
}

DeviceAccess::~DeviceAccess() {
  arena().close();
}

}  // namespace primer::interpret
