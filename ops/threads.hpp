// The one threading knob: how many threads the kernels (BLAS and our own loops) may use.
#pragma once

namespace tg {

// Sets the number of worker threads for every kernel; n <= 0 restores the default (all cores).
void set_num_threads(int n);
int get_num_threads();

}  // namespace tg
