// Bloat rules: what to do about space a table or B-tree index wastes, from
// the estimates of maintenance/bloat.cc (or pgstattuple with --exact).
//
// Tables. Waste made of dead tuples is what VACUUM reclaims: the space is
// reused by later writes (and an empty tail returned to the OS) under a lock
// that blocks nobody. Waste that is already free space only shrinks by a
// rewrite: pg_repack does it online (ACCESS EXCLUSIVE only for a moment at
// start and end; needs free disk for a full copy of the table and its
// indexes); VACUUM FULL holds ACCESS EXCLUSIVE for the whole rewrite and is
// never proposed to run — only named as the offline alternative.
// Indexes. REINDEX INDEX CONCURRENTLY rebuilds without blocking writes
// (SHARE UPDATE EXCLUSIVE) and needs disk for the new copy meanwhile.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/sql_text.h"
#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

std::string Pct(double r) { return Num(std::round(r * 1000) / 10) + "%"; }

// What every bloat item carries: the sizes behind it, how sure it is (a
// measurement, a clean estimate, or an estimate with a caveat), and an
// urgency that grows with the space a rebuild would return.
void AddBloatEvidence(const BloatEstimate& e, PlanItem* it) {
  it->rec.confidence =
      e.exact ? Confidence::kHigh : (e.why.empty() ? Confidence::kMedium : Confidence::kLow);
  it->rec.Add("actual_bytes", e.actual_bytes)
      .Add("expected_bytes", e.expected_bytes)
      .Add("wasted_bytes", e.wasted_bytes)
      .Add("bloat_ratio", std::round(e.ratio * 1000) / 1000)
      .Add("exact", e.exact);
  it->rec.priority =
      static_cast<int>(std::min(999.0, static_cast<double>(e.wasted_bytes) / (1 << 20)));
}

}  // namespace

void TableBloat(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_ratio = in.rule.Threshold("min_ratio");
  const double min_bytes = in.rule.Threshold("min_wasted_bytes");
  const double repack_bytes = in.rule.Threshold("repack_min_wasted_bytes");
  const double dead_share = in.rule.Threshold("dead_share_for_vacuum");
  for (size_t i = 0; i < in.snap.tables.size(); ++i) {
    const TableHealth& t = in.snap.tables[i];
    const BloatEstimate& e = (*in.table_bloat)[i];
    if (!e.estimated || !in.table_selected(t.schema, t.name)) continue;
    // Under both thresholds is noise (or the space ordinary writes will reuse).
    if (e.ratio < min_ratio || static_cast<double>(e.wasted_bytes) < min_bytes) continue;
    double dead_bytes = static_cast<double>(t.n_dead_tup) * e.row_bytes;
    bool dead_dominates = dead_bytes >= dead_share * static_cast<double>(e.wasted_bytes);
    std::ostringstream why;
    why << (e.exact ? "measured (" + e.why + ")" : "estimated") << " " << Pct(e.ratio)
        << " bloat: " << Bytes(static_cast<double>(e.actual_bytes)) << " on disk, "
        << Bytes(static_cast<double>(e.expected_bytes)) << " if rewritten (" << Count(e.rows)
        << " rows x " << Num(std::round(e.row_bytes)) << " B, " << Num(std::floor(e.per_page))
        << " per page at fillfactor " << t.Fillfactor() << ")";
    if (!e.exact && !e.why.empty()) why << "; " << e.why;
    PlanItem it;
    if (dead_dominates) {
      it = NewItem(in, RecommendationKind::kVacuum, t.Display());
      it.rec.sql = "VACUUM (ANALYZE) " + t.Qualified() + ";";
      it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
      why << "; " << Count(static_cast<double>(t.n_dead_tup))
          << " dead tuples hold most of it: VACUUM makes it reusable (a rewrite is needed to "
             "return it to the OS)";
    } else {
      // Free space only a rewrite returns; below the repack threshold the
      // table's own writes will refill it, so say nothing.
      if (static_cast<double>(e.wasted_bytes) < repack_bytes) continue;
      it = NewItem(in, RecommendationKind::kRepack, t.Display());
      it.executable = false;
      double need = static_cast<double>(e.expected_bytes + t.toast_bytes + t.index_bytes);
      // Names may hold line breaks: the comment lines go through SqlComment.
      it.rec.sql = "-- online rewrite (run from a shell):\npg_repack --no-order --table=" +
                   ShellQuote(t.Qualified()) + " --dbname=" + ShellQuote(in.snap.database) + "\n" +
                   SqlComment(
                       "offline alternative, blocks all access for the whole rewrite:\n"
                       "VACUUM FULL " +
                       t.Qualified() + ";");
      it.rec.sql.pop_back();  // rec.sql has no final line break
      it.rec.lock = "pg_repack: ACCESS EXCLUSIVE briefly at start and end; needs free disk ~" +
                    Bytes(need) +
                    " (new table + indexes). VACUUM FULL: ACCESS EXCLUSIVE throughout";
      it.rec.size_bytes = -e.wasted_bytes;
      why << "; the waste is free space, not dead tuples: only a rewrite returns "
          << Bytes(static_cast<double>(e.wasted_bytes));
    }
    it.rec.reason = why.str();
    AddBloatEvidence(e, &it);
    it.rec.Add("n_dead_tup", t.n_dead_tup);
    out->push_back(std::move(it));
  }
}

void IndexBloat(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_ratio = in.rule.Threshold("min_ratio");
  const double min_bytes = in.rule.Threshold("min_wasted_bytes");
  for (size_t i = 0; i < in.snap.indexes.size(); ++i) {
    const IndexHealth& x = in.snap.indexes[i];
    const BloatEstimate& e = (*in.index_bloat)[i];
    if (!e.estimated || !in.table_selected(x.schema, x.table)) continue;
    // Invalid indexes are the invalid-index rule's business.
    if (!x.valid) continue;
    if (e.ratio < min_ratio || static_cast<double>(e.wasted_bytes) < min_bytes) continue;
    PlanItem it = NewItem(in, RecommendationKind::kReindex, x.Display());
    it.concurrently = true;
    it.rec.sql = "REINDEX INDEX CONCURRENTLY " + x.Qualified() + ";";
    it.rec.lock =
        "SHARE UPDATE EXCLUSIVE on the table (reads and writes go on); needs free disk ~" +
        Bytes(static_cast<double>(e.expected_bytes)) + " for the new copy";
    it.rec.size_bytes = -e.wasted_bytes;
    std::ostringstream why;
    why << (e.exact ? "measured (" + e.why + ")" : "estimated") << " " << Pct(e.ratio)
        << " bloat: " << Bytes(static_cast<double>(e.actual_bytes)) << " on disk, "
        << Bytes(static_cast<double>(e.expected_bytes)) << " after a rebuild (" << Count(e.rows)
        << " entries x " << Num(std::round(e.row_bytes * 10) / 10) << " B at fillfactor "
        << x.Fillfactor() << (e.deduplicated ? ", deduplicated" : "") << ")";
    if (!e.exact && !e.why.empty()) why << "; " << e.why;
    it.rec.reason = why.str();
    AddBloatEvidence(e, &it);
    it.rec.Add("deduplicated", e.deduplicated);
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
