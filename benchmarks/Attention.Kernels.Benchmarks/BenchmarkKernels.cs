using Attention.Kernels;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The fused kernels the suite measures: one declaration per (heads, head dim, mask) of the standard shapes.
/// Batch and sequence lengths are launch arguments, so one kernel serves every shape with its constants.
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

    /// <summary>The fused kernel and its cost model for a shape, or an exception naming the missing declaration.</summary>
    public static (Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> Run, Func<int, int, int, KernelCost> Cost) For(AttentionShape s) =>
        (s.Heads, s.HeadDim, s.Causal) switch
        {
            (8, 64, false) => (Dense, DenseKernel.Cost),
            (8, 64, true) => (Causal, CausalKernel.Cost),
            (16, 64, false) => (Dense16, Dense16Kernel.Cost),
            (16, 64, true) => (Causal16, Causal16Kernel.Cost),
            (32, 128, false) => (Decode, DecodeKernel.Cost),
            _ => throw new NotSupportedException($"No fused kernel declared for {s}: add one to {nameof(BenchmarkKernels)}."),
        };
}
