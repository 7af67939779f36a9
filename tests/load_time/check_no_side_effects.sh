#!/usr/bin/env bash
# Linking tapegrad must change nothing until it is called: OpenBLAS's thread count in a program
# holding all of tapegrad's objects equals that of the same program without them.
# Usage: check_no_side_effects.sh PLAIN_PROGRAM TAPEGRAD_PROGRAM
set -euo pipefail
plain=$("$1")
linked=$("$2")
echo "OpenBLAS threads: $plain without tapegrad, $linked with tapegrad linked in"
if [ "$plain" != "$linked" ]; then
  echo "tapegrad changed OpenBLAS's thread count while the program loaded" >&2
  exit 1
fi
