#!/usr/bin/env bash
# Runs the CUDA device tests that need only the driver API (discovery, allocation, copies, fills, out-of-memory errors,
# default-device rule) against tests/cuda/fake_libcuda.c, a host-memory stand-in for libcuda.so.1, to check the .NET
# bindings' plumbing on machines without a GPU. Kernel compilation/launch tests still skip (no NVRTC, no real GPU).
# usage: tests/cuda/fake-driver-check.sh   (after 'dotnet build -c Release')
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lib="$(mktemp -d)"
gcc -shared -fPIC -O1 -Wall -Werror -o "$lib/libcuda.so.1" "$root/tests/cuda/fake_libcuda.c"
LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ATTENTION_KERNELS_NVRTC=/nonexistent/libnvrtc.so \
  dotnet test "$root/tests/Attention.Kernels.Tests" -c Release --no-build \
  --filter "FullyQualifiedName~Attention.Kernels.Tests.Cuda" --logger "console;verbosity=normal"
