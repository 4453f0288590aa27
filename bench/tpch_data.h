// The TPC-H data the TPC-H benches read (tpch_bench: index advice;
// rewrite_tpch_bench: rewrites): bench/tpch_data.sql at scale factor SF,
// generated once per cluster into a database of the bench's own
// (<prefix>_sf<SF>), so one bench's keys and indexes never disturb another's.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "core/session.h"
#include "tests/support/pg_test.h"

namespace pgvise::tpch {

inline std::string SfText(double sf) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", sf);
  return b;
}

// The database's URI; generated (and VACUUM ANALYZEd) first unless its
// lineitem already has rows. A failed load throws (testing::Exec).
inline std::string EnsureData(const std::string& prefix, double sf, const char* tool) {
  std::string db = prefix + "_sf" + SfText(sf);
  std::replace(db.begin(), db.end(), '.', '_');
  const std::string uri = testing::DatabaseUri(db);
  {
    auto admin = testing::AdminSession(testing::ClusterUri());
    Rows r;
    admin->Query("SELECT 1 FROM pg_database WHERE datname = $1", {db}, &r);
    if (!r.empty()) {
      auto s = testing::AdminSession(uri);
      Rows t;
      if (s->Query("SELECT count(*) FROM lineitem", &t).ok() && t.Int(0, 0) > 0) return uri;
    }
  }
  std::ifstream f(testing::SourceDir() + "/bench/tpch_data.sql");
  std::stringstream text;
  text << f.rdbuf();
  const std::string sql = std::regex_replace(text.str(), std::regex("@SF@"), SfText(sf));
  std::fprintf(stderr, "%s: generating TPC-H SF %s into %s (once per cluster)...\n", tool,
               SfText(sf).c_str(), db.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  testing::FreshDatabase(db);
  testing::Exec(uri, sql);
  testing::Exec(uri, "VACUUM ANALYZE");
  std::fprintf(stderr, "%s: loaded in %.0f s\n", tool,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return uri;
}

}  // namespace pgvise::tpch
