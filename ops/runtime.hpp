// Process-wide settings the kernels rely on, applied once before the first kernel runs.
#pragma once

namespace tg::kernels {

// Idempotent and thread-safe. Keeps glibc from returning large tensor buffers to the kernel
// after every free: without it every buffer of 128 KiB or more is mmap'd and unmapped on each
// training step, and each new page costs a fault and a zeroing. Also puts OpenBLAS at one thread:
// the kernels' only thread pool is OpenMP's.
void configure_runtime();

}  // namespace tg::kernels
