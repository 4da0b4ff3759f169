// What one case's run measured (Row, Result) and how kernel_timing reports it: the table per
// case with the targets' verdicts, the banner, and the --json file scripts/gpu_check.sh puts
// beside its report (csrc/cuda/bench/kernel_timing.cu runs the cases).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/apply_tiling.h"
#include "cuda/bench/device_timing.cuh"
#include "cuda/bench/host_plan.h"
#include "cuda/bench/timing_options.h"

namespace eoi::bench {

struct Row {
  const char* name;
  int64_t bytes;
  double ms;
  double floor_ms;  // the write kernel's time for the same bytes; <= 0 for the floors themselves
};

struct Result {
  Case c;
  int64_t rotations = 0, levels = 0;
  eoi::gpu::ApplyTiling tiling{};
  int64_t workspace_slots = 0, workspace_bytes = 0;  // 0 with the tile in shared memory
  std::vector<Row> rows;             // apply, write, memcpy, masks, write, memcpy
  double host_ms[kHostStageCount]{};  // medians
  double host_total_ms = 0, upload_ms = 0, upload_bytes = 0, pipeline_ms = 0;
};

// "<= 3x ok", "<= 0.3 ms MISSED"; empty without a target.
inline std::string verdict(double value, double target, const char* unit) {
  if (target <= 0) return "";
  char text[64];
  std::snprintf(text, sizeof text, "<= %g%s %s", target, unit, value <= target ? "ok" : "MISSED");
  return text;
}

// printf to stdout without trailing blanks (the empty columns of a row).
template <typename... Args>
void line(const char* format, Args... args) {
  char text[512];
  std::snprintf(text, sizeof text, format, args...);
  size_t length = std::strlen(text);
  while (length > 0 && text[length - 1] == ' ') --length;
  std::printf("%.*s\n", static_cast<int>(length), text);
}

inline void print_result(const Result& r, const Options& o) {
  const Case& c = r.c;
  char where[96] = "shared memory";
  if (r.tiling.compact)
    std::snprintf(where, sizeof where, "compact tiles in shared memory (%lld values, %.1f KB)",
                  (long long)r.tiling.compact_values, r.tiling.tile_bytes / 1e3);
  else if (!r.tiling.in_shared)
    std::snprintf(where, sizeof where, "global workspace of %lld slots (%.1f MB)", (long long)r.workspace_slots,
                  r.workspace_bytes / 1e6);
  std::printf("\n%s: %lld x %lld x %lld at density %g, %s; %lld rotations, %lld levels; tiles of %d rows, "
              "%d threads, %s\n",
              c.name.c_str(), (long long)c.count, (long long)c.n, (long long)c.m, c.density, o.dtype_name.c_str(),
              (long long)r.rotations, (long long)r.levels, r.tiling.tile_rows, r.tiling.threads, where);
  line("  %-22s %10s %10s %9s %9s  %s", "device (cudaEvent)", "MB", "ms", "GB/s", "/ write", "target");
  for (const Row& row : r.rows) {
    char ratio[32] = "";
    if (row.floor_ms > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", row.ms / row.floor_ms);
    line("  %-22s %10.1f %10.4f %9.0f %9s  %s", row.name, row.bytes / 1e6, row.ms, row.bytes / row.ms / 1e6, ratio,
         row.floor_ms > 0 ? verdict(row.ms / row.floor_ms, kKernelTarget, "x").c_str() : "");
  }
  line("  %-22s %10.1f %10.4f %9.0f", "upload (pinned H2D)", r.upload_bytes / 1e6, r.upload_ms,
       r.upload_bytes / r.upload_ms / 1e6);
  line("  %-33s %10s", "host (std::chrono)", "ms");
  for (int s = 0; s < kHostStageCount; ++s) line("  %-22s %21.4f", kHostStages[s][0], r.host_ms[s]);
  line("  %-22s %21.4f %19s  %s", "host total", r.host_total_ms, "",
       verdict(r.host_total_ms, c.host_target_ms, " ms").c_str());
  line("  %-22s %21.4f %19s  %s", "host+upload+kernels", r.pipeline_ms, "",
       verdict(r.pipeline_ms, c.end_to_end_target_ms, " ms").c_str());
}

inline void print_banner(const Device& d, const Options& o) {
  std::printf("kernel_timing on %s (%d SMs): medians of %d cudaEvent-timed runs after %d warm-up, host stages\n"
              "of %d runs. / write: the kernel's time over the write kernel's for the same bytes (the measured\n"
              "write floor); memcpy D2D also reads its bytes (GB/s counts those written). host+upload+kernels:\n"
              "a lower bound of one op call (no checks, allocation or launch gaps; benchmarks/test_speed_cuda.py\n"
              "times whole calls). Host stages on %d threads, tracking as the op does. Targets: issue 16 (a model,\n"
              "to be confirmed).\n",
              d.name.c_str(), d.sms, o.reps, o.warmup, o.host_reps, o.threads);
}

inline void write_json(const std::string& path, const std::vector<Result>& results, const Options& o,
                       const Device& d) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  std::fprintf(f, "{\n  \"device\": \"%s\", \"sms\": %d, \"dtype\": \"%s\", \"reps\": %d, \"host_reps\": %d,\n",
               d.name.c_str(), d.sms, o.dtype_name.c_str(), o.reps, o.host_reps);
  std::fprintf(f, "  \"threads\": %d, \"kernel_target_ratio\": %g,\n  \"cases\": [", o.threads, kKernelTarget);
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::fprintf(f, "%s\n    {\"name\": \"%s\", \"count\": %lld, \"n\": %lld, \"m\": %lld, \"density\": %g,\n",
                 i ? "," : "", r.c.name.c_str(), (long long)r.c.count, (long long)r.c.n, (long long)r.c.m,
                 r.c.density);
    std::fprintf(f,
                 "     \"rotations\": %lld, \"levels\": %lld, \"tile_rows\": %d, \"threads\": %d, "
                 "\"in_shared\": %s,\n     \"compact\": %s, \"compact_values\": %lld, \"workspace_slots\": %lld, "
                 "\"workspace_bytes\": %lld,\n",
                 (long long)r.rotations, (long long)r.levels, r.tiling.tile_rows, r.tiling.threads,
                 r.tiling.in_shared ? "true" : "false", r.tiling.compact ? "true" : "false",
                 (long long)r.tiling.compact_values, (long long)r.workspace_slots,
                 (long long)r.workspace_bytes);
    std::fprintf(f, "     \"device_ms\": {");
    const char* keys[] = {"apply", "apply_write", "apply_memcpy", "masks", "masks_write", "masks_memcpy"};
    for (size_t k = 0; k < r.rows.size(); ++k)
      std::fprintf(f, "%s\"%s\": {\"bytes\": %lld, \"ms\": %.6f}", k ? ", " : "", keys[k], (long long)r.rows[k].bytes,
                   r.rows[k].ms);
    std::fprintf(f, "},\n     \"upload_ms\": %.6f, \"upload_bytes\": %.0f,\n     \"host_ms\": {", r.upload_ms,
                 r.upload_bytes);
    for (int s = 0; s < kHostStageCount; ++s)
      std::fprintf(f, "\"%s\": %.6f, ", kHostStages[s][1], r.host_ms[s]);
    std::fprintf(f, "\"total\": %.6f},\n     \"pipeline_ms\": %.6f, ", r.host_total_ms, r.pipeline_ms);
    std::fprintf(f, "\"targets\": {\"host_ms\": %s, \"end_to_end_ms\": %s}}",
                 r.c.host_target_ms > 0 ? std::to_string(r.c.host_target_ms).c_str() : "null",
                 r.c.end_to_end_target_ms > 0 ? std::to_string(r.c.end_to_end_target_ms).c_str() : "null");
  }
  std::fprintf(f, "\n  ]\n}\n");
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path);
}

}  // namespace eoi::bench
