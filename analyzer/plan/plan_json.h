// Positions in EXPLAIN JSON text, for ReadPlan's error messages
// (analyzer/plan/plan.h). simdjson's DOM parser, which reads the plan, says only
// *that* the text is malformed, not where, and its DOM keeps no positions; so
// when reading fails, these two scanners go over the (rare) failed or
// mistyped text once more to find the place a reader should look:
//
//   FindJsonSyntaxError   where a malformed text stops being JSON: just after
//                         the last complete value when something is missing
//                         (a ',', a ':', a closing bracket, the rest of a
//                         truncated file), at the offending token when
//                         something is there that must not be (a bare word,
//                         a trailing comma, text after the document);
//   FindJsonPath          where the value at a JSON path of a well-formed text
//                         starts ("[0].Plan.Plans[1].Plan Rows"), so an error
//                         about a value of the wrong type names its line and
//                         column as well as its path.
//
// Both work on bytes; ReadPlan turns the offset into file:line:col (through
// its map back to the original lines when the input was psql output).
#pragma once

#include <string>
#include <string_view>

namespace pgvise {

struct JsonSyntaxError {
  bool found = false;
  size_t offset = 0;    // byte where the reader should look
  std::string message;  // e.g. "expected ',' or '}' after the value of \"Node Type\", found ..."
};

// The first syntax error in `text` (RFC 8259 JSON; nesting deeper than
// `max_depth` counts as one). found == false when the text is valid JSON as
// far as this scanner checks (it does not validate UTF-8 or number ranges).
JsonSyntaxError FindJsonSyntaxError(std::string_view text, int max_depth = 1024);

// The byte offset where the value at `path` starts in the valid JSON `text`,
// or std::string::npos when the path is not there. Paths are the ones ReadPlan
// writes: members joined by '.', array elements as "[i]" ("[0].Plan.Plans[1]",
// "Plan.Plan Rows"); "" and "[]" are the whole document. Member names must not
// contain '.' or '[' (EXPLAIN's keys do not).
size_t FindJsonPath(std::string_view text, std::string_view path);

}  // namespace pgvise
