#!/usr/bin/env bash
# CpuOps.Linear vs PyTorch (OpenBLAS, OpenMP flavour, 2 threads) on the same GEMM, one after the other.
# Usage: benchmarks/peers/linear_vs_torch.sh [M K N [seconds]]   (default 1024 512 2048 3)
# Needs: python3-torch and libopenblas0-openmp (apt-get install -y python3-torch libopenblas0-openmp).
set -euo pipefail
M=${1:-1024} K=${2:-512} N=${3:-2048} S=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here/LinearBench" -c Release -v quiet -nologo >/dev/null
dll="$here/LinearBench/bin/Release/net10.0/LinearBench.dll"
for round in 1 2; do
  echo "== round $round"
  dotnet "$dll" "$M" "$K" "$N" "$S"
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 /usr/bin/python3 - "$M" "$K" "$N" "$S" <<'PY'
import sys, time, torch
m, k, n, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(2)
x, w = torch.rand(m, k) * 2 - 1, torch.rand(n, k) * 2 - 1
b = torch.rand(n)
blas = [l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l]
print(f"torch {torch.__version__} threads={torch.get_num_threads()} BLAS={sorted(set(blas))[:1]}")
for name, f in [("F.linear", lambda: torch.nn.functional.linear(x, w)),
                ("F.linear+bias+GELU", lambda: torch.nn.functional.gelu(torch.nn.functional.linear(x, w, b)))]:
    with torch.no_grad():
        end = time.perf_counter() + min(1, seconds / 2)
        while time.perf_counter() < end: f()
        times, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end or len(times) < 5:
            t = time.perf_counter(); f(); times.append((time.perf_counter() - t) * 1e3)
    times.sort(); med = times[len(times) // 2]
    print(f"  {name:<20} median {med:8.3f} ms  best {times[0]:8.3f} ms  {2*m*k*n/med/1e6:7.1f} GFLOP/s (median)  {len(times)} calls")
PY
done
