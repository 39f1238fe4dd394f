#include "primer/data/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "primer/core/error.h"

namespace primer::data {
namespace {

constexpr std::array<char, 8> kMagic{'P', 'R', 'I', 'M', 'R', 'T', 'O', 'K'};

struct Header {
  std::array<char, 8> magic;
  std::uint32_t version;
  std::uint32_t token_bytes;
  std::uint64_t token_count;
  std::uint64_t vocab_size;
  std::uint64_t checksum;
  std::array<unsigned char, 24> reserved;
};
static_assert(sizeof(Header) == kShardHeaderBytes);

std::uint64_t crc_of(std::uint64_t crc, const void* data, std::size_t bytes) {
  return crc32_z(static_cast<uLong>(crc), static_cast<const Bytef*>(data), bytes);
}

}  // namespace

ShardWriter::ShardWriter(std::string path, std::int64_t vocab_size)
    : path_(std::move(path)),
      temporary_(path_ + ".tmp." + std::to_string(::getpid())),
      vocab_size_(vocab_size),
      token_bytes_(vocab_size <= 65536 ? 2 : 4) {
  PRIMER_CHECK(vocab_size > 0 && vocab_size <= (std::int64_t{1} << 31),
               "{}: vocabulary size {} is out of range", path_, vocab_size);
  crc_ = crc32_z(0, nullptr, 0);
  file_ = std::fopen(temporary_.c_str(), "wb");
  PRIMER_CHECK(file_ != nullptr, "{}: cannot create: {}", temporary_, std::strerror(errno));
  const Header placeholder{};
  write(&placeholder, sizeof(placeholder));
}

ShardWriter::~ShardWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void ShardWriter::write(const void* data, std::size_t bytes) {
  if (std::fwrite(data, 1, bytes, file_) != bytes) {
    PRIMER_FAIL("{}: write failed ({}): disk full?", temporary_, std::strerror(errno));
  }
}

void ShardWriter::append(const std::int32_t* tokens, std::size_t count) {
  buffer_.resize(count * token_bytes_);
  for (std::size_t i = 0; i < count; ++i) {
    PRIMER_CHECK(tokens[i] >= 0 && tokens[i] < vocab_size_, "{}: token {} is outside the vocabulary of {}",
                 path_, tokens[i], vocab_size_);
    if (token_bytes_ == 2) {
      const auto value = static_cast<std::uint16_t>(tokens[i]);
      std::memcpy(buffer_.data() + 2 * i, &value, 2);
    } else {
      const auto value = static_cast<std::uint32_t>(tokens[i]);
      std::memcpy(buffer_.data() + 4 * i, &value, 4);
    }
  }
  crc_ = crc_of(crc_, buffer_.data(), buffer_.size());
  write(buffer_.data(), buffer_.size());
  count_ += static_cast<std::int64_t>(count);
}

void ShardWriter::finish() {
  Header header{};
  header.magic = kMagic;
  header.version = kShardVersion;
  header.token_bytes = token_bytes_;
  header.token_count = static_cast<std::uint64_t>(count_);
  header.vocab_size = static_cast<std::uint64_t>(vocab_size_);
  header.checksum = crc_;
  PRIMER_CHECK(std::fseek(file_, 0, SEEK_SET) == 0, "{}: seek failed", temporary_);
  write(&header, sizeof(header));
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    std::filesystem::remove(temporary_);
    PRIMER_FAIL("{}: could not be written to disk (disk full?)", path_);
  }
  std::filesystem::rename(temporary_, path_);
}

TokenShard::TokenShard(const std::string& path, bool verify_checksum) : path_(path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY);
  PRIMER_CHECK(descriptor >= 0, "{}: cannot open token shard: {}", path, std::strerror(errno));
  struct stat status {};
  ::fstat(descriptor, &status);
  mapped_bytes_ = static_cast<std::size_t>(status.st_size);
  if (mapped_bytes_ < kShardHeaderBytes) {
    ::close(descriptor);
    PRIMER_FAIL("{}: {} bytes is too short for a token shard header: truncated or not a shard", path,
                mapped_bytes_);
  }
  mapping_ = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, descriptor, 0);
  ::close(descriptor);
  PRIMER_CHECK(mapping_ != MAP_FAILED, "{}: cannot map: {}", path, std::strerror(errno));
  Header header{};
  std::memcpy(&header, mapping_, sizeof(header));
  auto fail_and_unmap = [&](const std::string& message) {
    ::munmap(mapping_, mapped_bytes_);
    mapping_ = nullptr;
    throw Error(path + ": " + message);
  };
  if (header.magic != kMagic) fail_and_unmap("not a primer token shard (wrong magic)");
  if (header.version != kShardVersion) {
    fail_and_unmap(
        fmt::format("shard format version {}, this build reads version {}", header.version, kShardVersion));
  }
  if (header.token_bytes != 2 && header.token_bytes != 4) {
    fail_and_unmap(fmt::format("unsupported token width of {} bytes", header.token_bytes));
  }
  if (header.token_bytes == 2 && header.vocab_size > 65536) {
    fail_and_unmap(fmt::format("a vocabulary of {} does not fit uint16 tokens", header.vocab_size));
  }
  const std::uint64_t expected = kShardHeaderBytes + header.token_count * header.token_bytes;
  if (expected != mapped_bytes_) {
    fail_and_unmap(
        fmt::format("the header promises {} tokens ({} bytes) but the file has {} bytes: truncated?",
                    header.token_count, expected, mapped_bytes_));
  }
  tokens_ = static_cast<const unsigned char*>(mapping_) + kShardHeaderBytes;
  token_bytes_ = header.token_bytes;
  count_ = static_cast<std::int64_t>(header.token_count);
  vocab_size_ = static_cast<std::int64_t>(header.vocab_size);
  if (verify_checksum &&
      crc_of(crc32_z(0, nullptr, 0), tokens_, mapped_bytes_ - kShardHeaderBytes) != header.checksum) {
    fail_and_unmap("checksum mismatch: the shard is corrupt");
  }
}

TokenShard::~TokenShard() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_bytes_);
}

std::int32_t TokenShard::operator[](std::int64_t index) const {
  if (token_bytes_ == 2) {
    std::uint16_t value = 0;
    std::memcpy(&value, tokens_ + 2 * index, 2);
    return value;
  }
  std::uint32_t value = 0;
  std::memcpy(&value, tokens_ + 4 * index, 4);
  return static_cast<std::int32_t>(value);
}

void TokenShard::copy(std::int64_t start, std::int64_t count, std::int32_t* out) const {
  PRIMER_CHECK(start >= 0 && count >= 0 && start + count <= count_,
               "{}: tokens [{}, {}) outside its {} tokens", path_, start, start + count, count_);
  for (std::int64_t i = 0; i < count; ++i) out[i] = (*this)[start + i];
}

}  // namespace primer::data
