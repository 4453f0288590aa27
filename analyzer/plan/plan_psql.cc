// psql's output around an EXPLAIN (FORMAT JSON) plan, peeled off before the
// JSON is parsed (ReadPlan, LocatePlanNode in analyzer/plan/plan.cc): users
// paste what psql printed, aligned, unaligned (-A) or expanded (\x), with
// its `QUERY PLAN` header, dashes line, `+` continuations and `(1 row)`
// footer. The line map it returns sends an error in the unwrapped JSON back
// to the line and column of the text the user gave.
#include <string_view>

#include "analyzer/plan/plan.h"

namespace pgvise {

namespace {

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// "(1 row)", "(12 rows)".
bool IsRowCountFooter(std::string_view line) {
  line = TrimRight(TrimLeft(line));
  if (line.size() < 7 || line.front() != '(' || line.back() != ')') return false;
  size_t i = 1;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  if (i == 1) return false;
  std::string_view rest = line.substr(i);
  return rest == " row)" || rest == " rows)";
}

bool IsDashes(std::string_view line) {
  line = TrimRight(line);
  if (line.empty()) return false;
  for (char c : line)
    if (c != '-' && c != '+') return false;
  return true;
}

}  // namespace

bool UnwrapPsqlOutput(const std::string& text, std::string* json,
                      std::vector<std::pair<int, int>>* line_map) {
  // Fast path: JSON as EXPLAIN prints it starts with '[' or '{'; only psql
  // output needs the line split below.
  size_t lead = text.find_first_not_of(" \t\r\n");
  if (lead == std::string::npos || text[lead] == '[' || text[lead] == '{') return false;
  std::vector<std::string_view> lines;
  {
    std::string_view all(text);
    size_t start = 0;
    while (start <= all.size()) {
      size_t nl = all.find('\n', start);
      if (nl == std::string_view::npos) nl = all.size();
      lines.push_back(all.substr(start, nl - start));
      start = nl + 1;
    }
  }
  size_t i = 0;
  while (i < lines.size() && TrimRight(TrimLeft(lines[i])).empty()) ++i;
  if (i == lines.size()) return false;
  std::string_view first = TrimRight(TrimLeft(lines[i]));
  if (first.front() == '[' || first.front() == '{') return false;

  json->clear();
  line_map->clear();
  auto emit = [&](size_t line_index, std::string_view body, size_t col_offset) {
    body = TrimRight(body);
    if (!body.empty() && body.back() == '+') body = TrimRight(body.substr(0, body.size() - 1));
    json->append(body);
    json->push_back('\n');
    line_map->push_back({static_cast<int>(line_index + 1), static_cast<int>(col_offset)});
  };

  // Expanded display (\x): "-[ RECORD 1 ]---", then "QUERY PLAN | [ +" and
  // "           |   { +" lines.
  if (first.substr(0, 9) == "-[ RECORD") {
    ++i;
    if (i >= lines.size()) return false;
    size_t bar = lines[i].find("| ");
    if (bar == std::string_view::npos || TrimRight(lines[i].substr(0, bar)) != "QUERY PLAN")
      return false;
    for (; i < lines.size(); ++i) {
      std::string_view l = lines[i];
      if (l.substr(0, 9) == "-[ RECORD" || IsRowCountFooter(l)) break;
      if (TrimRight(l).empty()) continue;
      if (l.size() < bar + 1 || l[bar] != '|') return false;
      emit(i, l.substr(std::min(l.size(), bar + 2)), bar + 2);
    }
    return !json->empty();
  }

  // Aligned (default) or unaligned (-A): a "QUERY PLAN" header line, a dashes
  // line (aligned only), the value with "+" continuations, "(1 row)".
  if (first.substr(0, 10) != "QUERY PLAN") return false;
  ++i;
  bool aligned = i < lines.size() && IsDashes(lines[i]);
  if (aligned) ++i;
  for (; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (IsRowCountFooter(l)) break;
    size_t off = 0;
    if (aligned && !l.empty() && l.front() == ' ') off = 1;
    emit(i, l.substr(off), off);
  }
  return !json->empty();
}

}  // namespace pgvise
