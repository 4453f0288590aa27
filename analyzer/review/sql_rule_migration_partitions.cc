// Migration rules, theme "partitions": schema changes on partitioned tables
// that the usual safe forms do not cover.
//
// create-index-on-partitioned-table: PostgreSQL 15 refuses CREATE INDEX
// CONCURRENTLY on a partitioned table ("cannot create index on partitioned
// table ... concurrently"), and a plain CREATE INDEX on it builds the index
// on every partition in one transaction, each partition SHARE-locked until
// the last one is built. The safe form indexes the parent alone (ON ONLY:
// catalog only, the parent index is invalid), builds each partition's index
// CONCURRENTLY, and attaches it; the parent index turns valid when the last
// one is attached.
//
// attach-partition-without-check: ALTER TABLE parent ATTACH PARTITION t
// scans all of t under ACCESS EXCLUSIVE (SHARE UPDATE EXCLUSIVE on the
// parent) to prove every row fits the bound — unless t has a validated CHECK
// constraint that implies the bound. The safe form adds that CHECK NOT VALID
// (brief lock), VALIDATEs it (SHARE UPDATE EXCLUSIVE: reads and writes go
// on), attaches, and drops the CHECK.
//
// Whether a table is partitioned is known from the catalog (review --db) or
// from the file itself (it created the table PARTITION BY, or created or
// attached a partition of it). Without either, a CREATE INDEX looks like any
// other and require-concurrent-index-creation judges it.
//
// Whether a CHECK "matches" is decided the way a person would check it, not
// by PostgreSQL's prover: every constant of the bound appears among the
// CHECK's constants (timestamps compared without a midnight time or a zero
// UTC offset), and the key column, when known, among its columns. A CHECK
// that passes this test and still fails to imply the bound only costs the
// scan the rule warned about.
//
// Worked example: `ALTER TABLE events ATTACH PARTITION events_2026_12 FOR
// VALUES FROM ('2026-12-01') TO ('2027-01-01')` fires unless an earlier
// `ALTER TABLE events_2026_12 ADD CONSTRAINT b CHECK (ts >= '2026-12-01' AND
// ts < '2027-01-01') NOT VALID` was followed by `VALIDATE CONSTRAINT b` (or
// --db finds such a validated CHECK on events_2026_12).
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_migration.h"
#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/review/sql_rules_internal.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

std::string Bare(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::string RangeVarName(dom::object rv) {
  std::string schema(Str(rv, "schemaname")), name(Str(rv, "relname"));
  return schema.empty() ? name : schema + "." + name;
}

// "2026-12-01 00:00:00+00" and "2026-12-01" are the same bound.
std::string Normal(std::string v) {
  for (const char* tail : {"+00:00", "+00", "Z"})
    if (v.size() > 10 && v.size() >= std::string(tail).size() &&
        v.compare(v.size() - std::string(tail).size(), std::string::npos, tail) == 0) {
      v.erase(v.size() - std::string(tail).size());
      break;
    }
  for (const char* tail : {" 00:00:00", "T00:00:00"})
    if (v.size() > 10 && v.compare(10, std::string::npos, tail) == 0) v.erase(10);
  return v;
}

// The constants (A_Const values, as text) and column names under `e`.
void ConstantsAndColumns(dom::element e, std::vector<std::string>* constants,
                         std::vector<std::string>* columns) {
  WalkNodes(e, [&](std::string_view type, dom::object body) {
    if (type == "A_Const") {
      dom::object v;
      if (Obj(body, "sval", &v)) constants->push_back(Normal(std::string(Str(v, "sval"))));
      if (Obj(body, "ival", &v)) constants->push_back(std::to_string(Int(v, "ival")));
      if (Obj(body, "fval", &v)) constants->push_back(std::string(Str(v, "fval")));
    } else if (type == "ColumnRef" && columns) {
      std::string_view last = NameFromEnd(body, "fields", 0);
      if (!last.empty()) columns->push_back(std::string(last));
    }
  });
}

// A CHECK definition as pg_get_constraintdef prints it ("CHECK ((...)) NOT
// VALID"): its constants and columns, read by parsing it as a WHERE clause.
void DefinitionParts(std::string def, std::vector<std::string>* constants,
                     std::vector<std::string>* columns) {
  if (def.rfind("CHECK ", 0) != 0) return;
  def = def.substr(6);
  OneStatement one("SELECT 1 WHERE " + def);
  dom::object sel;
  dom::element where;
  if (one.stmt("SelectStmt", &sel) && Field(sel, "whereClause", &where))
    ConstantsAndColumns(where, constants, columns);
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The bound of an ATTACH / PARTITION OF, as written.
struct Bound {
  char strategy = 0;                   // 'r' | 'l' | 'h', 0 = DEFAULT
  std::vector<std::string> constants;  // every constant (MINVALUE/MAXVALUE left out)
  // RANGE on one column / LIST: the SQL of the constants as written.
  std::string lower_sql, upper_sql, list_sql;
  bool single_range = false;  // one lower and one upper datum, neither MIN/MAXVALUE
  int location = -1;
};

std::string DatumSql(const std::string& sql, dom::element datum) {
  dom::object body;
  std::string_view type;
  if (!datum.unwrap(&type, &body)) return "";
  if (type == "A_Const") {
    dom::object v;
    if (Obj(body, "sval", &v)) return QuoteLiteral(Str(v, "sval"));
    if (Obj(body, "ival", &v)) return std::to_string(Int(v, "ival"));
    if (Obj(body, "fval", &v)) return std::string(Str(v, "fval"));
  }
  (void)sql;
  return "";
}

Bound ReadBound(const std::string& sql, dom::object spec) {
  Bound b;
  std::string_view strat = Str(spec, "strategy");
  b.strategy = Bool(spec, "is_default") || strat.empty() ? 0 : strat[0];
  b.location = static_cast<int>(Int(spec, "location", -1));
  dom::element e;
  if (Field(spec, "lowerdatums", &e)) ConstantsAndColumns(e, &b.constants, nullptr);
  if (Field(spec, "upperdatums", &e)) ConstantsAndColumns(e, &b.constants, nullptr);
  if (Field(spec, "listdatums", &e)) ConstantsAndColumns(e, &b.constants, nullptr);
  dom::array lo, hi, list;
  if (Arr(spec, "lowerdatums", &lo) && Arr(spec, "upperdatums", &hi) && lo.size() == 1 &&
      hi.size() == 1) {
    b.lower_sql = DatumSql(sql, *lo.begin());
    b.upper_sql = DatumSql(sql, *hi.begin());
    b.single_range = !b.lower_sql.empty() && !b.upper_sql.empty();
  }
  if (Arr(spec, "listdatums", &list))
    for (dom::element d : list) {
      std::string one = DatumSql(sql, d);
      if (!one.empty()) b.list_sql += (b.list_sql.empty() ? "" : ", ") + one;
    }
  return b;
}

// The key columns of a partitioned table: this file's PARTITION BY, else the catalog's.
std::vector<std::string> KeyOf(const Call& c, const std::string& table) {
  auto it = c.state.partitioned.find(Bare(table));
  if (it != c.state.partitioned.end() && !it->second.empty()) return it->second;
  if (const SqlTableInfo* t = c.Table(table)) return t->partition_key;
  return {};
}

// End of the relation name that starts at `at` (quoted parts, dots).
size_t NameEnd(const std::string& sql, size_t at) {
  bool quoted = false;
  size_t i = at;
  for (; i < sql.size(); ++i) {
    char ch = sql[i];
    if (ch == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '$' ||
          static_cast<unsigned char>(ch) >= 0x80))
      break;
  }
  return i;
}

std::string Clip63(std::string s) {
  if (s.size() > 63) s.resize(63);
  return s;
}

}  // namespace

bool KnownPartitioned(const Call& c, const std::string& table) {
  if (c.state.partitioned.count(Bare(table))) return true;
  const SqlTableInfo* t = c.Table(table);
  return t && t->partitioned;
}

void UpdatePartitionState(const Statement& stmt, const QueryFacts& f, FileState* s) {
  // Cheap guard: only statements that can say something about partitions,
  // rows or CHECKs are parsed again.
  if (f.kind != StatementKind::kCreateTable && f.kind != StatementKind::kAlterTable &&
      f.kind != StatementKind::kInsert && f.kind != StatementKind::kCopy &&
      f.kind != StatementKind::kOtherUtility && f.kind != StatementKind::kOtherDdl)
    return;
  OneStatement one(stmt.sql);
  dom::object body, rv;
  if (one.stmt("CreateStmt", &body)) {
    dom::object spec;
    if (Obj(body, "partspec", &spec) && Obj(body, "relation", &rv)) {
      std::vector<std::string> key;
      dom::array params;
      if (Arr(spec, "partParams", &params))
        for (dom::element p : params) {
          dom::object pe;
          if (NodeOf(p, "PartitionElem", &pe)) key.push_back(std::string(Str(pe, "name")));
        }
      s->partitioned[Bare(RangeVarName(rv))] = key;
    }
    dom::array parents;
    if (Has(body, "partbound") && Arr(body, "inhRelations", &parents))
      for (dom::element p : parents) {
        dom::object prv;
        if (NodeOf(p, "RangeVar", &prv))
          s->partitioned.emplace(Bare(RangeVarName(prv)), std::vector<std::string>{});
      }
    // CREATE TABLE ... (..., CHECK (...)): a new table's CHECKs hold for
    // every row it will get.
    dom::array elts;
    if (Obj(body, "relation", &rv) && Arr(body, "tableElts", &elts))
      for (dom::element e : elts) {
        dom::object con;
        if (!NodeOf(e, "Constraint", &con) || Str(con, "contype") != "CONSTR_CHECK") continue;
        FileState::Check ck{Bare(RangeVarName(rv)), std::string(Str(con, "conname")), {}, {}, true};
        dom::element expr;
        if (Field(con, "raw_expr", &expr)) ConstantsAndColumns(expr, &ck.constants, &ck.columns);
        s->checks.push_back(std::move(ck));
      }
    return;
  }
  if (one.stmt("InsertStmt", &body) && Obj(body, "relation", &rv)) {
    s->filled.insert(Bare(RangeVarName(rv)));
    return;
  }
  if (one.stmt("CopyStmt", &body) && Bool(body, "is_from") && Obj(body, "relation", &rv)) {
    s->filled.insert(Bare(RangeVarName(rv)));
    return;
  }
  // ALTER INDEX ... ATTACH PARTITION attaches an index, not a table.
  if (!one.stmt("AlterTableStmt", &body) || !Obj(body, "relation", &rv) ||
      Str(body, "objtype") == "OBJECT_INDEX")
    return;
  const std::string table = Bare(RangeVarName(rv));
  dom::array cmds;
  if (!Arr(body, "cmds", &cmds)) return;
  for (dom::element n : cmds) {
    dom::object cmd;
    if (!NodeOf(n, "AlterTableCmd", &cmd)) continue;
    std::string_view sub = Str(cmd, "subtype");
    dom::element def;
    dom::object con;
    if (sub == "AT_AttachPartition") {
      s->partitioned.emplace(table, std::vector<std::string>{});
    } else if (sub == "AT_AddConstraint" && Field(cmd, "def", &def) &&
               NodeOf(def, "Constraint", &con) && Str(con, "contype") == "CONSTR_CHECK") {
      FileState::Check ck{
          table, std::string(Str(con, "conname")), {}, {}, !Bool(con, "skip_validation")};
      dom::element expr;
      if (Field(con, "raw_expr", &expr)) ConstantsAndColumns(expr, &ck.constants, &ck.columns);
      s->checks.push_back(std::move(ck));
    } else if (sub == "AT_ValidateConstraint") {
      std::string name(Str(cmd, "name"));
      for (auto& ck : s->checks)
        if (ck.table == table && ck.name == name) ck.validated = true;
    } else if (sub == "AT_DropConstraint") {
      std::string name(Str(cmd, "name"));
      s->checks.erase(std::remove_if(s->checks.begin(), s->checks.end(),
                                     [&](const FileState::Check& ck) {
                                       return ck.table == table && ck.name == name;
                                     }),
                      s->checks.end());
    }
  }
}

void CreateIndexOnPartitionedTable(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kCreateIndex) return;
  const std::string& table = d.index_table;
  if (!KnownPartitioned(c, table)) return;
  OneStatement one(c.stmt.sql);
  dom::object ix, rv;
  if (!one.stmt("IndexStmt", &ix) || !Obj(ix, "relation", &rv)) return;
  const bool only = !Bool(rv, "inh");
  // ON ONLY without CONCURRENTLY is the recipe's first step (catalog only);
  // a table this file created has no rows anyone waits on.
  if (!d.concurrently && (only || c.state.IsNew(table))) return;

  // The statement rebuilt around the table: "CREATE [UNIQUE] INDEX name ON
  // [ONLY] table" + what follows the table name as written.
  const size_t at = static_cast<size_t>(std::max<int64_t>(0, Int(rv, "location")));
  const std::string tail = c.stmt.sql.substr(std::min(c.stmt.sql.size(), NameEnd(c.stmt.sql, at)));
  std::string cols;
  for (const auto& col : d.index_columns)
    if (!col.empty() && col.find_first_of("() ") == std::string::npos) cols += "_" + col;
  const std::string name =
      !d.object.empty() ? d.object : Clip63(Bare(table) + (cols.empty() ? "_expr" : cols) + "_idx");
  const std::string create = Bool(ix, "unique") ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";

  Finding f = c.Make(
      -1, d.concurrently
              ? "CREATE INDEX CONCURRENTLY on partitioned table " + c.Describe(table) +
                    " fails: PostgreSQL cannot build an index on a partitioned table concurrently"
              : "CREATE INDEX on partitioned table " + c.Describe(table) +
                    " builds the index on every partition in one transaction, each partition "
                    "SHARE-locked (its writes wait) until the last one is built; CONCURRENTLY is "
                    "not allowed on a partitioned table");
  if (d.concurrently) f.severity = Severity::kError;
  f.Add("lock", d.concurrently ? std::string("none (the statement fails)") : "SHARE");
  c.AboutTable(table, &f);
  std::string s = create + name + " ON ONLY " + table + tail +
                  ";  -- the parent alone: catalog only, the index is invalid for now\n";
  std::vector<std::string> parts;
  if (const SqlTableInfo* t = c.Table(table)) parts = t->partitions;
  auto one_part = [&](const std::string& part, const std::string& part_name) {
    std::string pidx = Clip63(Bare(part_name) + (cols.empty() ? "_expr" : cols) + "_idx");
    s += create + "CONCURRENTLY " + pidx + " ON " + part + tail +
         ";  -- SHARE UPDATE EXCLUSIVE: reads and writes go on\n";
    s += "ALTER INDEX " + name + " ATTACH PARTITION " + pidx + ";\n";
  };
  if (!parts.empty()) {
    for (const auto& p : parts) one_part(p, p);
  } else {
    s += "-- for each partition (SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = '" +
         table + "'::regclass):\n";
    one_part("<partition>", "<partition>");
  }
  s += "-- the parent index turns valid when the last partition's index is attached; a partition "
       "that is itself partitioned gets the same three steps. Run outside a transaction block.";
  f.suggestion = std::move(s);
  out->push_back(std::move(f));
}

void AttachPartitionWithoutCheck(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable) return;
  OneStatement one(c.stmt.sql);
  dom::object at;
  dom::array cmds;
  if (!one.stmt("AlterTableStmt", &at) || Str(at, "objtype") == "OBJECT_INDEX" ||
      !Arr(at, "cmds", &cmds))
    return;
  for (dom::element n : cmds) {
    dom::object cmd, pc, rv, spec;
    dom::element def;
    if (!NodeOf(n, "AlterTableCmd", &cmd) || Str(cmd, "subtype") != "AT_AttachPartition" ||
        !Field(cmd, "def", &def) || !NodeOf(def, "PartitionCmd", &pc) || !Obj(pc, "name", &rv) ||
        !Obj(pc, "bound", &spec))
      continue;
    const std::string child = RangeVarName(rv);
    Bound b = ReadBound(c.stmt.sql, spec);
    // A DEFAULT partition's constraint is "none of the others": no CHECK
    // a person writes matches it (documented limitation).
    if (b.strategy == 0) continue;
    // A table this file created and never filled is empty: nothing to scan.
    if (c.state.IsNew(child) && !c.state.filled.count(Bare(child))) continue;
    const std::vector<std::string> key = KeyOf(c, d.object);
    const std::string key_col = key.size() == 1 && !key[0].empty() ? key[0] : "";
    auto matches = [&](const std::vector<std::string>& constants,
                       const std::vector<std::string>& columns) {
      if (b.constants.empty()) return false;
      for (const auto& k : b.constants)
        if (!Contains(constants, k)) return false;
      return key_col.empty() || Contains(columns, key_col);
    };
    bool covered = false;
    for (const auto& ck : c.state.checks)
      if (ck.validated && ck.table == Bare(child) && matches(ck.constants, ck.columns))
        covered = true;
    if (const SqlTableInfo* t = c.Table(child))
      for (const auto& def_text : t->checks) {
        std::vector<std::string> constants, columns;
        DefinitionParts(def_text, &constants, &columns);
        if (matches(constants, columns)) covered = true;
      }
    if (covered) continue;

    std::string default_part;
    if (const SqlTableInfo* p = c.Table(d.object)) default_part = p->default_partition;
    std::string msg = "ATTACH PARTITION " + c.Describe(child) + " scans every row of " + child +
                      " under ACCESS EXCLUSIVE to prove it fits the partition bound (no "
                      "validated CHECK on it implies the bound)";
    if (!default_part.empty())
      msg += ", and scans the default partition " + c.Describe(default_part) +
             " under ACCESS EXCLUSIVE for rows of the new range";
    Finding f = c.Make(static_cast<int>(Int(rv, "location", -1)), msg);
    f.Add("lock", "ACCESS EXCLUSIVE").Add("partition", child);
    c.AboutTable(child, &f);
    const std::string k = key_col.empty() ? "<partition key>" : QuoteIdent(key_col);
    std::string cond;
    if (b.strategy == 'r' && b.single_range)
      cond = k + " >= " + b.lower_sql + " AND " + k + " < " + b.upper_sql;
    else if (b.strategy == 'l' && !b.list_sql.empty())
      cond = k + " IN (" + b.list_sql + ")";
    else
      cond = "<the partition bound as a condition>";
    const std::string con = QuoteIdent(Clip63(Bare(child) + "_partition_bound"));
    std::string s = "ALTER TABLE " + child + " ADD CONSTRAINT " + con + " CHECK (" + cond +
                    ") NOT VALID;  -- brief lock, no scan\nALTER TABLE " + child +
                    " VALIDATE CONSTRAINT " + con +
                    ";  -- scans without blocking: SHARE UPDATE EXCLUSIVE\n" + c.stmt.sql +
                    ";  -- no scan of " + child + ": the CHECK proves the bound\nALTER TABLE " +
                    child + " DROP CONSTRAINT " + con + ";";
    // HASH: PostgreSQL 15 proves no CHECK implies satisfies_hash_partition
    // (not even the same call, measured), so only the scan's cost can be
    // managed.
    if (b.strategy == 'h')
      s = "-- no CHECK spares the scan for a HASH bound (PostgreSQL does not prove one): attach "
          "while the table is small or traffic low, with lock_timeout set:\nSET lock_timeout = "
          "'2s';\n" +
          c.stmt.sql + ";";
    if (!default_part.empty())
      s += "\n-- and, to spare the scan of " + default_part +
           ", right before the ATTACH (inserts into the range fail from then on):\n-- ALTER "
           "TABLE " +
           default_part + " ADD CONSTRAINT <name> CHECK (NOT (" + cond +
           ")) NOT VALID; then VALIDATE CONSTRAINT <name>";
    f.suggestion = std::move(s);
    out->push_back(std::move(f));
  }
}

}  // namespace pgvise::sqlrules
