// The migration: a partitioned table in place of a live one, with no step
// that holds a lock the application waits on for longer than a catalog
// update — and its revert.
//
// Copying a 30 GB table into partitions takes hours and doubles its space;
// instead the existing table becomes the first partition, holding every row
// below a bound B, and new partitions take the rows from B on. ATTACH
// PARTITION must prove that no row of the table is outside the partition's
// bounds: it scans the table under ACCESS EXCLUSIVE unless a validated CHECK
// constraint already implies them. So the script adds that CHECK NOT VALID
// (a catalog update), VALIDATEs it (a scan under SHARE UPDATE EXCLUSIVE:
// reads and writes go on), and ATTACH then skips the scan. Unique
// constraints of a partitioned table must include the key: each one that
// does not gets a twin with the key appended, built CONCURRENTLY on the old
// table first, so ATTACH finds a matching index for every index of the
// parent and builds none under its lock. The names swap in one short
// transaction with lock_timeout: a busy table makes it fail fast and the
// step is re-run, never queueing the application behind it.
//
// Worked example (events, RANGE on ts by 1 day, B = 2026-12-07):
//   1  DO guard: now() < B, or re-run advise        -- no lock
//   2  CREATE TABLE events_partitioned (LIKE events INCLUDING ALL EXCLUDING
//      INDEXES) PARTITION BY RANGE (ts)              -- ACCESS SHARE, instant
//   3  CREATE TABLE events_p2026_12_07 PARTITION OF ... (x premake; pg_partman's names)
//   4  CREATE INDEX ... ON events_partitioned (ts)   -- empty: instant
//   5  ALTER TABLE events ADD CONSTRAINT events_partition_bound
//      CHECK (ts IS NOT NULL AND ts < B) NOT VALID   -- ACCESS EXCLUSIVE, instant
//   6  ALTER TABLE events VALIDATE CONSTRAINT ...    -- SHARE UPDATE EXCLUSIVE, a scan
//   7  CREATE UNIQUE INDEX CONCURRENTLY events_id_ts_key ON events (id, ts)
//      ALTER TABLE events ADD CONSTRAINT ... UNIQUE USING INDEX ...
//      ALTER TABLE events_partitioned ADD PRIMARY KEY (id, ts)
//   8  BEGIN; SET LOCAL lock_timeout; rename events -> events_history;
//      ATTACH it FOR VALUES FROM (MINVALUE) TO (B); rename the parent to
//      events; sequences OWNED BY it; grants; COMMIT  -- milliseconds
//   9  ANALYZE events                                -- the parent: autovacuum never does
#include <algorithm>
#include <cctype>
#include <set>

#include "advisor/partition_internal.h"
#include "core/session.h"

namespace pgvise {

namespace {

// <base><suffix> in at most 63 bytes (NAMEDATALEN - 1). The base is
// shortened, never the suffix, as PostgreSQL's ChooseRelationName does:
// cutting the joined name instead turns every name derived from a 63-byte
// table name into the table's own name. The cut falls between UTF-8
// characters, as pg_mbcliplen's does.
std::string Fit63(const std::string& base, const std::string& suffix) {
  if (base.size() + suffix.size() <= 63) return base + suffix;
  size_t keep = suffix.size() < 63 ? 63 - suffix.size() : 0;
  while (keep > 0 && (static_cast<unsigned char>(base[keep]) & 0xC0) == 0x80) --keep;
  return base.substr(0, keep) + suffix;
}

std::string Q(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

// A partition's name suffix, spelled the way pg_partman 4.x spells it
// (create_parent's datetime_string: YYYY, YYYY_MM, YYYY_MM_DD for days and
// weeks given as '1 week', YYYY_MM_DD_HH24MI for hours; the bound itself for
// integers): "2026-12-07 00:00:00+00" -> "2026_12_07". pg_partman skips a
// child whose name it would give itself, so partitions this script makes
// ahead are the ones its create_parent would premake, not overlapping twins
// (which fail: "partition ... would overlap partition ...").
std::string Suffix(const std::string& literal, const std::string& unit) {
  std::string digits;
  for (char c : literal)
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  if (unit.empty()) return literal;  // an integer bound, as pg_partman names it
  if (digits.size() < 12) digits.resize(12, '0');
  const std::string y = digits.substr(0, 4), mo = digits.substr(4, 2), d = digits.substr(6, 2);
  if (unit == "year") return y;
  if (unit == "month") return y + "_" + mo;
  if (unit == "hour") return y + "_" + mo + "_" + d + "_" + digits.substr(8, 4);
  return y + "_" + mo + "_" + d;
}

// pg_partman's check_name_length: the table name is cut, never the suffix.
std::string ChildName(const std::string& table, const std::string& suffix) {
  return Fit63(table, "_p" + suffix);
}

std::string Lit(const std::string& v, const std::string& type, bool time) {
  return time ? QuoteLiteral(v) + "::" + type : v;
}

bool HasKey(const std::vector<std::string>& cols, const std::string& key) {
  return std::find(cols.begin(), cols.end(), key) != cols.end();
}

std::string ColumnList(const std::vector<std::string>& cols) {
  std::string s;
  for (size_t i = 0; i < cols.size(); ++i) s += (i ? ", " : "") + QuoteIdent(cols[i]);
  return s;
}

}  // namespace

Migration BuildMigration(const MigrationInput& in) {
  Migration m;
  const TableInfo& t = *in.table;
  const std::string& key = in.cand.key;
  const bool time = in.cand.time_key;
  const std::string qt = Q(t.schema, t.name);
  m.partitioned_name = Fit63(t.name, "_partitioned");
  m.history_name = Fit63(t.name, "_history");
  const std::string qp = Q(t.schema, m.partitioned_name);
  const std::string qh = Q(t.schema, m.history_name);
  const std::string bound_name = Fit63(t.name, "_partition_bound");
  const std::string B = Lit(in.history_bound, in.key_type, time);

  // What the change does to the table's definition (said whether or not the
  // script can run as is).
  for (const auto& c : t.constraints) {
    if ((c.type == 'p' || c.type == 'u') && !HasKey(c.columns, key)) {
      std::vector<std::string> cols = c.columns;
      cols.push_back(key);
      m.constraints.push_back(std::string(c.type == 'p' ? "primary key " : "unique constraint ") +
                              c.name + " (" + ColumnList(c.columns) +
                              ") must include the partition key: the partitioned table gets (" +
                              ColumnList(cols) + "); uniqueness of (" + ColumnList(c.columns) +
                              ") alone is then enforced per partition only");
    }
    if (c.type == 'x')
      m.blockers.push_back("exclusion constraint " + c.name +
                           ": must include the key with equality to be kept on a partitioned "
                           "table; not carried by this script");
  }
  for (const auto& fk : in.deps.referencing_fks)
    m.blockers.push_back("foreign key " + fk.name + " on " + fk.table + " references " +
                         t.QualifiedName() + " (" + fk.definition +
                         "): PostgreSQL 12+ allows foreign keys to a partitioned table, but only "
                         "to a unique key that includes the partition key, which this one does "
                         "not; add " +
                         key + " to the referencing table and its key first");
  for (const auto& v : in.deps.views)
    m.blockers.push_back("view " + v + " reads " + t.QualifiedName() +
                         ": after the swap it would still read the old table (now one "
                         "partition); re-create it on the new table in the swap transaction");
  for (const auto& c : in.deps.identity_columns)
    m.blockers.push_back("identity column " + c +
                         ": the new table would get its own identity sequence starting at 1; "
                         "set its START to the old sequence's value, or use pg_partman");
  for (const auto& tg : in.deps.triggers)
    m.blockers.push_back("trigger " + tg +
                         ": CREATE TABLE ... LIKE does not copy triggers; create it on the "
                         "partitioned table before the swap");
  if (in.deps.row_security)
    m.blockers.push_back("row security is enabled: policies are not copied by LIKE");
  if (in.cand.strategy == PartitionStrategy::kList)
    m.blockers.push_back(
        "LIST: the existing rows hold every value, so the old table cannot become one value's "
        "partition; moving rows into per-value partitions is a batched copy (hours on a large "
        "table, twice the space) — review and schedule it, not run as is");
  m.constraints.push_back("indexes become partitioned indexes: each index of " + t.QualifiedName() +
                          " is created on the partitioned table (instantly, while its partitions "
                          "are empty) and the old table's index is attached to it");
  m.constraints.push_back(
      "autovacuum never ANALYZEs a partitioned parent (it has no rows of its own): the script "
      "ends with ANALYZE " +
      t.QualifiedName() +
      ", and it should be repeated after large changes (pgvise maintain says when)");
  if (in.deps.in_publication)
    m.constraints.push_back(
        "the table is published: add the partitioned table to the "
        "publication (publish_via_partition_root = true keeps one name)");
  m.executable = m.blockers.empty();

  std::string s;
  auto step = [&](const std::string& title, const std::string& lock, const std::string& sql) {
    m.steps.push_back({title, lock});
    s += "-- " + std::to_string(m.steps.size()) + ". " + title + " [" + lock + "]\n" + sql + "\n";
  };
  // 1. guard
  {
    std::string cond =
        time ? "now() >= " + B : "(SELECT max(" + QuoteIdent(key) + ") FROM " + qt + ") >= " + B;
    step("guard: the bound B must still be ahead of the data",
         time ? "no lock" : "ACCESS SHARE; max() reads the key's index when there is one",
         "DO $pgvise$ BEGIN IF " + cond +
             " THEN RAISE EXCEPTION 'pgvise: this migration was generated for keys below %; "
             "re-run pgvise advise', " +
             QuoteLiteral(in.history_bound) + "; END IF; END $pgvise$;");
  }
  // 2. the parent
  step("the partitioned table, shaped like " + t.name, "ACCESS SHARE on " + t.name + ", instant",
       "CREATE TABLE " + qp + " (LIKE " + qt +
           " INCLUDING ALL EXCLUDING INDEXES EXCLUDING IDENTITY) PARTITION BY " +
           (in.cand.strategy == PartitionStrategy::kRange ? "RANGE" : "LIST") + " (" +
           QuoteIdent(key) + ");");
  // 3. partitions
  {
    std::string sql;
    if (in.cand.strategy == PartitionStrategy::kRange) {
      for (size_t i = 0; i + 1 < in.future_bounds.size(); ++i)
        sql += "CREATE TABLE " +
               Q(t.schema, ChildName(t.name, Suffix(in.future_bounds[i], in.interval.trunc_unit))) +
               " PARTITION OF " + qp + " FOR VALUES FROM (" +
               Lit(in.future_bounds[i], in.key_type, time) + ") TO (" +
               Lit(in.future_bounds[i + 1], in.key_type, time) + ");\n";
    } else {
      int n = 0;
      for (const auto& v : in.cand.list_values)
        sql += "CREATE TABLE " + Q(t.schema, Fit63(t.name, "_p" + std::to_string(++n))) +
               " PARTITION OF " + qp + " FOR VALUES IN (" + QuoteLiteral(v) + ");\n";
      sql += "CREATE TABLE " + Q(t.schema, Fit63(t.name, "_default")) + " PARTITION OF " + qp +
             " DEFAULT;  -- a value not seen yet must not fail the insert\n";
    }
    if (!sql.empty()) sql.pop_back();
    step(in.cand.strategy == PartitionStrategy::kRange
             ? std::to_string(in.future_bounds.empty() ? 0 : in.future_bounds.size() - 1) +
                   " future partitions of " + in.interval.interval +
                   " from B (no default partition: every key from B on has its partition, and "
                   "an insert beyond the last fails loudly instead of filling a default that "
                   "would have to be scanned when the next partition is added)"
             : "one partition per value, and a DEFAULT for values not seen yet",
         "ACCESS EXCLUSIVE on the new (unused) table, instant", sql);
  }
  if (in.cand.strategy == PartitionStrategy::kList) {
    s += "-- then, in batches off-peak: INSERT INTO " + qp + " SELECT * FROM " + qt +
         " WHERE <a key range> ...; keep the\n-- copy current with a trigger or a final "
         "catch-up, swap the names in one short transaction\n-- with lock_timeout, ANALYZE " +
         qt + ".\n";
    m.sql = s;
    m.revert = "DROP TABLE IF EXISTS " + qp + ";";
    return m;
  }
  // 4. indexes on the parent (empty: instant), matching the old table's so
  // ATTACH attaches them instead of building.
  std::vector<std::string> added_indexes, added_constraints;
  std::vector<std::string> must_exist;  // quoted index names the swap checks first
  {
    std::string sql;
    std::string old_steps;
    for (const auto& ix : t.indexes) {
      if (!ix.valid || ix.definition.empty()) continue;
      const bool constraint = !ix.constraint.empty();
      std::vector<std::string> cols;
      for (const auto& k : ix.keys) cols.push_back(k.column);
      if (ix.unique && !HasKey(cols, key)) {
        // A twin with the key appended, built on the old table first.
        if (ix.HasExpression() || !ix.predicate.empty()) {
          m.blockers.push_back("unique index " + ix.name +
                               " has expressions or a predicate: add the key to it by hand");
          continue;
        }
        std::vector<std::string> with = cols;
        with.push_back(key);
        const std::string twin = Fit63(ix.name, "_" + key + "_key");
        added_indexes.push_back(twin);
        must_exist.push_back(QuoteIdent(twin));
        old_steps += "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS " + QuoteIdent(twin) + " ON " +
                     qt + " (" + ColumnList(with) + ");\n";
        if (constraint) {
          added_constraints.push_back(twin);
          old_steps += "ALTER TABLE " + qt + " ADD CONSTRAINT " + QuoteIdent(twin) +
                       " UNIQUE USING INDEX " + QuoteIdent(twin) + ";\n";
          sql += "ALTER TABLE " + qp + " ADD " +
                 (ix.primary ? std::string("PRIMARY KEY") : std::string("UNIQUE")) + " (" +
                 ColumnList(with) + ");\n";
        } else {
          sql += "CREATE UNIQUE INDEX ON " + qp + " (" + ColumnList(with) + ");\n";
        }
        continue;
      }
      if (constraint) {
        sql += "ALTER TABLE " + qp + " ADD " +
               (ix.primary ? std::string("PRIMARY KEY") : std::string("UNIQUE")) + " (" +
               ColumnList(cols) + ");\n";
        continue;
      }
      // CREATE [UNIQUE] INDEX name ON schema.table USING ... -> on the parent, unnamed.
      const std::string on = " ON " + qt + " ";
      const size_t at = ix.definition.find(on);
      if (at == std::string::npos) continue;
      const std::string head = ix.definition.substr(0, at);
      sql += std::string(head.rfind("CREATE UNIQUE", 0) == 0 ? "CREATE UNIQUE INDEX"
                                                             : "CREATE INDEX") +
             " ON " + qp + " " + ix.definition.substr(at + on.size()) + ";\n";
    }
    // Indexes this run recommends for the table: built here on the old
    // table (CONCURRENTLY, IF NOT EXISTS: the index section may have built
    // them already) so the parent can have them and ATTACH still builds none.
    for (const auto& ddl : in.extra_indexes) {
      const std::string on = " ON " + qt + " ";
      const std::string ine = "IF NOT EXISTS ";
      const size_t at = ddl.find(on), n = ddl.find(ine);
      if (at == std::string::npos || n == std::string::npos || n > at) continue;
      must_exist.push_back(ddl.substr(n + ine.size(), at - n - ine.size()));
      old_steps += ddl + ";\n";
      sql += "CREATE INDEX ON " + qp + " " + ddl.substr(at + on.size()) + ";\n";
    }
    // 5-7 on the old table, then the parent's indexes.
    const ColumnInfo* kc = t.Column(key);
    const bool nullable = kc && !kc->not_null;
    std::string check;
    if (in.cand.strategy == PartitionStrategy::kRange)
      check = QuoteIdent(key) + " IS NOT NULL AND " + QuoteIdent(key) + " < " + B;
    step("CHECK on the old table proving its rows are below B, not yet validated",
         "ACCESS EXCLUSIVE on " + t.name + ", instant (catalog only; fails fast on lock_timeout)",
         "ALTER TABLE " + qt + " ADD CONSTRAINT " + QuoteIdent(bound_name) + " CHECK (" + check +
             ") NOT VALID;");
    step("validate it: one scan of the table while reads and writes go on",
         "SHARE UPDATE EXCLUSIVE on " + t.name + ", for the scan (blocks only DDL and VACUUM)",
         "ALTER TABLE " + qt + " VALIDATE CONSTRAINT " + QuoteIdent(bound_name) + ";");
    if (nullable)
      step(key + " NOT NULL (a partition key column of a primary key must be)",
           "ACCESS EXCLUSIVE on " + t.name + ", instant: the validated CHECK proves it, no scan",
           "ALTER TABLE " + qt + " ALTER COLUMN " + QuoteIdent(key) + " SET NOT NULL;");
    if (!old_steps.empty()) {
      old_steps.pop_back();
      step(
          "indexes built on the old table without blocking writes: unique ones with the key "
          "appended, and the ones this run recommends for it",
          "SHARE UPDATE EXCLUSIVE on " + t.name +
              " while each builds (writes go on); ADD CONSTRAINT USING INDEX: ACCESS EXCLUSIVE, "
              "instant",
          old_steps);
    }
    if (!sql.empty()) {
      sql.pop_back();
      step("the parent's indexes (its partitions are empty: instant); each matches one of " +
               t.name + "'s so ATTACH builds none",
           "SHARE on the new table, instant", sql);
    }
  }
  // 8. the swap
  {
    std::string sql = "BEGIN;\nSET LOCAL lock_timeout = '2s';\n";
    // Every earlier step must have worked, or ATTACH would scan the table
    // (no validated CHECK) or build an index under its lock: check, and
    // end the transaction with nothing changed.
    std::string names;
    for (const auto& n : must_exist)
      names += (names.empty() ? "" : ", ") + QuoteLiteral(QuoteIdent(t.schema) + "." + n);
    sql +=
        "DO $pgvise$ BEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " +
        QuoteLiteral(qt) + "::regclass AND conname = " + QuoteLiteral(bound_name) +
        " AND convalidated) THEN\n"
        "    RAISE EXCEPTION 'pgvise: constraint % is missing or not validated; run the steps "
        "before the swap again', " +
        QuoteLiteral(bound_name) + ";\n  END IF;\n";
    if (!names.empty())
      sql +=
          "  IF (SELECT count(*) FROM pg_index WHERE indisvalid AND indexrelid IN (SELECT "
          "to_regclass(n) FROM unnest(ARRAY[" +
          names + "]) n)) < " + std::to_string(must_exist.size()) +
          " THEN\n    RAISE EXCEPTION 'pgvise: an index built before the swap is missing or "
          "invalid (drop an INVALID one and run the steps before the swap again)';\n  END "
          "IF;\n";
    sql += "END $pgvise$;\n";
    sql += "ALTER TABLE " + qt + " RENAME TO " + QuoteIdent(m.history_name) + ";\n";
    sql += "ALTER TABLE " + qp + " ATTACH PARTITION " + qh + " FOR VALUES FROM (MINVALUE) TO (" +
           B + ");\n";
    sql += "ALTER TABLE " + qp + " RENAME TO " + QuoteIdent(t.name) + ";\n";
    for (const auto& seq : in.deps.owned_sequences)
      sql += "ALTER SEQUENCE " + seq.sequence + " OWNED BY " + qt + "." + QuoteIdent(seq.column) +
             ";\n";
    for (std::string g : in.deps.grants) {
      const size_t at = g.find("%s");
      if (at != std::string::npos) g.replace(at, 2, qt);
      sql += g + ";\n";
    }
    sql += "COMMIT;";
    step(
        "swap: the old table becomes the partition of keys below B, the partitioned table "
        "takes its name",
        "ACCESS EXCLUSIVE on both for milliseconds (ATTACH skips its scan: the CHECK implies "
        "the bound); lock_timeout 2s: if it fails, nothing changed — run this step again",
        sql);
  }
  step("statistics for the parent", "SHARE UPDATE EXCLUSIVE, a sample of every partition",
       "ANALYZE " + qt + ";");
  m.sql = s;

  // Revert: the old table back under its name, with the rows written since.
  {
    std::string r = "BEGIN;\nSET LOCAL lock_timeout = '2s';\n";
    r += "ALTER TABLE " + qt + " DETACH PARTITION " + qh + ";\n";
    r += "ALTER TABLE " + qt + " RENAME TO " + QuoteIdent(m.partitioned_name) + ";\n";
    r += "ALTER TABLE " + qh + " RENAME TO " + QuoteIdent(t.name) + ";\n";
    r += "ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + QuoteIdent(bound_name) + ";\n";
    r += "-- rows written since the migration (ACCESS EXCLUSIVE on the parent while they copy)\n";
    r += "INSERT INTO " + qt + " SELECT * FROM " + qp + ";\n";
    for (const auto& seq : in.deps.owned_sequences)
      r += "ALTER SEQUENCE " + seq.sequence + " OWNED BY " + qt + "." + QuoteIdent(seq.column) +
           ";\n";
    r += "COMMIT;\n";
    r += "DROP TABLE " + qp + ";\n";
    for (const auto& c : added_constraints)
      r += "ALTER TABLE " + qt + " DROP CONSTRAINT IF EXISTS " + QuoteIdent(c) + ";\n";
    for (const auto& i : added_indexes)
      r += "DROP INDEX CONCURRENTLY IF EXISTS " + Q(t.schema, i) + ";\n";
    const ColumnInfo* kc = t.Column(key);
    if (kc && !kc->not_null)
      r += "ALTER TABLE " + qt + " ALTER COLUMN " + QuoteIdent(key) + " DROP NOT NULL;\n";
    m.revert = r;
  }

  if (in.settings.pg_partman && in.cand.strategy == PartitionStrategy::kRange) {
    const std::string ps = QuoteIdent(in.settings.partman_schema);
    // After the swap the table already has partitions: the old table below
    // B, and step 3's from B on. create_parent premakes from
    // p_start_partition (default: premake intervals behind now), so without
    // it its first partitions overlap the old table and the call fails;
    // from B it meets step 3's partitions, which carry the names it would
    // give them (Suffix), and skips them.
    std::string p = "-- pg_partman (" + in.settings.partman_schema +
                    "), after the swap: it takes over making partitions ahead (and dropping "
                    "old ones); it starts at B, the old table's upper bound, and skips the "
                    "partitions step 3 made (same names)\n";
    p += "SELECT " + ps + ".create_parent(p_parent_table => " +
         QuoteLiteral(t.schema + "." + t.name) + ", p_control => " + QuoteLiteral(key) +
         ", p_type => 'native', p_interval => " + QuoteLiteral(in.interval.interval) +
         ", p_premake => " + std::to_string(in.interval.premake) + ", p_start_partition => " +
         QuoteLiteral(in.history_bound) + ");\n";
    if (in.retention_intervals > 0)
      p += "UPDATE " + ps + ".part_config SET retention = " +
           QuoteLiteral(std::to_string(in.retention_intervals) + " " +
                        (in.interval.trunc_unit.empty() ? "" : in.interval.trunc_unit + "s")) +
           ", retention_keep_table = false WHERE parent_table = " +
           QuoteLiteral(t.schema + "." + t.name) + ";\n";
    p += "-- and run " + ps + ".run_maintenance() from cron or pg_partman's background worker";
    m.partman = p;
  }
  return m;
}

}  // namespace pgvise
