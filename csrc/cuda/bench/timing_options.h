// The cases kernel_timing times (the presets or COUNTxNxM@DENSITY), its options and
// their parsing (csrc/cuda/bench/kernel_timing.cu: --help, exit 2 on a bad argument), and two
// helpers of the runs: bytes per output value, median of repetitions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "cuda/apply_plans.h"

namespace eoi::bench {

using eoi::gpu::OutputType;

struct Case {
  std::string name;
  int64_t count, n, m;  // count matrices A = [I_n | 0] G_1 ... G_R, n <= m
  double density;
  double host_target_ms;  // the targets (a model, to be confirmed on a GPU); < 0: none
  double end_to_end_target_ms;
};

// The cases and targets: host work per 4096^2 call <= 0.3 ms; end to end 4096^2 <= 1 ms,
// 1000 x 128^2 <= 2 ms, 16384^2 at 0.01 <= 10 ms; every kernel within 3x of the write floor.
constexpr double kKernelTarget = 3.0;
const Case kPresets[] = {
    {"4096", 1, 4096, 4096, 0.1, 0.3, 1.0},
    {"batch", 1000, 128, 128, 0.1, -1.0, 2.0},
    {"16384", 1, 16384, 16384, 0.01, -1.0, 10.0},
};

struct Options {
  std::vector<Case> cases;
  OutputType dtype = OutputType::kFloat32;
  std::string dtype_name = "float32";
  int reps = 20, warmup = 3, host_reps = 5;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  std::string json;
};

const char kUsage[] =
    "usage: kernel_timing [--quick] [--cases LIST] [--dtype float32|float64|float16|bfloat16]\n"
    "                     [--reps N] [--threads N] [--json FILE]\n"
    "  LIST: comma-separated 4096 (1 x 4096^2 at 0.1), batch (1000 x 128^2 at 0.1),\n"
    "        16384 (1 x 16384^2 at 0.01) or COUNTxNxM@DENSITY (n <= m); default all three,\n"
    "        --quick: 4096,batch with fewer repetitions\n"
    "  --threads: host threads over the matrices (default: all, as the ops' at::parallel_for)\n";

// "COUNTxNxM@DENSITY", e.g. 1000x128x128@0.1.
inline bool parse_custom(const std::string& text, Case& c) {
  long long count = 0, n = 0, m = 0;
  double density = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%lldx%lldx%lld@%lf%n", &count, &n, &m, &density, &used) != 4 ||
      used != static_cast<int>(text.size()))
    return false;
  // n <= m as sample_rotations takes them; at most 2^40 entries, so every byte count fits.
  if (count < 1 || n < 1 || n > m || m > INT32_MAX || !(density > 0 && density <= 1) ||
      double(count) * double(n) * double(m) > 0x1p40)
    return false;
  c = {text, count, n, m, density, -1.0, -1.0};
  return true;
}

inline bool parse_cases(const std::string& list, std::vector<Case>& cases) {
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, end - start);
    Case c{};
    const auto preset = std::find_if(std::begin(kPresets), std::end(kPresets),
                                     [&](const Case& p) { return p.name == name; });
    if (preset != std::end(kPresets)) c = *preset;
    else if (!parse_custom(name, c)) return false;
    cases.push_back(c);
    start = end + 1;
  }
  return !cases.empty();
}

inline bool parse_int(const char* text, int low, int& value) {
  char* end = nullptr;
  const long parsed = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || parsed < low || parsed > 100000) return false;
  value = static_cast<int>(parsed);
  return true;
}

// Returns 0 to run, -1 after --help, else 2 (a bad argument).
inline int parse_options(int argc, char** argv, Options& o) {
  bool quick = false;
  std::string cases;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    const bool takes_value = arg == "--cases" || arg == "--dtype" || arg == "--reps" || arg == "--threads" ||
                             arg == "--json";
    if (takes_value && value == nullptr) {
      std::fprintf(stderr, "kernel_timing: %s needs a value\n%s", arg.c_str(), kUsage);
      return 2;
    }
    bool ok = true;
    if (arg == "--quick") quick = true;
    else if (arg == "--cases") cases = value;
    else if (arg == "--json") o.json = value;
    else if (arg == "--reps") ok = parse_int(value, 1, o.reps);
    else if (arg == "--threads") ok = parse_int(value, 1, o.threads);
    else if (arg == "--dtype") {
      o.dtype_name = value;
      if (o.dtype_name == "float32") o.dtype = OutputType::kFloat32;
      else if (o.dtype_name == "float64") o.dtype = OutputType::kFloat64;
      else if (o.dtype_name == "float16") o.dtype = OutputType::kFloat16;
      else if (o.dtype_name == "bfloat16") o.dtype = OutputType::kBFloat16;
      else ok = false;
    } else if (arg == "-h" || arg == "--help") {
      std::printf("%s", kUsage);
      return -1;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "kernel_timing: bad argument %s%s%s\n%s", arg.c_str(), takes_value ? " " : "",
                   takes_value ? value : "", kUsage);
      return 2;
    }
    i += takes_value;
  }
  if (quick) {
    o.reps = std::min(o.reps, 5);
    o.warmup = 1;
    o.host_reps = 3;
  }
  if (cases.empty()) cases = quick ? "4096,batch" : "4096,batch,16384";
  if (!parse_cases(cases, o.cases)) {
    std::fprintf(stderr, "kernel_timing: bad --cases %s\n%s", cases.c_str(), kUsage);
    return 2;
  }
  return 0;
}

inline int64_t value_bytes(OutputType t) {
  switch (t) {
    case OutputType::kFloat64: return 8;
    case OutputType::kFloat32: return 4;
    case OutputType::kFloat16:
    case OutputType::kBFloat16: return 2;
  }
  return 0;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t h = values.size() / 2;
  return values.size() % 2 ? values[h] : 0.5 * (values[h - 1] + values[h]);
}

}  // namespace eoi::bench
