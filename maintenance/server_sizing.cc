// PGTune's sizing, re-derived from le0pard/pgtune
// src/features/configuration/configurationSlice.js (read at commit 7caef27,
// 2026-07-30) for dbVersion 15, osType linux, the default "database size
// relative to RAM" (mid_ram). Everything is computed in kB with floor, as
// pgtune does, so the figures match its output to the kB.
//
//   shared_buffers        mem/4 (desktop mem/16)
//   huge_pages            'try' when shared_buffers >= 2 GB, else 'off'
//   effective_cache_size  mem*3/4 (desktop mem/4)
//   maintenance_work_mem  mem/16 (dw mem/8), at most 8 GB
//   autovacuum_work_mem   2 GB when maintenance_work_mem >= 2 GB (so 3-5
//                         workers cannot each take 8 GB)
//   min/max_wal_size      web 1/4 GB, oltp 2/8 GB, dw 4/16 GB,
//                         desktop 100 MB/2 GB, mixed 1/4 GB
//   checkpoint_completion_target 0.9
//   wal_buffers           3% of shared_buffers, at most 16 MB, rounded up to
//                         16 MB above 14 MB, at least 32 kB
//   default_statistics_target 500 dw, else 100
//   random_page_cost      4 on hdd, 4 for dw (an SSD warehouse that does not
//                         fit in RAM should keep preferring sequential scans),
//                         else 1.1
//   effective_io_concurrency hdd 2, ssd 200, san 300, nvme 1000
//   parallel (>= 4 CPUs only)
//                         max_worker_processes = max_parallel_workers = cpus;
//                         max_parallel_workers_per_gather ceil(cpus/2), at
//                         most 4 except dw; max_parallel_maintenance_workers
//                         ceil(cpus/2), at most 4
//   work_mem              (mem - shared_buffers) /
//                         ((max_connections + workers) * 3), workers = cpus
//                         (>= 4 CPUs) or 8 (the default max_worker_processes);
//                         then web/oltp as is, dw/mixed / 2, desktop / 6;
//                         at least 4 MB
//   autovacuum_max_workers 4 from 16 CPUs, 5 from 32 (else left alone)
//
// Worked example (the first row of the unit test): 16 GB, 4 CPUs, ssd, oltp,
// 300 connections. mem = 16,777,216 kB; shared_buffers 4,194,304 kB = 4GB;
// work_mem = (16,777,216 - 4,194,304) / ((300 + 4) * 3) = 12,582,912 / 912 =
// 13,797.05 -> 13797kB.
//
// Where pgvise departs from pgtune, on purpose:
//   - max_connections is the server's current value, not pgtune's
//     per-workload default (web 200, oltp 300, ...): work_mem must cover the
//     connections the server actually admits. max_connections itself is not
//     sized here; the rule gives pooler advice above a threshold instead.
//   - max_worker_processes is never lowered (rules_settings.cc): pgtune
//     sizes it for parallel query only, but logical replication workers and
//     extensions' background workers come from the same pool.
//   - huge_pages is only ever recommended as 'try' (from 'off'): pgtune's
//     'off' below 2 GB gains nothing over the default 'try', which falls back
//     silently when no huge pages are reserved (the rule skips it).
//   - desktop's wal_level = minimal / max_wal_senders = 0 are not
//     recommended: on a running server they break replicas and PITR, which a
//     health check must not switch off as a side effect of sizing.
//   - jit = off (web/oltp/mixed) and wal_compression = lz4 are not sized:
//     the first is a query-shape decision (the explain and advise commands
//     see the plans), the second needs a server built --with-lz4.
//   - autovacuum_vacuum_cost_limit (ssd/san 2000, hdd 400) is pgvise's own
//     addition (rules_settings.cc), not pgtune's.
//   - memory is whatever --memory says, floored to kB; pgtune takes whole
//     MB/GB/TB.
#include "maintenance/server_sizing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pgvise {

namespace {

constexpr int64_t kMb = 1024;  // in kB
constexpr int64_t kGb = 1024 * 1024;

std::string Plain(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

SizedSetting Mem(const std::string& name, int64_t kb, const std::string& why) {
  return {name, static_cast<double>(kb), true, FormatKb(kb), why};
}

SizedSetting Num(const std::string& name, double v, const std::string& why) {
  return {name, v, false, Plain(v), why};
}

// JavaScript's Math.floor on the double pgtune computes.
int64_t Floor(double v) { return static_cast<int64_t>(std::floor(v)); }

}  // namespace

std::string CanonicalWorkload(const std::string& w) {
  if (w == "olap") return "dw";
  if (w == "web" || w == "oltp" || w == "dw" || w == "desktop" || w == "mixed") return w;
  return "mixed";
}

int PgtuneDefaultConnections(const std::string& workload) {
  std::string w = CanonicalWorkload(workload);
  if (w == "web") return 200;
  if (w == "oltp") return 300;
  if (w == "dw") return 40;
  if (w == "desktop") return 20;
  return 100;
}

std::string FormatKb(int64_t kb) {
  if (kb != 0 && kb % kGb == 0) return std::to_string(kb / kGb) + "GB";
  if (kb != 0 && kb % kMb == 0) return std::to_string(kb / kMb) + "MB";
  return std::to_string(kb) + "kB";
}

std::vector<SizedSetting> SizeServerSettings(const SizingInput& in) {
  std::vector<SizedSetting> out;
  // Without the machine's memory nothing here can be sized.
  if (in.memory_bytes <= 0) return out;
  const std::string w = CanonicalWorkload(in.workload);
  const bool dw = w == "dw", desktop = w == "desktop";
  const double mem = std::floor(static_cast<double>(in.memory_bytes) / 1024);  // kB

  int64_t sb = Floor(mem / (desktop ? 16 : 4));
  out.push_back(Mem("shared_buffers", sb, desktop ? "memory / 16 (desktop)" : "memory / 4"));
  out.push_back({"huge_pages", 0, false, sb >= 2 * kGb ? "try" : "off",
                 "shared_buffers >= 2GB: huge pages cut page-table overhead"});
  out.push_back(Mem("effective_cache_size", Floor(desktop ? mem / 4 : mem * 3 / 4),
                    desktop ? "memory / 4 (desktop)" : "memory * 3/4"));
  int64_t mwm = Floor(mem / (dw ? 8 : 16));
  mwm = std::min(mwm, 8 * kGb);
  out.push_back(Mem("maintenance_work_mem", mwm,
                    std::string(dw ? "memory / 8 (dw)" : "memory / 16") + ", at most 8GB"));
  if (mwm >= 2 * kGb)
    out.push_back(Mem("autovacuum_work_mem", 2 * kGb,
                      "maintenance_work_mem >= 2GB: cap what each autovacuum worker may take"));

  int64_t min_wal = w == "oltp" ? 2 * kGb : dw ? 4 * kGb : desktop ? 100 * kMb : 1 * kGb;
  int64_t max_wal = w == "oltp" ? 8 * kGb : dw ? 16 * kGb : desktop ? 2 * kGb : 4 * kGb;
  out.push_back(Mem("min_wal_size", min_wal, w + " workload"));
  out.push_back(Mem("max_wal_size", max_wal, w + " workload"));
  out.push_back(Num("checkpoint_completion_target", 0.9, "spread checkpoint writes"));

  int64_t wal_buffers = Floor(3.0 * static_cast<double>(sb) / 100);
  wal_buffers = std::min(wal_buffers, 16 * kMb);
  if (wal_buffers > 14 * kMb && wal_buffers < 16 * kMb) wal_buffers = 16 * kMb;
  wal_buffers = std::max<int64_t>(wal_buffers, 32);
  out.push_back(Mem("wal_buffers", wal_buffers, "3% of shared_buffers, at most 16MB"));

  out.push_back(Num("default_statistics_target", dw ? 500 : 100,
                    dw ? "dw: finer histograms" : "the default"));
  const bool hdd = in.storage == "hdd";
  double rpc = hdd || dw ? 4 : 1.1;
  out.push_back(Num("random_page_cost", rpc,
                    hdd  ? "hdd: random reads cost seeks"
                    : dw ? "dw: keep sequential scans for large reads"
                         : in.storage + ": random reads cost about as much as sequential"));
  double eio = hdd ? 2 : in.storage == "san" ? 300 : in.storage == "nvme" ? 1000 : 200;
  out.push_back(Num("effective_io_concurrency", eio, in.storage));

  // pgtune emits no parallel settings under 4 CPUs (or when unknown).
  int work_mem_workers = 8;  // PG 15's default max_worker_processes
  if (in.cpus >= 4) {
    int half = (in.cpus + 1) / 2;
    int per_gather = dw ? half : std::min(half, 4);
    out.push_back(Num("max_worker_processes", in.cpus, "cpus"));
    out.push_back(Num("max_parallel_workers_per_gather", per_gather,
                      dw ? "ceil(cpus / 2)" : "ceil(cpus / 2), at most 4"));
    out.push_back(Num("max_parallel_workers", in.cpus, "cpus"));
    out.push_back(
        Num("max_parallel_maintenance_workers", std::min(half, 4), "ceil(cpus / 2), at most 4"));
    work_mem_workers = in.cpus;
  }

  double per_conn = (mem - static_cast<double>(sb)) /
                    ((static_cast<double>(in.max_connections) + work_mem_workers) * 3);
  double divisor = dw || w == "mixed" ? 2 : desktop ? 6 : 1;
  int64_t work_mem = std::max(Floor(per_conn / divisor), 4 * kMb);
  out.push_back(Mem("work_mem", work_mem,
                    "(memory - shared_buffers) / ((" + std::to_string(in.max_connections) +
                        " connections + " + std::to_string(work_mem_workers) + " workers) * 3)" +
                        (divisor > 1 ? " / " + Plain(divisor) : "") + ", at least 4MB"));

  if (in.cpus >= 16)
    out.push_back(
        Num("autovacuum_max_workers", in.cpus >= 32 ? 5 : 4, "4 from 16 cpus, 5 from 32"));
  return out;
}

}  // namespace pgvise
