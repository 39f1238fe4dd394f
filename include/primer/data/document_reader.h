#pragma once
// Reads documents from corpora as users have them: plain text (documents separated by blank lines),
// JSON Lines with a text field (one document per line, as C4's c4-*.json.gz), gzip-compressed versions
// of either, and directories of such files (walked in sorted order). Every document is checked to be
// valid UTF-8; errors name the file and line.
#include <functional>
#include <string>
#include <vector>

namespace primer::data {

struct Document {
  std::string text;
  std::string source;  // "file:line", where the document starts
};

struct ReadOptions {
  std::string json_text_field = "text";
};

// The files below each path (a file itself, or every regular file under a directory except hidden
// ones), sorted.
std::vector<std::string> expand_inputs(const std::vector<std::string>& paths);

// Calls `sink` for each document of `path` in order; returns the number of bytes of text read.
// Throws primer::Error for unreadable files, bad gzip data, malformed JSON, a missing text field,
// invalid UTF-8, and files with no text at all.
std::uint64_t read_documents(const std::string& path, const ReadOptions& options,
                             const std::function<void(Document&&)>& sink);

// The offset of the first byte that breaks UTF-8 in text, or npos when it is valid.
std::size_t find_invalid_utf8(const std::string& text);

}  // namespace primer::data
