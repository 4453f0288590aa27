// SourceText: one input file (SQL, EXPLAIN JSON, YAML) read whole and checked
// before any parser sees it, so bad input fails early with its location:
// a missing file, a directory, an empty file, binary data, invalid UTF-8 or a
// file over the size limit are each one clear error (exit code 2).
// It also maps byte offsets to 1-based line:column for every later message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace pgvise {

struct LineCol {
  int line = 1;
  int column = 1;  // in characters (UTF-8 code points), 1-based
};

class SourceText {
 public:
  static constexpr size_t kDefaultMaxBytes = 64u << 20;  // 64 MiB

  SourceText() = default;
  SourceText(std::string path, std::string text);

  // Reads `path` ("-" = stdin) and validates it. Errors are one line, prefixed
  // with the path and, for content errors, line:col.
  static Status Read(const std::string& path, SourceText* out, size_t max_bytes = kDefaultMaxBytes);
  // Validates text already in memory (used by Read and by tests).
  Status Validate() const;

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  LineCol At(size_t byte_offset) const;
  // "path:line:col" for a byte offset.
  std::string Where(size_t byte_offset) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<size_t> line_starts_;
};

// Returns the byte offset of the first invalid UTF-8 sequence, or npos.
size_t FindInvalidUtf8(const std::string& s);

}  // namespace pgvise
