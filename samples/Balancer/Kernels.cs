using Attention.Kernels;

namespace BalancerSample;

/// <summary>Three attention kernels of different sizes, one per workload; the generator compiles them at build time.</summary>
public static partial class Kernels
{
    /// <summary>Interactive chat: causal grouped-query attention over short prompts.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void Chat(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Summarisation: full multi-head attention over a longer document.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void Summarize(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Background indexing: wide heads, sliding window.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 2, KvHeads = 1, Mask = AttentionMask.SlidingWindow, Window = 128)]
    public static partial void Index(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
}
