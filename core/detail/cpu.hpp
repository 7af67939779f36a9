// CPU feature dispatch: whether the AVX-512 kernels may run on this machine.
#pragma once

namespace tg::detail {

// True when the AVX-512 kernels were compiled in and the CPU has AVX-512 F, BW, VL and DQ.
// A native build (-march=native) decides at compile time; a portable one asks the CPU once.
inline bool has_avx512() {
#if defined(__AVX512F__) && defined(__AVX512BW__)
  return true;
#elif defined(TG_DISPATCH_AVX512)
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return supported;
#else
  return false;
#endif
}

}  // namespace tg::detail
