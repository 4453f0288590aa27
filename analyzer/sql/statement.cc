#include "analyzer/sql/statement.h"

#include <pg_query.h>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/query_facts.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
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

std::string TooDeepMessage(int depth) {
  return "statement nests " + std::to_string(depth) +
         " levels deep; pgvise analyses statements up to " + std::to_string(kMaxNestingDepth) +
         " levels";
}

Status CheckNestingDepth(const std::string& sql, size_t* error_pos) {
  pgtree::PgTree tree(sql);
  if (!tree.ok()) {
    if (error_pos) *error_pos = tree.cursor();
    return Status::InvalidInput(tree.message());
  }
  const int depth = sql.size() > kShortStatementBytes ? tree.MaxDepth() : 0;
  if (depth > kMaxNestingDepth) {
    if (error_pos) *error_pos = 0;
    return Status::Unsupported(TooDeepMessage(depth));
  }
  return Status::Ok();
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

// --- splitting --------------------------------------------------------------
//
// A file is cut into statements by one forward pass over its bytes that knows
// just enough of PostgreSQL's lexical structure to find the semicolons that end
// statements: the ones outside quoted strings ('..', E'..' with backslash
// escapes, $tag$..$tag$), quoted identifiers ("..") and comments (-- and
// nested /* */), outside parentheses, and outside the BEGIN ATOMIC .. END body
// of a CREATE FUNCTION/PROCEDURE (PostgreSQL 14+; psql uses the same cues).
// It does not tokenise keywords or operators: the parser sees each statement
// next and reports anything wrong inside it at its exact position.
//
//   CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
//   SELECT $$a;b$$ AS s, 'it''s;' AS t; SELECT (1; 2);
//
// gives three ranges: the function (its inner ';' sits in the BEGIN ATOMIC
// body), the SELECT with two quoted semicolons, and `SELECT (1; 2)` (a ';'
// inside parentheses never ends a statement; the parser reports it).
//
// libpg_query's own pg_query_split_with_scanner runs PostgreSQL's full lexer
// over the file, a second lex on top of the parser's: it cost 26% of the
// parse (bench/review.md), where this pass costs ~3%.

namespace {

// Character classes by table: <cctype> calls are locale-aware function calls,
// and they were 4% of parsing a file.
// kPlain: a byte that starts nothing the splitter tracks (blanks, most
// operator characters), skipped in a tight loop.
enum : uint8_t { kIdentStart = 1, kIdentCont = 2, kDigit = 4, kPlain = 8 };
constexpr std::array<uint8_t, 256> MakeCharClass() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    const bool digit = c >= '0' && c <= '9';
    const bool special = alpha || digit || c == '-' || c == '/' || c == '\'' || c == '"' ||
                         c == '$' || c == '(' || c == ')' || c == ';' || c == 0;
    t[c] = static_cast<uint8_t>((alpha ? kIdentStart | kIdentCont : 0) |
                                (digit ? kDigit | kIdentCont : 0) | (c == '$' ? kIdentCont : 0) |
                                (special ? 0 : kPlain));
  }
  return t;
}
constexpr std::array<uint8_t, 256> kCharClass = MakeCharClass();
bool IsIdentStart(unsigned char c) { return kCharClass[c] & kIdentStart; }
bool IsIdentCont(unsigned char c) { return kCharClass[c] & kIdentCont; }

bool WordIs(std::string_view w, std::string_view kw) {
  if (w.size() != kw.size()) return false;
  for (size_t i = 0; i < w.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(w[i])) != kw[i]) return false;
  return true;
}

struct SplitError {
  size_t offset = 0;
  std::string message;
};

// The statement ranges [begin, end) of `text`, each ending before its ';'
// (or at the end of the text). Fails on a string, identifier or comment that
// never ends, at the offset where it starts.
bool SplitStatements(const std::string& text, std::vector<std::pair<size_t, size_t>>* ranges,
                     SplitError* err) {
  const size_t n = text.size();
  const char* s = text.data();
  size_t begin = 0;
  int paren = 0;
  int atomic = 0;        // BEGIN/CASE .. END depth inside a routine body
  int words = 0;         // identifiers seen in this statement (for the CREATE FUNCTION cue)
  bool routine = false;  // statement starts CREATE [OR REPLACE] FUNCTION|PROCEDURE
  int cue = 0;           // how much of that prefix has been seen
  auto fail = [&](size_t at, const char* what) {
    err->offset = at;
    err->message = what;
    return false;
  };
  size_t i = 0;
  while (i < n) {
    while (i < n && (kCharClass[static_cast<unsigned char>(s[i])] & kPlain)) ++i;
    if (i >= n) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      const void* nl = std::memchr(s + i, '\n', n - i);
      i = nl ? static_cast<size_t>(static_cast<const char*>(nl) - s) : n;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      const size_t start = i;
      int depth = 0;
      while (i < n) {
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      if (depth > 0) return fail(start, "unterminated /* comment");
    } else if (c == '\'' || c == '"') {
      // '' and "" double the quote; E'..' also escapes with backslashes.
      const bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
                             (i < 2 || !IsIdentCont(static_cast<unsigned char>(s[i - 2])));
      const size_t start = i++;
      for (;;) {
        if (i >= n)
          return fail(start,
                      c == '\'' ? "unterminated quoted string" : "unterminated quoted identifier");
        if (backslash && s[i] == '\\') {
          i += 2;
        } else if (static_cast<unsigned char>(s[i]) == c) {
          if (i + 1 < n && static_cast<unsigned char>(s[i + 1]) == c) {
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          ++i;
        }
      }
    } else if (c == '$') {
      // $n is a parameter; $tag$ or $$ opens a dollar-quoted string.
      size_t j = i + 1;
      if (j < n && IsIdentStart(static_cast<unsigned char>(s[j]))) {
        while (j < n && IsIdentCont(static_cast<unsigned char>(s[j])) && s[j] != '$') ++j;
      }
      if (j < n && s[j] == '$') {
        const std::string_view tag(s + i, j - i + 1);
        const size_t close = text.find(tag, j + 1);
        if (close == std::string::npos) return fail(i, "unterminated dollar-quoted string");
        i = close + tag.size();
      } else {
        i = j;
      }
    } else if (IsIdentStart(c)) {
      const size_t start = i;
      while (i < n && IsIdentCont(static_cast<unsigned char>(s[i]))) ++i;
      const std::string_view w(s + start, i - start);
      // CREATE [OR REPLACE] FUNCTION|PROCEDURE: the only statements whose
      // body may be BEGIN ATOMIC .. END with semicolons inside.
      const bool is_routine_word = WordIs(w, "function") || WordIs(w, "procedure");
      if (words == 0) {
        cue = WordIs(w, "create") ? 1 : 0;
      } else if (cue == 1 && words == 1) {
        routine = is_routine_word;
        cue = WordIs(w, "or") ? 2 : 0;
      } else if (cue == 2 && words == 2) {
        cue = WordIs(w, "replace") ? 3 : 0;
      } else if (cue == 3 && words == 3) {
        routine = is_routine_word;
        cue = 0;
      }
      ++words;
      if (routine && paren == 0) {
        if (WordIs(w, "begin")) {
          ++atomic;
        } else if (WordIs(w, "case")) {
          if (atomic > 0) ++atomic;
        } else if (WordIs(w, "end")) {
          if (atomic > 0) --atomic;
        }
      }
    } else if (c >= '0' && c <= '9') {
      // A number, so that `1e5` or `2abc` does not look like an identifier start.
      while (i < n &&
             (((kCharClass[static_cast<unsigned char>(s[i])] & kIdentCont) && s[i] != '$') ||
              s[i] == '.'))
        ++i;
    } else {
      if (c == '(') {
        ++paren;
      } else if (c == ')') {
        if (paren > 0) --paren;
      } else if (c == ';' && paren == 0 && atomic == 0) {
        ranges->emplace_back(begin, i);
        begin = i + 1;
        words = 0;
        routine = false;
        cue = 0;
      }
      ++i;
    }
  }
  ranges->emplace_back(begin, n);
  return true;
}

}  // namespace

Status ParseSqlFile(SourceText source, SqlFile* out) {
  out->source = std::move(source);
  out->statements.clear();
  const std::string& text = out->source.text();
  std::vector<std::pair<size_t, size_t>> ranges;
  SplitError split_error;
  if (!SplitStatements(text, &ranges, &split_error)) {
    // The message is one line: the snippet stops at a line end or after 20
    // bytes, never inside a UTF-8 sequence.
    const size_t at = split_error.offset;
    size_t stop = std::min(text.size(), at + 20);
    while (stop > at && stop < text.size() &&
           (static_cast<unsigned char>(text[stop]) & 0xC0) == 0x80)
      --stop;
    const size_t nl = text.find_first_of("\r\n", at);
    if (nl != std::string::npos && nl < stop) stop = nl;
    return Status::InvalidInput(out->source.Where(at) + ": " + split_error.message +
                                " at or near \"" + text.substr(at, stop - at) +
                                (stop < text.size() ? "...\"" : "\""));
  }

  out->statements.reserve(ranges.size());
  size_t prev_end = 0;    // end of the previous statement's trailing comment
  bool in_block = false;  // inside BEGIN ... COMMIT
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
    auto facts = std::make_shared<QueryFacts>();
    Status ps_status = ParseStatementFacts(st.sql, facts.get(), &err_pos);
    st.parsed = ps_status.ok();
    st.too_deep = ps_status.code() == Status::Code::kUnsupported;
    if (st.parsed) {
      NoteTransactionBlock(facts.get(), &in_block);
    } else {
      *facts = QueryFacts();
      facts->in_transaction_block = in_block;
      st.error = ps_status.message();
      st.error_offset = first + std::min(err_pos, st.sql.size());
    }
    st.facts = std::move(facts);
    out->statements.push_back(std::move(st));
  }
  return Status::Ok();
}

}  // namespace pgvise
