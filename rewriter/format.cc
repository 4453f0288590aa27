// FormatSql: a small pretty-printer for the rewriter's output.
//
// Deparsed SQL is one long line. This breaks it before the major clauses of
// every query level (SELECT of a subquery, FROM, WHERE, GROUP BY, HAVING,
// ORDER BY, LIMIT, set operations, joins) and indents subqueries by their
// nesting. Tokens come from libpg_query's scanner, so keywords inside string
// literals or function syntax (`EXTRACT(year FROM d)`, `FILTER (WHERE ...)`)
// are never mistaken for clauses: only clause keywords directly inside a
// subquery's parentheses (or at the top) break lines. Only the whitespace
// between tokens changes; the result is re-parsed and compared with the
// input's tree, and the input is returned unchanged if they differ.
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <vector>

#include "analyzer/sql/edit_tree.h"
#include "rewriter/rewriter.h"

namespace pgvise {

namespace {

std::string Canonical(const std::string& sql) {
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(sql, &t).ok()) return "";
  std::string out;
  if (!t->Deparse(&out).ok()) return "";
  return out;
}

bool IsJoinWord(PgQuery__Token t) {
  return t == PG_QUERY__TOKEN__LEFT || t == PG_QUERY__TOKEN__RIGHT || t == PG_QUERY__TOKEN__FULL ||
         t == PG_QUERY__TOKEN__INNER_P || t == PG_QUERY__TOKEN__CROSS ||
         t == PG_QUERY__TOKEN__NATURAL;
}

}  // namespace

std::string FormatSql(const std::string& sql) {
  PgQueryScanResult r = pg_query_scan(sql.c_str());
  if (r.error) {
    pg_query_free_scan_result(r);
    return sql;
  }
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(
      nullptr, r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
  pg_query_free_scan_result(r);
  if (!scan) return sql;
  std::string out;
  // One frame per open parenthesis: whether it holds a subquery, and the
  // indent of that subquery's clauses.
  struct Frame {
    bool sub;
    int indent;
  };
  std::vector<Frame> parens;
  int line_indent = 0;  // indent of the line being written
  auto clause_indent = [&]() {
    for (auto it = parens.rbegin(); it != parens.rend(); ++it)
      if (it->sub) return it->indent;
    return 0;
  };
  auto clause_level = [&]() { return parens.empty() || parens.back().sub; };
  auto brk = [&](int indent) {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n" + std::string(static_cast<size_t>(2 * indent), ' ');
    line_indent = indent;
  };
  size_t prev_end = 0;
  PgQuery__Token prev = PG_QUERY__TOKEN__NUL;
  for (size_t i = 0; i < scan->n_tokens; ++i) {
    const PgQuery__ScanToken* tk = scan->tokens[i];
    PgQuery__Token t = tk->token;
    std::string gap = sql.substr(prev_end, static_cast<size_t>(tk->start) - prev_end);
    bool broke = false;
    if (i > 0) {
      if (t == PG_QUERY__TOKEN__SELECT && prev == PG_QUERY__TOKEN__ASCII_40 && !parens.empty() &&
          parens.back().sub) {
        brk(parens.back().indent);
        broke = true;
      } else if (t == PG_QUERY__TOKEN__ASCII_41 && !parens.empty() && parens.back().sub) {
        brk(parens.back().indent - 1);
        broke = true;
      } else if (clause_level() &&
                 (t == PG_QUERY__TOKEN__FROM || t == PG_QUERY__TOKEN__WHERE ||
                  t == PG_QUERY__TOKEN__GROUP_P || t == PG_QUERY__TOKEN__HAVING ||
                  t == PG_QUERY__TOKEN__ORDER || t == PG_QUERY__TOKEN__LIMIT ||
                  t == PG_QUERY__TOKEN__OFFSET || t == PG_QUERY__TOKEN__WINDOW ||
                  t == PG_QUERY__TOKEN__UNION || t == PG_QUERY__TOKEN__INTERSECT ||
                  t == PG_QUERY__TOKEN__EXCEPT)) {
        brk(clause_indent());
        broke = true;
      } else if (clause_level() &&
                 (IsJoinWord(t) || (t == PG_QUERY__TOKEN__JOIN && !IsJoinWord(prev) &&
                                    prev != PG_QUERY__TOKEN__OUTER_P))) {
        if (!IsJoinWord(prev)) {
          brk(clause_indent() + 1);
          broke = true;
        }
      }
    }
    if (!broke) out += gap;
    out += sql.substr(static_cast<size_t>(tk->start), static_cast<size_t>(tk->end - tk->start));
    if (t == PG_QUERY__TOKEN__ASCII_40) {
      bool sub = i + 1 < scan->n_tokens && (scan->tokens[i + 1]->token == PG_QUERY__TOKEN__SELECT ||
                                            scan->tokens[i + 1]->token == PG_QUERY__TOKEN__WITH);
      parens.push_back({sub, line_indent + 1});
    } else if (t == PG_QUERY__TOKEN__ASCII_41 && !parens.empty()) {
      parens.pop_back();
    }
    prev = t;
    prev_end = static_cast<size_t>(tk->end);
  }
  out += sql.substr(prev_end);
  pg_query__scan_result__free_unpacked(scan, nullptr);
  std::string a = Canonical(sql);
  if (a.empty() || a != Canonical(out)) return sql;
  return out;
}

}  // namespace pgvise
