#include "core/source.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace pgvise {

SourceText::SourceText(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  const char* begin = text_.data();
  const char* end = begin + text_.size();
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', end - p)));)
    line_starts_.push_back(static_cast<size_t>(++p - begin));
}

LineCol SourceText::At(size_t off) const {
  off = std::min(off, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
  size_t line_idx = static_cast<size_t>(it - line_starts_.begin()) - 1;
  size_t start = line_starts_[line_idx];
  int col = 1;
  for (size_t i = start; i < off; ++i)
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
  return {static_cast<int>(line_idx) + 1, col};
}

std::string SourceText::Where(size_t off) const {
  LineCol lc = At(off);
  return path_ + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

size_t FindInvalidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string::npos;
}

Status SourceText::Validate() const {
  if (text_.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidInput(path_ + ": empty input");
  size_t nul = text_.find('\0');
  if (nul != std::string::npos)
    return Status::InvalidInput(Where(nul) + ": binary data (NUL byte); expected text");
  size_t bad = FindInvalidUtf8(text_);
  if (bad != std::string::npos)
    return Status::InvalidInput(Where(bad) + ": invalid UTF-8 byte sequence; expected UTF-8 text");
  return Status::Ok();
}

namespace {

// A named pipe (or a shell's <(...)): opening one for reading blocks until a
// writer appears, which may be never. Opened non-blocking, a FIFO with no
// writer reads as EOF at once — refused with a clear line — while one whose
// writer is there but has not written yet says EAGAIN: then wait for data
// (poll) until that writer closes it, as a pipe should be read.
Status ReadFifo(const std::string& path, size_t max_bytes, std::string* data) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0) return Status::InvalidInput(path + ": cannot open: " + std::strerror(errno));
  bool got_any = false, writer_seen = false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      got_any = writer_seen = true;
      data->append(buf, static_cast<size_t>(n));
      if (data->size() > max_bytes) break;
      continue;
    }
    if (n == 0) break;  // EOF: the writer closed it, or there never was one
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      writer_seen = true;
      struct pollfd p = {fd, POLLIN, 0};
      poll(&p, 1, -1);
      continue;
    }
    int e = errno;
    close(fd);
    return Status::InvalidInput(path + ": cannot read: " + std::strerror(e));
  }
  close(fd);
  if (!got_any && !writer_seen)
    return Status::InvalidInput(path + ": a named pipe with no writer: nothing to read");
  return Status::Ok();
}

}  // namespace

Status SourceText::Read(const std::string& path, SourceText* out, size_t max_bytes) {
  std::string data;
  if (path == "-") {
    std::istreambuf_iterator<char> it(std::cin), end;
    // Stop reading once over the limit, so a huge pipe cannot exhaust memory.
    while (it != end && data.size() <= max_bytes) data.push_back(*it++);
  } else {
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
      return Status::InvalidInput(path + ": cannot open: " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return Status::InvalidInput(path + ": is a directory");
    if (S_ISFIFO(st.st_mode)) {
      Status fs = ReadFifo(path, max_bytes, &data);
      if (!fs.ok()) return fs;
      if (data.size() > max_bytes)
        return Status::InvalidInput(path + ": input exceeds the " +
                                    std::to_string(max_bytes >> 20) + " MiB input limit");
      *out = SourceText(path, std::move(data));
      return out->Validate();
    }
    if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > max_bytes)
      return Status::InvalidInput(path + ": " + std::to_string(st.st_size) + " bytes exceeds the " +
                                  std::to_string(max_bytes >> 20) + " MiB input limit");
    std::ifstream f(path, std::ios::binary);
    if (!f) return Status::InvalidInput(path + ": cannot open: " + std::strerror(errno));
    std::ostringstream ss;
    ss << f.rdbuf();
    data = ss.str();
  }
  if (data.size() > max_bytes)
    return Status::InvalidInput(path + ": input exceeds the " + std::to_string(max_bytes >> 20) +
                                " MiB input limit");
  *out = SourceText(path, std::move(data));
  return out->Validate();
}

}  // namespace pgvise
