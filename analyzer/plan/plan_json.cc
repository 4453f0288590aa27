// Positions in EXPLAIN JSON text (see analyzer/plan/plan_json.h). Only failed
// reads come here, so both scanners favour a precise message over speed.
//
// Where a syntax error is reported: a missing token is reported just after
// the last complete value, because that is where it belongs; a wrong token is
// reported where it starts. In this text, the comma after "Index Scan" is
// missing:
//
//   4 |      "Node Type": "Index Scan"
//   5 |      "Parallel Aware": false,
//
// A parser that reads on until it fails stops at line 5 (nlohmann reports 5:22,
// the end of the next key). This scanner says 4:32, right after "Index Scan":
// expected ',' or '}' after the value of "Node Type", found string
// "Parallel Aware". A truncated file ends inside a value or container: that
// is reported at the end of the last complete token, with how many objects or
// arrays are left open.
#include "analyzer/plan/plan_json.h"

#include <cctype>
#include <cstring>
#include <vector>

namespace pgvise {

namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '+' ||
         c == '-';
}

class SyntaxScanner {
 public:
  SyntaxScanner(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  JsonSyntaxError Run() {
    SkipWs();
    if (i_ >= s_.size()) {
      Fail(0, "empty input: no JSON value");
      return err_;
    }
    if (!Value(0, "")) return err_;
    SkipWs();
    if (i_ < s_.size()) {
      Fail(i_, "unexpected " + Describe(i_) + " after the end of the JSON document");
      return err_;
    }
    return {};
  }

 private:
  bool Fail(size_t at, std::string message) {
    err_.found = true;
    err_.offset = at;
    err_.message = std::move(message);
    return false;
  }

  // The input ended early: report it after the last complete token, the end
  // of what the file does hold.
  bool FailEof(const std::string& expected) {
    std::string open;
    if (open_ > 0)
      open = "; " + std::to_string(open_) +
             (open_ == 1 ? " object or array" : " objects or arrays") + " still open";
    return Fail(last_end_, "truncated JSON: unexpected end of input, expected " + expected + open);
  }

  void SkipWs() {
    while (i_ < s_.size() && IsWs(s_[i_])) ++i_;
  }

  // "string \"Parallel Aware\"", "'x'", "'None'", "end of input".
  std::string Describe(size_t at) const {
    if (at >= s_.size()) return "end of input";
    char c = s_[at];
    if (c == '"') {
      size_t end = at + 1;
      while (end < s_.size() && end - at < 40 && s_[end] != '"' && s_[end] != '\n') {
        if (s_[end] == '\\') ++end;
        ++end;
      }
      end = std::min(end, s_.size());
      bool closed = end < s_.size() && s_[end] == '"';
      return "string " + std::string(s_.substr(at, end - at)) + (closed ? "\"" : "...");
    }
    if (IsWordChar(c)) {
      size_t end = at;
      while (end < s_.size() && end - at < 40 && IsWordChar(s_[end])) ++end;
      return "'" + std::string(s_.substr(at, end - at)) + "'";
    }
    if (static_cast<unsigned char>(c) < 0x20) return "a control character";
    if (static_cast<unsigned char>(c) >= 0x80) return "a non-ASCII character";
    return std::string("'") + c + "'";
  }

  bool Value(int depth, const std::string& of) {
    if (i_ >= s_.size()) return FailEof("a value" + of);
    char c = s_[i_];
    if (c == '{') return Object(depth);
    if (c == '[') return Array(depth);
    if (c == '"') return String();
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    if (std::isalpha(static_cast<unsigned char>(c))) return Literal();
    if (c == '\'') return Fail(i_, "strings must be in double quotes, found " + Describe(i_));
    return Fail(i_, "expected a value" + of + ", found " + Describe(i_));
  }

  bool Open(int depth) {
    if (depth >= max_depth_)
      return Fail(i_, "nesting deeper than " + std::to_string(max_depth_) + " levels");
    ++i_;
    last_end_ = i_;
    ++open_;
    return true;
  }
  void Close() {
    ++i_;
    last_end_ = i_;
    --open_;
  }

  bool Object(int depth) {
    if (!Open(depth)) return false;
    SkipWs();
    if (i_ < s_.size() && s_[i_] == '}') {
      Close();
      return true;
    }
    size_t comma = std::string_view::npos;
    for (;;) {
      SkipWs();
      if (i_ >= s_.size()) return FailEof("a member name");
      if (s_[i_] != '"') {
        if (s_[i_] == '}' && comma != std::string_view::npos)
          return Fail(comma, "trailing ',' before '}'");
        if (s_[i_] == '\'') return Fail(i_, "member names must be in double quotes");
        return Fail(i_, "expected a member name in double quotes, found " + Describe(i_));
      }
      size_t key_start = i_;
      if (!String()) return false;
      const std::string key(s_.substr(key_start, i_ - key_start));
      SkipWs();
      if (i_ >= s_.size()) return FailEof("':' after " + key);
      if (s_[i_] != ':')
        return Fail(last_end_, "expected ':' after " + key + ", found " + Describe(i_));
      ++i_;
      last_end_ = i_;
      SkipWs();
      if (!Value(depth + 1, " for " + key)) return false;
      SkipWs();
      if (i_ >= s_.size()) return FailEof("',' or '}' after the value of " + key);
      if (s_[i_] == ',') {
        comma = i_;
        ++i_;
        last_end_ = i_;
        continue;
      }
      if (s_[i_] == '}') {
        Close();
        return true;
      }
      return Fail(last_end_,
                  "expected ',' or '}' after the value of " + key + ", found " + Describe(i_));
    }
  }

  bool Array(int depth) {
    if (!Open(depth)) return false;
    SkipWs();
    if (i_ < s_.size() && s_[i_] == ']') {
      Close();
      return true;
    }
    size_t comma = std::string_view::npos;
    for (size_t index = 0;; ++index) {
      SkipWs();
      if (i_ < s_.size() && s_[i_] == ']' && comma != std::string_view::npos)
        return Fail(comma, "trailing ',' before ']'");
      const std::string element = " (array element [" + std::to_string(index) + "])";
      if (!Value(depth + 1, element)) return false;
      SkipWs();
      if (i_ >= s_.size())
        return FailEof("',' or ']' after array element [" + std::to_string(index) + "]");
      if (s_[i_] == ',') {
        comma = i_;
        ++i_;
        last_end_ = i_;
        continue;
      }
      if (s_[i_] == ']') {
        Close();
        return true;
      }
      return Fail(last_end_, "expected ',' or ']' after array element [" + std::to_string(index) +
                                 "], found " + Describe(i_));
    }
  }

  bool String() {
    const size_t start = i_++;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        last_end_ = i_;
        return true;
      }
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) break;
        char e = s_[i_ + 1];
        if (e == 'u') {
          for (size_t k = i_ + 2; k < i_ + 6; ++k) {
            if (k >= s_.size()) return Fail(start, "truncated JSON: unterminated string");
            if (!std::isxdigit(static_cast<unsigned char>(s_[k])))
              return Fail(i_, "invalid \\u escape in string (needs 4 hex digits)");
          }
          i_ += 6;
          continue;
        }
        if (e != '\0' && std::strchr("\"\\/bfnrt", e)) {
          i_ += 2;
          continue;
        }
        return Fail(i_, std::string("invalid escape '\\") + e + "' in string");
      }
      if (c == '\n' || c == '\r')
        return Fail(i_,
                    "line break inside a string (a missing closing '\"', or a newline that must "
                    "be written \\n)");
      if (c < 0x20) return Fail(i_, "control character inside a string (must be escaped)");
      ++i_;
    }
    return Fail(start, "truncated JSON: unterminated string");
  }

  bool Number() {
    const size_t start = i_;
    auto digits = [&] {
      size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    bool ok = true;
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else {
      ok = digits();
    }
    if (ok && i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      ok = digits();
    }
    if (ok && i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      ok = digits();
    }
    // "12x", "0123", "1.": the whole word is the bad token.
    if (!ok || (i_ < s_.size() && IsWordChar(s_[i_]))) {
      if (i_ >= s_.size() && !ok) return Fail(start, "truncated JSON: incomplete number");
      return Fail(start, "invalid number " + Describe(start));
    }
    last_end_ = i_;
    return true;
  }

  bool Literal() {
    const size_t start = i_;
    while (i_ < s_.size() && IsWordChar(s_[i_])) ++i_;
    std::string_view word = s_.substr(start, i_ - start);
    if (word == "true" || word == "false" || word == "null") {
      last_end_ = i_;
      return true;
    }
    if (i_ >= s_.size() && (std::string_view("true").substr(0, word.size()) == word ||
                            std::string_view("false").substr(0, word.size()) == word ||
                            std::string_view("null").substr(0, word.size()) == word))
      return Fail(start, "truncated JSON: incomplete literal '" + std::string(word) + "'");
    return Fail(start, "invalid literal '" + std::string(word) +
                           "' (JSON has true, false, null, numbers and \"strings\")");
  }

  std::string_view s_;
  int max_depth_;
  size_t i_ = 0;
  size_t last_end_ = 0;  // just after the last complete token
  int open_ = 0;         // objects and arrays not closed yet
  JsonSyntaxError err_;
};

// ---- FindJsonPath: a walk over text already known to be valid JSON.

size_t SkipWsFrom(std::string_view s, size_t i) {
  while (i < s.size() && IsWs(s[i])) ++i;
  return i;
}

// Returns the offset just past the string starting at s[i] == '"'.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

// Returns the offset just past the value starting at s[i]. Iterative, so a
// deep document cannot exhaust the stack.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !IsWs(s[i])) ++i;
    return i;
  }
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = SkipString(s, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return i;
}

struct Segment {
  bool is_index = false;
  std::string_view key;
  size_t index = 0;
};

bool ParsePath(std::string_view path, std::vector<Segment>* out) {
  if (path == "[]") return true;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = i;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    if (end > i) out->push_back({false, path.substr(i, end - i), 0});
    i = end;
    while (i < path.size() && path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return false;
      size_t n = 0;
      for (size_t k = i + 1; k < close; ++k) {
        if (path[k] < '0' || path[k] > '9') return false;
        n = n * 10 + static_cast<size_t>(path[k] - '0');
      }
      out->push_back({true, {}, n});
      i = close + 1;
    }
    if (i < path.size()) {
      if (path[i] != '.') return false;
      ++i;
    }
  }
  return true;
}

}  // namespace

JsonSyntaxError FindJsonSyntaxError(std::string_view text, int max_depth) {
  return SyntaxScanner(text, max_depth).Run();
}

size_t FindJsonPath(std::string_view text, std::string_view path) {
  std::vector<Segment> segments;
  if (!ParsePath(path, &segments)) return std::string::npos;
  size_t i = SkipWsFrom(text, 0);
  for (const Segment& seg : segments) {
    if (i >= text.size()) return std::string::npos;
    if (seg.is_index) {
      if (text[i] != '[') return std::string::npos;
      i = SkipWsFrom(text, i + 1);
      for (size_t k = 0; k < seg.index; ++k) {
        if (i >= text.size() || text[i] == ']') return std::string::npos;
        i = SkipWsFrom(text, SkipValue(text, i));
        if (i >= text.size() || text[i] != ',') return std::string::npos;
        i = SkipWsFrom(text, i + 1);
      }
      if (i >= text.size() || text[i] == ']') return std::string::npos;
      continue;
    }
    if (text[i] != '{') return std::string::npos;
    i = SkipWsFrom(text, i + 1);
    for (;;) {
      if (i >= text.size() || text[i] != '"') return std::string::npos;
      size_t key_end = SkipString(text, i);
      std::string_view key = text.substr(i + 1, key_end - i - 2);
      i = SkipWsFrom(text, key_end);
      if (i >= text.size() || text[i] != ':') return std::string::npos;
      i = SkipWsFrom(text, i + 1);
      if (key == seg.key) break;
      i = SkipWsFrom(text, SkipValue(text, i));
      if (i >= text.size() || text[i] != ',') return std::string::npos;
      i = SkipWsFrom(text, i + 1);
    }
  }
  return i < text.size() ? i : std::string::npos;
}

}  // namespace pgvise
