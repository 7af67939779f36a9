// CPU feature dispatch: whether the AVX-512 kernels may run on this machine, and the macro that
// gives a hot loop an AVX-512 copy in a portable build.
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

// TG_AVX512_CLONES before a hot kernel function: in a portable build (TG_DISPATCH_AVX512) the
// compiler emits it twice, for x86-64-v4 (AVX-512) and for the build's own target, and the dynamic
// loader binds calls to the copy this CPU can run (an ifunc, resolved once at load). Elsewhere it
// is nothing: a native build already targets this CPU.
// Only on plain functions: clang 14 clones no templates, so a templated kernel goes in a
// TG_KERNEL_INLINE template that a cloned float and a cloned double function call. Keep cloned
// functions free of OpenMP regions (their outlined bodies would not be cloned); call them from
// inside the region instead.
#if defined(TG_DISPATCH_AVX512) && !defined(__AVX512F__)
#define TG_AVX512_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define TG_AVX512_CLONES
#endif
// Inlined into each clone, so that the loop is compiled for each target.
#define TG_KERNEL_INLINE inline __attribute__((always_inline))
