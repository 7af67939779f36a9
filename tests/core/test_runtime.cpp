// The process-wide knobs of core/runtime.hpp.
#include "test_util.hpp"

TEST_CASE("cpu_capability names the AVX-512 kernels exactly when this CPU has AVX-512") {
  // Native and portable builds alike: a native build for this CPU compiles them in, a portable one
  // picks them at run time.
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  CHECK(tg::cpu_capability() == (avx512 ? "avx512" : "generic"));
}

TEST_CASE("set_num_threads sets the OpenMP pool's size, and n <= 0 restores the default") {
  const int before = tg::get_num_threads();
  tg::set_num_threads(1);
  CHECK(tg::get_num_threads() == 1);
  tg::set_num_threads(0);
  CHECK(tg::get_num_threads() >= 1);
  tg::set_num_threads(before);
  CHECK(tg::get_num_threads() == before);
}
