#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the same GPU and shapes as the Attention.Kernels runner.

Prints one line per (dtype, mask, length): median ms, GFLOP/s (4*D FLOPs per visible query/key pair, as the
generated cost model counts) and the fraction of the runner's measured FMA peaks. Exits 0 with a note if torch or a
GPU is missing, so the runner's report stays complete.
"""
import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="512,1024,2048,4096")
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--peak-fp32", type=float, default=0.0)
    parser.add_argument("--peak-fp16", type=float, default=0.0)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("  skipped: PyTorch is not installed (pip install torch)")
        return 0
    if not torch.cuda.is_available():
        print("  skipped: torch.cuda.is_available() is False")
        return 0

    print(f"  torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}")
    h, d = args.heads, args.head_dim
    for dtype, peak in ((torch.float32, args.peak_fp32), (torch.float16, args.peak_fp16)):
        for causal in (False, True):
            for t in (int(x) for x in args.lengths.split(",")):
                q, k, v = (torch.randn(1, h, t, d, device="cuda", dtype=dtype) for _ in range(3))
                F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # warm-up / backend selection
                torch.cuda.synchronize()
                times = []
                for _ in range(args.repeats):
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                    end.record()
                    end.synchronize()
                    times.append(start.elapsed_time(end))
                times.sort()
                ms = times[len(times) // 2]
                pairs = t * (t + 1) / 2 if causal else t * t
                gflops = 4.0 * h * d * pairs / (ms * 1e-3) / 1e9
                share = f"{100 * gflops * 1e9 / peak:5.1f}% of measured {str(dtype)[6:]} FMA peak" if peak > 0 else ""
                name = f"torch sdpa {str(dtype)[6:]} {'causal' if causal else 'dense'}"
                print(f"  {name:<24} T={t:5}: {ms:9.3f} ms  {gflops:9.1f} GFLOP/s  {share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
