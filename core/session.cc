#include "core/session.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <regex>

namespace pgvise {

int Rows::Column(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

static const std::string kEmpty;

const std::string& Rows::Text(size_t row, size_t col) const {
  const auto& v = rows_[row][col];
  return v ? *v : kEmpty;
}

int64_t Rows::Int(size_t row, size_t col, int64_t fallback) const {
  const auto& v = rows_[row][col];
  if (!v || v->empty()) return fallback;
  char* end = nullptr;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (end == v->c_str()) return fallback;
  if (*end == '.' || *end == 'e' || *end == 'E')
    return static_cast<int64_t>(std::strtod(v->c_str(), nullptr));
  return x;
}

double Rows::Double(size_t row, size_t col, double fallback) const {
  const auto& v = rows_[row][col];
  if (!v || v->empty()) return fallback;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  return end == v->c_str() ? fallback : x;
}

bool Rows::Bool(size_t row, size_t col, bool fallback) const {
  const auto& v = rows_[row][col];
  if (!v || v->empty()) return fallback;
  return (*v)[0] == 't' || (*v)[0] == 'T' || (*v)[0] == '1';
}

const std::string& Rows::Text(size_t row, std::string_view name) const {
  int c = Column(name);
  return c < 0 ? kEmpty : Text(row, static_cast<size_t>(c));
}
int64_t Rows::Int(size_t row, std::string_view name, int64_t fallback) const {
  int c = Column(name);
  return c < 0 ? fallback : Int(row, static_cast<size_t>(c), fallback);
}
double Rows::Double(size_t row, std::string_view name, double fallback) const {
  int c = Column(name);
  return c < 0 ? fallback : Double(row, static_cast<size_t>(c), fallback);
}
bool Rows::Bool(size_t row, std::string_view name, bool fallback) const {
  int c = Column(name);
  return c < 0 ? fallback : Bool(row, static_cast<size_t>(c), fallback);
}
bool Rows::IsNull(size_t row, std::string_view name) const {
  int c = Column(name);
  return c < 0 ? true : IsNull(row, static_cast<size_t>(c));
}

std::string MaskConnInfo(const std::string& conninfo) {
  std::string s = conninfo;
  // URI form: scheme://user:password@host
  static const std::regex uri_pw(R"(^(postgres(?:ql)?://[^:/@?]*):([^@/?]*)@)");
  s = std::regex_replace(s, uri_pw, "$1:***@");
  // URI query parameter: ?password=... or &password=...
  static const std::regex q_pw(R"(([?&]password=)[^&]*)");
  s = std::regex_replace(s, q_pw, "$1***");
  // key=value form: password=secret or password='sec ret'
  static const std::regex kv_pw(R"((^|\s)(password\s*=\s*)('([^'\\]|\\.)*'|\S+))");
  s = std::regex_replace(s, kv_pw, "$1$2***");
  return s;
}

std::string QuoteIdent(std::string_view ident) {
  bool plain =
      !ident.empty() && (std::islower(static_cast<unsigned char>(ident[0])) || ident[0] == '_');
  for (char c : ident)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      plain = false;
  // Reserved words need quoting even when lower-case; the list covers the
  // keywords PostgreSQL reserves in column/table names.
  static const char* kReserved[] = {"all",
                                    "analyse",
                                    "analyze",
                                    "and",
                                    "any",
                                    "array",
                                    "as",
                                    "asc",
                                    "asymmetric",
                                    "both",
                                    "case",
                                    "cast",
                                    "check",
                                    "collate",
                                    "column",
                                    "constraint",
                                    "create",
                                    "current_catalog",
                                    "current_date",
                                    "current_role",
                                    "current_time",
                                    "current_timestamp",
                                    "current_user",
                                    "default",
                                    "deferrable",
                                    "desc",
                                    "distinct",
                                    "do",
                                    "else",
                                    "end",
                                    "except",
                                    "false",
                                    "fetch",
                                    "for",
                                    "foreign",
                                    "from",
                                    "grant",
                                    "group",
                                    "having",
                                    "in",
                                    "initially",
                                    "intersect",
                                    "into",
                                    "lateral",
                                    "leading",
                                    "limit",
                                    "localtime",
                                    "localtimestamp",
                                    "not",
                                    "null",
                                    "offset",
                                    "on",
                                    "only",
                                    "or",
                                    "order",
                                    "placing",
                                    "primary",
                                    "references",
                                    "returning",
                                    "select",
                                    "session_user",
                                    "some",
                                    "symmetric",
                                    "table",
                                    "then",
                                    "to",
                                    "trailing",
                                    "true",
                                    "union",
                                    "unique",
                                    "user",
                                    "using",
                                    "variadic",
                                    "when",
                                    "where",
                                    "window",
                                    "with",
                                    "authorization",
                                    "binary",
                                    "collation",
                                    "concurrently",
                                    "cross",
                                    "current_schema",
                                    "freeze",
                                    "full",
                                    "ilike",
                                    "inner",
                                    "is",
                                    "isnull",
                                    "join",
                                    "left",
                                    "like",
                                    "natural",
                                    "notnull",
                                    "outer",
                                    "overlaps",
                                    "right",
                                    "similar",
                                    "tablesample",
                                    "verbose"};
  if (plain)
    for (const char* r : kReserved)
      if (ident == r) plain = false;
  if (plain) return std::string(ident);
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

Session::~Session() {
  if (conn_) PQfinish(conn_);
}

std::string Session::masked_conninfo() const {
  return opts_.conninfo.empty() ? "(PG environment)" : MaskConnInfo(opts_.conninfo);
}

static std::string OneLine(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return msg;
}

Status Session::Connect(const SessionOptions& opts, std::unique_ptr<Session>* out) {
  std::unique_ptr<Session> s(new Session());
  s->opts_ = opts;
  // Keywords override the dbname string's settings only where we must.
  std::string timeout = std::to_string(opts.connect_timeout_s);
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* vals[] = {opts.conninfo.empty() ? nullptr : opts.conninfo.c_str(),
                        opts.application_name.c_str(), timeout.c_str(), nullptr};
  if (opts.conninfo.empty()) {
    keys[0] = "application_name";
    vals[0] = opts.application_name.c_str();
    keys[1] = "connect_timeout";
    vals[1] = timeout.c_str();
    keys[2] = nullptr;
  }
  s->conn_ = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
  if (!s->conn_ || PQstatus(s->conn_) != CONNECTION_OK) {
    std::string err = s->conn_ ? OneLine(PQerrorMessage(s->conn_)) : "out of memory";
    // libpq never echoes the password, but the conninfo it may quote is masked.
    if (!opts.conninfo.empty()) {
      size_t p = err.find(opts.conninfo);
      if (p != std::string::npos) err.replace(p, opts.conninfo.size(), s->masked_conninfo());
    }
    return Status::Database("cannot connect to " + s->masked_conninfo() + ": " + err);
  }
  s->server_version_ = PQserverVersion(s->conn_);
  std::string setup = "SET statement_timeout = " + std::to_string(opts.statement_timeout_ms) +
                      "; SET lock_timeout = " + std::to_string(opts.lock_timeout_ms) +
                      "; SET idle_in_transaction_session_timeout = " +
                      std::to_string(std::max(opts.statement_timeout_ms * 2, 60000));
  if (opts.read_only) setup += "; SET default_transaction_read_only = on";
  Status st = s->Exec(setup);
  if (!st.ok()) return st;
  *out = std::move(s);
  return Status::Ok();
}

bool IsConnectionLostSqlstate(std::string_view sqlstate) {
  return sqlstate.substr(0, 2) == "08" || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

bool Session::InTransaction() const {
  if (!conn_) return false;
  PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

// The first line of a libpq message without its severity: "terminating
// connection due to administrator command", "server closed the connection
// unexpectedly".
static std::string FirstLineOf(std::string msg) {
  size_t nl = msg.find('\n');
  if (nl != std::string::npos) msg.resize(nl);
  for (const char* sev : {"FATAL:  ", "ERROR:  ", "PANIC:  "})
    if (msg.rfind(sev, 0) == 0) msg = msg.substr(std::string(sev).size());
  return OneLine(msg);
}

Status Session::Lost(const std::string& why) {
  lost_ = true;
  Status st = Status::Database("lost the connection to " + masked_conninfo() + ": " + why +
                               "; the command stopped here");
  // Not while the stack unwinds from another exception (a destructor's
  // cleanup): throwing there would terminate the process.
  if (std::uncaught_exceptions() == 0) throw Error(st);
  return st;
}

Status Session::TakeResult(PGresult* res, Rows* out) {
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    last_sqlstate_ = code ? code : "";
    std::string msg = OneLine(PQresultErrorMessage(res));
    if (msg.empty()) msg = OneLine(PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD || IsConnectionLostSqlstate(last_sqlstate_)) {
      // Whatever the caller would do with a failed statement (note it, skip
      // it, fall back), the rest of the run cannot happen: end the command.
      std::string why = FirstLineOf(res ? PQresultErrorMessage(res) : "");
      if (why.empty()) why = FirstLineOf(PQerrorMessage(conn_));
      PQclear(res);
      return Lost(why);
    }
    PQclear(res);
    return Status::Database(msg);
  }
  out->names_.clear();
  out->rows_.clear();
  int nf = PQnfields(res), nt = PQntuples(res);
  for (int f = 0; f < nf; ++f) out->names_.emplace_back(PQfname(res, f));
  out->rows_.resize(static_cast<size_t>(nt));
  for (int r = 0; r < nt; ++r) {
    auto& row = out->rows_[static_cast<size_t>(r)];
    row.reserve(static_cast<size_t>(nf));
    for (int f = 0; f < nf; ++f) {
      if (PQgetisnull(res, r, f))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(
            std::string(PQgetvalue(res, r, f), static_cast<size_t>(PQgetlength(res, r, f))));
    }
  }
  PQclear(res);
  return Status::Ok();
}

Status Session::Query(std::string_view sql, const Params& params, Rows* out) {
  ++query_count_;
  last_sqlstate_.clear();
  if (lost_) return Lost("it was lost earlier");
  std::string q(sql);
  PGresult* res;
  if (params.empty()) {
    res = PQexec(conn_, q.c_str());
  } else {
    std::vector<const char*> vals;
    for (const auto& p : params) vals.push_back(p ? p->c_str() : nullptr);
    res = PQexecParams(conn_, q.c_str(), static_cast<int>(vals.size()), nullptr, vals.data(),
                       nullptr, nullptr, 0);
  }
  return TakeResult(res, out);
}

// One step of a Pipeline: BEGIN TRANSACTION READ ONLY, the statement, a
// sync, ROLLBACK and a sync, in one round trip. Each goes through the
// extended protocol, which takes exactly one statement: `sql` cannot
// smuggle in a COMMIT.
Status Session::QueryRolledBack(std::string_view sql, Rows* out) {
  std::vector<Step> steps(1);
  steps[0].sql = std::string(sql);
  Status st = Pipeline(&steps);
  if (!st.ok()) return st;
  *out = std::move(steps[0].rows);
  last_sqlstate_ = steps[0].sqlstate;
  return steps[0].status;
}

// Per step: [BEGIN TRANSACTION READ ONLY, setting,] sql, SYNC[, ROLLBACK,
// SYNC]. The sync right after the statement is what keeps a failure local:
// an error aborts the pipeline only up to the next sync, so the ROLLBACK
// after it still runs (it ends the failed transaction block) and so does
// the next step. Sent in windows of kWindow steps, each read back before
// the next is sent, so a batch of any size holds a bounded number of plans
// in memory (and libpq reads while it writes, so a full socket cannot
// deadlock the two ends).
Status Session::Pipeline(std::vector<Step>* steps) {
  if (InTransaction()) {  // the caller's transaction, the caller's rollback
    // A setting is set for the step and put back after it, since the
    // caller's transaction goes on.
    for (Step& st : *steps) {
      Rows old;
      if (!st.setting.empty()) {
        st.status = Query("SELECT current_setting($1)", {st.setting}, &old);
        Rows ignored;
        if (st.status.ok())
          st.status =
              Query("SELECT set_config($1, $2, true)", {st.setting, st.setting_value}, &ignored);
        if (!st.status.ok()) {
          st.sqlstate = last_sqlstate_;
          continue;
        }
      }
      st.status = Query(st.sql, &st.rows);
      st.sqlstate = last_sqlstate_;
      Rows ignored;
      if (!st.setting.empty() && !old.empty() && PQtransactionStatus(conn_) != PQTRANS_INERROR)
        Query("SELECT set_config($1, $2, true)", {st.setting, old.Text(0, 0)}, &ignored);
      last_sqlstate_ = st.sqlstate;
    }
    return Status::Ok();
  }
  if (lost_) return Lost("it was lost earlier");
  constexpr size_t kWindow = 64;
  auto send = [&](const std::string& text) {
    return PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  };
  // One command's results up to its terminating NULL; the first is kept.
  auto take = [&](PGresult** keep) {
    PGresult* r;
    while ((r = PQgetResult(conn_)) != nullptr) {
      if (keep && !*keep)
        *keep = r;
      else
        PQclear(r);
    }
  };
  auto take_sync = [&] {
    if (PGresult* r = PQgetResult(conn_)) PQclear(r);
  };
  for (size_t begin = 0; begin < steps->size(); begin += kWindow) {
    const size_t end = std::min(steps->size(), begin + kWindow);
    last_sqlstate_.clear();
    bool sent = PQenterPipelineMode(conn_) == 1;
    for (size_t i = begin; sent && i < end; ++i) {
      const Step& st = (*steps)[i];
      ++query_count_;
      if (st.own_transaction) {
        sent = send("BEGIN TRANSACTION READ ONLY") &&
               (st.setting.empty() || send("SET LOCAL " + st.setting + " = " + st.setting_value));
      }
      sent = sent && send(st.sql) && PQpipelineSync(conn_) == 1;
      if (st.own_transaction) sent = sent && send("ROLLBACK") && PQpipelineSync(conn_) == 1;
    }
    if (sent) {
      for (size_t i = begin; i < end && PQstatus(conn_) != CONNECTION_BAD; ++i) {
        Step& st = (*steps)[i];
        PGresult* opened = nullptr;
        PGresult* set = nullptr;
        PGresult* result = nullptr;
        if (st.own_transaction) {
          take(&opened);
          if (!st.setting.empty()) take(&set);
        }
        take(&result);
        take_sync();
        if (st.own_transaction) {
          take(nullptr);
          take_sync();
        }
        // The first failure is the step's: BEGIN's, the setting's, or the
        // statement's (those after a failure only say "aborted").
        Rows ignored;
        last_sqlstate_.clear();
        if (opened && PQresultStatus(opened) != PGRES_COMMAND_OK) {
          PQclear(set);
          PQclear(result);
          st.status = TakeResult(opened, &ignored);
        } else if (set && PQresultStatus(set) != PGRES_COMMAND_OK) {
          PQclear(opened);
          PQclear(result);
          st.status = TakeResult(set, &ignored);
        } else {
          PQclear(opened);
          PQclear(set);
          st.status = result ? TakeResult(result, &st.rows)
                             : Status::Database("no result for the statement");
        }
        st.sqlstate = last_sqlstate_;
      }
    }
    if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && PQexitPipelineMode(conn_) != 1) {
      for (int nulls = 0; nulls < 2 && PQstatus(conn_) != CONNECTION_BAD;) {
        PGresult* r = PQgetResult(conn_);
        nulls = r ? 0 : nulls + 1;
        PQclear(r);
      }
      PQexitPipelineMode(conn_);
    }
    if (PQstatus(conn_) == CONNECTION_BAD) return Lost(FirstLineOf(PQerrorMessage(conn_)));
    if (!sent) return Status::Database(OneLine(PQerrorMessage(conn_)));
    if (InTransaction()) {  // cannot happen (each ROLLBACK ran); never leave one open
      Status rb = Exec("ROLLBACK");
      if (!rb.ok()) return rb;
    }
  }
  return Status::Ok();
}

bool Session::HasExtension(const std::string& name) {
  Rows r;
  if (!Query("SELECT 1 FROM pg_extension WHERE extname = $1", {name}, &r).ok()) return false;
  return !r.empty();
}

}  // namespace pgvise
