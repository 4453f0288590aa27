// QueryFacts on a corpus of real-world-shaped statements.
//
// Each case is a statement and the facts a reader of the SQL expects, written
// as short lines (see Describe() for the vocabulary). A case passes when every
// expected line is among the lines describing the extracted facts, and no line
// listed under `absent` is. The corpus lives in tests/corpus/facts/*.facts so
// adding a case is adding a paragraph:
//
//   -- name: lower-email-lookup
//   SELECT id FROM users WHERE lower(email) = $1
//   > pred users.email expr=lower(email) equality param $1 where
//   !> pred users.id
#include "analyzer/sql/query_facts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

const char* PlacementName(SubqueryPlacement p) {
  switch (p) {
    case SubqueryPlacement::kWhere:
      return "where";
    case SubqueryPlacement::kSelectList:
      return "select";
    case SubqueryPlacement::kHaving:
      return "having";
    case SubqueryPlacement::kFrom:
      return "from";
    case SubqueryPlacement::kJoinOn:
      return "on";
    case SubqueryPlacement::kOther:
      return "other";
  }
  return "?";
}

const char* SubKindName(SubqueryKind k) {
  switch (k) {
    case SubqueryKind::kExists:
      return "exists";
    case SubqueryKind::kIn:
      return "in";
    case SubqueryKind::kAny:
      return "any";
    case SubqueryKind::kAll:
      return "all";
    case SubqueryKind::kScalar:
      return "scalar";
    case SubqueryKind::kArray:
      return "array";
    case SubqueryKind::kDerivedTable:
      return "derived";
    case SubqueryKind::kCte:
      return "cte";
  }
  return "?";
}

void DescribePredicate(const Predicate& p, const std::string& prefix,
                       std::vector<std::string>* out) {
  std::string s = prefix + "pred " + (p.relation.empty() ? "?" : p.relation) + "." + p.column;
  if (!p.expression.empty()) s += " expr=" + p.expression;
  s += std::string(" ") + PredicateKindName(p.kind);
  switch (p.value_kind) {
    case ValueKind::kConstant:
      s += " const " + Join(p.constants);
      break;
    case ValueKind::kParameter:
      s += " param $" + std::to_string(p.param);
      break;
    case ValueKind::kColumn:
      s += " column " + Join(p.constants);
      break;
    case ValueKind::kExpression:
      s += " expr-value " + Join(p.constants);
      break;
    case ValueKind::kSubquery:
      s += " subquery";
      break;
    case ValueKind::kNone:
      break;
  }
  s += p.clause == Clause::kWhere    ? " where"
       : p.clause == Clause::kJoinOn ? " on"
       : p.clause == Clause::kHaving ? " having"
                                     : " other";
  if (p.under_or) s += " or";
  if (p.negated) s += " not";
  out->push_back(s);
  // A shorter form, so a case can assert the gist without every detail.
  out->push_back(prefix + "pred " + (p.relation.empty() ? "?" : p.relation) + "." + p.column + " " +
                 PredicateKindName(p.kind));
  out->push_back(prefix + "pred " + (p.relation.empty() ? "?" : p.relation) + "." + p.column);
}

void DescribeJoin(const JoinCondition& j, const std::string& prefix,
                  std::vector<std::string>* out) {
  out->push_back(prefix + "join " + j.left_relation + "." + j.left_column + " " +
                 (j.op.empty() ? "" : j.op + " ") + j.right_relation + "." + j.right_column + " " +
                 j.join_type);
}

// Every fact as one line; the corpus asserts lines.
std::vector<std::string> Describe(const QueryFacts& f) {
  std::vector<std::string> out;
  out.push_back(std::string("kind ") + StatementKindName(f.kind));
  for (const auto& r : f.relations) {
    out.push_back("rel " + r.QualifiedName() + " " + r.alias + (r.is_cte ? " cte" : ""));
    out.push_back("rel " + r.QualifiedName());
  }
  for (const auto& p : f.predicates) DescribePredicate(p, "", &out);
  for (const auto& j : f.joins) DescribeJoin(j, "", &out);
  auto key = [](const SortKey& k) {
    std::string s = k.column.empty() ? k.expression : k.relation + "." + k.column;
    if (k.descending) s += " desc";
    if (k.nulls == SortKey::Nulls::kFirst) s += " nulls-first";
    if (k.nulls == SortKey::Nulls::kLast) s += " nulls-last";
    return s;
  };
  for (const auto& k : f.group_by) out.push_back("group " + key(k));
  for (const auto& k : f.order_by) out.push_back("order " + key(k));
  if (f.limit) out.push_back("limit " + std::to_string(*f.limit));
  if (f.limit_param) out.push_back("limit param");
  if (f.offset) out.push_back("offset " + std::to_string(*f.offset));
  if (f.offset_param) out.push_back("offset param");
  if (f.distinct) out.push_back("distinct");
  if (f.has_aggregate) out.push_back("aggregate");
  if (f.has_window) out.push_back("window");
  if (f.has_where) out.push_back("has-where");
  if (f.select_star) out.push_back("select-star");
  if (f.set_operation) out.push_back("set-operation");
  if (f.for_update) out.push_back("for-update");
  if (f.has_returning) out.push_back("returning");
  for (const auto& [rel, cols] : f.read_columns)
    out.push_back("reads " + (rel.empty() ? "?" : rel) + " " + Join({cols.begin(), cols.end()}));
  for (const auto& c : f.ctes) out.push_back("cte " + c);
  if (!f.updated_columns.empty()) out.push_back("updates " + Join(f.updated_columns));
  if (!f.insert_columns.empty()) out.push_back("inserts " + Join(f.insert_columns));
  if (!f.conflict_action.empty())
    out.push_back("on-conflict " + Join(f.conflict_columns) + " " + f.conflict_action);
  for (size_t i = 0; i < f.from_items.size(); ++i)
    out.push_back("from-item " + Join(f.from_items[i]));
  if (!f.lock.empty()) out.push_back("lock " + f.lock);
  for (size_t i = 0; i < f.subqueries.size(); ++i) {
    const SubqueryFacts& s = f.subqueries[i];
    std::string line = std::string("sub ") + PlacementName(s.placement) + " " +
                       SubKindName(s.kind) + " depth " + std::to_string(s.depth);
    out.push_back(line);
    if (s.negated) line += " not";
    if (!s.compare_op.empty()) line += " op " + s.compare_op;
    if (!s.correlated_on.empty()) line += " corr " + Join(s.correlated_on);
    if (s.has_aggregate) line += " agg";
    if (s.has_limit) line += " limit";
    if (s.has_group_by) line += " group";
    if (s.has_having) line += " having";
    if (s.under_or) line += " or";
    out.push_back(line);
    if (!s.tables.empty()) out.push_back("sub-tables " + Join(s.tables));
    if (!s.alias.empty()) out.push_back("sub-alias " + s.alias);
    std::string prefix = "sub" + std::to_string(s.depth) + " ";
    for (const auto& p : s.predicates) DescribePredicate(p, prefix, &out);
    for (const auto& j : s.joins) DescribeJoin(j, prefix, &out);
  }
  const DdlFacts& d = f.ddl;
  if (!d.actions.empty() || !d.lock.empty()) {
    out.push_back("ddl " + d.object + " " + Join(d.actions) + " lock " + d.lock);
    if (!d.lock.empty()) out.push_back("ddl-lock " + d.lock);
    if (!d.object.empty()) out.push_back("ddl-object " + d.object);
    if (d.concurrently) out.push_back("concurrently");
    if (d.rewrites_table) out.push_back("rewrites");
    if (d.default_volatile) out.push_back("volatile-default");
    if (d.not_valid) out.push_back("not-valid");
    if (d.using_index) out.push_back("using-index");
    if (!d.index_table.empty())
      out.push_back("index-on " + d.index_table + " (" + Join(d.index_columns) + ")");
    if (!d.referenced_table.empty()) out.push_back("references " + d.referenced_table);
    if (!d.setting.empty()) out.push_back("set " + d.setting + "=" + d.setting_value);
    if (d.objects.size() > 1) out.push_back("objects " + Join(d.objects));
    if (!d.rename_to.empty()) out.push_back("rename " + d.column + " -> " + d.rename_to);
    for (const auto& a : d.items) {
      std::string s = "action " + a.action + " lock " + a.lock;
      if (!a.column.empty()) s += " column " + a.column;
      if (!a.new_type.empty()) s += " type " + a.new_type;
      if (!a.default_expr.empty()) s += " default " + a.default_expr;
      if (a.rewrites_table) s += " rewrites";
      if (!a.check_not_null_column.empty()) s += " check-not-null " + a.check_not_null_column;
      out.push_back(s);
      out.push_back("action " + a.action);
    }
  }
  if (f.in_transaction_block) out.push_back("in-transaction");
  return out;
}

struct Case {
  std::string name;
  std::string file;
  int line = 0;
  std::string sql;
  std::vector<std::string> expect, absent;
};

std::vector<Case> LoadCorpus() {
  std::vector<Case> cases;
  std::string dir = testing::SourceDir() + "/tests/corpus/facts";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".facts") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream in(p);
    std::string line;
    int n = 0;
    Case c;
    auto flush = [&] {
      if (!c.name.empty()) cases.push_back(c);
      c = Case();
    };
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind("-- name: ", 0) == 0) {
        flush();
        c.name = line.substr(9);
        c.file = p.filename().string();
        c.line = n;
      } else if (line.rfind("> ", 0) == 0) {
        c.expect.push_back(line.substr(2));
      } else if (line.rfind("!> ", 0) == 0) {
        c.absent.push_back(line.substr(3));
      } else if (!c.name.empty() && !line.empty() && line.rfind("--", 0) != 0) {
        c.sql += (c.sql.empty() ? "" : "\n") + line;
      }
    }
    flush();
  }
  return cases;
}

TEST(QueryFactsCorpus, EveryCaseHasItsFacts) {
  std::vector<Case> cases = LoadCorpus();
  ASSERT_GE(cases.size(), 60u) << "the corpus must hold at least 60 statements";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + " " + c.name);
    SqlFile f;
    ASSERT_TRUE(ParseSqlFile(SourceText(c.name + ".sql", c.sql), &f).ok());
    ASSERT_FALSE(f.statements.empty());
    std::vector<QueryFacts> facts = ExtractFileFacts(f);
    // Multi-statement cases (transaction blocks) describe their last statement.
    const Statement& st = f.statements.back();
    ASSERT_TRUE(st.parsed) << st.error;
    std::vector<std::string> lines = Describe(facts.back());
    std::string all;
    for (const auto& l : lines) all += "  " + l + "\n";
    for (const auto& e : c.expect)
      EXPECT_TRUE(std::find(lines.begin(), lines.end(), e) != lines.end())
          << "missing: " << e << "\nfacts:\n"
          << all;
    for (const auto& e : c.absent)
      EXPECT_TRUE(std::find(lines.begin(), lines.end(), e) == lines.end())
          << "unexpected: " << e << "\nfacts:\n"
          << all;
    EXPECT_FALSE(c.expect.empty()) << "a case must assert something";
  }
}

TEST(QueryFacts, UnparsedStatementIsAnError) {
  Statement st;
  st.parsed = false;
  st.error = "syntax error";
  QueryFacts f;
  EXPECT_FALSE(ExtractFacts(st, &f).ok());
}

TEST(QueryFacts, LocationsPointAtTokens) {
  SqlFile f;
  const std::string sql =
      "SELECT * FROM users u\n  WHERE lower(u.email) = 'a@b.c' AND u.name LIKE '%x'";
  ASSERT_TRUE(ParseSqlFile(SourceText("l.sql", sql), &f).ok());
  QueryFacts q;
  ASSERT_TRUE(ExtractFacts(f.statements[0], &q).ok());
  ASSERT_EQ(q.predicates.size(), 2u);
  EXPECT_EQ(sql.substr(q.predicates[0].location, 5), "lower");
  EXPECT_EQ(sql.substr(q.predicates[1].location, 6), "u.name");
  EXPECT_EQ(sql.substr(q.predicates[1].value_location, 4), "'%x'");
  EXPECT_EQ(sql.substr(q.relations[0].location, 5), "users");
  EXPECT_EQ(sql.substr(q.select_star_location, 1), "*");
}

TEST(QueryFacts, AlterTableSubcommandLocations) {
  SqlFile f;
  const std::string sql =
      "ALTER TABLE public.orders ADD COLUMN note text,\n"
      "  ALTER COLUMN total SET NOT NULL, ADD CONSTRAINT c CHECK (a IN (1, 2))";
  ASSERT_TRUE(ParseSqlFile(SourceText("a.sql", sql), &f).ok());
  QueryFacts q;
  ASSERT_TRUE(ExtractFacts(f.statements[0], &q).ok());
  ASSERT_EQ(q.ddl.items.size(), 3u);
  EXPECT_EQ(sql.substr(q.ddl.items[0].location, 10), "ADD COLUMN");
  EXPECT_EQ(sql.substr(q.ddl.items[1].location, 12), "ALTER COLUMN");
  EXPECT_EQ(sql.substr(q.ddl.items[2].location, 14), "ADD CONSTRAINT");

  // Commas inside quotes, comments and parentheses do not split commands.
  const std::string tricky =
      "ALTER TABLE \"S\".\"a, b\" /* x, y */ ADD CONSTRAINT c CHECK (n <> 'p, q' AND f(1, 2) > "
      "0),\n -- one, two\n DROP COLUMN z, ALTER COLUMN w SET DEFAULT $t$, $t$";
  SqlFile g;
  ASSERT_TRUE(ParseSqlFile(SourceText("b.sql", tricky), &g).ok());
  ASSERT_TRUE(g.statements[0].parsed) << g.statements[0].error;
  ASSERT_TRUE(ExtractFacts(g.statements[0], &q).ok());
  ASSERT_EQ(q.ddl.items.size(), 3u);
  EXPECT_EQ(tricky.substr(q.ddl.items[0].location, 14), "ADD CONSTRAINT");
  EXPECT_EQ(tricky.substr(q.ddl.items[1].location, 11), "DROP COLUMN");
  EXPECT_EQ(tricky.substr(q.ddl.items[2].location, 12), "ALTER COLUMN");
}

TEST(QueryFacts, TransactionBlocksAcrossAFile) {
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("t.sql",
                                      "CREATE INDEX a ON t (x);\n"
                                      "BEGIN;\n"
                                      "CREATE INDEX CONCURRENTLY b ON t (y);\n"
                                      "COMMIT;\n"
                                      "CREATE INDEX c ON t (z);\n"),
                           &f)
                  .ok());
  std::vector<QueryFacts> q = ExtractFileFacts(f);
  ASSERT_EQ(q.size(), 5u);
  EXPECT_FALSE(q[0].in_transaction_block);
  EXPECT_TRUE(q[2].in_transaction_block);
  EXPECT_FALSE(q[4].in_transaction_block);
}

TEST(QueryFacts, OffsetOfAnyFormIsRecorded) {
  // A constant and a plain `$n` have their own fields; an expression (a page
  // number times a page size) only has_offset.
  struct Case {
    const char* sql;
    bool has_offset, param;
    int64_t value;
  };
  for (const Case& c :
       {Case{"SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 40", true, false, 40},
        Case{"SELECT id FROM t ORDER BY id LIMIT 20 OFFSET $1", true, true, -1},
        Case{"SELECT id FROM t ORDER BY id LIMIT $1 OFFSET $2 * $1", true, false, -1},
        Case{"SELECT id FROM t ORDER BY id LIMIT 20", false, false, -1}}) {
    SqlFile f;
    ASSERT_TRUE(ParseSqlFile(SourceText("o.sql", c.sql), &f).ok());
    QueryFacts q;
    ASSERT_TRUE(ExtractFacts(f.statements[0], &q).ok()) << c.sql;
    EXPECT_EQ(q.has_offset, c.has_offset) << c.sql;
    EXPECT_EQ(q.offset_param, c.param) << c.sql;
    EXPECT_EQ(q.offset.value_or(-1), c.value) << c.sql;
  }
}

}  // namespace
}  // namespace pgvise
