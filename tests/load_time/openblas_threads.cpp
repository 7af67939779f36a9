// Prints OpenBLAS's thread count and nothing else. Built twice (tests/CMakeLists.txt): alone, and
// with every object of tapegrad linked in but nothing of it called, so that any work tapegrad did
// while the program loads (a static initialiser) would show as a different count.
#include <cstdio>

extern "C" int openblas_get_num_threads(void);

int main() {
  std::printf("%d\n", openblas_get_num_threads());
  return 0;
}
