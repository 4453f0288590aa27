#include "catalog/builtin_functions.h"

#include <algorithm>
#include <array>

namespace pgvise {

bool IsBuiltinVolatile(std::string_view name) {
  // Sorted, for the binary search.
  static constexpr std::array<std::string_view, 29> kVolatile = {
      "clock_timestamp",
      "currval",
      "dblink",
      "dblink_exec",
      "gen_random_bytes",
      "gen_random_uuid",
      "lastval",
      "lo_export",
      "lo_import",
      "nextval",
      "pg_advisory_lock",
      "pg_advisory_xact_lock",
      "pg_cancel_backend",
      "pg_notify",
      "pg_read_file",
      "pg_sleep",
      "pg_sleep_for",
      "pg_sleep_until",
      "pg_terminate_backend",
      "pg_try_advisory_lock",
      "random",
      "random_normal",
      "set_config",
      "setseed",
      "setval",
      "timeofday",
      "uuid_generate_v1",
      "uuid_generate_v1mc",
      "uuid_generate_v4",
  };
  return std::binary_search(kVolatile.begin(), kVolatile.end(), name);
}

}  // namespace pgvise
