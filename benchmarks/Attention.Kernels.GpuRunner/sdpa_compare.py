#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the same GPU and shapes as the Attention.Kernels GPU runner.

Prints one line per (shape, dtype): median ms, GFLOP/s (4*D FLOPs per visible query/key pair, as the generated cost
model counts; causal aligned bottom-right like the kernels) and the fraction of the runner's measured fp32 and fp16x2
FMA peaks (PyTorch may use tensor cores, which those peaks do not cover). Exits 0 with a note if torch or a GPU is
missing, so the runner's report stays complete.
"""
import argparse
import sys


def visible_pairs(tq: int, tk: int, causal: bool) -> int:
    if not causal:
        return tq * tk
    diagonal = tk - tq
    return sum(max(0, min(tk, i + diagonal + 1)) for i in range(tq))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default="1,16,4096,4096,64,0;1,16,4096,4096,64,1",
                        help="B,H,Tq,Tk,D,causal;... (the runner passes its benchmark shapes)")
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
    for spec in args.shapes.split(";"):
        b, h, tq, tk, d, causal = (int(x) for x in spec.split(","))
        for dtype, name in ((torch.float32, "fp32"), (torch.float16, "fp16"), (torch.bfloat16, "bf16")):
            q = torch.randn(b, h, tq, d, device="cuda", dtype=dtype)
            k, v = (torch.randn(b, h, tk, d, device="cuda", dtype=dtype) for _ in range(2))
            mask = None
            if causal and tq != tk:  # is_causal aligns top-left; the kernels align bottom-right
                mask = torch.ones(tq, tk, device="cuda", dtype=torch.bool).tril(tk - tq)
            run = lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=bool(causal) and mask is None)
            run()  # warm-up / backend selection
            torch.cuda.synchronize()
            times = []
            for _ in range(args.repeats):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                run()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
            times.sort()
            ms = times[len(times) // 2]
            gflops = 4.0 * b * h * d * visible_pairs(tq, tk, bool(causal)) / (ms * 1e-3) / 1e9
            shares = []
            if args.peak_fp32 > 0:
                shares.append(f"{100 * gflops * 1e9 / args.peak_fp32:6.1f} % of fp32 peak")
            if args.peak_fp16 > 0:
                shares.append(f"{100 * gflops * 1e9 / args.peak_fp16:6.1f} % of fp16x2 peak")
            label = f"B{b} H{h} Tq{tq} Tk{tk} D{d}"
            print(f"  torch {label:<28} {'causal' if causal else 'dense ':<6} {name}: {ms:10.3f} ms {gflops:10.1f} GFLOP/s  {'  '.join(shares)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
