#include "primer_interpret/allocation_checks.h"

#include <sanitizer/asan_interface.h>

#include "stream_queue.h"

namespace primer::interpret {

void block_in_use(void* block, std::size_t used_bytes, std::size_t block_bytes) {
  ASAN_UNPOISON_MEMORY_REGION(block, block_bytes);
  if (!streams_deferred())
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(block) + used_bytes, block_bytes - used_bytes);
}

void block_cached(void* block, std::size_t block_bytes) {
  if (!streams_deferred()) ASAN_POISON_MEMORY_REGION(block, block_bytes);
}

}  // namespace primer::interpret
