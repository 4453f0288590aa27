// catalog/table_dependents: what hangs on one table that the catalog
// snapshot (catalog/catalog.h) does not read — the objects a migration that
// swaps the table for a partitioned one must carry over or refuse: foreign
// keys that reference it, views over it, sequences it owns, identity and
// generated columns, triggers, row security, publications — and the server
// settings partition sizing reads (shared_buffers, max_locks_per_transaction)
// and whether pg_partman is installed.
//
// Where it sits: read by the partition advisor (advisor/partition*.cc) for
// the few tables it recommends partitioning, one query per table, read only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

struct ReferencingForeignKey {
  std::string table;       // schema.table holding the foreign key
  std::string name;        // constraint name
  std::string definition;  // pg_get_constraintdef()
};

struct OwnedSequence {
  std::string column;    // the table's column whose default uses it
  std::string sequence;  // schema-qualified, quoted as needed
};

struct TableDependents {
  std::vector<ReferencingForeignKey> referencing_fks;  // other tables' FKs to this one
  std::vector<std::string> views;                      // views / matviews reading it (schema.name)
  std::vector<OwnedSequence> owned_sequences;          // serial columns (OWNED BY this table)
  std::vector<std::string> identity_columns;           // GENERATED ... AS IDENTITY
  std::vector<std::string> generated_columns;          // GENERATED ALWAYS AS (...) STORED
  std::vector<std::string> triggers;                   // user triggers (not FK internals)
  std::vector<std::string> grants;                     // GRANT statements re-creating its ACL
  bool row_security = false;
  bool in_publication = false;
  std::string owner;
};

// One query. Fails only on a database error.
Status ReadTableDependents(Session& s, const std::string& schema, const std::string& table,
                           TableDependents* out);

struct PartitionSettings {
  int64_t shared_buffers_bytes = 128LL << 20;
  int max_locks_per_transaction = 64;
  int max_connections = 100;
  bool pg_partman = false;         // CREATE EXTENSION pg_partman done in this database
  std::string partman_schema;      // its schema when installed
  bool partman_available = false;  // in pg_available_extensions (installable)
};

Status ReadPartitionSettings(Session& s, PartitionSettings* out);

}  // namespace pgvise
