#!/usr/bin/env bash
# Installs the built tapegrad into a temporary prefix and checks what it holds: no header from a
# detail/ folder, no header that includes <omp.h>, dnnl.h or <immintrin.h>, no -march in the
# installed CMake files. Then builds (for -march=x86-64) and runs a consumer project that finds
# it with find_package(tapegrad). Usage: check_install.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

failed=0
complain() { echo "check_install: $*" >&2; failed=1; }
headers=$(find "$prefix/include/tapegrad" -name '*.hpp' | sort)
[ -n "$headers" ] || complain "no header installed under include/tapegrad"
detail=$(find "$prefix/include/tapegrad" -path '*/detail/*' -o -type d -name detail)
[ -z "$detail" ] || complain "installed internals: $detail"
for h in $headers; do
  if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?(omp\.h|dnnl\.h|immintrin\.h)[>"]' "$h"; then
    complain "${h#"$prefix"/} includes $(grep -Eo '(omp|dnnl|immintrin)\.h' "$h" | head -n 1)"
  fi
done
march=$(grep -rl -- '-march' "$prefix/lib"*/cmake/tapegrad || true)
[ -z "$march" ] || complain "-march in the installed CMake files: $march"
[ "$failed" = 0 ] || exit 1
echo "check_install: $(echo "$headers" | wc -l) headers, none internal or including omp.h/dnnl.h/immintrin.h; no -march in the CMake files"

cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
