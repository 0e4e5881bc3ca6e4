#!/usr/bin/env python3
"""PyTorch peer for the side-by-side runner (dotnet run ... -- compare).

The .NET runner starts this once and talks to it over stdin/stdout, one JSON object per line, so both
sides are measured in the same run, interleaved shape by shape:
  -> {"op": "hello"}                                 <- meta: torch, BLAS actually mapped and its core, threads
  -> {"op": "ceilings"}                              <- sgemm 4096^3 GFLOP/s, copy and read GB/s
  -> {"op": "attention", "B":..,"H":..,"Tq":..,"Tk":..,"D":..,"causal":..}  <- median seconds of torch naive
  -> {"op": "quit"}

Method (after /work/shared/anchors/cpu_attention_bench.py, whose pitfalls this avoids): torch naive is
softmax(Q Kᵀ·scale + mask) V under no_grad with the score matrix materialized; BLAS must be OpenBLAS (OpenMP)
via LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp (Debian's default reference BLAS is 10-35x
slower) and torch must be told to use all cores (it picks 1 here). Run with /usr/bin/python3 (Debian torch).
"""
import ctypes
import json
import math
import os
import statistics
import sys
import threading
import time

import numpy as np
import torch

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2


def blas_libraries():
    found = []
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if any(s in p.lower() for s in ("blas", "lapack", "mkl")) and p not in found:
                found.append(p)
    return found


def openblas():
    for p in blas_libraries():
        try:
            lib = ctypes.CDLL(p)
            if hasattr(lib, "openblas_set_num_threads"):
                return lib
        except OSError:
            pass
    return None


def set_threads(n):
    torch.set_num_threads(n)
    ob = openblas()
    if ob is not None:
        ob.openblas_set_num_threads(int(n))


def timed(fn):
    """Same rule as the .NET side: warm up (>= 1 call, >= 1 s), then 5..100 calls filling ~1 s (3 if a call > 2 s); median."""
    start = time.perf_counter()
    t = 0.0
    while True:
        t0 = time.perf_counter()
        fn()
        t = time.perf_counter() - t0
        if t > 2.0 or time.perf_counter() - start >= 1.0:
            break
    reps = 3 if t > 2.0 else int(min(100, max(5, math.ceil(1.0 / max(t, 1e-9)))))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "reps": reps}


def hello():
    """What BLAS kernel the sgemm actually runs: the library mapped into this process and, for OpenBLAS, the core it
    chose (openblas_get_corename on the loaded library; torch.__config__.show() only says what torch was built
    against). OPENBLAS_CORETYPE is read by OpenBLAS when it loads: the runner sets it before starting this process."""
    set_threads(THREADS)
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))  # map BLAS before describing it
    libs = blas_libraries()
    ob = openblas()
    res = {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
           "threads": torch.get_num_threads(), "coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
           "blas_libraries": libs, "blas_core": None, "blas_config": None, "blas_threading": None}
    blas = "not OpenBLAS: " + ", ".join(libs)
    if ob is not None:
        ob.openblas_get_config.restype = ctypes.c_char_p
        ob.openblas_get_corename.restype = ctypes.c_char_p
        parallel = {0: "sequential", 1: "pthreads", 2: "OpenMP"}.get(ob.openblas_get_parallel(), "?")
        res.update(blas_core=ob.openblas_get_corename().decode(), blas_config=ob.openblas_get_config().decode(),
                   blas_threading=parallel)
        blas = f"OpenBLAS {res['blas_config']} core={res['blas_core']} threading={parallel}"
    res["blas"] = blas
    return res


def ceilings():
    n = 4096
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    gemm = timed(lambda: torch.matmul(a, b, out=c))
    del a, b, c
    # Copy bandwidth: 512 MiB -> 512 MiB split over THREADS Python threads (np.copyto releases the GIL);
    # bytes = read + written. Read bandwidth: sgemv streams a 512 MiB matrix once.
    src = np.random.default_rng(0).random(128 * 1024 * 1024, dtype=np.float32)
    dst = np.empty_like(src)
    bounds = np.linspace(0, src.size, THREADS + 1).astype(np.int64)

    def copy():
        ts = [threading.Thread(target=np.copyto, args=(dst[bounds[i]:bounds[i + 1]], src[bounds[i]:bounds[i + 1]]))
              for i in range(THREADS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    cp = timed(copy)
    m = torch.from_numpy(src).view(-1, 4096)
    x = torch.randn(4096)
    mv = timed(lambda: torch.mv(m, x))
    return {"sgemm_gflops": 2.0 * n ** 3 / gemm["median_s"] / 1e9,
            "copy_gbs": 2.0 * src.nbytes / cp["median_s"] / 1e9,
            "read_gbs": src.nbytes / mv["median_s"] / 1e9}


def attention(B, H, Tq, Tk, D, causal):
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(B, H, t, D, generator=gen) for t in (Tq, Tk, Tk))
    kt = k.transpose(-2, -1)
    scale = 1.0 / math.sqrt(D)
    mask = None
    if causal:  # bottom-right aligned, like the kernels
        i = torch.arange(Tq)[:, None]
        j = torch.arange(Tk)[None, :]
        mask = torch.zeros(Tq, Tk).masked_fill_(j > i + (Tk - Tq), float("-inf"))

    def naive():
        with torch.no_grad():
            s = torch.matmul(q, kt)
            s.mul_(scale)
            if mask is not None:
                s.add_(mask)
            return torch.matmul(torch.softmax(s, dim=-1), v)

    return timed(naive)


def main():
    set_threads(THREADS)
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "quit":
            break
        if op == "hello":
            res = hello()
        elif op == "ceilings":
            res = ceilings()
        else:
            res = attention(req["B"], req["H"], req["Tq"], req["Tk"], req["D"], req["causal"])
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
