using Attention.Kernels;

namespace QuickStart;

/// <summary>Each method is one fused attention kernel; the generator writes its body at compile time.</summary>
public static partial class Kernels
{
    /// <summary>Decoder self-attention: 8 query heads share 2 key/value heads (GQA), causal mask.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqa(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Encoder self-attention: no mask, 8 heads.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void SelfAttention(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Cross-attention (Tq ≠ Tk): decoder queries over encoder keys, with the log-sum-exp of each row.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void CrossAttention(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);
}
