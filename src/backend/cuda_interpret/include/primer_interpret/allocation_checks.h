#pragma once
// For the caching allocator of the CUDA backend in the interpret mode: under AddressSanitizer, the bytes
// of a cached block past what its tensor asked for, and every block held in the cache, are poisoned, so a
// kernel reading past its tensor or a freed tensor is reported instead of landing unseen in the cache.
// Only while streams run as queued: with deferred streams the host frees memory that queued work may still
// use, which stream order makes legal on a GPU.
#include <cstddef>

namespace primer::interpret {

void block_in_use(void* block, std::size_t used_bytes, std::size_t block_bytes);
void block_cached(void* block, std::size_t block_bytes);

}  // namespace primer::interpret
