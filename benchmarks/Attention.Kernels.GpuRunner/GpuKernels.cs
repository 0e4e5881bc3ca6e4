namespace Attention.Kernels.GpuRunner;

/// <summary>
/// Kernels the runner checks and times. With Attention.Kernels.Ilgpu referenced, each declaration's generated struct runs
/// on an ILGPU device through the fused kernel (runtime/Attention.Kernels.Ilgpu/Kernels/FlashAttention.cs) specialized on
/// it; every one is checked against the fp64 reference, the <c>Bench*</c> ones are also timed on the standard shapes.
/// </summary>
public static partial class GpuKernels
{
    // ---- fp32: one kernel per configuration class (mask, GQA/MQA, layout, log-sum-exp, head dims). ----

    /// <summary>B·T·8·64 BTHD, no mask: also the H8 benchmark shape.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Dense(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>H8 causal: also the H8 causal benchmark shape.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Causal grouped-query attention with log-sum-exp.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqaLse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    /// <summary>Sliding window, wide head, BHTD layout.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 20, Layout = TensorLayout.BHTD)]
    public static partial void Window128Bhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Odd head dim, multi-query.</summary>
    [ScaledDotProductAttention(HeadDim = 33, Heads = 8, KvHeads = 1, Mask = AttentionMask.None)]
    public static partial void Odd33Mqa(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Multi-query sliding window in BHTD with log-sum-exp and a custom scale.</summary>
    [ScaledDotProductAttention(HeadDim = 48, Heads = 6, KvHeads = 1, Mask = AttentionMask.SlidingWindow, Window = 13, Layout = TensorLayout.BHTD, Scale = 0.3)]
    public static partial void WindowMqaBhtdLse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    /// <summary>Causal GQA in BHTD.</summary>
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD)]
    public static partial void CausalGqaBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    // ---- 16-bit storage (fp32 arithmetic, one rounding of the output). ----

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    /// <summary>Causal GQA with log-sum-exp and fp16 storage (the log-sum-exp stays fp32).</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqaLseHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>Odd head dim, BHTD, sliding window, bf16 storage.</summary>
    [ScaledDotProductAttention(HeadDim = 33, Heads = 4, KvHeads = 2, Mask = AttentionMask.SlidingWindow, Window = 11, Layout = TensorLayout.BHTD)]
    public static partial void Window33BhtdBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    // ---- The benchmark shapes of issue 12: H16 D64 (T4096) and decode H32 D128, in fp32, fp16 and bf16. ----

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16)]
    public static partial void Dense16(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16, Mask = AttentionMask.Causal)]
    public static partial void Causal16(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16)]
    public static partial void Dense16Half(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16, Mask = AttentionMask.Causal)]
    public static partial void Causal16Half(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16)]
    public static partial void Dense16Bf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 16, Mask = AttentionMask.Causal)]
    public static partial void Causal16Bf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>Decode: one new query per sequence against a long cache (run with Tq = 1).</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void Decode(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void DecodeHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 32)]
    public static partial void DecodeBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);
}

/// <summary>A small encoder block, run on the device and on the CPU backend with the same weights and inputs.</summary>
[AttentionModel]
public partial class EncoderBlock
{
    public const int Features = 64, Heads = 4, KvHeads = 2, HeadDim = 16, Hidden = 128;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, KvHeads = KvHeads, HeadDim = HeadDim, Mask = AttentionMask.Causal)]
    [Residual("res1", From = "attn", Skip = "x")]
    [LayerNorm("norm1", From = "res1")]
    [Linear("up", From = "norm1", OutFeatures = Hidden, Activation = Activation.Gelu)]
    [Linear("down", From = "up", OutFeatures = Features)]
    [Residual("res2", From = "down", Skip = "norm1")]
    [LayerNorm("y", From = "res2")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<float> y);
}
