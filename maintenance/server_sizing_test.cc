// SizeServerSettings against pgtune. Expected values computed by hand from
// le0pard/pgtune src/features/configuration/configurationSlice.js (commit
// 7caef27, 2026-07-30) for dbVersion 15, Linux, database size "mid_ram" and
// pgtune's default connection count for the workload (so every figure is
// what pgtune.leopard.in.ua prints for the same form). All arithmetic in kB,
// floor as pgtune does; 1 GB = 1,048,576 kB.
#include <gtest/gtest.h>

#include <map>

#include "maintenance/server_sizing.h"

namespace pgvise {
namespace {

struct SizingCase {
  const char* label;
  int64_t memory_gb;
  int cpus;
  const char* storage;
  const char* workload;
  std::map<std::string, std::string> expected;  // name -> ALTER SYSTEM text
  std::vector<std::string> absent;              // settings pgtune leaves out
};

constexpr int64_t kGiB = 1073741824;

const std::vector<SizingCase>& Cases() {
  static const std::vector<SizingCase> k = {
      // 16 GB = 16,777,216 kB; 4 CPUs; ssd; oltp (300 connections).
      // shared_buffers 16,777,216/4 = 4,194,304 kB = 4GB (>= 2 GB: huge_pages try)
      // effective_cache_size 16,777,216*3/4 = 12,582,912 kB = 12GB
      // maintenance_work_mem 16,777,216/16 = 1,048,576 kB = 1GB (< 2 GB: no autovacuum_work_mem)
      // wal_buffers 3*4,194,304/100 = 125,829 -> capped 16,384 kB = 16MB
      // parallel: workers 4, per gather ceil(4/2) = 2, maintenance min(4, 2) = 2
      // work_mem (16,777,216 - 4,194,304) / ((300 + 4) * 3) = 12,582,912 / 912
      //   = 13,797.05 -> 13797kB (oltp: not divided)
      {"16GB 4cpu ssd oltp",
       16,
       4,
       "ssd",
       "oltp",
       {{"shared_buffers", "4GB"},
        {"huge_pages", "try"},
        {"effective_cache_size", "12GB"},
        {"maintenance_work_mem", "1GB"},
        {"min_wal_size", "2GB"},
        {"max_wal_size", "8GB"},
        {"checkpoint_completion_target", "0.9"},
        {"wal_buffers", "16MB"},
        {"default_statistics_target", "100"},
        {"random_page_cost", "1.1"},
        {"effective_io_concurrency", "200"},
        {"max_worker_processes", "4"},
        {"max_parallel_workers_per_gather", "2"},
        {"max_parallel_workers", "4"},
        {"max_parallel_maintenance_workers", "2"},
        {"work_mem", "13797kB"}},
       {"autovacuum_work_mem", "autovacuum_max_workers"}},
      // 64 GB = 67,108,864 kB; 16 CPUs; hdd; dw (40 connections).
      // shared_buffers 16,777,216 kB = 16GB; effective_cache_size 50,331,648 kB = 48GB
      // maintenance_work_mem 67,108,864/8 = 8,388,608 kB = 8 GB, the cap -> 8GB;
      //   >= 2 GB -> autovacuum_work_mem 2GB
      // wal 4GB / 16GB; default_statistics_target 500; random_page_cost 4 (hdd);
      // effective_io_concurrency 2 (hdd)
      // parallel: workers 16, per gather ceil(16/2) = 8 (dw: no cap of 4),
      //   maintenance min(4, 8) = 4; autovacuum_max_workers 4 (16..31 CPUs)
      // work_mem (67,108,864 - 16,777,216) / ((40 + 16) * 3) = 50,331,648 / 168
      //   = 299,593.14; dw / 2 = 149,796.57 -> 149796kB (149,796 = 146*1024 + 292)
      {"64GB 16cpu hdd dw",
       64,
       16,
       "hdd",
       "dw",
       {{"shared_buffers", "16GB"},
        {"huge_pages", "try"},
        {"effective_cache_size", "48GB"},
        {"maintenance_work_mem", "8GB"},
        {"autovacuum_work_mem", "2GB"},
        {"min_wal_size", "4GB"},
        {"max_wal_size", "16GB"},
        {"wal_buffers", "16MB"},
        {"default_statistics_target", "500"},
        {"random_page_cost", "4"},
        {"effective_io_concurrency", "2"},
        {"max_worker_processes", "16"},
        {"max_parallel_workers_per_gather", "8"},
        {"max_parallel_workers", "16"},
        {"max_parallel_maintenance_workers", "4"},
        {"work_mem", "149796kB"},
        {"autovacuum_max_workers", "4"}},
       {}},
      // 2 GB = 2,097,152 kB; 2 CPUs; san; web (200 connections).
      // shared_buffers 524,288 kB = 512MB (< 2 GB: huge_pages off)
      // effective_cache_size 1,572,864 kB = 1536MB; maintenance_work_mem 131,072 kB = 128MB
      // wal_buffers 3*524,288/100 = 15,728 kB: between 14 MB (14,336) and 16 MB -> 16MB
      // random_page_cost 1.1 (san); effective_io_concurrency 300 (san)
      // under 4 CPUs: no parallel settings; work_mem counts 8 default workers:
      // (2,097,152 - 524,288) / ((200 + 8) * 3) = 1,572,864 / 624 = 2,520.6
      //   -> 2520 kB < 4 MB floor -> 4MB
      {"2GB 2cpu san web",
       2,
       2,
       "san",
       "web",
       {{"shared_buffers", "512MB"},
        {"huge_pages", "off"},
        {"effective_cache_size", "1536MB"},
        {"maintenance_work_mem", "128MB"},
        {"min_wal_size", "1GB"},
        {"max_wal_size", "4GB"},
        {"wal_buffers", "16MB"},
        {"random_page_cost", "1.1"},
        {"effective_io_concurrency", "300"},
        {"work_mem", "4MB"}},
       {"max_worker_processes", "max_parallel_workers_per_gather", "max_parallel_workers",
        "max_parallel_maintenance_workers", "autovacuum_work_mem", "autovacuum_max_workers"}},
      // 8 GB = 8,388,608 kB; 8 CPUs; ssd; desktop (20 connections).
      // shared_buffers 8,388,608/16 = 524,288 kB = 512MB; effective_cache_size /4 = 2GB
      // maintenance_work_mem /16 = 524,288 kB = 512MB; wal 100MB / 2GB
      // wal_buffers 15,728 -> 16MB; parallel 8 / ceil(8/2) = 4 / 8 / 4
      // work_mem (8,388,608 - 524,288) / ((20 + 8) * 3) = 7,864,320 / 84 = 93,622.86;
      //   desktop / 6 = 15,603.8 -> 15603kB
      {"8GB 8cpu ssd desktop",
       8,
       8,
       "ssd",
       "desktop",
       {{"shared_buffers", "512MB"},
        {"huge_pages", "off"},
        {"effective_cache_size", "2GB"},
        {"maintenance_work_mem", "512MB"},
        {"min_wal_size", "100MB"},
        {"max_wal_size", "2GB"},
        {"wal_buffers", "16MB"},
        {"max_parallel_workers_per_gather", "4"},
        {"max_parallel_maintenance_workers", "4"},
        {"work_mem", "15603kB"}},
       {"autovacuum_work_mem"}},
      // 32 GB = 33,554,432 kB; 12 CPUs; ssd; mixed (100 connections).
      // shared_buffers 8,388,608 kB = 8GB; effective_cache_size 25,165,824 kB = 24GB
      // maintenance_work_mem 2,097,152 kB = 2GB (>= 2 GB -> autovacuum_work_mem 2GB)
      // parallel: per gather ceil(12/2) = 6 -> capped 4 (not dw); maintenance 4
      // work_mem (33,554,432 - 8,388,608) / ((100 + 12) * 3) = 25,165,824 / 336
      //   = 74,898.29; mixed / 2 = 37,449.14 -> 37449kB
      {"32GB 12cpu ssd mixed",
       32,
       12,
       "ssd",
       "mixed",
       {{"shared_buffers", "8GB"},
        {"effective_cache_size", "24GB"},
        {"maintenance_work_mem", "2GB"},
        {"autovacuum_work_mem", "2GB"},
        {"min_wal_size", "1GB"},
        {"max_wal_size", "4GB"},
        {"random_page_cost", "1.1"},
        {"max_worker_processes", "12"},
        {"max_parallel_workers_per_gather", "4"},
        {"work_mem", "37449kB"}},
       {"autovacuum_max_workers"}},
      // 16 GB; 8 CPUs; ssd; dw (40 connections): random_page_cost stays 4 on
      // SSD for a warehouse; maintenance_work_mem 16,777,216/8 = 2,097,152 kB
      // = 2GB -> autovacuum_work_mem 2GB; per gather ceil(8/2) = 4;
      // work_mem (16,777,216 - 4,194,304) / ((40 + 8) * 3) = 12,582,912 / 144
      //   = 87,381.33; / 2 = 43,690.67 -> 43690kB; 40 cpus would give 5
      //   autovacuum workers, 8 none.
      {"16GB 8cpu ssd dw",
       16,
       8,
       "ssd",
       "dw",
       {{"random_page_cost", "4"},
        {"effective_io_concurrency", "200"},
        {"maintenance_work_mem", "2GB"},
        {"autovacuum_work_mem", "2GB"},
        {"max_parallel_workers_per_gather", "4"},
        {"default_statistics_target", "500"},
        {"work_mem", "43690kB"}},
       {"autovacuum_max_workers"}},
  };
  return k;
}

TEST(ServerSizing, MatchesPgtuneForPostgres15) {
  for (const SizingCase& c : Cases()) {
    SizingInput in;
    in.memory_bytes = c.memory_gb * kGiB;
    in.cpus = c.cpus;
    in.storage = c.storage;
    in.workload = c.workload;
    in.max_connections = PgtuneDefaultConnections(c.workload);
    std::map<std::string, std::string> got;
    for (const SizedSetting& s : SizeServerSettings(in)) got[s.name] = s.text;
    for (const auto& [name, want] : c.expected) {
      ASSERT_TRUE(got.count(name)) << c.label << ": " << name << " missing";
      EXPECT_EQ(got[name], want) << c.label << ": " << name;
    }
    for (const auto& name : c.absent) EXPECT_FALSE(got.count(name)) << c.label << ": " << name;
  }
}

// 40 CPUs: autovacuum_max_workers 5 (32 and more); olap is dw.
TEST(ServerSizing, ManyCpusAndOlapAlias) {
  SizingInput in;
  in.memory_bytes = 16 * kGiB;
  in.cpus = 40;
  in.workload = "olap";
  in.max_connections = 40;
  std::map<std::string, std::string> got;
  for (const SizedSetting& s : SizeServerSettings(in)) got[s.name] = s.text;
  EXPECT_EQ(got["autovacuum_max_workers"], "5");
  EXPECT_EQ(got["max_parallel_workers_per_gather"], "20");  // dw: ceil(40/2), no cap
  EXPECT_EQ(got["default_statistics_target"], "500");
  // (16,777,216 - 4,194,304) / ((40 + 40) * 3) = 12,582,912 / 240 = 52,428.8;
  // / 2 = 26,214.4 -> 26214kB
  EXPECT_EQ(got["work_mem"], "26214kB");
}

TEST(ServerSizing, FormatsLikePgtune) {
  EXPECT_EQ(FormatKb(1048576), "1GB");
  EXPECT_EQ(FormatKb(1572864), "1536MB");
  EXPECT_EQ(FormatKb(13797), "13797kB");
  EXPECT_EQ(FormatKb(32), "32kB");
}

TEST(ServerSizing, NothingWithoutMemory) { EXPECT_TRUE(SizeServerSettings({}).empty()); }

}  // namespace
}  // namespace pgvise
