// The CUDA runtime API that primer calls, over the emulated device: memory in the arena, copies, streams
// and events (stream_queue.h: run as queued, or deferred), device properties from the device profile,
// kernel attributes checked against it, and the sticky last error. The device names
// itself as the interpret mode; it never claims to be a GPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "device_memory.h"
#include "device_profile.h"
#include "options.h"
#include "runtime_state.h"
#include "stream_queue.h"

namespace primer::interpret {
namespace {

thread_local cudaError_t last_error = cudaSuccess;

std::mutex attributes_mutex;
std::map<const void*, std::size_t>& dynamic_shared_limits() {
  static std::map<const void*, std::size_t> limits;
  return limits;
}

std::mutex census_mutex;
// Never destroyed: the writer below reads it at exit, after function-local statics may be gone.
std::map<std::string, long long>& census() {
  static auto* counts = new std::map<std::string, long long>();
  return *counts;
}

// PRIMER_INTERPRET=census=FILE: at exit, one line "file kernel launches" per kernel launched, appended
// in one write so the test processes of one ctest run can share the file.
struct CensusWriter {
  ~CensusWriter() {
    const std::string path = interpret_option("census", "");
    if (path.empty()) return;
    std::string text;
    {
      std::lock_guard lock(census_mutex);
      for (const auto& [kernel, count] : census()) text += kernel + " " + std::to_string(count) + "\n";
    }
    if (text.empty()) return;
    if (std::FILE* file = std::fopen(path.c_str(), "a")) {
      std::fwrite(text.data(), 1, text.size(), file);
      std::fclose(file);
    }
  }
} census_writer;

cudaError_t fail(cudaError_t error) {
  last_error = error;
  return error;
}

// A copy's device side must lie inside one live allocation.
bool device_span_ok(const void* pointer, std::size_t bytes) {
  const auto allocation = device_allocation_of(pointer);
  if (!allocation) return false;
  return static_cast<const char*>(pointer) + bytes <= allocation->begin + allocation->bytes;
}

bool host_side(const void* pointer) {
  return !in_device_range(pointer);
}

// Page-locked host memory (cudaHostAlloc): ordinary host memory here, but a copy from it reads its bytes
// when the copy runs, as the GPU's DMA does, not when it is queued; so in the deferred stream mode a
// buffer changed before its copy has run shows in the result, as it would on a GPU.
// Never destroyed: the CUDA backend, a static object made before the first cudaHostAlloc, frees its
// pinned buffers at exit after function-local statics made later are gone.
std::mutex pinned_mutex;
std::map<const char*, std::size_t>& pinned_ranges() {
  static auto* ranges = new std::map<const char*, std::size_t>();
  return *ranges;
}

bool pinned(const void* pointer, std::size_t bytes) {
  const char* p = static_cast<const char*>(pointer);
  std::lock_guard lock(pinned_mutex);
  auto after = pinned_ranges().upper_bound(p);
  if (after == pinned_ranges().begin()) return false;
  const auto& [begin, size] = *std::prev(after);
  return p + bytes <= begin + size;
}

}  // namespace

void set_last_error(cudaError_t error) {
  last_error = error;
}

std::size_t dynamic_shared_allowed(const void* kernel) {
  std::lock_guard lock(attributes_mutex);
  const auto found = dynamic_shared_limits().find(kernel);
  return found != dynamic_shared_limits().end() ? found->second : device_profile().shared_per_block;
}

void count_launch(const char* file, const char* name) {
  std::string kernel(name);
  kernel = kernel.substr(kernel.find_first_not_of('('));
  kernel = kernel.substr(0, kernel.find('<'));
  std::string source(file);
  source = source.substr(source.find_last_of('/') + 1);
  std::lock_guard lock(census_mutex);
  ++census()[source + " " + kernel];
}

}  // namespace primer::interpret

using namespace primer::interpret;

cudaError_t cudaGetLastError() {
  const cudaError_t error = last_error;
  last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() {
  return last_error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    default: return "unknown error";
  }
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  const DeviceProfile& profile = device_profile();
  *properties = cudaDeviceProp{};
  // No GPU model in the name: nothing may take the emulation for one (datasheet peaks, say).
  std::snprintf(properties->name, sizeof(properties->name), "CUDA interpret mode on the CPU (%s limits)",
                profile.name);
  properties->major = profile.major;
  properties->minor = profile.minor;
  properties->totalGlobalMem = profile.global_memory;
  properties->sharedMemPerBlock = profile.shared_per_block;
  properties->sharedMemPerBlockOptin = profile.shared_per_block_optin;
  properties->maxThreadsPerBlock = profile.max_threads_per_block;
  properties->multiProcessorCount = profile.multiprocessors;
  properties->warpSize = 32;
  properties->maxThreadsDim[0] = properties->maxThreadsDim[1] = 1024;
  properties->maxThreadsDim[2] = 64;
  properties->maxGridSize[0] = 0x7fffffff;
  properties->maxGridSize[1] = properties->maxGridSize[2] = 65535;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  const DeviceProfile& profile = device_profile();
  switch (attribute) {
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(profile.shared_per_block_optin);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(profile.shared_per_block); break;
    case cudaDevAttrMultiProcessorCount: *value = profile.multiprocessors; break;
    case cudaDevAttrComputeCapabilityMajor: *value = profile.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = profile.minor; break;
    case cudaDevAttrMaxThreadsPerBlock: *value = profile.max_threads_per_block; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    default: return fail(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attribute, int value) {
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaSuccess;
  if (value < 0 || static_cast<std::size_t>(value) > device_profile().shared_per_block_optin) {
    std::fprintf(
        stderr,
        "CUDA interpret: cudaFuncSetAttribute asked for %d bytes of dynamic shared memory; %s allows %zu\n",
        value, device_profile().name, device_profile().shared_per_block_optin);
    return fail(cudaErrorInvalidValue);
  }
  std::lock_guard lock(attributes_mutex);
  dynamic_shared_limits()[kernel] = static_cast<std::size_t>(value);
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  *pointer = device_allocate(bytes);
  return *pointer != nullptr ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  return device_free(pointer) ? cudaSuccess : fail(cudaErrorInvalidDevicePointer);
}

cudaError_t cudaMemcpyAsync(void* destination, const void* source, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  const bool source_on_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice ||
                                (kind == cudaMemcpyDefault && !host_side(source));
  const bool destination_on_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice ||
                                     (kind == cudaMemcpyDefault && !host_side(destination));
  if ((source_on_device ? !device_span_ok(source, bytes) : !host_side(source)) ||
      (destination_on_device ? !device_span_ok(destination, bytes) : !host_side(destination))) {
    std::fprintf(stderr,
                 "CUDA interpret: cudaMemcpy of %zu bytes from %p to %p: a side is not where its kind "
                 "says, or runs past its allocation\n",
                 bytes, source, destination);
    return fail(cudaErrorInvalidValue);
  }
  if (!destination_on_device) {
    // Into pageable host memory the copy completes before the call returns, after the stream's work.
    synchronize_stream(stream);
    const DeviceAccess access;
    std::memmove(destination, source, bytes);
    return cudaSuccess;
  }
  if (!source_on_device && pinned(source, bytes)) {
    enqueue(stream, [destination, source, bytes] {
      const DeviceAccess access;
      std::memcpy(destination, source, bytes);
    });
    return cudaSuccess;
  }
  if (!source_on_device) {
    // From pageable host memory the data is taken at the call; the host may reuse its buffer at once.
    auto staged = std::make_shared<std::vector<unsigned char>>(
        static_cast<const unsigned char*>(source), static_cast<const unsigned char*>(source) + bytes);
    enqueue(stream, [destination, staged] {
      const DeviceAccess access;
      std::memcpy(destination, staged->data(), staged->size());
    });
    return cudaSuccess;
  }
  enqueue(stream, [destination, source, bytes] {
    const DeviceAccess access;
    std::memmove(destination, source, bytes);
  });
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** pointer, std::size_t bytes, unsigned) {
  *pointer = std::aligned_alloc(4096, (std::max<std::size_t>(bytes, 1) + 4095) / 4096 * 4096);
  if (*pointer == nullptr) return fail(cudaErrorMemoryAllocation);
  std::lock_guard lock(pinned_mutex);
  pinned_ranges()[static_cast<const char*>(*pointer)] = bytes;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  {
    std::lock_guard lock(pinned_mutex);
    if (pinned_ranges().erase(static_cast<const char*>(pointer)) == 0) return fail(cudaErrorInvalidValue);
  }
  // CUDA waits for the work that may still read the buffer.
  synchronize_device();
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* destination, const void* source, std::size_t bytes, cudaMemcpyKind kind) {
  synchronize_device();
  const cudaError_t status = cudaMemcpyAsync(destination, source, bytes, kind, nullptr);
  synchronize_device();
  return status;
}

cudaError_t cudaMemsetAsync(void* destination, int value, std::size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (!device_span_ok(destination, bytes)) return fail(cudaErrorInvalidValue);
  enqueue(stream, [destination, value, bytes] {
    const DeviceAccess access;
    std::memset(destination, value, bytes);
  });
  return cudaSuccess;
}

cudaError_t cudaMemset(void* destination, int value, std::size_t bytes) {
  const cudaError_t status = cudaMemsetAsync(destination, value, bytes, nullptr);
  synchronize_device();
  return status;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  *stream = create_stream();
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (stream == nullptr) return fail(cudaErrorInvalidResourceHandle);
  destroy_stream(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  synchronize_stream(stream);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  synchronize_device();
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  return stream_idle(stream) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  wait_for_event(stream, event);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  *event = create_event((flags & cudaEventDisableTiming) == 0);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  destroy_event(event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  record_event(event, stream);
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  return event_completed(event) ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle);
  synchronize_event(event);
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t end) {
  if (start == nullptr || end == nullptr) return fail(cudaErrorInvalidResourceHandle);
  return elapsed_ms(start, end, *milliseconds) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
