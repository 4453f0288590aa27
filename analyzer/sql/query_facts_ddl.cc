// DDL and utility facts: what a schema-changing statement does to which
// object, and the table lock it takes (PostgreSQL 15 documentation, "Explicit
// Locking" and the ALTER TABLE / CREATE INDEX reference pages):
//
//   CREATE INDEX                      SHARE                  (blocks writes)
//   CREATE/DROP INDEX CONCURRENTLY    SHARE UPDATE EXCLUSIVE (blocks DDL, VACUUM)
//   ALTER TABLE (most subcommands)    ACCESS EXCLUSIVE       (blocks everything)
//   ADD FOREIGN KEY                   SHARE ROW EXCLUSIVE    on both tables
//   VALIDATE CONSTRAINT, SET STATISTICS, SET (storage params), ATTACH PARTITION
//                                     SHARE UPDATE EXCLUSIVE
//   ENABLE/DISABLE TRIGGER            SHARE ROW EXCLUSIVE
//   DROP / TRUNCATE / RENAME / VACUUM FULL / CLUSTER / REFRESH MATERIALIZED VIEW
//                                     ACCESS EXCLUSIVE
//   VACUUM, ANALYZE                   SHARE UPDATE EXCLUSIVE
//
// An ALTER TABLE with several subcommands takes the strongest of their locks;
// each DdlAction keeps its own. Whether an action rewrites the table is judged
// from the statement alone: ADD COLUMN with a volatile default (random(),
// gen_random_uuid(), nextval() through serial/identity) or a STORED generated
// column rewrites on PG 11+, a constant or stable default (now()) does not;
// ALTER COLUMN TYPE rewrites unless the new type is binary-coercible, which
// without a catalog we only assume for a change to text / unbounded varchar.
#include <cctype>

#include "analyzer/sql/query_facts_internal.h"

namespace pgvise::facts {

namespace {

int LockRank(std::string_view lock) {
  static const char* const kOrder[] = {
      "ACCESS SHARE", "ROW SHARE",           "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
      "SHARE",        "SHARE ROW EXCLUSIVE", "EXCLUSIVE",     "ACCESS EXCLUSIVE"};
  for (int i = 0; i < 8; ++i)
    if (lock == kOrder[i]) return i + 1;
  return 0;
}

const char* LockModeName(int64_t mode) {
  static const char* const kModes[] = {
      "",      "ACCESS SHARE",        "ROW SHARE", "ROW EXCLUSIVE",   "SHARE UPDATE EXCLUSIVE",
      "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};
  return mode >= 1 && mode <= 8 ? kModes[mode] : "";
}

std::string RangeVarName(dom::object rv) {
  std::string schema(Str(rv, "schemaname")), name(Str(rv, "relname"));
  return schema.empty() ? name : schema + "." + name;
}

// "AT_AlterColumnType" -> "alter-column-type".
std::string KebabSubtype(std::string_view subtype) {
  if (subtype.rfind("AT_", 0) == 0) subtype.remove_prefix(3);
  std::string out;
  for (char c : subtype) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out.push_back('-');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ConstraintTypeName(std::string_view contype) {
  if (contype == "CONSTR_FOREIGN") return "foreign-key";
  if (contype == "CONSTR_CHECK") return "check";
  if (contype == "CONSTR_UNIQUE") return "unique";
  if (contype == "CONSTR_PRIMARY") return "primary-key";
  if (contype == "CONSTR_EXCLUSION") return "exclusion";
  if (contype == "CONSTR_NOTNULL") return "not-null";
  if (contype == "CONSTR_DEFAULT") return "default";
  if (contype == "CONSTR_IDENTITY") return "identity";
  if (contype == "CONSTR_GENERATED") return "generated";
  return "other";
}

void ReadConstraint(dom::object c, DdlAction* a) {
  a->constraint_type = ConstraintTypeName(Str(c, "contype"));
  a->constraint_name = std::string(Str(c, "conname"));
  a->not_valid = Bool(c, "skip_validation");
  a->using_index = !Str(c, "indexname").empty();
  dom::object pk;
  if (Obj(c, "pktable", &pk)) a->references = RangeVarName(pk);
  Each(c, "fk_attrs", [&](dom::element e) { a->columns.emplace_back(StringNode(e)); });
  Each(c, "keys", [&](dom::element e) { a->columns.emplace_back(StringNode(e)); });
  dom::element expr;
  if (a->constraint_type == "check" && Field(c, "raw_expr", &expr)) {
    // CHECK (col IS NOT NULL): once validated, SET NOT NULL can skip its scan.
    Node n = Unwrap(expr);
    dom::element arg;
    if (n.ok && n.type == "NullTest" && Str(n.body, "nulltesttype") == "IS_NOT_NULL" &&
        Field(n.body, "arg", &arg)) {
      Node cr = Unwrap(arg);
      if (cr.ok && cr.type == "ColumnRef") {
        std::string col;
        Each(cr.body, "fields", [&](dom::element f) {
          std::string_view s = StringNode(f);
          if (!s.empty()) col = std::string(s);
        });
        a->check_not_null_column = col;
      }
    }
  }
}

// ADD COLUMN: type, default, and whether filling existing rows rewrites.
void ReadColumnDef(dom::object cd, DdlAction* a) {
  a->column = std::string(Str(cd, "colname"));
  dom::object tn;
  if (Obj(cd, "typeName", &tn)) a->new_type = TypeNameText(tn);
  std::string_view t = a->new_type;
  if (t == "serial" || t == "bigserial" || t == "smallserial" || t == "serial4" || t == "serial8" ||
      t == "serial2") {
    a->default_expr = "nextval(...)";
    a->default_volatile = true;
  }
  Each(cd, "constraints", [&](dom::element e) {
    Node n = Unwrap(e);
    if (!n.ok) return;
    std::string_view contype = Str(n.body, "contype");
    dom::element expr;
    if (contype == "CONSTR_DEFAULT" && Field(n.body, "raw_expr", &expr)) {
      a->default_expr.clear();
      if (!Deparse(expr, false, &a->default_expr)) a->default_expr = "<expression>";
      a->default_volatile = HasVolatileCall(expr);
    } else if (contype == "CONSTR_IDENTITY") {
      a->default_expr = "GENERATED AS IDENTITY";
      a->default_volatile = true;  // existing rows each draw from the sequence
    } else if (contype == "CONSTR_GENERATED") {
      a->default_expr = "GENERATED ALWAYS AS (...) STORED";
      a->default_volatile = false;
      a->rewrites_table = true;  // every row computes and stores the value
    } else if (contype == "CONSTR_NOTNULL") {
      a->constraint_type = a->constraint_type.empty() ? "not-null" : a->constraint_type;
      a->not_null = true;
    } else if (contype == "CONSTR_FOREIGN") {
      dom::object pk;
      if (Obj(n.body, "pktable", &pk)) a->references = RangeVarName(pk);
      a->not_valid = Bool(n.body, "skip_validation");
      a->constraint_type = "foreign-key";
    } else if (contype == "CONSTR_UNIQUE" || contype == "CONSTR_PRIMARY" ||
               contype == "CONSTR_CHECK") {
      a->constraint_type = ConstraintTypeName(contype);
      if (contype == "CONSTR_PRIMARY") a->not_null = true;
      if (contype == "CONSTR_CHECK" && Field(n.body, "raw_expr", &expr)) {
        a->constraint_name = std::string(Str(n.body, "conname"));
        if (!Deparse(expr, false, &a->check_expr)) a->check_expr = "<expression>";
      }
    }
  });
  if (a->default_volatile) a->rewrites_table = true;
}

void AlterTableCmd(dom::object cmd, DdlFacts* d) {
  DdlAction a;
  std::string_view subtype = Str(cmd, "subtype");
  a.action = KebabSubtype(subtype);
  a.column = std::string(Str(cmd, "name"));
  a.lock = "ACCESS EXCLUSIVE";
  dom::element def;
  bool has_def = Field(cmd, "def", &def);
  Node dn = has_def ? Unwrap(def) : Node{};
  if (subtype == "AT_AddColumn" && dn.ok && dn.type == "ColumnDef") {
    ReadColumnDef(dn.body, &a);
    a.location = Loc(dn.body);
    if (a.references.size()) d->referenced_table = a.references;
  } else if (subtype == "AT_ColumnDefault") {
    a.action = has_def ? "set-default" : "drop-default";
    if (has_def) {
      Deparse(def, false, &a.default_expr);
      a.default_volatile = HasVolatileCall(def);  // affects new rows only: no rewrite
    }
  } else if (subtype == "AT_AlterColumnType" && dn.ok) {
    dom::object tn;
    if (Obj(dn.body, "typeName", &tn)) a.new_type = TypeNameText(tn);
    a.rewrites_table = !(a.new_type == "text" || a.new_type == "varchar");
    a.location = Loc(dn.body);
  } else if ((subtype == "AT_AddConstraint" || subtype == "AT_AddIndexConstraint") && dn.ok &&
             dn.type == "Constraint") {
    ReadConstraint(dn.body, &a);
    a.action = "add-constraint-" + a.constraint_type;
    a.location = Loc(dn.body);
    if (a.constraint_type == "foreign-key") {
      a.lock = "SHARE ROW EXCLUSIVE";  // on this table and the referenced one
      d->referenced_table = a.references;
    }
  } else if (subtype == "AT_ValidateConstraint") {
    a.constraint_name = a.column;
    a.column.clear();
    a.lock = "SHARE UPDATE EXCLUSIVE";
  } else if (subtype == "AT_DropConstraint") {
    a.constraint_name = a.column;
    a.column.clear();
  } else if (subtype == "AT_SetStatistics" || subtype == "AT_SetOptions" ||
             subtype == "AT_ResetOptions" || subtype == "AT_SetRelOptions" ||
             subtype == "AT_ResetRelOptions" || subtype == "AT_ClusterOn" ||
             subtype == "AT_DropCluster" || subtype == "AT_AttachPartition") {
    a.lock = "SHARE UPDATE EXCLUSIVE";
  } else if (subtype.find("Trig") != std::string_view::npos) {
    a.lock = "SHARE ROW EXCLUSIVE";
  } else if (subtype == "AT_DetachPartition") {
    if (dn.ok && dn.type == "PartitionCmd" && Bool(dn.body, "concurrent")) {
      a.lock = "SHARE UPDATE EXCLUSIVE";
      d->concurrently = true;
    }
  } else if (subtype == "AT_SetLogged" || subtype == "AT_SetUnLogged" ||
             subtype == "AT_SetTableSpace" || subtype == "AT_SetAccessMethod") {
    a.rewrites_table = true;
  }
  d->items.push_back(std::move(a));
}

void FinishAlter(DdlFacts* d) {
  for (const DdlAction& a : d->items) {
    d->actions.push_back(a.action);
    if (LockRank(a.lock) > LockRank(d->lock)) d->lock = a.lock;
    d->rewrites_table |= a.rewrites_table;
    d->not_valid |= a.not_valid;
    d->using_index |= a.using_index;
    d->default_volatile |= a.default_volatile;
    // The single-action fields describe the first action that sets them.
    if (d->column.empty()) d->column = a.column;
    if (d->new_type.empty() && a.action == "alter-column-type") d->new_type = a.new_type;
    if (d->default_expr.empty()) d->default_expr = a.default_expr;
    if (d->constraint_type.empty()) d->constraint_type = a.constraint_type;
  }
}

}  // namespace

bool ExtractDdl(std::string_view t, dom::object b, QueryFacts* out) {
  DdlFacts& d = out->ddl;
  dom::object rv;
  auto target = [&](std::string_view key) {
    if (!Obj(b, key, &rv)) return;
    d.object = RangeVarName(rv);
    d.objects.push_back(d.object);
    d.location = Loc(rv);
  };
  if (t == "IndexStmt") {
    out->kind = StatementKind::kCreateIndex;
    target("relation");
    d.index_table = d.object;
    d.object = std::string(Str(b, "idxname"));
    d.object_kind = "index";
    d.concurrently = Bool(b, "concurrent");
    d.if_not_exists = Bool(b, "if_not_exists");
    d.lock = d.concurrently ? "SHARE UPDATE EXCLUSIVE" : "SHARE";
    d.actions.push_back("create-index");
    Each(b, "indexParams", [&](dom::element e) {
      Node n = Unwrap(e);
      if (!n.ok) return;
      std::string col(Str(n.body, "name"));
      dom::element expr;
      if (col.empty() && Field(n.body, "expr", &expr)) Deparse(expr, true, &col);
      d.index_columns.push_back(std::move(col));
    });
    return true;
  }
  if (t == "AlterTableStmt") {
    out->kind = StatementKind::kAlterTable;
    target("relation");
    std::string_view objtype = Str(b, "objtype");
    d.object_kind = objtype == "OBJECT_INDEX"     ? "index"
                    : objtype == "OBJECT_VIEW"    ? "view"
                    : objtype == "OBJECT_MATVIEW" ? "materialized-view"
                                                  : "table";
    Each(b, "cmds", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok && n.type == "AlterTableCmd") AlterTableCmd(n.body, &d);
    });
    FinishAlter(&d);
    return true;
  }
  if (t == "CreateStmt") {
    out->kind = StatementKind::kCreateTable;
    target("relation");
    d.object_kind = "table";
    d.if_not_exists = Bool(b, "if_not_exists");
    d.actions.push_back("create-table");
    d.created_tables.push_back(d.object);
    return true;
  }
  if (t == "CreateTableAsStmt") {
    bool matview = Str(b, "objtype") == "OBJECT_MATVIEW";
    out->kind = matview ? StatementKind::kCreateMatView : StatementKind::kCreateTableAs;
    dom::object into;
    if (Obj(b, "into", &into) && Obj(into, "rel", &rv)) {
      d.object = RangeVarName(rv);
      d.location = Loc(rv);
      d.created_tables.push_back(d.object);
    }
    d.object_kind = matview ? "materialized-view" : "table";
    d.actions.push_back(matview ? "create-materialized-view" : "create-table-as");
    return true;
  }
  if (t == "DropStmt") {
    std::string_view type = Str(b, "removeType");
    out->kind = type == "OBJECT_TABLE"   ? StatementKind::kDropTable
                : type == "OBJECT_INDEX" ? StatementKind::kDropIndex
                                         : StatementKind::kOtherDdl;
    d.object_kind = type == "OBJECT_TABLE" ? "table" : type == "OBJECT_INDEX" ? "index" : "other";
    d.concurrently = Bool(b, "concurrent");
    d.lock = d.concurrently ? "SHARE UPDATE EXCLUSIVE" : "ACCESS EXCLUSIVE";
    d.actions.push_back("drop");
    Each(b, "objects", [&](dom::element e) {
      Node n = Unwrap(e);
      if (!n.ok || n.type != "List") return;
      std::string name;
      Each(n.body, "items", [&](dom::element s) {
        if (!name.empty()) name.push_back('.');
        name.append(StringNode(s));
      });
      d.objects.push_back(name);
    });
    if (!d.objects.empty()) d.object = d.objects[0];
    d.location = 0;
    return true;
  }
  if (t == "RenameStmt") {
    out->kind = StatementKind::kRename;
    target("relation");
    std::string_view type = Str(b, "renameType");
    d.object_kind = type == "OBJECT_INDEX" ? "index" : "table";
    d.actions.push_back(type == "OBJECT_COLUMN"          ? "rename-column"
                        : type == "OBJECT_TABLE"         ? "rename-table"
                        : type == "OBJECT_INDEX"         ? "rename-index"
                        : type == "OBJECT_TABCONSTRAINT" ? "rename-constraint"
                                                         : "rename");
    d.column = std::string(Str(b, "subname"));
    d.rename_to = std::string(Str(b, "newname"));
    // ALTER INDEX ... RENAME takes SHARE UPDATE EXCLUSIVE since PG 12.
    d.lock = type == "OBJECT_INDEX" ? "SHARE UPDATE EXCLUSIVE" : "ACCESS EXCLUSIVE";
    return true;
  }
  if (t == "VacuumStmt") {
    out->kind = Bool(b, "is_vacuumcmd") ? StatementKind::kVacuum : StatementKind::kAnalyze;
    Each(b, "options", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok && Str(n.body, "defname") == "full") {
        d.vacuum_full = true;
        d.location = Loc(n.body);
      }
    });
    Each(b, "rels", [&](dom::element e) {
      Node n = Unwrap(e);
      dom::object rel;
      if (n.ok && Obj(n.body, "relation", &rel)) d.objects.push_back(RangeVarName(rel));
    });
    if (!d.objects.empty()) d.object = d.objects[0];
    d.object_kind = "table";
    d.lock = d.vacuum_full ? "ACCESS EXCLUSIVE" : "SHARE UPDATE EXCLUSIVE";
    d.rewrites_table = d.vacuum_full;
    d.actions.push_back(d.vacuum_full                         ? "vacuum-full"
                        : out->kind == StatementKind::kVacuum ? "vacuum"
                                                              : "analyze");
    if (d.location < 0) d.location = 0;
    return true;
  }
  if (t == "ClusterStmt") {
    out->kind = StatementKind::kCluster;
    target("relation");
    d.object_kind = "table";
    d.lock = "ACCESS EXCLUSIVE";
    d.rewrites_table = true;
    d.actions.push_back("cluster");
    d.location = 0;
    return true;
  }
  if (t == "TransactionStmt") {
    out->kind = StatementKind::kTransaction;
    std::string_view k = Str(b, "kind");
    d.actions.push_back(k == "TRANS_STMT_BEGIN"      ? "begin"
                        : k == "TRANS_STMT_START"    ? "start"
                        : k == "TRANS_STMT_COMMIT"   ? "commit"
                        : k == "TRANS_STMT_ROLLBACK" ? "rollback"
                        : k == "TRANS_STMT_PREPARE"  ? "prepare-transaction"
                                                     : KebabSubtype(k.substr(k.rfind('_') + 1)));
    return true;
  }
  if (t == "VariableSetStmt") {
    out->kind = StatementKind::kSet;
    std::string_view k = Str(b, "kind");
    d.setting = std::string(Str(b, "name"));
    d.local = Bool(b, "is_local");
    d.actions.push_back(k == "VAR_RESET" || k == "VAR_RESET_ALL" ? "reset" : "set");
    if (k == "VAR_SET_DEFAULT" || k == "VAR_RESET") d.setting_value = "DEFAULT";
    Each(b, "args", [&](dom::element e) {
      std::string v;
      Node n = Unwrap(e);
      dom::object sv;
      if (n.ok && n.type == "A_Const" && Obj(n.body, "sval", &sv)) {
        v = std::string(Str(sv, "sval"));  // the value, unquoted: '2s' -> 2s
      } else {
        ConstantText(e, &v, nullptr);
      }
      if (!d.setting_value.empty()) d.setting_value.append(", ");
      d.setting_value.append(v);
    });
    return true;
  }
  if (t == "ReindexStmt") {
    out->kind = StatementKind::kReindex;
    target("relation");
    Each(b, "params", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok && Str(n.body, "defname") == "concurrently") d.concurrently = true;
    });
    d.object_kind = Str(b, "kind") == "REINDEX_OBJECT_INDEX" ? "index" : "table";
    // Plain REINDEX blocks writes to the table (SHARE) and every use of the index.
    d.lock = d.concurrently ? "SHARE UPDATE EXCLUSIVE" : "SHARE";
    d.actions.push_back("reindex");
    return true;
  }
  if (t == "TruncateStmt") {
    out->kind = StatementKind::kTruncate;
    Each(b, "relations", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok) d.objects.push_back(RangeVarName(n.body));
    });
    if (!d.objects.empty()) d.object = d.objects[0];
    d.object_kind = "table";
    d.lock = "ACCESS EXCLUSIVE";
    d.actions.push_back("truncate");
    d.location = 0;
    return true;
  }
  if (t == "RefreshMatViewStmt") {
    out->kind = StatementKind::kRefreshMatView;
    target("relation");
    d.object_kind = "materialized-view";
    d.concurrently = Bool(b, "concurrent");
    d.lock = d.concurrently ? "EXCLUSIVE" : "ACCESS EXCLUSIVE";
    d.actions.push_back("refresh-materialized-view");
    return true;
  }
  if (t == "ViewStmt") {
    out->kind = StatementKind::kCreateView;
    target("view");
    d.object_kind = "view";
    d.actions.push_back(Bool(b, "replace") ? "create-or-replace-view" : "create-view");
    if (Bool(b, "replace")) d.lock = "ACCESS EXCLUSIVE";
    return true;
  }
  if (t == "CopyStmt") {
    out->kind = StatementKind::kCopy;
    target("relation");
    d.lock = Bool(b, "is_from") ? "ROW EXCLUSIVE" : "ACCESS SHARE";
    d.actions.push_back(Bool(b, "is_from") ? "copy-from" : "copy-to");
    return true;
  }
  if (t == "LockStmt") {
    out->kind = StatementKind::kOtherUtility;
    Each(b, "relations", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok) d.objects.push_back(RangeVarName(n.body));
    });
    if (!d.objects.empty()) d.object = d.objects[0];
    d.lock = LockModeName(Int(b, "mode", 8));
    d.actions.push_back("lock");
    d.location = 0;
    return true;
  }
  if (t == "CreateTrigStmt") {
    out->kind = StatementKind::kOtherDdl;
    target("relation");
    d.lock = "SHARE ROW EXCLUSIVE";
    d.actions.push_back("create-trigger");
    return true;
  }
  return false;
}

}  // namespace pgvise::facts

namespace pgvise {

namespace {

// A minimal SQL lexer, only to find token boundaries: whitespace, -- and
// nested /* */ comments, '...' (with '' and, after E, backslash escapes),
// "..." identifiers and $tag$...$tag$ strings. It decides nothing about
// meaning (the parse tree does that); it keeps commas inside quotes and
// comments from being taken for separators. libpg_query's own scanner would
// do the same but costs as much as a parse.
size_t SkipSpace(const std::string& s, size_t i) { return SkipSqlTrivia(s, i, s.size()); }

// Offset just past a quoted token starting at i, or i when none starts there.
size_t SkipQuoted(const std::string& s, size_t i) {
  const size_t n = s.size();
  const char c = s[i];
  if (c == '\'' || c == '"') {
    bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e');
    for (++i; i < n; ++i) {
      if (backslash && s[i] == '\\') {
        ++i;
      } else if (s[i] == c) {
        if (i + 1 < n && s[i + 1] == c) {
          ++i;  // doubled quote
        } else {
          return i + 1;
        }
      }
    }
    return n;
  }
  if (c == '$') {
    size_t j = i + 1;
    if (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) return i;  // $1
    while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j >= n || s[j] != '$') return i;
    std::string tag = s.substr(i, j - i + 1);
    size_t end = s.find(tag, j + 1);
    return end == std::string::npos ? n : end + tag.size();
  }
  return i;
}

}  // namespace

// ALTER TABLE subcommands carry no location of their own in PG 15's tree.
// After the table name they are separated by commas at parenthesis depth 0,
// so command i starts at the first token after the i-th such comma.
void FillAlterLocations(const std::string& sql, DdlFacts* d) {
  if (d->items.empty() || d->location < 0) return;
  const size_t n = sql.size();
  size_t i = static_cast<size_t>(d->location);
  // Skip the (possibly qualified, possibly quoted) table name.
  while (i < n) {
    size_t q = SkipQuoted(sql, i);
    if (q != i) {
      i = q;
    } else {
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' ||
                       sql[i] == '$' || (sql[i] & 0x80)))
        ++i;
    }
    size_t next = SkipSpace(sql, i);
    if (next < n && sql[next] == '.') {
      i = SkipSpace(sql, next + 1);
      continue;
    }
    i = next;
    break;
  }
  size_t cmd = 0;
  d->items[0].location = static_cast<int>(i);
  int depth = 0;
  while (i < n && cmd + 1 < d->items.size()) {
    size_t j = SkipSpace(sql, i);
    if (j == i) j = SkipQuoted(sql, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (sql[i] == '(') ++depth;
    if (sql[i] == ')') --depth;
    if (sql[i] == ',' && depth == 0)
      d->items[++cmd].location = static_cast<int>(SkipSpace(sql, i + 1));
    ++i;
  }
}

}  // namespace pgvise
