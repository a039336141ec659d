#!/usr/bin/env bash
# Builds wasm/<name>.wasm from wasm/src/<name>.c with a pinned toolchain: Debian bookworm's
# clang 14.0.6 and wasm-ld 14 (apt-get install -y clang-14=1:14.0.6-12 lld-14=1:14.0.6-12).
# The .wasm files are committed, so `npm test` needs no compiler; rerun this after editing wasm/src.
#   bash wasm/build.sh            build every module
#   bash wasm/build.sh lz4        build one
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-14}
PINNED="14.0.6"
if ! command -v "$CLANG" >/dev/null; then
  echo "wasm/build.sh: $CLANG not found; apt-get install -y clang-14 lld-14" >&2
  exit 1
fi
if ! "$CLANG" --version | head -1 | grep -q "$PINNED"; then
  echo "wasm/build.sh: expected clang $PINNED, got: $("$CLANG" --version | head -1)" >&2
  exit 1
fi

# Freestanding wasm32: no libc, no WASI. Bulk memory turns memcpy/memset into memory.copy/fill;
# SIMD128 is on in Node 16+. Each module owns and exports its memory and starts with 2 pages of
# stack; JS grows the memory for its buffers (above __heap_base).
CFLAGS=(--target=wasm32 -O3 -nostdlib -ffreestanding -fno-builtin-malloc -mbulk-memory -msimd128 -mnontrapping-fptoint
  -Wall -Wextra -Werror -std=c11 -fvisibility=hidden)
LDFLAGS=(-Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base -Wl,--strip-all -Wl,-z,stack-size=131072
  -Wl,--initial-memory=1048576 -Wl,--max-memory=4294967296 -fuse-ld=lld)
export PATH="/usr/lib/llvm-14/bin:$PATH"

modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  for f in src/*.c; do modules+=("$(basename "$f" .c)"); done
fi
for m in "${modules[@]}"; do
  "$CLANG" "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$m.wasm" "src/$m.c"
  echo "built wasm/$m.wasm ($(wc -c < "$m.wasm") bytes)"
done
