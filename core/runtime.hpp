// The process-wide knobs: worker threads, the allocator and BLAS settings training wants, and
// which CPU kernels run. Nothing here runs unless called: linking tapegrad changes nothing.
#pragma once

#include <string>

namespace tg {

// Sets the number of worker threads the kernels use; n <= 0 restores the default (all cores).
// The kernels share one pool, OpenMP's: oneDNN's sgemm, the split double GEMMs, convolutions over
// the batch, and the large elementwise and pooling loops. Like omp_set_num_threads it applies to
// kernels called from the calling thread; OMP_NUM_THREADS sets the starting value. Calls
// init_runtime() first. On a machine shared with other busy processes, OMP_WAIT_POLICY=passive
// keeps idle workers from spinning.
void set_num_threads(int n);
int get_num_threads();

// Applies, once per process, the settings that make training fast (idempotent, thread-safe):
// - glibc keeps freed blocks up to 32 MiB on the heap (M_MMAP_THRESHOLD) and a free heap top up
//   to 1 GiB (M_TRIM_THRESHOLD), so the tensors of one training step reuse the memory of the
//   last instead of being mapped, faulted in and zeroed again each time;
// - OpenBLAS runs on one thread, so that it never competes with the OpenMP pool for the cores
//   (double GEMMs are then split over the OpenMP threads instead).
// Without it everything works, only slower; the examples call it through set_num_threads. Call it
// before loading data sets: a program that read MNIST first trained its MLP 6% slower.
void init_runtime();

// Which kernel family runs on this CPU: "avx512" (AVX-512 F/BW/VL/DQ) or "generic". A native
// build fixes it at compile time; a TAPEGRAD_PORTABLE build decides at run time.
std::string cpu_capability();

}  // namespace tg
