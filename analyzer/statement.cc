#include "analyzer/statement.h"

#include <pg_query.h>

#include <cctype>
#include <sstream>
#include <string_view>

namespace pgvise {

Status ParseSqlToJson(const std::string& sql, std::string* json, size_t* error_pos) {
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  Status st;
  if (r.error) {
    if (error_pos)
      *error_pos = r.error->cursorpos > 0 ? static_cast<size_t>(r.error->cursorpos - 1) : 0;
    st = Status::InvalidInput(r.error->message ? r.error->message : "parse error");
  } else if (json) {
    *json = r.parse_tree ? r.parse_tree : "";
  }
  pg_query_free_parse_result(r);
  return st;
}

std::string Fingerprint(const std::string& sql) {
  PgQueryFingerprintResult r = pg_query_fingerprint(sql.c_str());
  std::string out = (!r.error && r.fingerprint_str) ? r.fingerprint_str : "";
  pg_query_free_fingerprint_result(r);
  return out;
}

std::string Normalize(const std::string& sql) {
  PgQueryNormalizeResult r = pg_query_normalize(sql.c_str());
  std::string out = (!r.error && r.normalized_query) ? r.normalized_query : sql;
  pg_query_free_normalize_result(r);
  return out;
}

size_t SkipSqlTrivia(const std::string& s, size_t i, size_t end) {
  while (i < end) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s.compare(i, 2, "--") == 0) {
      while (i < end && s[i] != '\n') ++i;
    } else if (s.compare(i, 2, "/*") == 0) {
      int depth = 0;  // PostgreSQL block comments nest
      while (i < end) {
        if (s.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Reads directives from comment text in [b, e). Only `--` comments whose body
// starts with `pgvise` are directives; anything else is an ordinary comment.
void ReadDirectives(const std::string& s, size_t b, size_t e, Statement* st) {
  size_t i = b;
  while (i < e) {
    // Search only [i, e): an unbounded find scans to the end of the file for
    // every statement, which made a 10,000-statement file quadratic.
    size_t c = std::string_view(s).substr(0, e).find("--", i);
    if (c == std::string::npos) break;
    size_t eol = s.find('\n', c);
    if (eol == std::string::npos || eol > e) eol = e;
    std::string body = Trim(s.substr(c + 2, eol - c - 2));
    if (body.rfind("pgvise-ignore:", 0) == 0) {
      std::stringstream ss(body.substr(14));
      std::string id;
      while (std::getline(ss, id, ',')) {
        id = Trim(id);
        if (!id.empty()) st->ignored_rules.insert(id);
      }
    } else if (body.rfind("pgvise:", 0) == 0) {
      std::stringstream ss(body.substr(7));
      std::string kv;
      while (ss >> kv) {
        size_t eq = kv.find('=');
        if (eq != std::string::npos) st->annotations[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    }
    i = eol;
  }
}

}  // namespace

Status ParseSqlFile(SourceText source, SqlFile* out) {
  out->source = std::move(source);
  out->statements.clear();
  const std::string& text = out->source.text();
  PgQuerySplitResult split = pg_query_split_with_scanner(text.c_str());
  if (split.error) {
    size_t pos = split.error->cursorpos > 0 ? static_cast<size_t>(split.error->cursorpos - 1) : 0;
    Status st = Status::InvalidInput(out->source.Where(pos) + ": " + split.error->message);
    pg_query_free_split_result(split);
    return st;
  }
  // The scanner split silently drops text it cannot call a statement: one
  // with no keyword before its ';' (`SELEC 1;`, `foo;`) and everything after
  // an unbalanced parenthesis (`SELECT (1; DELETE FROM t;` yields nothing).
  // Every gap between the ranges it returns that holds more than comments and
  // semicolons becomes a range of its own, so the parser reports it where it
  // stops and no text is ever skipped without a word.
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t covered = 0;
  auto add_gap = [&](size_t from, size_t to) {
    size_t b = from;
    while ((b = SkipSqlTrivia(text, b, to)) < to && text[b] == ';') ++b;
    if (b < to) ranges.emplace_back(b, to);
  };
  for (int k = 0; k < split.n_stmts; ++k) {
    const PgQuerySplitStmt* ps = split.stmts[k];
    size_t loc = static_cast<size_t>(ps->stmt_location);
    size_t end = ps->stmt_len == 0 ? text.size() : loc + static_cast<size_t>(ps->stmt_len);
    if (loc > covered) add_gap(covered, loc);
    ranges.emplace_back(loc, end);
    covered = std::max(covered, end);
  }
  pg_query_free_split_result(split);
  add_gap(covered, text.size());

  size_t prev_end = 0;  // end of the previous statement's trailing comment
  for (auto [loc, end] : ranges) {
    size_t first = SkipSqlTrivia(text, loc, end);
    // Trailing blanks and the ';' (a dropped range may still hold it) are not
    // part of the statement.
    while (end > first &&
           (std::isspace(static_cast<unsigned char>(text[end - 1])) || text[end - 1] == ';'))
      --end;
    if (first >= end) continue;  // only comments
    Statement st;
    st.index = static_cast<int>(out->statements.size());
    st.offset = first;
    st.end_offset = end;
    st.sql = text.substr(first, st.end_offset - first);
    st.pos = out->source.At(first);
    // Directives: comments between the previous statement and this one, and
    // comments inside this one.
    ReadDirectives(text, prev_end, st.end_offset, &st);
    // A comment on the line where this statement ends (after its ';') is "on"
    // this statement too: `DROP TABLE t; -- pgvise-ignore: ban-drop-table`.
    size_t semi = st.end_offset;
    while (semi < text.size() && text[semi] != ';' && text[semi] != '\n') ++semi;
    size_t eol = text.find('\n', semi);
    if (eol == std::string::npos) eol = text.size();
    ReadDirectives(text, semi, eol, &st);
    prev_end = std::max(prev_end, eol);
    size_t err_pos = 0;
    Status ps_status = ParseSqlToJson(st.sql, &st.parse_json, &err_pos);
    st.parsed = ps_status.ok();
    if (!st.parsed) {
      st.error = ps_status.message();
      st.error_offset = first + std::min(err_pos, st.sql.size());
    }
    out->statements.push_back(std::move(st));
  }
  return Status::Ok();
}

}  // namespace pgvise
