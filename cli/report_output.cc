// WriteReport: the one way a command hands its Report to the user — in the
// --format it asked for, to -o FILE or stdout.
#include "cli/command.h"

namespace pgvise {

void WriteReport(const CommonOptions& o, const RuleBook* rules, const Report& report) {
  ReportRenderOptions ro;
  ro.format = ParseReportFormat(o.format).value_or(ReportFormat::kText);
  ro.rules = rules;
  ro.color = UseColor(o);
  WriteOutput(o, RenderReport(report, ro));
}

}  // namespace pgvise
