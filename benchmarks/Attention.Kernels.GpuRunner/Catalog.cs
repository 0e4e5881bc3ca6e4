using Attention.Kernels.Reference;

namespace Attention.Kernels.GpuRunner;

/// <summary>Host conversions for a storage type: rounding inputs to it, widening outputs, the poison value.</summary>
internal static class Storage<T> where T : unmanaged
{
    public static readonly string Name = typeof(T) == typeof(float) ? "fp32" : typeof(T) == typeof(Half) ? "fp16" : "bf16";

    /// <summary>Unit roundoff of the storage type (0 for fp32: no output rounding beyond the arithmetic).</summary>
    public static readonly double UnitRoundoff = typeof(T) == typeof(float) ? 0 : typeof(T) == typeof(Half) ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8);

    /// <summary>‖out − ref‖/‖ref‖ bound: 1e-5 for fp32; one rounding of each output plus 2e-5 for 16-bit storage.</summary>
    public static double Tolerance => typeof(T) == typeof(float) ? 1e-5 : UnitRoundoff + 2e-5;

    public static T Narrow(float value)
    {
        if (typeof(T) == typeof(float))
            return (T)(object)value;
        if (typeof(T) == typeof(Half))
            return (T)(object)(Half)value;
        return (T)(object)(BFloat16)value;
    }

    public static float Widen(T value)
    {
        if (typeof(T) == typeof(float))
            return (float)(object)value;
        if (typeof(T) == typeof(Half))
            return (float)(Half)(object)value;
        return (BFloat16)(object)value;
    }

    public static T NaN => Narrow(float.NaN);
}

/// <summary>Runs a declared kernel on tensors (the log-sum-exp tensor is null for kernels without one).</summary>
internal delegate void Run<T>(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float>? logSumExp) where T : unmanaged;

/// <summary>One declared kernel with its constants read off the generated struct's kernel contract, and its cost model.</summary>
internal sealed record Kernel<T>(
    string Name, int HeadDim, int Heads, int KvHeads, AttentionMask Mask, int Window, double Scale, TensorLayout Layout, bool HasLse,
    Func<int, int, int, KernelCost> Cost, Run<T> Run) where T : unmanaged
{
    public string Storage => Storage<T>.Name;

    public AttentionProblem Problem(int batch, int queryLength, int keyLength) =>
        new(batch, queryLength, keyLength, Heads, KvHeads, HeadDim, Mask, Window, Scale, Layout);
}

internal static class Kernel
{
    public static Kernel<T> Of<TKernel, T>(string name, Func<int, int, int, KernelCost> cost, Run<T> run)
        where TKernel : struct, IAttentionKernel where T : unmanaged =>
        new(name, TKernel.HeadDim, TKernel.Heads, TKernel.KvHeads, TKernel.Mask, TKernel.Window, TKernel.Scale,
            TKernel.Layout == KernelLayout.Bthd ? TensorLayout.BTHD : TensorLayout.BHTD, TKernel.HasLogSumExp, cost, run);
}

/// <summary>Every kernel of <see cref="GpuKernels"/>, by storage type.</summary>
internal static class Catalog
{
    public static readonly Kernel<float>[] Fp32 =
    [
        Kernel.Of<GpuKernels.DenseKernel, float>("Dense", GpuKernels.DenseKernel.Cost, (q, k, v, o, _) => GpuKernels.Dense(q, k, v, o)),
        Kernel.Of<GpuKernels.CausalKernel, float>("Causal", GpuKernels.CausalKernel.Cost, (q, k, v, o, _) => GpuKernels.Causal(q, k, v, o)),
        Kernel.Of<GpuKernels.CausalGqaLseKernel, float>("CausalGqaLse", GpuKernels.CausalGqaLseKernel.Cost, (q, k, v, o, l) => GpuKernels.CausalGqaLse(q, k, v, o, l!)),
        Kernel.Of<GpuKernels.Window128BhtdKernel, float>("Window128Bhtd", GpuKernels.Window128BhtdKernel.Cost, (q, k, v, o, _) => GpuKernels.Window128Bhtd(q, k, v, o)),
        Kernel.Of<GpuKernels.Odd33MqaKernel, float>("Odd33Mqa", GpuKernels.Odd33MqaKernel.Cost, (q, k, v, o, _) => GpuKernels.Odd33Mqa(q, k, v, o)),
        Kernel.Of<GpuKernels.WindowMqaBhtdLseKernel, float>("WindowMqaBhtdLse", GpuKernels.WindowMqaBhtdLseKernel.Cost, (q, k, v, o, l) => GpuKernels.WindowMqaBhtdLse(q, k, v, o, l!)),
        Kernel.Of<GpuKernels.CausalGqaBhtdKernel, float>("CausalGqaBhtd", GpuKernels.CausalGqaBhtdKernel.Cost, (q, k, v, o, _) => GpuKernels.CausalGqaBhtd(q, k, v, o)),
        Kernel.Of<GpuKernels.Dense16Kernel, float>("Dense16", GpuKernels.Dense16Kernel.Cost, (q, k, v, o, _) => GpuKernels.Dense16(q, k, v, o)),
        Kernel.Of<GpuKernels.Causal16Kernel, float>("Causal16", GpuKernels.Causal16Kernel.Cost, (q, k, v, o, _) => GpuKernels.Causal16(q, k, v, o)),
        Kernel.Of<GpuKernels.DecodeKernel, float>("Decode", GpuKernels.DecodeKernel.Cost, (q, k, v, o, _) => GpuKernels.Decode(q, k, v, o)),
    ];

    public static readonly Kernel<Half>[] Fp16 =
    [
        Kernel.Of<GpuKernels.DenseHalfKernel, Half>("DenseHalf", GpuKernels.DenseHalfKernel.Cost, (q, k, v, o, _) => GpuKernels.DenseHalf(q, k, v, o)),
        Kernel.Of<GpuKernels.CausalHalfKernel, Half>("CausalHalf", GpuKernels.CausalHalfKernel.Cost, (q, k, v, o, _) => GpuKernels.CausalHalf(q, k, v, o)),
        Kernel.Of<GpuKernels.CausalGqaLseHalfKernel, Half>("CausalGqaLseHalf", GpuKernels.CausalGqaLseHalfKernel.Cost, (q, k, v, o, l) => GpuKernels.CausalGqaLseHalf(q, k, v, o, l!)),
        Kernel.Of<GpuKernels.Dense16HalfKernel, Half>("Dense16Half", GpuKernels.Dense16HalfKernel.Cost, (q, k, v, o, _) => GpuKernels.Dense16Half(q, k, v, o)),
        Kernel.Of<GpuKernels.Causal16HalfKernel, Half>("Causal16Half", GpuKernels.Causal16HalfKernel.Cost, (q, k, v, o, _) => GpuKernels.Causal16Half(q, k, v, o)),
        Kernel.Of<GpuKernels.DecodeHalfKernel, Half>("DecodeHalf", GpuKernels.DecodeHalfKernel.Cost, (q, k, v, o, _) => GpuKernels.DecodeHalf(q, k, v, o)),
    ];

    public static readonly Kernel<BFloat16>[] Bf16 =
    [
        Kernel.Of<GpuKernels.DenseBf16Kernel, BFloat16>("DenseBf16", GpuKernels.DenseBf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.DenseBf16(q, k, v, o)),
        Kernel.Of<GpuKernels.CausalBf16Kernel, BFloat16>("CausalBf16", GpuKernels.CausalBf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.CausalBf16(q, k, v, o)),
        Kernel.Of<GpuKernels.Window33BhtdBf16Kernel, BFloat16>("Window33BhtdBf16", GpuKernels.Window33BhtdBf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.Window33BhtdBf16(q, k, v, o)),
        Kernel.Of<GpuKernels.Dense16Bf16Kernel, BFloat16>("Dense16Bf16", GpuKernels.Dense16Bf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.Dense16Bf16(q, k, v, o)),
        Kernel.Of<GpuKernels.Causal16Bf16Kernel, BFloat16>("Causal16Bf16", GpuKernels.Causal16Bf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.Causal16Bf16(q, k, v, o)),
        Kernel.Of<GpuKernels.DecodeBf16Kernel, BFloat16>("DecodeBf16", GpuKernels.DecodeBf16Kernel.Cost, (q, k, v, o, _) => GpuKernels.DecodeBf16(q, k, v, o)),
    ];

    public static Kernel<T> Find<T>(Kernel<T>[] kernels, string name) where T : unmanaged => kernels.First(k => k.Name == name);
}
