// Exit codes shared by every subcommand (the contract in docs/contracts.md).
// Only cli/ turns outcomes into one of these; modules return Status or throw
// pgvise::Error carrying the code that ends the command.
#pragma once

namespace pgvise {

enum class ExitCode : int {
  kOk = 0,             // nothing at or above --fail-on
  kFindings = 1,       // findings at or above --fail-on
  kInputError = 2,     // usage or input error: bad flag, unparsable file, malformed JSON
  kDatabaseError = 3,  // connect, permission, timeout
  kApplyFailed = 4,    // --apply ran but some action failed
  kInternalError = 5,  // a bug in pgvise (an exception that is not pgvise::Error)
};

}  // namespace pgvise
