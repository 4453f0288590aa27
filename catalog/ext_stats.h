// catalog/ext_stats: the extended statistics objects that exist already
// (pg_statistic_ext), read on demand by the statistics advisor
// (advisor/ext_statistics.h) so it never proposes a group another object
// already covers. Not part of the Catalog snapshot: only that advisor needs
// it, and one query per run is cheap.
//
// Where it sits: catalog/ (reads the database through core/session), used
// by advisor/.
#pragma once

#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One CREATE STATISTICS object.
struct ExtStatInfo {
  std::string schema, name;          // the statistics object's own schema and name
  std::string table_schema, table;   // the table it is defined on
  std::vector<std::string> columns;  // plain columns (stxkeys), in attnum order
  bool has_expressions = false;      // PG14+ expression statistics
  bool ndistinct = false, dependencies = false, mcv = false;  // stxkind d, f, m
  bool built = false;  // ANALYZE has filled its data (pg_statistic_ext_data)
  std::string QualifiedName() const { return schema + "." + name; }
  // True when this object's columns include every one of `cols` (names as
  // catalogued) and it has the kinds asked for.
  bool Covers(const std::vector<std::string>& cols, bool need_ndistinct, bool need_dependencies,
              bool need_mcv) const;
};

// Every extended statistics object on ordinary and partitioned tables
// outside pg_catalog / information_schema.
Status LoadExtendedStatistics(Session& s, std::vector<ExtStatInfo>* out);

}  // namespace pgvise
