// Status: the result of an operation that may fail in an expected way (an
// unparsable statement among 500, a plan node of a type we do not know).
// leveldb's rhythm: `if (!s.ok()) return s;`. What ends a whole command is an
// Error exception instead, caught once in cli/ and mapped to its exit code.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "core/exit_code.h"

namespace pgvise {

class Status {
 public:
  enum class Code { kOk, kInvalidInput, kNotFound, kDatabase, kUnsupported, kInternal };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string msg) {
    return Status(Code::kInvalidInput, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Database(std::string msg) { return Status(Code::kDatabase, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The exit code a command ends with when this status ends it.
  ExitCode exit_code() const {
    return code_ == Code::kDatabase ? ExitCode::kDatabaseError : ExitCode::kInputError;
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Thrown for what ends the command. The message is one line and already says
// where (file:line:col, JSON path, or the masked connection string).
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  explicit Error(const Status& s) : std::runtime_error(s.message()), code_(s.exit_code()) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace pgvise
