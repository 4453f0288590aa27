#include "core/sql_text.h"

namespace pgvise {

std::string SqlComment(std::string_view text, std::string_view prefix) {
  std::string out;
  out.reserve(text.size() + prefix.size() + 1);
  size_t i = 0;
  do {
    // One line: up to the next '\n' or '\r' (or the end).
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string_view::npos) end = text.size();
    out.append(prefix);
    out.append(text.substr(i, end - i));
    out.push_back('\n');
    if (end == text.size()) break;
    // "\r\n" is one line break, not two.
    i = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
  } while (i < text.size());
  return out;
}

std::string ShellQuote(std::string_view word) {
  std::string out = "'";
  for (char ch : word) {
    if (ch == '\'')
      out += "'\\''";
    else
      out.push_back(ch);
  }
  out.push_back('\'');
  return out;
}

std::string ShortSql(std::string_view sql, size_t max) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

}  // namespace pgvise
