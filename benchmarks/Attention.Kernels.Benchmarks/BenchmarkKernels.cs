using Attention.Kernels;

namespace Attention.Kernels.Benchmarks;

/// <summary>How a benchmark stores q, k, v and the output (the kernels compute in fp32 either way).</summary>
public enum Storage
{
    Fp32,
    Fp16,
    Bf16,
}

/// <summary>
/// The fused kernels the suite measures: one declaration per (heads, KV heads, head dim, mask, storage) of the standard
/// shapes. Batch and sequence lengths are launch arguments, so one kernel serves every shape with its constants.
/// </summary>
public static partial class BenchmarkKernels
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Dense(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16)]
    public static partial void Dense16(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16, Mask = AttentionMask.Causal)]
    public static partial void Causal16(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Decode step of multi-head attention with a KV cache: Tq = 1, D = 128, 32 heads.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void Decode(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Grouped-query attention as Llama-style models declare it: 32 query heads share 8 K/V heads, D = 128.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 32, KvHeads = 8, Mask = AttentionMask.Causal)]
    public static partial void GroupedCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Its decode step: one query row per sequence over the K/V cache, no mask.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 32, KvHeads = 8)]
    public static partial void GroupedDecode(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    // 16-bit storage: the same kernels over Half and BFloat16 tensors.
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseFp16(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalFp16(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void DecodeFp16(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void DecodeBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>The fp32 fused kernel and its cost model for a shape, or an exception naming the missing declaration.</summary>
    public static (Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> Run, Func<int, int, int, KernelCost> Cost) For(AttentionShape s) =>
        For<float>(s);

    /// <summary>The fused kernel storing <typeparamref name="T"/> (float, Half or BFloat16) and its cost model for a shape.</summary>
    public static (Action<Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>> Run, Func<int, int, int, KernelCost> Cost) For<T>(AttentionShape s)
        where T : unmanaged
    {
        (Delegate run, Func<int, int, int, KernelCost> cost) = (typeof(T).Name, s.Heads, s.KvHeads, s.HeadDim, s.Causal) switch
        {
            (nameof(Single), 8, 8, 64, false) => K(Dense, DenseKernel.Cost),
            (nameof(Single), 8, 8, 64, true) => K(Causal, CausalKernel.Cost),
            (nameof(Single), 16, 16, 64, false) => K(Dense16, Dense16Kernel.Cost),
            (nameof(Single), 16, 16, 64, true) => K(Causal16, Causal16Kernel.Cost),
            (nameof(Single), 32, 32, 128, false) => K(Decode, DecodeKernel.Cost),
            (nameof(Single), 32, 8, 128, true) => K(GroupedCausal, GroupedCausalKernel.Cost),
            (nameof(Single), 32, 8, 128, false) => K(GroupedDecode, GroupedDecodeKernel.Cost),
            (nameof(Half), 8, 8, 64, false) => K(DenseFp16, DenseFp16Kernel.Cost),
            (nameof(Half), 8, 8, 64, true) => K(CausalFp16, CausalFp16Kernel.Cost),
            (nameof(Half), 32, 32, 128, false) => K(DecodeFp16, DecodeFp16Kernel.Cost),
            (nameof(BFloat16), 8, 8, 64, false) => K(DenseBf16, DenseBf16Kernel.Cost),
            (nameof(BFloat16), 8, 8, 64, true) => K(CausalBf16, CausalBf16Kernel.Cost),
            (nameof(BFloat16), 32, 32, 128, false) => K(DecodeBf16, DecodeBf16Kernel.Cost),
            _ => throw new NotSupportedException($"No fused {typeof(T).Name} kernel declared for {s}: add one to {nameof(BenchmarkKernels)}."),
        };
        return ((Action<Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>>)run, cost);

        static (Delegate, Func<int, int, int, KernelCost>) K(Delegate run, Func<int, int, int, KernelCost> cost) => (run, cost);
    }
}
