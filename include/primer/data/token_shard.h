#pragma once
// Token shards: one file of token ids, little-endian, with a versioned header.
//
//   offset  size  field
//        0     8  magic "PRIMRTOK"
//        8     4  format version (1)
//       12     4  bytes per token: 2 (uint16, vocabularies up to 65,536) or 4 (uint32)
//       16     8  token count
//       24     8  vocabulary size
//       32     8  CRC-32 (zlib) of the token bytes
//       40    24  zero
//       64     -  tokens
//
// Writers stream tokens to a temporary name and rename on finish(), so a failed run leaves nothing
// half-written; readers memory-map the file and check everything the header claims.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace primer::data {

constexpr std::uint32_t kShardVersion = 1;
constexpr std::size_t kShardHeaderBytes = 64;

class ShardWriter {
 public:
  ShardWriter(std::string path, std::int64_t vocab_size);
  ~ShardWriter();  // removes the temporary file unless finish() succeeded
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void append(const std::int32_t* tokens, std::size_t count);
  void finish();
  std::int64_t token_count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  void write(const void* data, std::size_t bytes);

  std::string path_;
  std::string temporary_;
  std::int64_t vocab_size_;
  std::uint32_t token_bytes_;
  std::int64_t count_ = 0;
  std::uint64_t crc_ = 0;
  std::FILE* file_ = nullptr;
  std::vector<unsigned char> buffer_;
};

class TokenShard {
 public:
  // Maps the file and checks magic, version, token width, size and (unless told not to) the checksum.
  explicit TokenShard(const std::string& path, bool verify_checksum = true);
  ~TokenShard();
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  std::int64_t size() const { return count_; }
  std::int64_t vocab_size() const { return vocab_size_; }
  std::int32_t operator[](std::int64_t index) const;
  // Copies tokens [start, start + count) into out.
  void copy(std::int64_t start, std::int64_t count, std::int32_t* out) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* mapping_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  const unsigned char* tokens_ = nullptr;
  std::uint32_t token_bytes_ = 0;
  std::int64_t count_ = 0;
  std::int64_t vocab_size_ = 0;
};

}  // namespace primer::data
