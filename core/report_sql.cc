// The SQL renderer of a Report: a script psql runs as printed. Executable
// actions are statements; advice is commented out; every piece of free text
// (titles, reasons, names) goes through SqlComment, so a name holding a
// newline can never end a comment and smuggle a statement into the script.
//
//   -- pgvise maintain: 3 actions
//   -- Run with psql in autocommit mode ...
//   SET lock_timeout = '5s';
//
//   -- 1. vacuum shop.orders
//   --    why: 1.2M dead tuples (31% of the table)
//   --    lock: SHARE UPDATE EXCLUSIVE
//   VACUUM (ANALYZE) shop.orders;
#include <sstream>

#include "core/report.h"
#include "core/sql_text.h"

namespace pgvise {

std::string RenderReportSql(const Report& r) {
  std::ostringstream out;
  out << SqlComment(r.title.empty() ? "pgvise " + r.command : r.title);
  for (const auto& h : r.sql_header) out << SqlComment(h);
  for (const auto& n : r.notes) out << SqlComment("note: " + n);
  // A psql meta-command ends at the line's end; a ";" would become part of
  // its argument ("\set ON_ERROR_STOP off;" sets it to "off;").
  for (const auto& p : r.sql_prologue)
    out << p << (p.ends_with(";") || p.starts_with("\\") ? "" : ";") << "\n";
  if (r.actions.empty())
    out << (r.sql_empty.empty() ? "-- nothing to do\n" : SqlComment(r.sql_empty));
  int i = 0;
  for (const auto& a : r.actions) {
    out << "\n"
        << SqlComment(
               std::to_string(++i) + ". " +
               (a.heading.empty() ? std::string(RecommendationKindName(a.rec.kind)) : a.heading) +
               (a.executable ? "" : " (advice: review before running)"));
    if (!a.rec.reason.empty()) out << SqlComment(a.rec.reason, "--    ");
    if (!a.rec.lock.empty()) out << SqlComment("lock: " + a.rec.lock, "--    ");
    if (!a.rec.revert.empty()) out << SqlComment("undo: " + a.rec.revert, "--    ");
    std::string sql = a.rec.sql;
    while (!sql.empty() && (sql.back() == '\n' || sql.back() == ' ')) sql.pop_back();
    if (sql.empty()) continue;
    if (a.executable)
      out << sql << (sql.ends_with(";") ? "" : ";") << "\n";
    else
      out << SqlComment(sql);
  }
  if (!r.sql_footer.empty()) out << "\n";
  for (const auto& f : r.sql_footer) out << SqlComment(f);
  return out.str();
}

}  // namespace pgvise
