// Unit tests of the rewrite passes on parse trees (no database): which pass
// applies or refuses, the shape of the result, that it re-parses and that
// rewriting the output changes nothing. Result equivalence is proven against
// PostgreSQL in rewriter_pg_test.cc.
#include <gtest/gtest.h>

#include <filesystem>

#include "analyzer/sql/edit_tree.h"
#include "analyzer/sql/statement.h"
#include "rewriter/rewriter.h"
#include "rewriter/scope.h"

namespace pgvise {
namespace {

RewriteResult Rewrite(const std::string& sql, const RewriteOptions& o = {}) {
  RewriteResult r;
  Status st = RewriteSql(sql, o, &r);
  EXPECT_TRUE(st.ok()) << st.message();
  return r;
}

const PassOutcome* Find(const RewriteResult& r, const std::string& pass) {
  for (const auto& o : r.outcomes)
    if (o.pass == pass) return &o;
  return nullptr;
}

bool Has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// Every rewrite must re-parse and be a fixed point.
void ExpectStable(const RewriteResult& r) {
  std::unique_ptr<rw::Tree> t;
  ASSERT_TRUE(rw::Tree::Parse(r.sql, &t).ok()) << r.sql;
  RewriteResult again = Rewrite(r.sql);
  EXPECT_FALSE(again.changed) << "not idempotent:\n" << r.sql << "\n---\n" << again.sql;
}

TEST(DecorrelateScalarWhere, CountGreaterThanUsesInnerJoin) {
  auto r = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 10");
  ASSERT_TRUE(r.changed);
  const auto* o = Find(r, "decorrelate-scalar-where");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->applied);
  EXPECT_TRUE(Has(o->reason, "INNER JOIN"));
  EXPECT_FALSE(Has(r.sql, "LEFT JOIN"));
  EXPECT_TRUE(Has(r.sql, "GROUP BY o.user_id"));
  EXPECT_EQ(o->location, 31);
  ExpectStable(r);
}

TEST(DecorrelateScalarWhere, CountBugComparisonsUseLeftJoinAndCoalesce) {
  // Each of these holds for an outer row with no match (count = 0).
  for (const char* cmp : {"= 0", "< 3", "<= 0", ">= 0", "<> 5", "BETWEEN 0 AND 2", "IN (0, 1)"}) {
    std::string sql = std::string(
                          "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE "
                          "o.user_id = u.id) ") +
                      cmp;
    auto r = Rewrite(sql);
    ASSERT_TRUE(r.changed) << cmp;
    EXPECT_TRUE(Has(r.sql, "LEFT JOIN")) << cmp << "\n" << r.sql;
    EXPECT_TRUE(Has(r.sql, "COALESCE(pgv_sq1.pgv_v, 0)")) << cmp;
    ExpectStable(r);
  }
}

TEST(DecorrelateScalarWhere, NullOnEmptyAggregates) {
  // SUM(...) > x is NULL on no rows: inner join. SUM(...) IS NULL holds there: left join, no
  // COALESCE.
  auto inner = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT sum(o.total) FROM orders o WHERE o.user_id = u.id) > "
      "100");
  EXPECT_FALSE(Has(inner.sql, "LEFT JOIN"));
  auto isnull = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT sum(o.total) FROM orders o WHERE o.user_id = u.id) "
      "IS NULL");
  EXPECT_TRUE(Has(isnull.sql, "LEFT JOIN"));
  EXPECT_FALSE(Has(isnull.sql, "COALESCE"));
  auto count_isnull = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) IS "
      "NULL");
  EXPECT_FALSE(Has(count_isnull.sql, "LEFT JOIN"))
      << "count is never NULL: the inner join drops nothing it keeps";
}

TEST(DecorrelateScalarWhere, OtherEmptyValuesUseCase) {
  auto r = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT coalesce(sum(o.total), 0) FROM orders o WHERE "
      "o.user_id = u.id) = 0");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "CASE WHEN pgv_sq1.pgv_k1 IS NULL"));
  EXPECT_TRUE(Has(r.sql, "WHERE false"));
  ExpectStable(r);
}

TEST(DecorrelateScalarWhere, SeveralKeysExtraPredicatesAndJoins) {
  auto r = Rewrite(
      "SELECT p.pid FROM people p JOIN regions r ON r.id = p.q "
      "WHERE (SELECT count(*) FROM orders o WHERE o.user_id = p.uid AND o.qty = r.id AND o.status "
      "= 'paid') = 0");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "pgv_sq1.pgv_k1 = p.uid AND pgv_sq1.pgv_k2 = r.id")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "WHERE o.status = 'paid'"));
  ExpectStable(r);
}

TEST(DecorrelateScalarWhere, OuterFiltersLimitTheGroups) {
  RewriteOptions one_line;
  one_line.pretty = false;
  auto r = Rewrite(
      "SELECT sum(l.price) FROM lineitem l, part p WHERE p.partkey = l.partkey AND p.brand = 'B23' "
      "AND l.qty < "
      "(SELECT 0.2 * avg(l2.qty) FROM lineitem l2 WHERE l2.partkey = p.partkey)",
      one_line);
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "l2.partkey IN (SELECT p.partkey FROM part p WHERE p.brand = 'B23')"))
      << r.sql;
  ExpectStable(r);
}

TEST(DecorrelateScalarWhere, KeysAcrossCommaItemsMergeIntoCrossJoin) {
  auto r = Rewrite(
      "SELECT u.id FROM users u, regions r WHERE u.region_id = r.id AND "
      "(SELECT count(*) FROM orders o WHERE o.user_id = u.id AND o.qty = r.id) < 2");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "CROSS JOIN")) << r.sql;
  ExpectStable(r);
}

TEST(DecorrelateScalarWhere, HavingAddsDerivedColumnsToGroupBy) {
  auto r = Rewrite(
      "SELECT u.region_id, count(*) FROM users u GROUP BY u.region_id "
      "HAVING (SELECT count(*) FROM orders o WHERE o.qty = u.region_id) < 5");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "GROUP BY u.region_id, pgv_sq1.pgv_v")) << r.sql;
  ExpectStable(r);
}

TEST(DecorrelateScalarSelect, KeepsColumnNameAndExpandsStar) {
  auto r = Rewrite(
      "SELECT *, (SELECT max(o.total) FROM orders o WHERE o.user_id = u.id) FROM users u JOIN "
      "regions g ON g.id = u.region_id");
  ASSERT_TRUE(r.changed);
  const auto* o = Find(r, "decorrelate-scalar-select");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->applied);
  EXPECT_TRUE(Has(r.sql, "SELECT u.*, g.*, pgv_sq1.pgv_v AS max")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "LEFT JOIN"));
  ExpectStable(r);
}

TEST(DecorrelateScalarSelect, DisabledByName) {
  RewriteOptions opt;
  opt.disabled_passes = {"decorrelate-scalar-select"};
  auto r = Rewrite(
      "SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) FROM users u", opt);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(Find(r, "decorrelate-scalar-select"), nullptr);
}

struct Refusal {
  const char* sql;
  const char* pass;
  const char* reason;  // substring of the reason
};

// limit-one-to-lateral, without a server: the LATERAL form (the subquery
// itself, ORDER BY and NULLS FIRST/LAST as written, never INNER).
TEST(LimitOneToLateral, LookupBecomesLeftJoinLateralKeepingOrderBy) {
  auto r = Rewrite(
      "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id ORDER BY o.total DESC "
      "NULLS LAST, o.id LIMIT 1) AS top FROM users u");
  ASSERT_TRUE(r.changed);
  const auto* o = Find(r, "limit-one-to-lateral");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->applied) << o->reason;
  EXPECT_TRUE(Has(o->reason, "never INNER")) << o->reason;
  EXPECT_TRUE(Has(r.sql, "LEFT JOIN LATERAL")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "pgv_l1(pgv_v) ON true")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "ORDER BY o.total DESC NULLS LAST, o.id\n    LIMIT 1")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "pgv_l1.pgv_v AS top")) << r.sql;
  EXPECT_EQ(Find(r, "decorrelate-scalar-select"), nullptr);  // its refusal is answered
  ExpectStable(r);
}

TEST(LimitOneToLateral, SameRowLookupsShareOneLateralItem) {
  auto r = Rewrite(
      "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT "
      "1), (SELECT o.status FROM orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT 1), "
      "(SELECT o.status FROM orders o WHERE o.user_id = u.id ORDER BY o.id LIMIT 1) FROM users u");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "pgv_l1(pgv_v, pgv_v2)")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "pgv_l2(pgv_v)")) << r.sql;  // another ORDER BY: another row
  EXPECT_TRUE(Has(r.sql, "pgv_l1.pgv_v2 AS status")) << r.sql;
  ExpectStable(r);
}

TEST(LimitOneToLateral, DistinctOnFormGroupsOnTheKeysThenTheSubquerysOrder) {
  RewriteOptions o;
  o.top_one_form = TopOneForm::kDistinctOn;
  auto r = Rewrite(
      "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id AND o.qty > 1 ORDER BY "
      "o.id DESC LIMIT 1) FROM users u",
      o);
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "SELECT DISTINCT ON (o.user_id) o.user_id AS pgv_k1, o.total AS pgv_v"))
      << r.sql;
  EXPECT_TRUE(Has(r.sql, "ORDER BY o.user_id, o.id DESC")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "LEFT JOIN")) << r.sql;
  EXPECT_FALSE(Has(r.sql, "LATERAL")) << r.sql;
  // A non-equality correlation has only the LATERAL form, and says why.
  r = Rewrite(
      "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id AND o.qty > u.score "
      "ORDER BY o.id DESC LIMIT 1) FROM users u",
      o);
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "LATERAL")) << r.sql;
  EXPECT_TRUE(Has(Find(r, "limit-one-to-lateral")->reason, "not as a DISTINCT ON join"));
}

class Refuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(Refuses, LeavesQueryUntouchedAndSaysWhy) {
  const Refusal& c = GetParam();
  auto r = Rewrite(c.sql);
  EXPECT_FALSE(r.changed) << r.sql;
  EXPECT_EQ(r.sql, c.sql);
  const auto* o = Find(r, c.pass);
  ASSERT_NE(o, nullptr) << c.sql;
  EXPECT_FALSE(o->applied);
  EXPECT_TRUE(Has(o->reason, c.reason)) << o->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Guards, Refuses,
    ::testing::Values(
        Refusal{"SELECT u.id, (SELECT o.total FROM orders o WHERE o.id = u.id ORDER BY o.id "
                "DESC LIMIT 2) FROM users u",
                "decorrelate-scalar-select", "ORDER BY ... LIMIT lookup"},
        Refusal{"SELECT u.id, (SELECT o.total FROM orders o WHERE o.id = u.id ORDER BY o.id "
                "DESC LIMIT 2) FROM users u",
                "limit-one-to-lateral", "LIMIT other than 1"},
        Refusal{"SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id ORDER BY "
                "o.total FETCH FIRST 1 ROW WITH TIES) FROM users u",
                "limit-one-to-lateral", "WITH TIES"},
        Refusal{"SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id AND random() > "
                "0.5 ORDER BY o.id LIMIT 1) FROM users u",
                "limit-one-to-lateral", "volatile function random()"},
        Refusal{"SELECT u.id FROM users u JOIN regions r ON r.id = (SELECT o.qty FROM orders o "
                "WHERE o.user_id = u.id ORDER BY o.id LIMIT 1)",
                "limit-one-to-lateral", "JOIN ... ON"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = "
                "u.id AND random() < 0.5) > 1",
                "decorrelate-scalar-where", "volatile function random()"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = "
                "u.id AND "
                "EXISTS (SELECT 1 FROM regions r WHERE r.id = u.region_id)) > 0",
                "decorrelate-scalar-where", "two levels deep"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT unnest(ARRAY[count(*)]) FROM orders o "
                "WHERE o.user_id = u.id) > 1",
                "decorrelate-scalar-where", "set-returning function unnest()"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = "
                "u.id GROUP BY u.region_id) > 1",
                "decorrelate-scalar-where", "GROUP BY"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.qty > "
                "u.score) > 1",
                "decorrelate-scalar-where", "not an equality"},
        Refusal{
            "SELECT u.id FROM users u WHERE (SELECT o.total FROM orders o WHERE o.id = u.id) > 5",
            "decorrelate-scalar-where", "not an aggregate"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = "
                "u.id) > 1 LIMIT 5",
                "decorrelate-scalar-where", "LIMIT"},
        Refusal{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o, generate_series(1, "
                "u.score) g "
                "WHERE o.user_id = u.id) > 1",
                "decorrelate-scalar-where", "FROM clause"},
        Refusal{"SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = "
                "u.id HAVING count(*) < 2)",
                "decorrelate-exists-grouped", "COUNT bug"},
        Refusal{"SELECT u.id FROM users u WHERE u.id + random() NOT IN (SELECT o.user_id FROM "
                "orders o)",
                "not-in-to-not-exists", "evaluate it twice"},
        Refusal{
            "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)",
            "postgresql", "semi-join"},
        Refusal{"SELECT u.id FROM users u WHERE u.id IN (SELECT o.user_id FROM orders o)",
                "postgresql", "semi-join"},
        Refusal{"SELECT u.id FROM users u WHERE u.score > 1 OR u.id IN (SELECT r.id FROM regions r "
                "WHERE r.name = u.name)",
                "decorrelate-in", "top level"}));

TEST(Unqualified, AssumedLocalOnlyAtTopLevelWithoutCatalog) {
  // Top level: an unqualified column in the subquery is taken as the
  // subquery's own (a wrong guess makes the rewrite fail to run, not lie).
  auto r = Rewrite(
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders WHERE user_id = u.id) > 2");
  EXPECT_TRUE(r.changed);
  // So is a derived table's query: it cannot see its FROM siblings.
  auto d = Rewrite(
      "SELECT x.id FROM (SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders WHERE user_id "
      "= u.id) > 2) x");
  EXPECT_TRUE(d.changed);
  // Inside a subquery expression the guess could bind to the enclosing query: refused.
  auto n = Rewrite(
      "SELECT t.a FROM t WHERE t.a IN (SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders "
      "WHERE user_id = u.id) > 2)");
  EXPECT_FALSE(n.changed);
}

class FakeCatalog : public RewriteCatalog {
 public:
  const Table* FindTable(const std::string&, const std::string& name) const override {
    auto it = tables_.find(name);
    return it == tables_.end() ? nullptr : &it->second;
  }
  Function FindFunction(const std::string&) const override { return {}; }
  std::map<std::string, Table> tables_;
};

TEST(NotInToNotExists, CatalogNotNullProvesBothSides) {
  FakeCatalog cat;
  cat.tables_["users"].not_null = {{"id", true}, {"name", false}};
  cat.tables_["orders"].not_null = {{"id", true}, {"user_id", true}};
  RewriteOptions o;
  o.catalog = &cat;
  auto r =
      Rewrite("SELECT u.id FROM users u WHERE u.id NOT IN (SELECT o.user_id FROM orders o)", o);
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "NOT EXISTS"));
  EXPECT_TRUE(Has(r.sql, "u.id = o.user_id"));
  EXPECT_FALSE(Has(r.sql, "IS NULL")) << r.sql;  // proven: no NULL checks
  // On the nullable side of a LEFT JOIN the constraint proves nothing: the
  // rewrite is NULL-aware for the outer side only.
  auto l = Rewrite(
      "SELECT g.id FROM regions g LEFT JOIN users u ON u.region_id = g.id WHERE u.id NOT IN "
      "(SELECT o.user_id FROM orders o)",
      o);
  ASSERT_TRUE(l.changed);
  EXPECT_TRUE(Has(l.sql, "NOT (u.id IS NULL AND EXISTS")) << l.sql;
  EXPECT_FALSE(Has(l.sql, "o.user_id IS NULL")) << l.sql;
}

// Unproven sides get the NULL-aware form: the anti-join plus a one-time
// check per side that may be NULL.
TEST(NotInToNotExists, NullAwareWhenNothingIsProven) {
  auto r = Rewrite("SELECT u.id FROM users u WHERE u.id NOT IN (SELECT o.user_id FROM orders o)");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "WHERE u.id = o.user_id")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "WHERE o.user_id IS NULL")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "NOT (u.id IS NULL AND EXISTS")) << r.sql;
  ExpectStable(r);
}

TEST(NotInToNotExists, UnqualifiedOuterColumnIsQualifiedWhenMoved) {
  FakeCatalog cat;
  cat.tables_["users"].not_null = {{"id", true}, {"email", true}};
  cat.tables_["orders"].not_null = {{"id", true}, {"user_id", true}};
  RewriteOptions o;
  o.catalog = &cat;
  // `id` must stay users.id once inside the subquery, where orders.id exists too.
  auto r = Rewrite("SELECT email FROM users WHERE id NOT IN (SELECT user_id FROM orders)", o);
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "users.id = user_id")) << r.sql;
}

TEST(ExistsGrouped, Shapes) {
  auto g = Rewrite(
      "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id GROUP "
      "BY o.status "
      "HAVING count(*) > 2)");
  ASSERT_TRUE(g.changed);
  EXPECT_TRUE(Has(g.sql, "GROUP BY o.user_id, o.status"));
  ExpectStable(g);
  auto t = Rewrite(
      "SELECT u.id FROM users u WHERE NOT EXISTS (SELECT count(*) FROM orders o WHERE o.user_id = "
      "u.id)");
  ASSERT_TRUE(t.changed);
  EXPECT_TRUE(Has(t.sql, "NOT true"));
  auto d = Rewrite(
      "SELECT u.id FROM users u WHERE EXISTS (SELECT count(*) FROM orders o WHERE o.user_id = u.id "
      "GROUP BY o.status)");
  ASSERT_TRUE(d.changed);
  EXPECT_FALSE(Has(d.sql, "GROUP BY"));
}

TEST(InPasses, AggregateInBecomesScalarThenJoin) {
  auto r = Rewrite(
      "SELECT o.id FROM orders o WHERE o.total IN (SELECT max(o2.total) FROM orders o2 WHERE "
      "o2.user_id = o.user_id)");
  ASSERT_TRUE(r.changed);
  ASSERT_NE(Find(r, "in-aggregate-to-scalar"), nullptr);
  EXPECT_TRUE(Find(r, "decorrelate-scalar-where")->applied);
  ExpectStable(r);
  auto c = Rewrite(
      "SELECT u.id FROM users u WHERE u.region_id IN (SELECT o.qty FROM orders o WHERE o.user_id = "
      "u.id)");
  ASSERT_TRUE(c.changed);
  EXPECT_TRUE(Has(c.sql, "EXISTS"));
  ExpectStable(c);
}

TEST(Format, BreaksClausesWithoutChangingTheTree) {
  std::string sql =
      "SELECT a, extract(year FROM b), count(*) FILTER (WHERE c > 1) FROM t LEFT JOIN (SELECT x "
      "FROM y WHERE "
      "z = 'FROM x WHERE') s ON s.x = t.a WHERE t.a > 1 GROUP BY 1, 2 ORDER BY 1";
  std::string f = FormatSql(sql);
  EXPECT_NE(f, sql);
  EXPECT_TRUE(Has(f, "\nFROM t\n  LEFT JOIN"));
  EXPECT_TRUE(Has(f, "'FROM x WHERE'"));
  EXPECT_EQ(Fingerprint(f), Fingerprint(sql));
}

TEST(Tree, CloneAndEqualIgnoreLocations) {
  std::unique_ptr<rw::Tree> a, b;
  ASSERT_TRUE(rw::Tree::Parse("SELECT 1 + x FROM t", &a).ok());
  ASSERT_TRUE(rw::Tree::Parse("SELECT   1 +   x FROM t", &b).ok());
  auto* ta = a->root()->stmts[0]->stmt->select_stmt->target_list[0];
  auto* tb = b->root()->stmts[0]->stmt->select_stmt->target_list[0];
  EXPECT_TRUE(rw::NodeEqual(ta, tb));
  EXPECT_TRUE(rw::NodeEqual(a->Clone(ta), tb));
  EXPECT_EQ(rw::ExprSql(ta->res_target->val), "1 + x");
}

TEST(Scope, FigureColnameMatchesPostgres) {
  std::unique_ptr<rw::Tree> t;
  ASSERT_TRUE(
      rw::Tree::Parse("SELECT count(*), a.b, x::int, (a+1)::int, (SELECT max(y) FROM z), 1 + 2", &t)
          .ok());
  auto* s = t->root()->stmts[0]->stmt->select_stmt;
  std::vector<std::string> want = {"count", "b", "x", "int4", "max", "?column?"};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(rw::FigureColname(s->target_list[i]->res_target->val), want[i]);
}

// The files of `dir` under the source tree (only *.sql when `sql_only`) that
// read and split; none when the directory is missing.
std::vector<SqlFile> SplitFiles(const char* dir, bool sql_only) {
  std::vector<SqlFile> files;
  const std::string path = std::string(PGVISE_SOURCE_DIR) + "/" + dir;
  if (!std::filesystem::is_directory(path)) return files;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (sql_only && e.path().extension() != ".sql") continue;
    SourceText src;
    if (!SourceText::Read(e.path().string(), &src).ok()) continue;
    SqlFile file;
    if (ParseSqlFile(std::move(src), &file).ok()) files.push_back(std::move(file));
  }
  return files;
}

TEST(RewriteSql, EveryStatementOfTheRepositoryCorporaSurvives) {
  // Whatever SQL the project carries (fuzz corpus, demo workload, golden
  // inputs): no crash, and every rewrite re-parses and is a fixed point.
  int statements = 0, rewritten = 0;
  for (const char* dir : {"fuzz/corpus/sql", "scripts/demo", "scripts/demo/queries",
                          "tests/golden/review", "rewriter/testdata"}) {
    for (const SqlFile& file : SplitFiles(dir, true)) {
      for (const auto& st : file.statements) {
        if (!st.parsed) continue;
        ++statements;
        RewriteResult r;
        RewriteOptions o;
        o.check_passes = true;
        Status rs = RewriteSql(st.sql, o, &r);
        ASSERT_TRUE(rs.ok()) << file.Where(st) << ": " << rs.message();
        if (!r.changed) continue;
        ++rewritten;
        SCOPED_TRACE(file.Where(st));
        ExpectStable(r);
      }
    }
  }
  EXPECT_GT(statements, 20);
  EXPECT_GT(rewritten, 3);  // rewriter/testdata/demo.sql alone has four
}

// RewriteOnce keeps one undo snapshot until a pass's change is kept, on the
// promise that a pass which applied nothing left the tree alone. The fuzzer's
// minimised corpus holds the odd shapes the passes meet; every pass is
// checked on each of its statements.
TEST(RewriteSql, NoPassChangesTheTreeWithoutApplying) {
  int statements = 0, rewritten = 0;
  for (const SqlFile& file : SplitFiles("fuzz/corpus-grown/rewrite", false)) {
    for (const auto& st : file.statements) {
      if (!st.parsed) continue;
      ++statements;
      RewriteOptions o;
      o.check_passes = true;
      RewriteResult r;
      Status rs = RewriteSql(st.sql, o, &r);
      EXPECT_EQ(rs.message().find("without applying"), std::string::npos)
          << file.Where(st) << ": " << rs.message();
      rewritten += r.changed;
    }
  }
  EXPECT_GT(statements, 1000);
  EXPECT_GT(rewritten, 100);
}

TEST(RewriteSql, SyntaxErrorIsLocated) {
  RewriteResult r;
  size_t pos = 0;
  Status st = RewriteSql("SELECT * FRM t", {}, &r, &pos);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(pos, 9u);
}

// INSERT ... SELECT: its SELECT is rewritten like a query; with ON CONFLICT
// or a WITH clause it is left alone and the reason is given.
TEST(DecorrelateDml, InsertSelectIsRewrittenUnlessOnConflictOrWith) {
  auto r = Rewrite(
      "INSERT INTO hot (id) SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE "
      "o.user_id = u.id) > 10");
  ASSERT_TRUE(r.changed);
  EXPECT_TRUE(Has(r.sql, "INSERT INTO hot"));
  EXPECT_TRUE(Has(r.sql, "GROUP BY o.user_id"));
  ExpectStable(r);
  auto c = Rewrite(
      "INSERT INTO hot (id) SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE "
      "o.user_id = u.id) > 10 ON CONFLICT DO NOTHING");
  EXPECT_FALSE(c.changed);
  const auto* oc = Find(c, "insert-select");
  ASSERT_NE(oc, nullptr);
  EXPECT_FALSE(oc->applied);
  EXPECT_TRUE(Has(oc->reason, "ON CONFLICT"));
  auto w = Rewrite(
      "WITH k AS (SELECT 1) INSERT INTO hot (id) SELECT u.id FROM users u WHERE (SELECT count(*) "
      "FROM orders o WHERE o.user_id = u.id) > 10");
  EXPECT_FALSE(w.changed);
  ASSERT_NE(Find(w, "insert-select"), nullptr);
  // UPDATE / DELETE with a subquery: left as written, and said so.
  auto u =
      Rewrite("UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id)");
  EXPECT_FALSE(u.changed);
  ASSERT_NE(Find(u, "dml"), nullptr);
  EXPECT_FALSE(Find(u, "dml")->applied);
  EXPECT_EQ(Find(Rewrite("DELETE FROM users WHERE id = 1"), "dml"), nullptr);
}

// UPDATE / DELETE (rewriter/dml.cc): the reading half goes through the
// passes as a SELECT. A rewrite of its WHERE alone goes back in place (no
// key needed); one that joins needs the target's primary key, proven by the
// catalog, and joins back on it.
TEST(DecorrelateDml, DeleteWhereOnlyRewriteGoesBackInPlace) {
  const std::string sql =
      "DELETE FROM users u WHERE u.score IN (SELECT o.qty FROM orders o WHERE o.user_id = u.id)";
  RewriteOptions one_line;
  one_line.pretty = false;
  auto r = Rewrite(sql, one_line);
  ASSERT_TRUE(r.changed) << r.sql;
  EXPECT_TRUE(Has(r.sql, "DELETE FROM users u WHERE EXISTS")) << r.sql;
  EXPECT_FALSE(Has(r.sql, "USING")) << r.sql;
  EXPECT_FALSE(Has(r.sql, "ctid")) << r.sql;
  ASSERT_NE(Find(r, "dml"), nullptr);
  EXPECT_TRUE(Find(r, "dml")->applied);
  ASSERT_NE(Find(r, "decorrelate-in"), nullptr);
  // The subquery is located in the statement, not in the SELECT built from it.
  EXPECT_EQ(Find(r, "decorrelate-in")->location, static_cast<int>(sql.find("IN (SELECT")));
  ExpectStable(r);
}

TEST(DecorrelateDml, UpdateSetJoinsBackOnTheProvenPrimaryKey) {
  FakeCatalog cat;
  auto& u = cat.tables_["users"];
  u.not_null = {{"id", true}, {"score", false}, {"region_id", false}};
  u.primary_key = {"id"};
  u.unique_keys = {{"id"}};
  cat.tables_["orders"].not_null = {{"id", true}, {"user_id", false}, {"qty", false}};
  RewriteOptions o;
  o.catalog = &cat;
  o.pretty = false;
  auto r = Rewrite(
      "UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id), "
      "region_id = 1 WHERE u.region_id = 3",
      o);
  ASSERT_TRUE(r.changed) << r.sql;
  EXPECT_TRUE(Has(r.sql, "SET score = pgv_u.pgv_c1, region_id = 1")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "COALESCE(")) << r.sql;  // the COUNT bug: 0, not NULL
  EXPECT_TRUE(Has(r.sql, "u.id = pgv_u.pgv_pk1 AND u.region_id = 3")) << r.sql;
  EXPECT_TRUE(Find(r, "dml")->applied);
  // Without the key (no catalog; or a key not proven unique over a scan: an
  // inheritance parent) the join is not built, and the reason says why.
  auto n =
      Rewrite("UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id)");
  EXPECT_FALSE(n.changed);
  EXPECT_TRUE(Has(Find(n, "dml")->reason, "--db")) << Find(n, "dml")->reason;
  u.unique_keys.clear();
  auto i = Rewrite(
      "UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id)", o);
  EXPECT_FALSE(i.changed);
  EXPECT_TRUE(Has(Find(i, "dml")->reason, "inheritance")) << Find(i, "dml")->reason;
}

TEST(DecorrelateDml, ShapesItCannotProveAreRefusedWithTheReason) {
  struct R {
    const char* sql;
    const char* why;
  };
  for (const R& c : {
           R{"UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id) "
             "FROM regions g WHERE g.id = u.region_id",
             "UPDATE ... FROM"},
           R{"DELETE FROM users u USING regions g WHERE g.id = u.region_id AND u.id IN (SELECT "
             "o.qty FROM orders o WHERE o.user_id = u.id)",
             "USING"},
           R{"WITH k AS (SELECT 1) DELETE FROM users u WHERE u.score IN (SELECT o.qty FROM orders "
             "o WHERE o.user_id = u.id)",
             "WITH"},
           R{"UPDATE users u SET (score, region_id) = (SELECT count(*), max(o.qty) FROM orders o "
             "WHERE o.user_id = u.id)",
             "multi-column"},
           R{"DELETE FROM users u WHERE u.score IN (SELECT o.qty FROM orders o WHERE o.user_id = "
             "u.id AND random() < 0.5)",
             "random"},
       }) {
    SCOPED_TRACE(c.sql);
    auto r = Rewrite(c.sql);
    EXPECT_FALSE(r.changed) << r.sql;
    const auto* oc = Find(r, "dml");
    ASSERT_NE(oc, nullptr);
    EXPECT_FALSE(oc->applied);
    EXPECT_TRUE(Has(oc->reason, c.why)) << oc->reason;
  }
}

// two-level-through-equality: `u.id` two levels down becomes `o.user_id`
// when the middle query's WHERE pins o.user_id = u.id and both are integer;
// then the scalar passes unnest both levels.
TEST(TwoLevel, SubstitutesThroughAnEqualityOfOneIdentityType) {
  FakeCatalog cat;
  cat.tables_["users"].not_null = {{"id", true}, {"region_id", false}};
  cat.tables_["users"].types = {{"id", "integer"}, {"region_id", "integer"}};
  cat.tables_["orders"].not_null = {{"id", true}, {"user_id", false}, {"total", false}};
  cat.tables_["orders"].types = {{"id", "integer"}, {"user_id", "integer"}, {"total", "numeric"}};
  RewriteOptions o;
  o.catalog = &cat;
  o.pretty = false;
  const std::string sql =
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id AND "
      "o.total > (SELECT avg(x.total) FROM orders x WHERE x.user_id = u.id)) = 0";
  auto r = Rewrite(sql, o);
  ASSERT_TRUE(r.changed) << r.sql;
  ASSERT_NE(Find(r, "two-level-through-equality"), nullptr);
  EXPECT_TRUE(Find(r, "two-level-through-equality")->applied);
  EXPECT_TRUE(Has(r.sql, "GROUP BY x.user_id")) << r.sql;
  EXPECT_TRUE(Has(r.sql, "COALESCE(")) << r.sql;  // = 0: the COUNT bug
  EXPECT_FALSE(Has(r.sql, "(SELECT avg")) << r.sql;
  ExpectStable(r);

  // Refused, and said why: no equality pins the column; different types;
  // a type whose equality is not identity; no catalog.
  struct R {
    std::string sql;
    const char* why;
  };
  cat.tables_["orders"].types["region_id"] = "integer";
  for (const R& c : {
           R{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id "
             "AND o.total > (SELECT avg(x.total) FROM orders x WHERE x.user_id = "
             "u.region_id)) = 0",
             "no top-level equality"},
           R{"SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id "
             "OR o.total > (SELECT avg(x.total) FROM orders x WHERE x.user_id = u.id)) = 0",
             "no top-level equality"},
       }) {
    SCOPED_TRACE(c.sql);
    auto n = Rewrite(c.sql, o);
    EXPECT_FALSE(n.changed) << n.sql;
    const auto* oc = Find(n, "two-level-through-equality");
    ASSERT_NE(oc, nullptr);
    EXPECT_FALSE(oc->applied);
    EXPECT_TRUE(Has(oc->reason, c.why)) << oc->reason;
  }
  cat.tables_["orders"].types["user_id"] = "bigint";
  auto b = Rewrite(sql, o);
  EXPECT_FALSE(b.changed) << b.sql;
  EXPECT_TRUE(Has(Find(b, "two-level-through-equality")->reason, "different types"));
  cat.tables_["orders"].types["user_id"] = "numeric";
  cat.tables_["users"].types["id"] = "numeric";
  b = Rewrite(sql, o);
  EXPECT_FALSE(b.changed) << b.sql;
  EXPECT_TRUE(Has(Find(b, "two-level-through-equality")->reason, "not identity"));
  b = Rewrite(sql);
  EXPECT_FALSE(b.changed) << b.sql;
  EXPECT_TRUE(Has(Find(b, "two-level-through-equality")->reason, "--db"));
}

}  // namespace
}  // namespace pgvise
