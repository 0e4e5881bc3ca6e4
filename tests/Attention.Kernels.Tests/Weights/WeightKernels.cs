namespace Attention.Kernels.Tests.Weights;

/// <summary>Kernels with a log-sum-exp output, one per built-in mask, for <see cref="AttentionWeights"/>.</summary>
public static partial class WeightKernels
{
    [ScaledDotProductAttention(HeadDim = 24, Heads = 3, KvHeads = 3, Mask = AttentionMask.None)]
    public static partial void NoMask(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD)]
    public static partial void CausalGqaBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 2, KvHeads = 1, Mask = AttentionMask.CausalTopLeft)]
    public static partial void CausalTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 2, KvHeads = 2, Mask = AttentionMask.SlidingWindow, Window = 13)]
    public static partial void SlidingWindow13(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);
}
