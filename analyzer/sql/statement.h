// Statement: one SQL statement of an input file, located and parsed.
//
// The first step of every SQL-consuming command: a file of many statements is
// split at the semicolons that end statements (so one bad statement doesn't
// hide the rest), each statement is parsed on its own and its QueryFacts are
// extracted from the parse tree right away, and every statement keeps its
// byte offset so findings can say `file:line:col`. Comments before or on a
// statement carry directives:
//   -- pgvise-ignore: rule-id[, rule-id...]   suppress those rules (or `all`)
//   -- pgvise: calls=500                       per-statement annotations
// An unparsable statement is kept with its error and location; analysis of
// the others goes on. So is a statement nested deeper than kMaxNestingDepth
// (see below): parsed = false, too_deep, error = TooDeepMessage, at its first
// token.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/source.h"
#include "core/status.h"

namespace pgvise {

struct QueryFacts;  // analyzer/sql/query_facts.h

struct Statement {
  int index = 0;            // 0-based ordinal in the file
  std::string sql;          // the statement text, from its first token, no ';'
  size_t offset = 0;        // byte offset of the first token in the file
  LineCol pos;              // line:col of the first token
  size_t end_offset = 0;    // byte offset just past the last token
  bool parsed = false;      // false: `error` and `error_pos` say why
  bool too_deep = false;    // not parsed because it nests past kMaxNestingDepth
  std::string error;        // parser message, e.g. `syntax error at or near "TABL"`
  size_t error_offset = 0;  // byte offset in the file
  // Facts extracted while ParseSqlFile had the parse tree (ExtractFacts
  // returns them instead of parsing again); null for a statement built by hand.
  std::shared_ptr<const QueryFacts> facts;
  std::set<std::string> ignored_rules;             // from pgvise-ignore
  std::map<std::string, std::string> annotations;  // from `-- pgvise: k=v`

  bool Ignores(const std::string& rule_id) const {
    return ignored_rules.count(rule_id) || ignored_rules.count("all");
  }
};

struct SqlFile {
  SourceText source;
  std::vector<Statement> statements;
  // "path:line:col" for a statement-relative byte offset.
  std::string Where(const Statement& s, size_t rel_offset = 0) const {
    return source.Where(s.offset + rel_offset);
  }
};

// Splits and parses a whole file. Fails (Status) only when the file cannot be
// split at all (an unterminated quoted string or comment), with its location.
Status ParseSqlFile(SourceText source, SqlFile* out);

// The deepest statement pgvise analyses, in pgtree::NestingDepth's levels
// (analyzer/sql/pg_tree.h: JSON nesting, 2 per term of `1+1+..`, 1 per UNION ALL
// branch). The analyzer, libpg_query's JSON and protobuf printers, protobuf-c
// and the rewriter walk parse trees recursively, so a deeper tree would
// overflow the stack (SIGSEGV). With the default 8 MB stack the first to fall
// was the rewriter (protobuf-c's unpack of the tree, the passes, the deparse;
// libpg_query's parse and printers alone survive 20,000 terms, not 100,000)
// at ~8,600 levels (`1+..+1` of 4,375 terms; a UNION ALL of 8,830 branches),
// the facts walker at ~15,000 (UNION ALL) to ~29,000 (`1+..+1`). 1,000 leaves
// an 8x margin (statements at the limit still pass review and rewrite with a
// 1 MB stack, not 512 kB), and keeps libpg_query's JSON (3 levels more) within simdjson's
// default depth of 1,024 for tests that compare PgTree with that JSON. Every
// recursive analyzer walk (QueryFacts, CountParams, AnalyzeCondition) checks
// it first. PostgreSQL's own grammar
// refuses right-nested input (parentheses, NOT, nested CASE or subqueries)
// past 10,000 parser-stack entries ("memory exhausted"), so only left-nested
// chains (a+b+.., a||b||.., UNION, JOIN) and nesting up to there reach this.
constexpr int kMaxNestingDepth = 1000;

// The walk that measures the depth costs ~5-10% of parsing a statement and
// extracting its facts, so short statements skip it. No statement shape
// tried nests more than 1.7 levels per byte of its text (`a[a[a[..]]]`: 5
// levels per 3 bytes; `1+1+..`, `f(f(..))`: 1; nested subqueries 0.8;
// statement_test.cc keeps the densest ones under 2), so a statement of at
// most this many bytes (4 levels a byte, and 16 to start with) cannot reach
// kMaxNestingDepth. Even at 35 levels a byte it stays below where the first
// walker fell over.
constexpr size_t kShortStatementBytes = (kMaxNestingDepth - 16) / 4;  // 246

// "statement nests N levels deep; pgvise analyses statements up to 1000 levels"
std::string TooDeepMessage(int depth);

// Parses `sql` and refuses it if it nests deeper than kMaxNestingDepth
// (Unsupported, TooDeepMessage, *error_pos = 0: the statement's start), or
// does not parse (the parser's message and position). For code that parses
// statements on its own (the rewriter's protobuf tree): ParseSqlFile and
// ParseStatementFacts check already. Costs a parse and, for a statement longer
// than kShortStatementBytes, one walk of the tree.
Status CheckNestingDepth(const std::string& sql, size_t* error_pos = nullptr);

// Parses one SQL string to libpg_query JSON. On failure returns InvalidInput
// with the parser's message and sets *error_pos to the 0-based byte offset.
Status ParseSqlToJson(const std::string& sql, std::string* json, size_t* error_pos);

// Skips whitespace, `--` comments and nested `/* */` comments from byte `i`;
// returns the offset of the next token, or `end`.
size_t SkipSqlTrivia(const std::string& s, size_t i, size_t end);

// libpg_query fingerprint (hex) of a statement; empty when it does not parse.
std::string Fingerprint(const std::string& sql);
// libpg_query normalisation (constants replaced by $n); input on failure.
std::string Normalize(const std::string& sql);

}  // namespace pgvise
