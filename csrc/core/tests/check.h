// Minimal test harness for the core's ctest executables (no external framework).
//   CHECK(expr)  records a failure with file:line and the expression text.
//   return check_report();  at the end of main: prints a summary, nonzero on failure.
#pragma once

#include <cstdio>

namespace eoi_test {
// Failures beyond this many are counted but not printed (checks inside loops).
constexpr int kMaxPrinted = 40;
inline int& failures() {
  static int count = 0;
  return count;
}
inline int& checks() {
  static int count = 0;
  return count;
}
}  // namespace eoi_test

#define CHECK(expr)                                                               \
  do {                                                                            \
    ++::eoi_test::checks();                                                       \
    if (!(expr)) {                                                                \
      if (++::eoi_test::failures() <= ::eoi_test::kMaxPrinted)                    \
        std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
    }                                                                             \
  } while (0)

// CHECK with a printf-style note, for checks inside loops.
#define CHECK_MSG(expr, ...)                                                      \
  do {                                                                            \
    ++::eoi_test::checks();                                                       \
    if (!(expr)) {                                                                \
      if (++::eoi_test::failures() <= ::eoi_test::kMaxPrinted) {                  \
        std::fprintf(stderr, "%s:%d: CHECK failed: %s  [", __FILE__, __LINE__, #expr); \
        std::fprintf(stderr, __VA_ARGS__);                                        \
        std::fprintf(stderr, "]\n");                                              \
      }                                                                           \
    }                                                                             \
  } while (0)

inline int check_report() {
  std::printf("%d checks, %d failed\n", ::eoi_test::checks(), ::eoi_test::failures());
  return ::eoi_test::failures() == 0 ? 0 : 1;
}
