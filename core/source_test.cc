#include "core/source.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

TEST(SourceText, MapsOffsetsToLineAndCharacterColumn) {
  SourceText s("f.sql", "SELECT 1;\n  SELECT 'é', x;\n");
  EXPECT_EQ(s.At(0).line, 1);
  EXPECT_EQ(s.At(12).line, 2);
  EXPECT_EQ(s.At(12).column, 3);
  // 'é' is two bytes but one column.
  size_t after = s.text().find("x;");
  EXPECT_EQ(s.At(after).column, 15);
  EXPECT_EQ(s.Where(12), "f.sql:2:3");
}

TEST(SourceText, RejectsEmptyBinaryAndInvalidUtf8WithLocation) {
  EXPECT_NE(SourceText("e.sql", "  \n").Validate().message().find("e.sql: empty input"),
            std::string::npos);
  std::string bin = "SELECT 1;\nab";
  bin.push_back('\0');
  EXPECT_NE(SourceText("b.sql", bin).Validate().message().find("b.sql:2:3: binary data"),
            std::string::npos);
  EXPECT_NE(
      SourceText("u.sql", "SELECT '\xff';").Validate().message().find("u.sql:1:9: invalid UTF-8"),
      std::string::npos);
  EXPECT_TRUE(SourceText("ok.sql", "SELECT 'ü';").Validate().ok());
}

TEST(SourceText, ReadReportsMissingFileAndSizeLimit) {
  SourceText s;
  Status st = SourceText::Read("/nonexistent/x.sql", &s);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.exit_code(), ExitCode::kInputError);
  EXPECT_NE(st.message().find("/nonexistent/x.sql: cannot open"), std::string::npos);
  st = SourceText::Read("/etc/hostname", &s, 1);
  EXPECT_NE(st.message().find("input limit"), std::string::npos);
}

}  // namespace
}  // namespace pgvise
