#include "rewriter/review_rewrites.h"

#include <map>
#include <string>

#include "rewriter/rewriter.h"

namespace pgvise {

namespace {

bool WantsRewrite(const Finding& f) {
  return f.rule == "correlated-subquery" || f.rule == "subplan-per-outer-row";
}

bool Before(const LineCol& a, int line, int column) {
  return a.line < line || (a.line == line && a.column <= column);
}

// The statement a finding points into: static findings point at the subquery,
// plan findings at the statement's first token.
const Statement* StatementOf(const SqlFile& file, const Finding& f) {
  const Statement* best = nullptr;
  for (const auto& s : file.statements)
    if (Before(s.pos, f.location.line, f.location.column)) best = &s;
  return best;
}

void AttachRewrite(const SqlFile& file, const Statement& stmt, const RewriteResult& r, Finding* f) {
  std::string text;
  if (r.changed) {
    std::string passes;
    for (const auto& o : r.outcomes)
      if (o.applied && passes.find(o.pass) == std::string::npos)
        passes += (passes.empty() ? "" : ", ") + o.pass;
    f->Add("rewrite_passes", passes);
    text = "rewritten by pgvise rewrite (" + passes + "): " + r.sql +
           "  -- compare results and speed with `pgvise rewrite --db URI --verify`";
  } else {
    // The outcome about the subquery the finding points at, when it can be
    // told apart; otherwise every reason (a plan finding names no subquery).
    std::vector<const PassOutcome*> about;
    for (const auto& o : r.outcomes) {
      if (o.applied || o.location < 0) continue;
      LineCol lc = file.source.At(stmt.offset + static_cast<size_t>(o.location));
      if (lc.line == f->location.line && lc.column == f->location.column) about.push_back(&o);
    }
    if (about.empty())
      for (const auto& o : r.outcomes)
        if (!o.applied) about.push_back(&o);
    if (about.empty()) {
      text = "pgvise rewrite has no pass for this statement's shape";
    } else {
      std::string passes;
      for (const PassOutcome* o : about) {
        text += std::string(text.empty() ? "" : "; ") + "pgvise rewrite refused (" + o->pass +
                "): " + o->reason;
        if (passes.find(o->pass) == std::string::npos)
          passes += (passes.empty() ? "" : ", ") + o->pass;
      }
      f->Add("rewrite_refused_by", passes);
    }
  }
  f->suggestion += (f->suggestion.empty() ? "" : "\n") + text;
}

}  // namespace

void ReviewRewrites::Propose(const SqlFile& file, const Catalog* catalog,
                             std::vector<Finding>::iterator begin,
                             std::vector<Finding>::iterator end) {
  std::map<const Statement*, std::vector<Finding*>> wanted;
  for (auto it = begin; it != end; ++it) {
    if (!WantsRewrite(*it)) continue;
    const Statement* s = StatementOf(file, *it);
    if (s && s->parsed) wanted[s].push_back(&*it);
  }
  if (wanted.empty()) return;
  RewriteOptions ro;
  ro.pretty = false;  // one line: it sits in a message, a table cell, a SARIF property
  if (session_ && catalog) {
    if (!catalog_) catalog_ = std::make_unique<SessionCatalog>(session_, catalog);
    ro.catalog = catalog_.get();
    std::vector<std::string> sqls;
    for (const auto& [s, fs] : wanted) sqls.push_back(s->sql);
    catalog_->PrefetchFunctions(sqls);  // one pg_proc query for the file
  }
  for (const auto& [s, fs] : wanted) {
    RewriteResult r;
    // The statement parsed already; a failure here is the rewriter's parser
    // disagreeing, which leaves the finding as the rule wrote it.
    if (!RewriteSql(s->sql, ro, &r).ok()) continue;
    for (Finding* f : fs) AttachRewrite(file, *s, r, f);
  }
}

}  // namespace pgvise
