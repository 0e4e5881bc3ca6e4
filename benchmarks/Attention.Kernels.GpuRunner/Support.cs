using Attention.Kernels.Cuda;

namespace Attention.Kernels.GpuRunner;

/// <summary>The hand-written smoke kernel (tests/cuda/smoke_kernel.cu, embedded): the CUDA path that works before the merge.</summary>
internal static class SmokeKernel
{
    public const string EntryPoint = "ak_smoke_causal_gqa";

    /// <summary>The portable kernel (the file holds no prelude; the CUDA launcher adds it, as for generated kernels).</summary>
    public static string Body
    {
        get
        {
            using var stream = typeof(SmokeKernel).Assembly.GetManifestResourceStream("smoke_kernel.cu")
                ?? throw new InvalidOperationException("smoke_kernel.cu is not embedded.");
            return new StreamReader(stream).ReadToEnd().ReplaceLineEndings("\n");
        }
    }
}

/// <summary>One kernel the runner checks, with its constants read from the generated class (no reflection: trim-safe).</summary>
internal sealed record GpuKernel(
    string Name, int HeadDim, int Heads, int KvHeads, AttentionMask Mask, int Window, double Scale, TensorLayout Layout, bool HasLse,
    Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>?> Run);

internal static class KernelList
{
    public static readonly GpuKernel[] All =
    [
        new(nameof(GpuKernels.Dense), GpuKernels.DenseKernel.HeadDim, GpuKernels.DenseKernel.Heads, GpuKernels.DenseKernel.KvHeads,
            GpuKernels.DenseKernel.Mask, GpuKernels.DenseKernel.Window, GpuKernels.DenseKernel.Scale, GpuKernels.DenseKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.Dense(q, k, v, o)),
        new(nameof(GpuKernels.Causal), GpuKernels.CausalKernel.HeadDim, GpuKernels.CausalKernel.Heads, GpuKernels.CausalKernel.KvHeads,
            GpuKernels.CausalKernel.Mask, GpuKernels.CausalKernel.Window, GpuKernels.CausalKernel.Scale, GpuKernels.CausalKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.Causal(q, k, v, o)),
        new(nameof(GpuKernels.CausalGqaLse), GpuKernels.CausalGqaLseKernel.HeadDim, GpuKernels.CausalGqaLseKernel.Heads, GpuKernels.CausalGqaLseKernel.KvHeads,
            GpuKernels.CausalGqaLseKernel.Mask, GpuKernels.CausalGqaLseKernel.Window, GpuKernels.CausalGqaLseKernel.Scale, GpuKernels.CausalGqaLseKernel.Layout, true,
            (q, k, v, o, l) => GpuKernels.CausalGqaLse(q, k, v, o, l!)),
        new(nameof(GpuKernels.Window128Bhtd), GpuKernels.Window128BhtdKernel.HeadDim, GpuKernels.Window128BhtdKernel.Heads, GpuKernels.Window128BhtdKernel.KvHeads,
            GpuKernels.Window128BhtdKernel.Mask, GpuKernels.Window128BhtdKernel.Window, GpuKernels.Window128BhtdKernel.Scale, GpuKernels.Window128BhtdKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.Window128Bhtd(q, k, v, o)),
        new(nameof(GpuKernels.Odd33Mqa), GpuKernels.Odd33MqaKernel.HeadDim, GpuKernels.Odd33MqaKernel.Heads, GpuKernels.Odd33MqaKernel.KvHeads,
            GpuKernels.Odd33MqaKernel.Mask, GpuKernels.Odd33MqaKernel.Window, GpuKernels.Odd33MqaKernel.Scale, GpuKernels.Odd33MqaKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.Odd33Mqa(q, k, v, o)),
    ];
}

/// <summary>A kernel declared over 16-bit storage, with the host conversions the runner uses to round inputs and read outputs.</summary>
internal sealed record GpuStorageKernel<T>(
    string Name, string Storage, int HeadDim, int Heads, int KvHeads, AttentionMask Mask, int Window, double Scale, TensorLayout Layout, bool HasLse,
    Action<Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>, Tensor<float>?> Run, Func<float, T> Narrow, Func<T, float> Widen, T NaN)
    where T : unmanaged
{
    /// <summary>
    /// ‖out − ref‖/‖ref‖ bound against an fp64 reference computed from the rounded inputs: the fp32 kernel's 1e-5 plus one
    /// rounding of each output to storage precision (unit roundoff u = 2^-11 for fp16, 2^-8 for bf16), plus 1e-5 slack.
    /// </summary>
    public double Tolerance => (Storage == "fp16" ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8)) * (1 + 1e-5) + 2e-5;
}

internal static class StorageKernelList
{
    public static readonly GpuStorageKernel<Half>[] Half =
    [
        new(nameof(GpuKernels.DenseHalf), "fp16", GpuKernels.DenseHalfKernel.HeadDim, GpuKernels.DenseHalfKernel.Heads, GpuKernels.DenseHalfKernel.KvHeads,
            GpuKernels.DenseHalfKernel.Mask, GpuKernels.DenseHalfKernel.Window, GpuKernels.DenseHalfKernel.Scale, GpuKernels.DenseHalfKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.DenseHalf(q, k, v, o), f => (Half)f, h => (float)h, System.Half.NaN),
        new(nameof(GpuKernels.CausalHalf), "fp16", GpuKernels.CausalHalfKernel.HeadDim, GpuKernels.CausalHalfKernel.Heads, GpuKernels.CausalHalfKernel.KvHeads,
            GpuKernels.CausalHalfKernel.Mask, GpuKernels.CausalHalfKernel.Window, GpuKernels.CausalHalfKernel.Scale, GpuKernels.CausalHalfKernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.CausalHalf(q, k, v, o), f => (Half)f, h => (float)h, System.Half.NaN),
        new(nameof(GpuKernels.CausalGqaLseHalf), "fp16", GpuKernels.CausalGqaLseHalfKernel.HeadDim, GpuKernels.CausalGqaLseHalfKernel.Heads, GpuKernels.CausalGqaLseHalfKernel.KvHeads,
            GpuKernels.CausalGqaLseHalfKernel.Mask, GpuKernels.CausalGqaLseHalfKernel.Window, GpuKernels.CausalGqaLseHalfKernel.Scale, GpuKernels.CausalGqaLseHalfKernel.Layout, true,
            (q, k, v, o, l) => GpuKernels.CausalGqaLseHalf(q, k, v, o, l!), f => (Half)f, h => (float)h, System.Half.NaN),
    ];

    public static readonly GpuStorageKernel<BFloat16>[] BFloat16 =
    [
        new(nameof(GpuKernels.DenseBf16), "bf16", GpuKernels.DenseBf16Kernel.HeadDim, GpuKernels.DenseBf16Kernel.Heads, GpuKernels.DenseBf16Kernel.KvHeads,
            GpuKernels.DenseBf16Kernel.Mask, GpuKernels.DenseBf16Kernel.Window, GpuKernels.DenseBf16Kernel.Scale, GpuKernels.DenseBf16Kernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.DenseBf16(q, k, v, o), f => (Kernels.BFloat16)f, b => b, Kernels.BFloat16.NaN),
        new(nameof(GpuKernels.CausalBf16), "bf16", GpuKernels.CausalBf16Kernel.HeadDim, GpuKernels.CausalBf16Kernel.Heads, GpuKernels.CausalBf16Kernel.KvHeads,
            GpuKernels.CausalBf16Kernel.Mask, GpuKernels.CausalBf16Kernel.Window, GpuKernels.CausalBf16Kernel.Scale, GpuKernels.CausalBf16Kernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.CausalBf16(q, k, v, o), f => (Kernels.BFloat16)f, b => b, Kernels.BFloat16.NaN),
        new(nameof(GpuKernels.Window33BhtdBf16), "bf16", GpuKernels.Window33BhtdBf16Kernel.HeadDim, GpuKernels.Window33BhtdBf16Kernel.Heads, GpuKernels.Window33BhtdBf16Kernel.KvHeads,
            GpuKernels.Window33BhtdBf16Kernel.Mask, GpuKernels.Window33BhtdBf16Kernel.Window, GpuKernels.Window33BhtdBf16Kernel.Scale, GpuKernels.Window33BhtdBf16Kernel.Layout, false,
            (q, k, v, o, _) => GpuKernels.Window33BhtdBf16(q, k, v, o), f => (Kernels.BFloat16)f, b => b, Kernels.BFloat16.NaN),
    ];
}

/// <summary>Measured FMA peaks in FLOP/s (a fused multiply-add counts 2; an fp16x2 FMA counts 4).</summary>
internal readonly record struct Peaks(double Fp32, double Fp16)
{
    // Eight independent FMA chains per thread hide the FMA latency; the result is stored so nothing is dead code.
    // fp16 uses PTX fma.rn.f16x2 on packed registers, so no cuda_fp16.h is needed (NVRTC may not ship it).
    private const string Source = """
        #define ITERATIONS 4096
        extern "C" __global__ void fma_fp32(float* out, float seed)
        {
            float a0 = seed + threadIdx.x, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7;
            const float b = 0.999f, c = 0.001f;
            #pragma unroll 64
            for (int i = 0; i < ITERATIONS; i++)
            {
                a0 = fmaf(a0, b, c); a1 = fmaf(a1, b, c); a2 = fmaf(a2, b, c); a3 = fmaf(a3, b, c);
                a4 = fmaf(a4, b, c); a5 = fmaf(a5, b, c); a6 = fmaf(a6, b, c); a7 = fmaf(a7, b, c);
            }
            out[blockIdx.x * blockDim.x + threadIdx.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        }

        extern "C" __global__ void fma_fp16x2(unsigned int* out, unsigned int seed)
        {
            unsigned int a[8];
            for (int j = 0; j < 8; j++) a[j] = seed + threadIdx.x + j;
            const unsigned int b = 0x3BFF3BFFu, c = 0x14001400u; /* (0.9995, 0.9995), (0.001, 0.001) */
            #pragma unroll 64
            for (int i = 0; i < ITERATIONS; i++)
            {
                #pragma unroll
                for (int j = 0; j < 8; j++)
                    asm volatile("fma.rn.f16x2 %0, %0, %1, %2;" : "+r"(a[j]) : "r"(b), "r"(c));
            }
            out[blockIdx.x * blockDim.x + threadIdx.x] = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
        }
        """;

    private const int Iterations = 4096, Chains = 8, Threads = 256;

    public static Peaks Measure(CudaDevice device, bool quick)
    {
        uint blocks = (uint)(device.Info.Multiprocessors * 8);
        using var output = device.Allocate(blocks * Threads * 4L);
        double Run(string entry, object seed, double flopsPerFma)
        {
            var kernel = device.GetKernel(Source, entry);
            device.Launch(kernel, blocks, Threads, 0, null, output, seed); // warm-up
            using var start = device.CreateEvent();
            using var end = device.CreateEvent();
            double best = 0;
            for (int i = 0; i < (quick ? 3 : 10); i++)
            {
                start.Record();
                device.Launch(kernel, blocks, Threads, 0, null, output, seed);
                end.Record();
                double seconds = CudaEvent.ElapsedMilliseconds(start, end) * 1e-3;
                best = Math.Max(best, (double)blocks * Threads * Iterations * Chains * flopsPerFma / seconds);
            }
            return best;
        }
        return new Peaks(Run("fma_fp32", 1f, 2), Run("fma_fp16x2", 0x3C003C00u, 4));
    }
}
