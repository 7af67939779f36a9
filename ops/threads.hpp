// The one threading knob: how many threads the kernels (BLAS and our own loops) may use.
#pragma once

namespace tg {

// Sets the number of worker threads for every kernel; n <= 0 restores the default (all cores).
// The kernels share one pool, OpenMP's: oneDNN's sgemm, the split double GEMMs, conv2d's batch
// and the large elementwise and pooling loops (OpenBLAS itself stays single-threaded). Like
// omp_set_num_threads, it applies to kernels called from the calling thread; OMP_NUM_THREADS
// sets the starting value. On a machine shared with other busy processes, OMP_WAIT_POLICY=passive
// keeps idle workers from spinning.
void set_num_threads(int n);
int get_num_threads();

}  // namespace tg
