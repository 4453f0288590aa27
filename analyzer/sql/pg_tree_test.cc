// PgTree's view of the C parse tree must be exactly libpg_query's JSON for the
// same statement: that is the contract the facts walker was written against.
// Checked byte for byte on every statement of the repository's corpora (facts
// corpus, rule examples, golden review inputs, demo SQL, fuzz seeds).
#include "analyzer/sql/pg_tree.h"

#include <gtest/gtest.h>
#include <pg_query.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/sql/statement.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Statements of every corpus in the repository, with where they come from.
std::vector<std::pair<std::string, std::string>> CorpusStatements() {
  std::vector<std::pair<std::string, std::string>> out;
  const fs::path root = testing::SourceDir();
  auto add_file = [&](const fs::path& p, const std::string& text) {
    SqlFile f;
    if (!ParseSqlFile(SourceText(p.string(), text), &f).ok()) return;
    for (const Statement& s : f.statements)
      if (s.parsed) out.emplace_back(f.Where(s), s.sql);
  };
  for (const char* dir :
       {"tests/golden/review", "tests/corpus/pg_tree", "scripts/demo", "fuzz/corpus/sql"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / dir))
      if (e.is_regular_file() && e.path().extension() == ".sql")
        add_file(e.path(), ReadAll(e.path()));
  }
  for (const auto& e : fs::directory_iterator(root / "tests/corpus/facts")) {
    // Facts files: SQL between "-- name:" headers, fact lines start with '>'.
    std::stringstream in(ReadAll(e.path()));
    std::string line, sql;
    while (std::getline(in, line)) {
      if (line.rfind("-- name:", 0) == 0) sql += ";\n";
      if (line.rfind("> ", 0) == 0 || line.rfind("!> ", 0) == 0) continue;
      sql += line + "\n";
    }
    add_file(e.path(), sql);
  }
  for (const char* area : {"migration", "query"}) {
    for (const auto& e : fs::directory_iterator(root / "rules" / area)) {
      YAML::Node rule = YAML::LoadFile(e.path().string());
      for (const auto& ex : rule["examples"]) add_file(e.path(), ex["text"].as<std::string>());
    }
  }
  return out;
}

std::string ViewJson(const pgtree::PgTree& tree) {
  std::string json = "{\"version\":" + std::to_string(PG_VERSION_NUM) + ",\"stmts\":[";
  for (int i = 0; i < tree.size(); ++i) {
    pgtree::object wrapper;
    pgtree::element body;
    EXPECT_EQ(tree.raw_statement(i).get(wrapper), pgtree::SUCCESS);
    EXPECT_EQ(wrapper.at_key("RawStmt").get(body), pgtree::SUCCESS);
    json += (i ? "," : "") + pgtree::ToJson(body);
  }
  return json + "]}";
}

// libpg_query 15-4.0's JSON prints an Integer only when it is positive, so
// `-5` reads as {"ival":{}}, i.e. 0: the view keeps the value (one more reason
// to read the tree), and the comparison forgives exactly that.
std::string AsLibpgQueryPrintsIntegers(std::string json) {
  const std::string key = "{\"ival\":-";
  for (size_t at = json.find(key); at != std::string::npos; at = json.find(key, at)) {
    size_t end = at + key.size();
    while (end < json.size() && std::isdigit(static_cast<unsigned char>(json[end]))) ++end;
    if (end < json.size() && json[end] == '}') json.replace(at, end + 1 - at, "{}");
    ++at;
  }
  return json;
}

TEST(PgTree, ViewEqualsLibpgQueryJsonOnEveryCorpusStatement) {
  const auto stmts = CorpusStatements();
  ASSERT_GE(stmts.size(), 200u);
  int differ = 0;
  for (const auto& [where, sql] : stmts) {
    PgQueryParseResult r = pg_query_parse(sql.c_str());
    ASSERT_EQ(r.error, nullptr) << where;
    const std::string expected = r.parse_tree;
    pg_query_free_parse_result(r);
    pgtree::PgTree tree(sql);
    ASSERT_TRUE(tree.ok()) << where << ": " << tree.message();
    const std::string actual = AsLibpgQueryPrintsIntegers(ViewJson(tree));
    if (actual != expected && ++differ <= 5) {
      size_t at = 0;
      while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
      const size_t from = at > 80 ? at - 80 : 0;
      ADD_FAILURE() << where << ": " << sql << "\n  view:       ..." << actual.substr(from, 200)
                    << "\n  libpg_query: ..." << expected.substr(from, 200);
    }
  }
  EXPECT_EQ(differ, 0) << "of " << stmts.size() << " statements";
}

TEST(PgTree, NegativeIntegersKeepTheirValue) {
  pgtree::PgTree tree("SELECT -5");
  ASSERT_TRUE(tree.ok());
  EXPECT_NE(pgtree::ToJson(tree.statement(0)).find("{\"ival\":{\"ival\":-5}"), std::string::npos)
      << pgtree::ToJson(tree.statement(0));
}

TEST(PgTree, ParseErrorsKeepMessageAndCursor) {
  pgtree::PgTree tree("SELECT * FORM t");
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.message(), "syntax error at or near \"FORM\"");
  EXPECT_EQ(tree.cursor(), 9u);
}

TEST(PgTree, MissingMembersAndWrongTypesAreErrorsNotCrashes) {
  pgtree::PgTree tree("SELECT 1");
  ASSERT_TRUE(tree.ok());
  pgtree::object wrapper, body;
  ASSERT_EQ(tree.statement(0).get(wrapper), pgtree::SUCCESS);
  ASSERT_EQ(wrapper.at_key("SelectStmt").get(body), pgtree::SUCCESS);
  pgtree::element e;
  EXPECT_EQ(body.at_key("whereClause").get(e), pgtree::NO_SUCH_FIELD);  // NULL: absent
  EXPECT_EQ(body.at_key("noSuchMember").get(e), pgtree::NO_SUCH_FIELD);
  std::string_view s;
  EXPECT_EQ(body.at_key("targetList").get(s), pgtree::INCORRECT_TYPE);
  EXPECT_EQ(body.at_key("op").get(s), pgtree::SUCCESS);  // enums are always there
  EXPECT_EQ(s, "SETOP_NONE");
}

}  // namespace
}  // namespace pgvise
