#include "analyzer/sql/write_as_read.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

std::string Select(const std::string& sql) {
  std::string out;
  Status st = RowFindingSelect(sql, &out);
  EXPECT_TRUE(st.ok()) << sql << ": " << st.message();
  return out;
}

TEST(RowFindingSelect, UpdateKeepsItsRelationsWhereAndEveryParameter) {
  EXPECT_EQ(Select("UPDATE t AS a SET n = n + $1 FROM f WHERE a.id = f.id AND f.k = $2"),
            "SELECT a.ctid, n = (n + $1) FROM t a, f WHERE a.id = f.id AND f.k = $2");
  EXPECT_EQ(Select("UPDATE ONLY s.t SET flag = DEFAULT WHERE id = 5"),
            "SELECT t.ctid FROM ONLY s.t WHERE id = 5");
  EXPECT_EQ(
      Select("WITH x AS (SELECT 1 AS id) UPDATE t SET v = 2 WHERE id IN (SELECT id FROM x) "
             "RETURNING t.id"),
      "WITH x AS (SELECT 1 AS id) SELECT t.ctid, v = 2, t.id FROM t WHERE id IN (SELECT id FROM "
      "x)");
}

TEST(RowFindingSelect, DeleteJoinsItsUsingList) {
  EXPECT_EQ(Select("DELETE FROM t USING u WHERE t.id = u.id AND u.k = $1 RETURNING t.id"),
            "SELECT t.ctid, t.id FROM t, u WHERE t.id = u.id AND u.k = $1");
  EXPECT_EQ(Select("DELETE FROM t"), "SELECT t.ctid FROM t");
}

TEST(RowFindingSelect, RefusesWhatHasNoSelectForm) {
  std::string out;
  EXPECT_EQ(RowFindingSelect("UPDATE t SET (a, b) = (SELECT 1, 2) WHERE id = 1", &out).code(),
            Status::Code::kUnsupported);
  EXPECT_EQ(RowFindingSelect("DELETE FROM t WHERE CURRENT OF c", &out).code(),
            Status::Code::kUnsupported);
  EXPECT_EQ(RowFindingSelect("SELECT 1", &out).code(), Status::Code::kUnsupported);
  EXPECT_FALSE(RowFindingSelect("UPDATE", &out).ok());
}

}  // namespace
}  // namespace pgvise
