// Free text inside generated SQL scripts.
//
// pgvise writes scripts (maintain --format sql, advise --format sql, rewrite
// --format text) that people feed to psql. Everything in them that is not a
// statement we built — reasons, notes, object names, commented-out advice —
// goes into `--` comments. A `--` comment ends at the first '\n' OR '\r'
// (PostgreSQL's and psql's lexers both treat either as a newline), and object
// names may contain both: a table named "t\nDROP TABLE x; --" would turn an
// innocent comment into a statement. SqlComment is the one way such text
// enters a script: it starts a new comment on every line, whatever ends it.
#pragma once

#include <string>
#include <string_view>

namespace pgvise {

// `text` as SQL comment lines: every line (split on "\r\n", "\n" and "\r")
// prefixed by `prefix`, each ended with "\n". A trailing line break does not
// add an empty comment line; empty text gives one line holding just `prefix`.
//   SqlComment("a\nb")        == "-- a\n-- b\n"
//   SqlComment("a\rDROP x")   == "-- a\n-- DROP x\n"
// `prefix` must itself start a comment (e.g. "-- ", "--    why: ").
std::string SqlComment(std::string_view text, std::string_view prefix = "-- ");

// `word` as one POSIX shell word: in single quotes, each ' written '\''.
// For the commands pgvise prints to be run from a shell (pg_repack): an SQL
// name quoted with " is still open to $(...) and `...` in a shell.
//   ShellQuote("public.t")       == "'public.t'"
//   ShellQuote("\"it's\".t")     == "'\"it'\\''s\".t'"
std::string ShellQuote(std::string_view word);

// `sql` on one line for a report cell: runs of whitespace (newlines too)
// become one space, and past `max` bytes it ends in "...".
std::string ShortSql(std::string_view sql, size_t max);

}  // namespace pgvise
