#!/usr/bin/env bash
# Compile-checks CUDA device code without a GPU or a CUDA toolkit: every *.cu file in a directory is compiled to PTX
# by clang (CUDA device-only, sm_80, no CUDA headers or libdevice) with tests/cuda/minimal_cuda_prelude.h force-included.
# Fails if any file does not compile, produces no kernel entry, or still calls an external device function (a math
# function the minimal prelude does not map to a PTX instruction would become an unresolved .extern .func).
#
# usage: tests/cuda-ptx-check.sh DIR [OUT_DIR]
#   DIR      directory of .cu files (e.g. tests/cuda, or the folder the exporter wrote: AK_EXPORT_CUDA_DIR)
#   OUT_DIR  where the .ptx files go (default: a temporary directory)
# env: CLANG (default clang-14), CUDA_ARCH (default sm_80)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: $0 DIR [OUT_DIR]}"
out="${2:-$(mktemp -d)}"
clang="${CLANG:-clang-14}"
arch="${CUDA_ARCH:-sm_80}"
prelude="$here/cuda/minimal_cuda_prelude.h"

command -v "$clang" >/dev/null || { echo "cuda-ptx-check: $clang not found (apt-get install clang-14)" >&2; exit 2; }
[ -d "$dir" ] || { echo "cuda-ptx-check: no directory $dir" >&2; exit 2; }
mkdir -p "$out"

shopt -s nullglob
files=("$dir"/*.cu)
if [ ${#files[@]} -eq 0 ]; then
  echo "cuda-ptx-check: no .cu files in $dir" >&2
  exit 1
fi

failed=0
for file in "${files[@]}"; do
  name="$(basename "$file" .cu)"
  ptx="$out/$name.ptx"
  if ! log=$("$clang" -x cuda --cuda-device-only --cuda-gpu-arch="$arch" -nocudainc -nocudalib -O2 \
      -Werror=implicit-function-declaration -include "$prelude" -I "$dir" -S -o "$ptx" "$file" 2>&1); then
    echo "FAIL $name: clang error"; echo "$log" | sed 's/^/    /'; failed=$((failed + 1)); continue
  fi
  if ! grep -q '^\.visible \.entry' "$ptx"; then
    echo "FAIL $name: no kernel entry point in the PTX (is it declared KERNEL?)"; failed=$((failed + 1)); continue
  fi
  if grep -q '\.extern \.func' "$ptx"; then
    echo "FAIL $name: calls external device functions (not mapped by the minimal prelude):"
    grep '\.extern \.func' "$ptx" | sed 's/^/    /'; failed=$((failed + 1)); continue
  fi
  entries=$(grep -c '^\.visible \.entry' "$ptx")
  echo "ok   $name ($entries kernel$([ "$entries" = 1 ] || echo s), $(wc -l < "$ptx") PTX lines)"
done

echo "cuda-ptx-check: ${#files[@]} files, $failed failed (PTX in $out)"
[ "$failed" -eq 0 ]
