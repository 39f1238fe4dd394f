#include "primer/data/document_reader.h"

#include <zlib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "primer/core/error.h"

namespace primer::data {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Line-by-line reading through zlib's gz* functions, which read plain files unchanged.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    PRIMER_CHECK(file_ != nullptr, "{}: cannot open ({})", path,
                 fs::exists(path) ? "permission denied?" : "no such file");
    gzbuffer(file_, 1 << 20);
  }
  ~LineReader() { gzclose(file_); }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its newline; false at the end of the file.
  bool next(std::string& line) {
    line.clear();
    char buffer[1 << 16];
    while (true) {
      if (gzgets(file_, buffer, sizeof(buffer)) == nullptr) {
        int code = 0;
        const char* message = gzerror(file_, &code);
        PRIMER_CHECK(code == Z_OK || code == Z_BUF_ERROR, "{}: read error near line {}: {}", path_,
                     line_number_ + 1, message);
        if (line.empty()) return false;
        break;
      }
      line += buffer;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        break;
      }
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_number_;
    bytes_ += line.size() + 1;
    return true;
  }

  std::uint64_t line_number() const { return line_number_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  gzFile file_;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_ = 0;
};

void check_utf8(const std::string& text, const std::string& path, std::uint64_t line) {
  const std::size_t bad = find_invalid_utf8(text);
  PRIMER_CHECK(bad == std::string::npos, "{}:{}: invalid UTF-8 at byte {} of the document", path, line, bad);
}

}  // namespace

std::size_t find_invalid_utf8(const std::string& text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code = lead & 0x07;
    } else {
      return i;
    }
    if (i + length > size) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) return i;
      code = (code << 6) | (bytes[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return i;
    i += length;
  }
  return std::string::npos;
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    PRIMER_CHECK(fs::exists(path), "{}: no such file or directory", path);
    if (fs::is_directory(path)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(path)) {
        // Hidden files (markers, editor state) are not corpus text.
        if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) {
          found.push_back(entry.path().string());
        }
      }
      std::sort(found.begin(), found.end());
      PRIMER_CHECK(!found.empty(), "{}: the directory holds no files", path);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  return files;
}

std::uint64_t read_documents(const std::string& path, const ReadOptions& options,
                             const std::function<void(Document&&)>& sink) {
  std::string name = path;
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  const bool json_lines = ends_with(name, ".jsonl") || ends_with(name, ".json");
  LineReader reader(path);
  std::string line;
  std::uint64_t documents = 0;

  if (json_lines) {
    while (reader.next(line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& error) {
        PRIMER_FAIL("{}:{}: not a JSON object: {}", path, reader.line_number(), error.what());
      }
      const auto field = record.find(options.json_text_field);
      PRIMER_CHECK(record.is_object() && field != record.end() && field->is_string(),
                   "{}:{}: no string field '{}' in this record", path, reader.line_number(),
                   options.json_text_field);
      std::string text = field->get<std::string>();
      check_utf8(text, path, reader.line_number());
      if (text.empty()) continue;
      sink({std::move(text), path + ":" + std::to_string(reader.line_number())});
      ++documents;
    }
  } else {
    std::string document;
    std::uint64_t start_line = 0;
    auto flush = [&] {
      if (document.empty()) return;
      check_utf8(document, path, start_line);
      sink({std::move(document), path + ":" + std::to_string(start_line)});
      document.clear();
      ++documents;
    };
    while (reader.next(line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) {
        flush();
        continue;
      }
      if (document.empty()) start_line = reader.line_number();
      if (!document.empty()) document += '\n';
      document += line;
    }
    flush();
  }
  PRIMER_CHECK(documents > 0, "{}: no text in this file", path);
  return reader.bytes();
}

}  // namespace primer::data
