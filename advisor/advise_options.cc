// The advise options as the command line gives them: --format, --budget as
// a size or a percentage, --max-indexes, --min-gain in percent, and the
// notice --verify prints before it writes. Parsing and checking them here
// keeps the command (cli/cmd_advise.cc) to wiring, and gives every caller
// the same messages.
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "advisor/advisor.h"

namespace pgvise {

Status ParseBudget(const std::string& text, int64_t* bytes, double* percent) {
  *bytes = -1;
  *percent = -1;
  if (text.empty()) return Status::Ok();
  const std::string forms =
      "expected a size in bytes (123456) or with a unit B, kB, MB, GB, TB (500MB, 2GB), or a "
      "percentage of the tables' data (20%)";
  // Only a plain decimal number (strtod would also read "inf", "nan", hex
  // and leading blanks), then the unit.
  size_t n = 0;
  while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.'))
    ++n;
  if (n > 0 && n < text.size() && (text[n] == 'e' || text[n] == 'E')) {
    size_t m = n + 1;
    if (m < text.size() && (text[m] == '+' || text[m] == '-')) ++m;
    if (m < text.size() && std::isdigit(static_cast<unsigned char>(text[m]))) {
      n = m;
      while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
    }
  }
  const std::string number = text.substr(0, n);
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (n == 0 || end != number.c_str() + n || !std::isfinite(v) || v < 0)
    return Status::InvalidInput("--budget " + text + ": " + forms +
                                (text[0] == '-' ? "; a budget cannot be negative" : ""));
  std::string unit = text.substr(n);
  for (auto& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (unit == "%") {
    *percent = v;
    return Status::Ok();
  }
  static const std::map<std::string, double> kUnits = {{"", 1},
                                                       {"B", 1},
                                                       {"KB", 1024.0},
                                                       {"K", 1024.0},
                                                       {"MB", 1048576.0},
                                                       {"M", 1048576.0},
                                                       {"GB", 1073741824.0},
                                                       {"G", 1073741824.0},
                                                       {"TB", 1099511627776.0},
                                                       {"KIB", 1024.0},
                                                       {"MIB", 1048576.0},
                                                       {"GIB", 1073741824.0}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end())
    return Status::InvalidInput("--budget " + text + ": unknown unit '" + text.substr(n) + "'; " +
                                forms);
  // A double holds int64's largest value only approximately: compare below
  // 2^63 (exactly representable) so the cast below cannot overflow.
  const double b = v * it->second;
  if (!std::isfinite(b) || b >= 9223372036854775808.0)
    return Status::InvalidInput("--budget " + text +
                                ": too large (the most is 8 EB, 2^63 - 1 bytes); " + forms);
  *bytes = static_cast<int64_t>(b);
  return Status::Ok();
}

Status SetSelectionLimits(const std::string& budget, int max_indexes, double min_gain_percent,
                          const std::string& time_limit, AdviseOptions* opts) {
  Status st = ParseBudget(budget, &opts->selection.budget_bytes, &opts->budget_percent);
  if (!st.ok()) return st;
  if (max_indexes < 0)
    return Status::InvalidInput("--max-indexes " + std::to_string(max_indexes) +
                                ": expected a positive number (leave it out to let the storage "
                                "budget govern)");
  if (max_indexes > 0) opts->selection.max_indexes = max_indexes;
  opts->selection.min_gain = min_gain_percent / 100.0;
  // --time-limit: "auto" scales with the workload (SelectionOptions says why).
  if (time_limit == "auto") {
    opts->selection.time_limit_s = 60;
    opts->selection.time_limit_rounds = 10;
    return Status::Ok();
  }
  char* end = nullptr;
  const double secs = std::strtod(time_limit.c_str(), &end);
  if (time_limit.empty() || end != time_limit.c_str() + time_limit.size() || !std::isfinite(secs) ||
      secs < 0 || !std::isdigit(static_cast<unsigned char>(time_limit[0])))
    return Status::InvalidInput("--time-limit " + time_limit +
                                ": expected seconds (120, 0 for no limit) or auto");
  opts->selection.time_limit_s = secs;
  opts->selection.time_limit_rounds = 0;
  return Status::Ok();
}

Status CheckAdviseFormat(const std::string& format) {
  static const std::set<std::string> kFormats = {"text", "json", "markdown", "html", "sql"};
  if (kFormats.count(format)) return Status::Ok();
  return Status::InvalidInput("--format " + format +
                              ": advise writes text, json, markdown, html or sql");
}

std::string VerifyNotice(int top, const std::string& database) {
  return "pgvise advise --verify: building up to " + std::to_string(top) +
         " recommended indexes, and each recommended partitioning (sampled copy), materialized "
         "view and statistics object in scratch schemas or a rolled-back transaction, on " +
         database + " to measure them (all dropped afterwards)\n";
}

}  // namespace pgvise
