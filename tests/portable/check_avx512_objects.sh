#!/usr/bin/env bash
# The objects compiled with AVX-512 flags in a portable build must define no weak (inline,
# template) function: the linker keeps one copy of such a function for the whole program,
# possibly this one, which a CPU without AVX-512 cannot run. Usage: check_avx512_objects.sh OBJECT...
set -euo pipefail
failed=0
for object in "$@"; do
  # W/V: weak symbols, u: unique global (GNU); DW.ref.* is only the exception personality pointer.
  shared=$(nm -C --defined-only "$object" | awk '$2 ~ /^[WwVvu]$/' | grep -v ' DW\.ref\.' || true)
  if [ -n "$shared" ]; then
    echo "$object defines functions other files may share:" >&2
    echo "$shared" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] && echo "AVX-512 objects: $# checked, no shared inline code"
exit "$failed"
