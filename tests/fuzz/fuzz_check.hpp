// FUZZ_CHECK: an assertion that stays on in release builds (the fuzz preset
// is RelWithDebInfo, so assert() is compiled out) and that libFuzzer reports
// as a crash, with the failed condition, and saves the input for.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
