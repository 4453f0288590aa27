// View matching, extra tables: a view may join more tables than a statement
// reads, when each extra table is joined through a key (Goldstein & Larson,
// SIGMOD 2001, section 3.2: "extra tables joined through cardinality-
// preserving joins").
//
// Why that is safe: say the statement reads sales s JOIN customers c and the
// view also joins products p ON p.id = s.product_id. If s.product_id is NOT
// NULL and a validated foreign key to products(id), every sales row meets
// exactly one products row: the view's join has the statement's rows, each
// once, with p's columns beside them. A statement grouping by c.region then
// rolls the view up over p.category (a finer key), and the rows it sums are
// its own. Each condition guards one way to change the rows:
//   - the FK may be NULL: the inner join would drop the NULL rows -> NOT NULL;
//   - a NOT VALID FK may have orphans, dropped by the join -> validated;
//   - the referenced columns could match twice -> PostgreSQL only lets a FK
//     reference a primary key or unique constraint (one row per value);
//   - an inheritance parent's FK checks only the parent, while the view's
//     scan reads children too (a second match) -> no inheritance children
//     (a partitioned table is one relation for its FKs);
//   - the extra table joined to two tables, or to another extra table, or
//     equated to more than the FK column, filters rows -> exactly one class
//     of two members per key column, FK side in the statement.
// The view's filters are conjuncts of the statement (checked by the
// caller), so none can read an extra table.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "advisor/matview_match_internal.h"

namespace pgvise::mv::detail {

namespace {

std::string AliasOf(const std::string& member) { return member.substr(0, member.find('.')); }

// The column name of "tK.col" or tK."Col" (as deparsed).
std::string ColumnOf(const std::string& member) {
  std::string c = member.substr(member.find('.') + 1);
  if (c.size() >= 2 && c.front() == '"' && c.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < c.size(); ++i) {
      out += c[i];
      if (c[i] == '"' && c[i + 1] == '"') ++i;
    }
    return out;
  }
  return c;
}

}  // namespace

std::vector<std::vector<std::string>> JoinClasses(const std::vector<std::string>& joins) {
  std::map<std::string, std::string> parent;
  std::function<std::string(const std::string&)> find = [&](const std::string& x) {
    auto it = parent.find(x);
    if (it == parent.end() || it->second == x) return x;
    return it->second = find(it->second);
  };
  for (const auto& j : joins) {
    const size_t eq = j.find(" = ");
    if (eq == std::string::npos) continue;
    const std::string l = j.substr(0, eq), r = j.substr(eq + 3);
    parent.emplace(l, l);
    parent.emplace(r, r);
    parent[find(l)] = find(r);
  }
  std::map<std::string, std::vector<std::string>> classes;
  for (const auto& [x, p] : parent) classes[find(x)].push_back(x);
  std::vector<std::vector<std::string>> out;
  for (auto& [root, members] : classes) {
    std::sort(members.begin(), members.end());
    out.push_back(members);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ProperSubset(const std::vector<ViewTable>& sub, const std::vector<ViewTable>& super) {
  if (sub.size() >= super.size()) return false;
  for (const auto& t : sub) {
    bool in = false;
    for (const auto& u : super) in = in || (u.schema == t.schema && u.name == t.name);
    if (!in) return false;
  }
  return true;
}

bool ExtraTablesKeepRows(const Catalog& catalog, const Shape& sh,
                         const std::vector<ViewTable>& view_tables,
                         const std::vector<std::string>& view_joins, std::string* why) {
  std::map<std::string, const TableInfo*> mine;  // alias -> table the statement reads
  for (size_t i = 0; i < sh.tables.size(); ++i) mine[sh.tables[i].alias] = sh.infos[i];
  std::map<std::string, const ViewTable*> extras;
  for (const auto& t : view_tables)
    if (!mine.count(t.alias)) extras[t.alias] = &t;

  // The view's classes less the extra tables' columns must be the
  // statement's; each extra column sits in a class of exactly two members.
  std::vector<std::vector<std::string>> reduced;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> links;  // extra alias ->
  for (const auto& cl : JoinClasses(view_joins)) {
    std::vector<std::string> keep, extra;
    for (const auto& m : cl) (extras.count(AliasOf(m)) ? extra : keep).push_back(m);
    if (extra.empty()) {
      reduced.push_back(keep);
      continue;
    }
    if (extra.size() != 1 || keep.size() != 1) {
      *why = "the view joins extra table column " + extra[0] +
             " to more than one column of the statement's tables (that filters rows)";
      return false;
    }
    links[AliasOf(extra[0])].push_back({ColumnOf(extra[0]), keep[0]});
  }
  if (reduced != sh.classes) {
    *why = "joins differently from the view";
    return false;
  }
  for (const auto& [alias, vt] : extras) {
    const std::string name = vt->schema + "." + vt->name;
    const auto lk = links.find(alias);
    if (lk == links.end()) {
      *why = "the view's extra table " + name + " is not joined to the statement's tables";
      return false;
    }
    const TableInfo* et = catalog.FindTable(vt->schema, vt->name);
    if (!et) return *why = name + " not in the catalog", false;
    if (et->has_children && et->kind != 'p') {
      *why = name + " has inheritance children (its foreign keys check the parent alone)";
      return false;
    }
    // The FK side: one table of the statement.
    const std::string fk_alias = AliasOf(lk->second[0].second);
    std::map<std::string, std::string> pairs;  // FK column -> referenced column
    for (const auto& [ecol, other] : lk->second) {
      if (AliasOf(other) != fk_alias) {
        *why = "the view joins " + name + " to two of the statement's tables";
        return false;
      }
      pairs[ColumnOf(other)] = ecol;
    }
    const TableInfo* ft = mine.at(fk_alias);
    const ConstraintInfo* fk = nullptr;
    for (const auto& c : ft->constraints) {
      if (c.type != 'f' || !c.validated || c.referenced_table != et->QualifiedName() ||
          c.columns.size() != pairs.size() || c.referenced_columns.size() != pairs.size())
        continue;
      bool same = true;
      for (size_t k = 0; k < c.columns.size(); ++k) {
        auto it = pairs.find(c.columns[k]);
        same = same && it != pairs.end() && it->second == c.referenced_columns[k];
      }
      if (same) fk = &c;
    }
    if (!fk) {
      *why = "the view joins " + name + " on columns that are not a validated foreign key of " +
             ft->QualifiedName() + " to its key (the join could lose or repeat rows)";
      return false;
    }
    for (const auto& col : fk->columns) {
      const ColumnInfo* ci = ft->Column(col);
      if (!ci || !ci->not_null) {
        *why = "foreign key column " + ft->QualifiedName() + "." + col +
               " may be NULL (the view's join would drop those rows)";
        return false;
      }
    }
  }
  return true;
}

}  // namespace pgvise::mv::detail
