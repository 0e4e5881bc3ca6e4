using Attention.Kernels;

namespace Attention.Kernels.Benchmarks;

/// <summary>The kernels the suite measures (D = 64, the standard shapes' head dim).</summary>
public static partial class BenchmarkKernels
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Dense(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
}
