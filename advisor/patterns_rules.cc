// Workload patterns: the handlers of rules/workload/*.yaml, one function per
// rule id, and the table that maps ids to them (Handlers()). The discipline
// every handler follows is described at the top of patterns.cc.
#include "advisor/parameters.h"
#include "advisor/patterns_internal.h"
#include "analyzer/plan/plan.h"

namespace pgvise::patterns_detail {

namespace {

// Statements that share a table with `table`, or read a table a foreign key
// links to it (either way): the statements an N+1 loop is driven by.
std::set<std::string> LinkedTables(const Catalog& catalog, const std::string& table) {
  std::set<std::string> out = {table};
  for (const TableInfo& t : catalog.tables())
    for (const ConstraintInfo& c : t.constraints) {
      if (c.type != 'f') continue;
      if (t.QualifiedName() == table) out.insert(c.referenced_table);
      if (c.referenced_table == table) out.insert(t.QualifiedName());
    }
  return out;
}

bool Touches(const PatternStatement& s, const std::set<std::string>& tables) {
  for (const auto& t : s.tables)
    if (tables.count(t)) return true;
  return false;
}

// The per-row execution time of a statement on `table` that already fetches
// or inserts many rows per call: what a row costs once the per-call overhead
// is shared. -1 when pg_stat_statements has none.
double BatchedRowMs(const PatternInput& in, const PatternStatement& self, const std::string& table,
                    StatementKind kind, std::string* from) {
  double best = -1;
  for (const auto& o : in.statements) {
    if (&o == &self || !o.parsed || o.facts.kind != kind || o.tables.empty()) continue;
    if (o.tables.front() != table || o.counters.RowsPerCall() < 2) continue;
    if (kind == StatementKind::kSelect) {
      bool batched = false;
      for (const Predicate& p : o.facts.predicates)
        batched |= p.kind == PredicateKind::kAnyArray || p.kind == PredicateKind::kInList;
      if (!batched || o.tables.size() != 1) continue;
    }
    const double per_row = o.counters.mean_exec_ms / o.counters.RowsPerCall();
    if (best < 0 || per_row < best) {
      best = per_row;
      *from = o.counters.query;
    }
  }
  return best;
}

// ------------------------------------------------------------- n-plus-one

void NPlusOne(const Call& c, std::vector<Finding>* out) {
  const double min_calls = c.rule.Threshold("min_calls");
  const double min_ratio = c.rule.Threshold("min_calls_ratio");
  const double max_rows = c.rule.Threshold("max_rows_per_call");
  const double rt_ms = c.rule.Threshold("round_trip_ms");
  for (const auto& s : c.in.statements) {
    const QueryFacts& f = s.facts;
    if (!s.parsed || f.kind != StatementKind::kSelect || f.set_operation) continue;
    if (f.relations.size() != 1 || f.relations[0].is_cte || !f.joins.empty() ||
        !f.subqueries.empty() || f.has_aggregate || !f.group_by.empty())
      continue;
    if (s.counters.calls < min_calls || s.counters.RowsPerCall() > max_rows) continue;
    const Predicate* key = SingleEqualityKey(f);
    if (!key || s.tables.empty()) continue;
    const std::string& table = s.tables.front();
    // Siblings: the other reads of this table or of a table linked to it
    // (the list driving a loop is a read; a bulk load or a backfill is not).
    const std::set<std::string> linked = LinkedTables(*c.in.catalog, table);
    const PatternStatement* busiest = nullptr;
    for (const auto& o : c.in.statements)
      if (&o != &s && o.parsed && o.facts.kind == StatementKind::kSelect && Touches(o, linked) &&
          (!busiest || o.counters.calls > busiest->counters.calls))
        busiest = &o;
    if (!busiest) continue;  // nothing drives it: a frequent lookup, not a loop
    const double ratio = s.counters.calls / std::max(busiest->counters.calls, 1.0);
    if (ratio < min_ratio) continue;

    // The estimate: one batched call per call of the busiest sibling.
    const double calls_after = busiest->counters.calls;
    const double calls_saved = s.counters.calls - calls_after;
    const double round_trips_ms = calls_saved * rt_ms;
    std::string batched_from;
    const double row_ms = BatchedRowMs(c.in, s, table, StatementKind::kSelect, &batched_from);
    double server_ms = -1;
    if (row_ms >= 0) server_ms = std::max(0.0, s.counters.total_exec_ms - s.counters.rows * row_ms);
    double plan_ms = 0;
    if (s.counters.plans > 0) plan_ms = s.counters.total_plan_ms * calls_saved / s.counters.calls;

    Finding fd = c.Make(s, "`" + s.counters.query + "` ran " + Num(s.counters.calls) + " times (" +
                               Num(Round(ratio, 0)) + "x " +
                               (busiest->tables == s.tables ? "the busiest statement on " + table
                                                            : "the statement driving it") +
                               "), " + Num(Round(s.counters.RowsPerCall(), 2)) +
                               " row per call: an N+1 loop over " + table + "." + key->column);
    fd.Add("calls_per_second", Round(c.PerSecond(s.counters.calls), 2));
    fd.Add("key_column", table + "." + key->column);
    fd.Add("sibling_query", busiest->counters.query);
    fd.Add("sibling_calls", Round(busiest->counters.calls, 0));
    fd.Add("calls_ratio", Round(ratio, 1));
    fd.Add("batched_calls_estimate", Round(calls_after, 0));
    fd.Add("calls_saved_estimate", Round(calls_saved, 0));
    fd.Add("round_trip_ms_assumed", rt_ms);
    fd.Add("round_trips_saved_ms_estimate", Round(round_trips_ms, 1));
    if (server_ms >= 0) {
      fd.Add("batched_row_ms", Round(row_ms, 4));
      fd.Add("batched_row_ms_from", batched_from);
      fd.Add("server_saved_ms_estimate", Round(server_ms, 1));
    }
    if (plan_ms > 0) fd.Add("planning_saved_ms_estimate", Round(plan_ms, 1));
    fd.Add("time_saved_ms_estimate", Round(round_trips_ms + std::max(server_ms, 0.0) + plan_ms, 1));
    c.AddWindow(fd);
    // The batched statement: the key's `$n` becomes `ANY($n)`, an array of keys.
    std::string batched;
    const std::string token = "$" + std::to_string(key->param);
    if (key->value_kind == ValueKind::kParameter && key->value_location >= 0 &&
        s.counters.query.compare(static_cast<size_t>(key->value_location), token.size(), token) ==
            0) {
      batched = s.counters.query;
      batched.replace(static_cast<size_t>(key->value_location), token.size(), "ANY(" + token + ")");
    }
    fd.suggestion =
        "fetch the keys of one " + std::string(busiest->tables == s.tables ? "batch" : "list") +
        " at once with an array parameter" +
        (batched.empty() ? std::string(" (WHERE ") + key->column + " = ANY($1))" : ": " + batched) +
        " and match rows to keys by " + key->column + " (select it if it is not " +
        "in the list), or use the ORM's eager loading; about " + Num(Round(calls_after, 0)) +
        " calls instead of " + Num(s.counters.calls) + " (estimate)";
    out->push_back(std::move(fd));
  }
}

// ------------------------------------------------------ single-row-insert

void SingleRowInsert(const Call& c, std::vector<Finding>* out) {
  const double min_rate = c.rule.Threshold("min_calls_per_second");
  const double max_rows = c.rule.Threshold("max_rows_per_call");
  const double batch = std::max(2.0, c.rule.Threshold("batch_rows"));
  const double rt_ms = c.rule.Threshold("round_trip_ms");
  for (const auto& s : c.in.statements) {
    const QueryFacts& f = s.facts;
    if (!s.parsed || f.kind != StatementKind::kInsert || s.tables.empty()) continue;
    // INSERT ... VALUES (or a SELECT of constants): one target, nothing read.
    if (f.relations.size() != 1 || !f.predicates.empty() || !f.joins.empty() ||
        !f.subqueries.empty())
      continue;
    const double rows = s.counters.RowsPerCall();
    if (rows <= 0 || rows > max_rows) continue;
    const double rate = c.PerSecond(s.counters.calls);
    if (rate < min_rate) continue;
    const std::string& table = s.tables.front();
    const double calls_after = std::ceil(s.counters.rows / batch);
    const double calls_saved = std::max(0.0, s.counters.calls - calls_after);
    const double round_trips_ms = calls_saved * rt_ms;
    std::string multi_from;
    const double row_ms = BatchedRowMs(c.in, s, table, StatementKind::kInsert, &multi_from);
    Finding fd = c.Make(s, "`" + s.counters.query + "` inserted " + Num(Round(rows, 2)) +
                               " row per call, " + Num(Round(rate, 1)) + " calls a second over " +
                               Duration(c.Window()) + " into " + table);
    fd.Add("calls_per_second", Round(rate, 2));
    fd.Add("batch_rows", batch);
    fd.Add("batched_calls_estimate", calls_after);
    fd.Add("calls_saved_estimate", calls_saved);
    fd.Add("round_trip_ms_assumed", rt_ms);
    fd.Add("round_trips_saved_ms_estimate", Round(round_trips_ms, 1));
    double server_ms = 0;
    if (row_ms >= 0) {
      // The multi-row statement's per-row time is the row's own work; the
      // rest of a single-row call is overhead a batch pays once.
      fd.Add("multi_row_ms_per_row", Round(row_ms, 4));
      fd.Add("multi_row_from", multi_from);
      fd.Add("overhead_per_call_ms", Round(std::max(0.0, s.counters.mean_exec_ms - row_ms), 4));
      server_ms = std::max(0.0, s.counters.total_exec_ms - s.counters.rows * row_ms);
      fd.Add("server_saved_ms_estimate", Round(server_ms, 1));
    }
    fd.Add("time_saved_ms_estimate", Round(round_trips_ms + server_ms, 1));
    c.AddWindow(fd);
    fd.suggestion = "buffer rows and send " + Num(batch) +
                    " per statement: INSERT ... VALUES (...), (...), ..., INSERT ... SELECT * "
                    "FROM unnest($1::<type>[], ...), or COPY " +
                    table + " FROM STDIN; about " + Num(calls_after) + " calls instead of " +
                    Num(s.counters.calls) + " (estimate; the commit per autocommit statement, " +
                    "not in pg_stat_statements' time, is saved too)";
    out->push_back(std::move(fd));
  }
}

// ------------------------------------------------- deep-offset-pagination

void DeepOffset(const Call& c, std::vector<Finding>* out) {
  const double min_calls = c.rule.Threshold("min_calls");
  const double min_bpr = c.rule.Threshold("min_buffers_per_row");
  const double max_offset = c.rule.Threshold("max_offset");
  for (const auto& s : c.in.statements) {
    const QueryFacts& f = s.facts;
    if (!s.parsed || f.kind != StatementKind::kSelect) continue;
    if (!f.has_offset) continue;
    if (s.counters.calls < min_calls) continue;
    const double bpc = s.counters.BuffersPerCall();
    const double bpr = bpc / std::max(s.counters.RowsPerCall(), 1.0);
    const bool deep_constant = f.offset && static_cast<double>(*f.offset) >= max_offset;
    if (!deep_constant && bpr < min_bpr) continue;
    Finding fd =
        c.Make(s, "`" + s.counters.query + "` pages by OFFSET and reads " + Num(Round(bpc, 0)) +
                      " buffers per call to return " + Num(Round(s.counters.RowsPerCall(), 1)) +
                      " rows (" + Num(Round(bpr, 1)) + " per row): the rows before the page are " +
                      "read and thrown away");
    if (f.offset) fd.Add("offset", *f.offset);
    fd.Add("buffers_per_call", Round(bpc, 1));
    fd.Add("buffers_per_row", Round(bpr, 1));
    c.AddWindow(fd);
    std::string keys;
    for (const SortKey& k : f.order_by)
      if (!k.column.empty()) keys += (keys.empty() ? "" : ", ") + k.column;
    fd.suggestion = keys.empty()
                        ? "page by keyset: WHERE (sort key) > ($last) ORDER BY sort key LIMIT n, "
                          "with an index on the sort key"
                        : "page by keyset: WHERE (" + keys + ") > ($last) ORDER BY " + keys +
                              " LIMIT n, passing the last row's " + keys +
                              " of the previous page (an index on (" + keys + ") serves it)";
    out->push_back(std::move(fd));
  }
}

// -------------------------------------------------- frequent-random-order

void FrequentRandomOrder(const Call& c, std::vector<Finding>* out) {
  const double min_calls = c.rule.Threshold("min_calls");
  for (const auto& s : c.in.statements) {
    const QueryFacts& f = s.facts;
    if (!s.parsed || f.kind != StatementKind::kSelect || s.counters.calls < min_calls) continue;
    bool random = false;
    for (const SortKey& k : f.order_by) random |= Lower(k.expression) == "random()";
    if (!random) continue;
    Finding fd = c.Make(s, "`" + s.counters.query + "` sorted its rows by random() " +
                               Num(s.counters.calls) + " times (" + Ms(s.counters.total_exec_ms) +
                               " in all) to return " + Num(Round(s.counters.RowsPerCall(), 1)) +
                               " rows per call");
    fd.Add("calls_per_second", Round(c.PerSecond(s.counters.calls), 2));
    fd.Add("buffers_per_call", Round(s.counters.BuffersPerCall(), 1));
    if (!s.tables.empty())
      if (const TableInfo* t = c.in.catalog->FindTable(s.tables.front()))
        fd.Add("table_rows", Round(t->Rows(), 0));
    c.AddWindow(fd);
    fd.suggestion =
        "sample instead: TABLESAMPLE SYSTEM_ROWS(n) (tsm_system_rows) or BERNOULLI(p), or pick "
        "random keys in the key range and fetch them through the primary key";
    out->push_back(std::move(fd));
  }
}

// ---------------------------------------------------------- cacheable-read

void CacheableRead(const Call& c, std::vector<Finding>* out) {
  const double min_rate = c.rule.Threshold("min_calls_per_second");
  const double min_reads_per_write = c.rule.Threshold("min_reads_per_write");
  for (const auto& s : c.in.statements) {
    const QueryFacts& f = s.facts;
    if (!s.parsed || f.kind != StatementKind::kSelect || f.for_update || s.params > 0) continue;
    if (s.tables.empty() || CallsVolatile(s.counters.query)) continue;
    const double rate = c.PerSecond(s.counters.calls);
    if (rate < min_rate) continue;
    // Row changes of every table it reads; an unknown table: not judged.
    double writes = 0;
    bool known = true;
    for (const auto& name : s.tables) {
      const TableInfo* t = c.in.catalog->FindTable(name);
      if (!t) {
        known = false;
        break;
      }
      writes += static_cast<double>(t->n_tup_ins + t->n_tup_upd + t->n_tup_del);
    }
    if (!known) continue;
    // All of them counted as inside the window: the ratio errs towards quiet.
    const double reads_per_write = writes > 0 ? s.counters.calls / writes : -1;
    if (writes > 0 && reads_per_write < min_reads_per_write) continue;
    std::string tables;
    for (const auto& t : s.tables) tables += (tables.empty() ? "" : ", ") + t;
    const bool derived = !f.joins.empty() || f.has_aggregate || !f.group_by.empty() ||
                         f.relations.size() > 1 || !f.subqueries.empty();
    Finding fd = c.Make(
        s, "`" + s.counters.query + "` ran " + Num(Round(rate, 1)) + " times a second with the " +
               "same text while " + tables + " took " + Num(writes) + " row change(s)" +
               (writes > 0 ? " (" + Num(Round(reads_per_write, 0)) + " reads per change)" : "") +
               ": most calls recompute the previous call's result");
    fd.Add("calls_per_second", Round(rate, 2));
    fd.Add("tables", tables);
    fd.Add("table_row_changes", Round(writes, 0));
    if (writes > 0) fd.Add("reads_per_write", Round(reads_per_write, 0));
    c.AddWindow(fd);
    fd.suggestion = derived ? "cache the result in the application, or read it from a "
                              "materialized view of this query refreshed when " +
                                  tables + " change"
                            : "cache the result in the application and invalidate it when " +
                                  tables + " change";
    out->push_back(std::move(fd));
  }
}

// ------------------------------------------------------- generic-plan-trap
//
// PostgreSQL plans a prepared statement with its values five times, then
// keeps one generic plan when its cost is below the average of the custom
// plans so far (plancache.c, choose_custom_plan). Calls dominated by one value
// make that average about that value's custom cost, so the generic plan is
// kept whenever it costs no more than the dearest value set's custom plan
// (times max_generic_to_average). The trap is a value whose own plan has
// another shape and is min_cost_ratio times cheaper: those calls then run a
// plan made for the others. Only a shape difference counts: the same plan
// costed at two selectivities is not a different plan.
//
// The common-value side is the mirror image: most calls carry rare values,
// the generic plan (made for the average selectivity, an index scan, say) is
// as cheap as their custom plans and is kept, and the common value, whose own
// plan reads the table another way, runs it. Its cost there is not in any
// EXPLAIN of the generic plan; AdvisePatterns asks for it (the generic shape
// costed with the common value, patterns_plans.cc), and the rule fires when
// it is min_common_cost_ratio times the common value's own plan.

// Each side's finding for one statement, if any.
void RareValueTrap(const Call& c, const StatementOutcome& st, const PlanShapes& shapes,
                   std::vector<Finding>* out);
// What both sides of the generic-plan trap report first: the statement, its
// calls, which side, and the generic plan with its cost.
Finding TrapFinding(const Call& c, const StatementOutcome& st, const PlanShapes& shapes,
                    const char* side) {
  Finding fd;
  fd.rule = c.rule.id;
  fd.severity = c.rule.severity;
  fd.location.file = st.source;
  fd.Add("query", st.sql);
  fd.Add("calls", Round(st.calls, 0));
  fd.Add("side", std::string(side));
  fd.Add("generic_plan", shapes.generic);
  fd.Add("generic_cost", Round(st.generic_cost_before, 2));
  return fd;
}

void CommonValueTrap(const Call& c, const StatementOutcome& st, const PlanShapes& shapes,
                     std::vector<Finding>* out);

void GenericPlanTrap(const Call& c, std::vector<Finding>* out) {
  if (!c.in.advice) return;
  for (const StatementOutcome& st : c.in.advice->statements) {
    auto sh = c.in.shapes.find(st.index);
    if (sh == c.in.shapes.end() || sh->second.custom.size() != st.value_sets.size()) continue;
    if (TrapCandidate(st, c.rule) >= 0) RareValueTrap(c, st, sh->second, out);
    if (!CommonTrapCandidates(st, c.rule).empty()) CommonValueTrap(c, st, sh->second, out);
  }
}

void CommonValueTrap(const Call& c, const StatementOutcome& st, const PlanShapes& shapes,
                     std::vector<Finding>* out) {
  // The worst common value: the highest generic-at-value to own-plan ratio.
  const double min_ratio = c.rule.Threshold("min_common_cost_ratio");
  size_t at = 0;
  double worst = 0;
  for (size_t i : CommonTrapCandidates(st, c.rule)) {
    if (i >= shapes.generic_cost_at.size() || shapes.generic_cost_at[i] < 0) continue;
    if (shapes.custom[i] == shapes.generic) continue;  // the same plan: no trap
    const double ratio = shapes.generic_cost_at[i] / std::max(st.value_sets[i].cost_before, 1e-9);
    if (ratio >= min_ratio && ratio > worst) {
      worst = ratio;
      at = i;
    }
  }
  if (worst <= 0) return;
  const ValueSetOutcome& v = st.value_sets[at];
  const double generic = st.generic_cost_before;
  Finding fd = TrapFinding(c, st, shapes, "common-value");
  fd.message = "`" + st.sql + "`: once prepared, PostgreSQL can keep its generic plan (" +
               shapes.generic + ", cost " + Num(Round(generic, 0)) +
               ", made for an average value and as cheap as the other values' own plans); for " +
               v.label + " that plan costs " + Num(Round(shapes.generic_cost_at[at], 0)) +
               " where its own plan (" + shapes.custom[at] + ") costs " +
               Num(Round(v.cost_before, 0)) + " (" + Num(Round(worst, 1)) +
               "x by the planner's estimate)";
  fd.Add("common_value_set", v.label);
  fd.Add("common_value_share", Round(v.weight, 3));
  fd.Add("common_custom_plan", shapes.custom[at]);
  fd.Add("common_custom_cost", Round(v.cost_before, 2));
  fd.Add("generic_cost_at_common_value", Round(shapes.generic_cost_at[at], 2));
  fd.Add("cost_ratio_estimate", Round(worst, 1));
  fd.Add("costing", st.costing);
  fd.suggestion =
      "SET plan_cache_mode = force_custom_plan for the sessions (or the function or role) "
      "that run it, or send the common value as a literal (a statement of its own) so its "
      "plan is its own";
  out->push_back(std::move(fd));
}

void RareValueTrap(const Call& c, const StatementOutcome& st, const PlanShapes& shapes,
                   std::vector<Finding>* out) {
  // Among the sets cheap enough, the cheapest whose plan differs.
  const double generic = st.generic_cost_before;
  const ValueSetOutcome* trapped = nullptr;
  const ValueSetOutcome* dearest = nullptr;
  size_t at = 0;
  for (size_t i = 0; i < st.value_sets.size(); ++i) {
    const auto& v = st.value_sets[i];
    if (!dearest || v.cost_before > dearest->cost_before) dearest = &v;
    if (shapes.custom[i] == shapes.generic) continue;
    if (generic < std::max(v.cost_before, 1e-9) * c.rule.Threshold("min_cost_ratio")) continue;
    if (!trapped || v.cost_before < trapped->cost_before) {
      trapped = &v;
      at = i;
    }
  }
  if (!trapped) return;
  const double ratio = generic / std::max(trapped->cost_before, 1e-9);
  Finding fd = TrapFinding(c, st, shapes, "rare-value");
  fd.message = "`" + st.sql + "`: once prepared, PostgreSQL can keep its generic plan (" +
               shapes.generic + ", cost " + Num(Round(generic, 0)) +
               ", not above the custom plan of " + dearest->label +
               ", so kept when most calls carry that value); for " + trapped->label +
               " the custom plan is " + shapes.custom[at] + " at cost " +
               Num(Round(trapped->cost_before, 0)) + " (" + Num(Round(ratio, 0)) +
               "x cheaper by the planner's estimate)";
  fd.Add("dearest_value_set", dearest->label);
  fd.Add("dearest_custom_cost", Round(dearest->cost_before, 2));
  fd.Add("trapped_value_set", trapped->label);
  fd.Add("trapped_custom_plan", shapes.custom[at]);
  fd.Add("trapped_custom_cost", Round(trapped->cost_before, 2));
  fd.Add("cost_ratio_estimate", Round(ratio, 1));
  fd.Add("costing", st.costing);
  fd.suggestion =
      "SET plan_cache_mode = force_custom_plan for the sessions (or the function or role) "
      "that run it, or send the rare value as a literal so its plan is its own";
  out->push_back(std::move(fd));
}

}  // namespace

const std::vector<std::pair<const char*, Handler>>& Handlers() {
  static const std::vector<std::pair<const char*, Handler>> kHandlers = {
      {"n-plus-one", NPlusOne},
      {"single-row-insert", SingleRowInsert},
      {"deep-offset-pagination", DeepOffset},
      {"frequent-random-order", FrequentRandomOrder},
      {"cacheable-read", CacheableRead},
      {"generic-plan-trap", GenericPlanTrap},
  };
  return kHandlers;
}

}  // namespace pgvise::patterns_detail
