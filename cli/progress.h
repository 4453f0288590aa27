// Progress on stderr for long runs, only when a person is watching: a
// command's module reports steps through a callback, and this prints them on
// one refreshed line after the first two seconds (short runs stay silent) and
// clears it at the end, so stdout and redirected stderr stay clean.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace pgvise {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void operator()(const std::string& msg) {
    if (!enabled_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (s < 2.0) return;
    std::fprintf(stderr, "\r\033[K[%5.1fs] %s", s, msg.substr(0, 100).c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pgvise
