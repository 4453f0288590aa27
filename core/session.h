// Session: pgvise's one connection to a PostgreSQL server, and the only file
// that talks libpq. Every module reads the database through it.
//
// Safety contract (docs/contracts.md): an analysis session is READ ONLY, has
// statement_timeout and lock_timeout set, and identifies itself as
// application_name=pgvise. Only `--apply` opens a writable session. The
// connection string is never printed as given: MaskConnInfo() hides the
// password in every message that names it.
//
// A lost connection (the backend was terminated, the server shut down, the
// network dropped) is not an error a caller can work around: every later
// statement would fail too, and a caller that records failures per statement
// would present a run that stopped half-way as complete. So Query() ends the
// command right there: it throws Error(kDatabaseError) with one line naming
// the masked connection string. (Except while the stack is already unwinding
// from another exception, e.g. in a destructor's cleanup: then it returns a
// Database status like any failure.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct pg_conn;
struct pg_result;

namespace pgvise {

struct SessionOptions {
  std::string conninfo;              // URI or key=value; empty = libpq env vars (PGHOST...)
  bool read_only = true;             // false only for --apply
  int statement_timeout_ms = 30000;  // per statement
  int lock_timeout_ms = 1000;        // never wait long behind the application
  int connect_timeout_s = 10;
  std::string application_name = "pgvise";
};

// A query result: rows of nullable text values, with column names. Small and
// libpq-free so modules never include libpq headers.
class Rows {
 public:
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  size_t columns() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  int Column(std::string_view name) const;  // -1 when absent

  bool IsNull(size_t row, size_t col) const { return !rows_[row][col].has_value(); }
  const std::string& Text(size_t row, size_t col) const;  // "" for NULL
  // Typed readers: the fallback is returned for NULL or unparsable text.
  int64_t Int(size_t row, size_t col, int64_t fallback = 0) const;
  double Double(size_t row, size_t col, double fallback = 0) const;
  bool Bool(size_t row, size_t col, bool fallback = false) const;
  // By column name (asserts the name exists in debug; returns fallback if not).
  const std::string& Text(size_t row, std::string_view name) const;
  int64_t Int(size_t row, std::string_view name, int64_t fallback = 0) const;
  double Double(size_t row, std::string_view name, double fallback = 0) const;
  bool Bool(size_t row, std::string_view name, bool fallback = false) const;
  bool IsNull(size_t row, std::string_view name) const;

  std::vector<std::string> names_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
};

using Params = std::vector<std::optional<std::string>>;

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects and applies the safety settings. Errors name the masked
  // connection string and map to exit code 3.
  static Status Connect(const SessionOptions& opts, std::unique_ptr<Session>* out);

  // Runs one statement (with $n parameters when params is non-empty).
  // Throws Error(kDatabaseError) when the connection is lost (see above).
  Status Query(std::string_view sql, const Params& params, Rows* out);
  Status Query(std::string_view sql, Rows* out) { return Query(sql, {}, out); }
  Status Exec(std::string_view sql) {
    Rows ignored;
    return Query(sql, {}, &ignored);
  }
  // Runs one statement (no parameters) in a transaction of its own that is
  // READ ONLY whatever the session's defaults have become, and is always
  // rolled back, also after an error: nothing the statement does outlives it
  // — a write is refused, a session-level set_config() is undone. For what
  // executes user SQL, including plain EXPLAIN (the planner runs IMMUTABLE
  // functions of constants). Sent pipelined: one round trip. Inside a
  // transaction the caller opened, runs there (the caller owns the rollback).
  Status QueryRolledBack(std::string_view sql, Rows* out);

  // Several statements in one pipeline: one round trip for the lot instead
  // of one each, and the server plans the next while the client reads the
  // last (the advisor's what-if EXPLAINs, thousands per run). Each step runs
  // as QueryRolledBack runs one, in a READ ONLY transaction of its own that
  // is rolled back (`setting` = `setting_value`, when given, is set first
  // inside it with SET LOCAL, and ends with it), or with `own_transaction`
  // false on its own outside any (PREPARE, DEALLOCATE). A sync follows each
  // statement, so one step's failure is its own: the steps after it run.
  // Each step's outcome is in the step; the returned Status fails only when
  // the batch could not be sent (a lost connection throws, as Query does).
  // Inside a transaction the caller opened, the steps run there one by one.
  struct Step {
    std::string sql;
    // e.g. plan_cache_mode, force_custom_plan: words pgvise writes, never input
    std::string setting, setting_value;
    bool own_transaction = true;
    Status status;  // filled in
    Rows rows;
    std::string sqlstate;
  };
  Status Pipeline(std::vector<Step>* steps);

  // SQLSTATE of the last failed statement ("" if none), e.g. "55P03" lock_not_available.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Cleanup after a failure (a ROLLBACK) clears last_sqlstate(); a caller
  // that reports the original failure puts its SQLSTATE back with this.
  void set_last_sqlstate(std::string sqlstate) { last_sqlstate_ = std::move(sqlstate); }
  // Inside a transaction block (BEGIN ... not yet ended, or failed in one).
  bool InTransaction() const;
  // The connection was lost; nothing more can be sent.
  bool lost() const { return lost_; }
  int server_version() const { return server_version_; }  // e.g. 150018
  int64_t query_count() const { return query_count_; }    // statements sent so far
  const SessionOptions& options() const { return opts_; }
  std::string masked_conninfo() const;
  bool HasExtension(const std::string& name);  // installed in this database

 private:
  Session() = default;
  // Reads (and frees) one result into *out, or its error; a lost
  // connection goes to Lost().
  Status TakeResult(struct pg_result* res, Rows* out);
  // Marks the session lost and ends the command (see the header comment).
  Status Lost(const std::string& why);
  pg_conn* conn_ = nullptr;
  SessionOptions opts_;
  int server_version_ = 0;
  int64_t query_count_ = 0;
  std::string last_sqlstate_;
  bool lost_ = false;
};

// SQLSTATEs that mean the session is gone: 08xxx connection exceptions,
// 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown,
// 57P03 cannot_connect_now.
bool IsConnectionLostSqlstate(std::string_view sqlstate);

// Replaces the password in a URI or key=value connection string with "***".
std::string MaskConnInfo(const std::string& conninfo);
// Quotes an identifier for SQL (like quote_ident): only when needed.
std::string QuoteIdent(std::string_view ident);
// Quotes a string literal for SQL ('...' doubling quotes; E'' never needed).
std::string QuoteLiteral(std::string_view s);

}  // namespace pgvise
