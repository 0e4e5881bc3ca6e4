namespace Attention.Kernels.Tests;

/// <summary>Kernels declared for the numeric suite: every head-dim class, mask kind, GQA ratio and layout, with and without log-sum-exp.</summary>
public static partial class TestKernels
{
    [ScaledDotProductAttention(HeadDim = 1, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D1_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 1, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D1_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 1, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 2)]
    public static partial void D1_H6_Kv3_SlidingWindow2(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 3, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D3_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 3, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D3_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 3, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 4)]
    public static partial void D3_H6_Kv3_SlidingWindow4(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D8_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D8_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 9)]
    public static partial void D8_H6_Kv3_SlidingWindow9(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 17, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D17_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 17, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D17_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 17, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 18)]
    public static partial void D17_H6_Kv3_SlidingWindow18(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D32_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D32_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 33)]
    public static partial void D32_H6_Kv3_SlidingWindow33(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 48, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D48_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 48, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D48_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 48, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 12)]
    public static partial void D48_H6_Kv3_SlidingWindow12(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D64_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D64_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 28)]
    public static partial void D64_H6_Kv3_SlidingWindow28(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 80, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D80_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 80, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D80_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 80, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 7)]
    public static partial void D80_H6_Kv3_SlidingWindow7(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 96, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D96_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 96, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D96_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 96, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 23)]
    public static partial void D96_H6_Kv3_SlidingWindow23(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D128_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D128_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 18)]
    public static partial void D128_H6_Kv3_SlidingWindow18(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 160, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D160_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 160, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D160_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 160, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 13)]
    public static partial void D160_H6_Kv3_SlidingWindow13(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 256, Heads = 4, KvHeads = 4, Mask = AttentionMask.None)]
    public static partial void D256_H4_Kv4_None(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 256, Heads = 4, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void D256_H4_Kv2_Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 256, Heads = 6, KvHeads = 3, Mask = AttentionMask.SlidingWindow, Window = 35)]
    public static partial void D256_H6_Kv3_SlidingWindow35(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 8, KvHeads = 1, Mask = AttentionMask.Causal)]
    public static partial void D16_H8_Kv1_Causal_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 8, KvHeads = 2, Mask = AttentionMask.None, Layout = TensorLayout.BHTD)]
    public static partial void D16_H8_Kv2_None_BHTD_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 64, Layout = TensorLayout.BHTD)]
    public static partial void D16_H4_Kv4_SlidingWindow64_BHTD(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 1, Mask = AttentionMask.Causal)]
    public static partial void D64_H8_Kv1_Causal_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.None, Layout = TensorLayout.BHTD)]
    public static partial void D64_H8_Kv2_None_BHTD_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 64, Layout = TensorLayout.BHTD)]
    public static partial void D64_H4_Kv4_SlidingWindow64_BHTD(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 33, Heads = 8, KvHeads = 1, Mask = AttentionMask.Causal)]
    public static partial void D33_H8_Kv1_Causal_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 33, Heads = 8, KvHeads = 2, Mask = AttentionMask.None, Layout = TensorLayout.BHTD)]
    public static partial void D33_H8_Kv2_None_BHTD_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 33, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 64, Layout = TensorLayout.BHTD)]
    public static partial void D33_H4_Kv4_SlidingWindow64_BHTD(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 8, Mask = AttentionMask.None, Scale = 0.3)]
    public static partial void D64_H8_Kv8_None_S(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 4, Mask = AttentionMask.Causal, Scale = 0.05)]
    public static partial void D64_H8_Kv4_Causal_Lse_S(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 2, KvHeads = 2, Mask = AttentionMask.SlidingWindow, Window = 200)]
    public static partial void D128_H2_Kv2_SlidingWindow200_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    // Top-left causal (PyTorch's is_causal): odd and wide head dims, GQA and MQA, both layouts, with log-sum-exp.

    [ScaledDotProductAttention(HeadDim = 1, Heads = 4, KvHeads = 2, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D1_H4_Kv2_CausalTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 3, Heads = 6, KvHeads = 3, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D3_H6_Kv3_CausalTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 17, Heads = 4, KvHeads = 2, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D17_H4_Kv2_CausalTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 33, Heads = 8, KvHeads = 1, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D33_H8_Kv1_CausalTopLeft_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 2, Mask = AttentionMask.CausalTopLeft, Layout = TensorLayout.BHTD)]
    public static partial void D64_H4_Kv2_CausalTopLeft_BHTD(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D64_H8_Kv2_CausalTopLeft_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 80, Heads = 6, KvHeads = 3, Mask = AttentionMask.CausalTopLeft, Layout = TensorLayout.BHTD)]
    public static partial void D80_H6_Kv3_CausalTopLeft_BHTD_Lse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 256, Heads = 4, KvHeads = 2, Mask = AttentionMask.CausalTopLeft)]
    public static partial void D256_H4_Kv2_CausalTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Every kernel above, with its constants read back from the generated class.</summary>
    public static readonly KernelCase[] All =
    [
        new(nameof(D1_H4_Kv4_None), D1_H4_Kv4_NoneKernel.HeadDim, D1_H4_Kv4_NoneKernel.Heads, D1_H4_Kv4_NoneKernel.KvHeads, D1_H4_Kv4_NoneKernel.Mask, D1_H4_Kv4_NoneKernel.Window, D1_H4_Kv4_NoneKernel.Scale, D1_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D1_H4_Kv4_None(q, k, v, o), D1_H4_Kv4_NoneKernel.Cost),
        new(nameof(D1_H4_Kv2_Causal), D1_H4_Kv2_CausalKernel.HeadDim, D1_H4_Kv2_CausalKernel.Heads, D1_H4_Kv2_CausalKernel.KvHeads, D1_H4_Kv2_CausalKernel.Mask, D1_H4_Kv2_CausalKernel.Window, D1_H4_Kv2_CausalKernel.Scale, D1_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D1_H4_Kv2_Causal(q, k, v, o), D1_H4_Kv2_CausalKernel.Cost),
        new(nameof(D1_H6_Kv3_SlidingWindow2), D1_H6_Kv3_SlidingWindow2Kernel.HeadDim, D1_H6_Kv3_SlidingWindow2Kernel.Heads, D1_H6_Kv3_SlidingWindow2Kernel.KvHeads, D1_H6_Kv3_SlidingWindow2Kernel.Mask, D1_H6_Kv3_SlidingWindow2Kernel.Window, D1_H6_Kv3_SlidingWindow2Kernel.Scale, D1_H6_Kv3_SlidingWindow2Kernel.Layout, false, (q, k, v, o, _) => D1_H6_Kv3_SlidingWindow2(q, k, v, o), D1_H6_Kv3_SlidingWindow2Kernel.Cost),
        new(nameof(D3_H4_Kv4_None), D3_H4_Kv4_NoneKernel.HeadDim, D3_H4_Kv4_NoneKernel.Heads, D3_H4_Kv4_NoneKernel.KvHeads, D3_H4_Kv4_NoneKernel.Mask, D3_H4_Kv4_NoneKernel.Window, D3_H4_Kv4_NoneKernel.Scale, D3_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D3_H4_Kv4_None(q, k, v, o), D3_H4_Kv4_NoneKernel.Cost),
        new(nameof(D3_H4_Kv2_Causal), D3_H4_Kv2_CausalKernel.HeadDim, D3_H4_Kv2_CausalKernel.Heads, D3_H4_Kv2_CausalKernel.KvHeads, D3_H4_Kv2_CausalKernel.Mask, D3_H4_Kv2_CausalKernel.Window, D3_H4_Kv2_CausalKernel.Scale, D3_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D3_H4_Kv2_Causal(q, k, v, o), D3_H4_Kv2_CausalKernel.Cost),
        new(nameof(D3_H6_Kv3_SlidingWindow4), D3_H6_Kv3_SlidingWindow4Kernel.HeadDim, D3_H6_Kv3_SlidingWindow4Kernel.Heads, D3_H6_Kv3_SlidingWindow4Kernel.KvHeads, D3_H6_Kv3_SlidingWindow4Kernel.Mask, D3_H6_Kv3_SlidingWindow4Kernel.Window, D3_H6_Kv3_SlidingWindow4Kernel.Scale, D3_H6_Kv3_SlidingWindow4Kernel.Layout, false, (q, k, v, o, _) => D3_H6_Kv3_SlidingWindow4(q, k, v, o), D3_H6_Kv3_SlidingWindow4Kernel.Cost),
        new(nameof(D8_H4_Kv4_None), D8_H4_Kv4_NoneKernel.HeadDim, D8_H4_Kv4_NoneKernel.Heads, D8_H4_Kv4_NoneKernel.KvHeads, D8_H4_Kv4_NoneKernel.Mask, D8_H4_Kv4_NoneKernel.Window, D8_H4_Kv4_NoneKernel.Scale, D8_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D8_H4_Kv4_None(q, k, v, o), D8_H4_Kv4_NoneKernel.Cost),
        new(nameof(D8_H4_Kv2_Causal), D8_H4_Kv2_CausalKernel.HeadDim, D8_H4_Kv2_CausalKernel.Heads, D8_H4_Kv2_CausalKernel.KvHeads, D8_H4_Kv2_CausalKernel.Mask, D8_H4_Kv2_CausalKernel.Window, D8_H4_Kv2_CausalKernel.Scale, D8_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D8_H4_Kv2_Causal(q, k, v, o), D8_H4_Kv2_CausalKernel.Cost),
        new(nameof(D8_H6_Kv3_SlidingWindow9), D8_H6_Kv3_SlidingWindow9Kernel.HeadDim, D8_H6_Kv3_SlidingWindow9Kernel.Heads, D8_H6_Kv3_SlidingWindow9Kernel.KvHeads, D8_H6_Kv3_SlidingWindow9Kernel.Mask, D8_H6_Kv3_SlidingWindow9Kernel.Window, D8_H6_Kv3_SlidingWindow9Kernel.Scale, D8_H6_Kv3_SlidingWindow9Kernel.Layout, false, (q, k, v, o, _) => D8_H6_Kv3_SlidingWindow9(q, k, v, o), D8_H6_Kv3_SlidingWindow9Kernel.Cost),
        new(nameof(D17_H4_Kv4_None), D17_H4_Kv4_NoneKernel.HeadDim, D17_H4_Kv4_NoneKernel.Heads, D17_H4_Kv4_NoneKernel.KvHeads, D17_H4_Kv4_NoneKernel.Mask, D17_H4_Kv4_NoneKernel.Window, D17_H4_Kv4_NoneKernel.Scale, D17_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D17_H4_Kv4_None(q, k, v, o), D17_H4_Kv4_NoneKernel.Cost),
        new(nameof(D17_H4_Kv2_Causal), D17_H4_Kv2_CausalKernel.HeadDim, D17_H4_Kv2_CausalKernel.Heads, D17_H4_Kv2_CausalKernel.KvHeads, D17_H4_Kv2_CausalKernel.Mask, D17_H4_Kv2_CausalKernel.Window, D17_H4_Kv2_CausalKernel.Scale, D17_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D17_H4_Kv2_Causal(q, k, v, o), D17_H4_Kv2_CausalKernel.Cost),
        new(nameof(D17_H6_Kv3_SlidingWindow18), D17_H6_Kv3_SlidingWindow18Kernel.HeadDim, D17_H6_Kv3_SlidingWindow18Kernel.Heads, D17_H6_Kv3_SlidingWindow18Kernel.KvHeads, D17_H6_Kv3_SlidingWindow18Kernel.Mask, D17_H6_Kv3_SlidingWindow18Kernel.Window, D17_H6_Kv3_SlidingWindow18Kernel.Scale, D17_H6_Kv3_SlidingWindow18Kernel.Layout, false, (q, k, v, o, _) => D17_H6_Kv3_SlidingWindow18(q, k, v, o), D17_H6_Kv3_SlidingWindow18Kernel.Cost),
        new(nameof(D32_H4_Kv4_None), D32_H4_Kv4_NoneKernel.HeadDim, D32_H4_Kv4_NoneKernel.Heads, D32_H4_Kv4_NoneKernel.KvHeads, D32_H4_Kv4_NoneKernel.Mask, D32_H4_Kv4_NoneKernel.Window, D32_H4_Kv4_NoneKernel.Scale, D32_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D32_H4_Kv4_None(q, k, v, o), D32_H4_Kv4_NoneKernel.Cost),
        new(nameof(D32_H4_Kv2_Causal), D32_H4_Kv2_CausalKernel.HeadDim, D32_H4_Kv2_CausalKernel.Heads, D32_H4_Kv2_CausalKernel.KvHeads, D32_H4_Kv2_CausalKernel.Mask, D32_H4_Kv2_CausalKernel.Window, D32_H4_Kv2_CausalKernel.Scale, D32_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D32_H4_Kv2_Causal(q, k, v, o), D32_H4_Kv2_CausalKernel.Cost),
        new(nameof(D32_H6_Kv3_SlidingWindow33), D32_H6_Kv3_SlidingWindow33Kernel.HeadDim, D32_H6_Kv3_SlidingWindow33Kernel.Heads, D32_H6_Kv3_SlidingWindow33Kernel.KvHeads, D32_H6_Kv3_SlidingWindow33Kernel.Mask, D32_H6_Kv3_SlidingWindow33Kernel.Window, D32_H6_Kv3_SlidingWindow33Kernel.Scale, D32_H6_Kv3_SlidingWindow33Kernel.Layout, false, (q, k, v, o, _) => D32_H6_Kv3_SlidingWindow33(q, k, v, o), D32_H6_Kv3_SlidingWindow33Kernel.Cost),
        new(nameof(D48_H4_Kv4_None), D48_H4_Kv4_NoneKernel.HeadDim, D48_H4_Kv4_NoneKernel.Heads, D48_H4_Kv4_NoneKernel.KvHeads, D48_H4_Kv4_NoneKernel.Mask, D48_H4_Kv4_NoneKernel.Window, D48_H4_Kv4_NoneKernel.Scale, D48_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D48_H4_Kv4_None(q, k, v, o), D48_H4_Kv4_NoneKernel.Cost),
        new(nameof(D48_H4_Kv2_Causal), D48_H4_Kv2_CausalKernel.HeadDim, D48_H4_Kv2_CausalKernel.Heads, D48_H4_Kv2_CausalKernel.KvHeads, D48_H4_Kv2_CausalKernel.Mask, D48_H4_Kv2_CausalKernel.Window, D48_H4_Kv2_CausalKernel.Scale, D48_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D48_H4_Kv2_Causal(q, k, v, o), D48_H4_Kv2_CausalKernel.Cost),
        new(nameof(D48_H6_Kv3_SlidingWindow12), D48_H6_Kv3_SlidingWindow12Kernel.HeadDim, D48_H6_Kv3_SlidingWindow12Kernel.Heads, D48_H6_Kv3_SlidingWindow12Kernel.KvHeads, D48_H6_Kv3_SlidingWindow12Kernel.Mask, D48_H6_Kv3_SlidingWindow12Kernel.Window, D48_H6_Kv3_SlidingWindow12Kernel.Scale, D48_H6_Kv3_SlidingWindow12Kernel.Layout, false, (q, k, v, o, _) => D48_H6_Kv3_SlidingWindow12(q, k, v, o), D48_H6_Kv3_SlidingWindow12Kernel.Cost),
        new(nameof(D64_H4_Kv4_None), D64_H4_Kv4_NoneKernel.HeadDim, D64_H4_Kv4_NoneKernel.Heads, D64_H4_Kv4_NoneKernel.KvHeads, D64_H4_Kv4_NoneKernel.Mask, D64_H4_Kv4_NoneKernel.Window, D64_H4_Kv4_NoneKernel.Scale, D64_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D64_H4_Kv4_None(q, k, v, o), D64_H4_Kv4_NoneKernel.Cost),
        new(nameof(D64_H4_Kv2_Causal), D64_H4_Kv2_CausalKernel.HeadDim, D64_H4_Kv2_CausalKernel.Heads, D64_H4_Kv2_CausalKernel.KvHeads, D64_H4_Kv2_CausalKernel.Mask, D64_H4_Kv2_CausalKernel.Window, D64_H4_Kv2_CausalKernel.Scale, D64_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D64_H4_Kv2_Causal(q, k, v, o), D64_H4_Kv2_CausalKernel.Cost),
        new(nameof(D64_H6_Kv3_SlidingWindow28), D64_H6_Kv3_SlidingWindow28Kernel.HeadDim, D64_H6_Kv3_SlidingWindow28Kernel.Heads, D64_H6_Kv3_SlidingWindow28Kernel.KvHeads, D64_H6_Kv3_SlidingWindow28Kernel.Mask, D64_H6_Kv3_SlidingWindow28Kernel.Window, D64_H6_Kv3_SlidingWindow28Kernel.Scale, D64_H6_Kv3_SlidingWindow28Kernel.Layout, false, (q, k, v, o, _) => D64_H6_Kv3_SlidingWindow28(q, k, v, o), D64_H6_Kv3_SlidingWindow28Kernel.Cost),
        new(nameof(D80_H4_Kv4_None), D80_H4_Kv4_NoneKernel.HeadDim, D80_H4_Kv4_NoneKernel.Heads, D80_H4_Kv4_NoneKernel.KvHeads, D80_H4_Kv4_NoneKernel.Mask, D80_H4_Kv4_NoneKernel.Window, D80_H4_Kv4_NoneKernel.Scale, D80_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D80_H4_Kv4_None(q, k, v, o), D80_H4_Kv4_NoneKernel.Cost),
        new(nameof(D80_H4_Kv2_Causal), D80_H4_Kv2_CausalKernel.HeadDim, D80_H4_Kv2_CausalKernel.Heads, D80_H4_Kv2_CausalKernel.KvHeads, D80_H4_Kv2_CausalKernel.Mask, D80_H4_Kv2_CausalKernel.Window, D80_H4_Kv2_CausalKernel.Scale, D80_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D80_H4_Kv2_Causal(q, k, v, o), D80_H4_Kv2_CausalKernel.Cost),
        new(nameof(D80_H6_Kv3_SlidingWindow7), D80_H6_Kv3_SlidingWindow7Kernel.HeadDim, D80_H6_Kv3_SlidingWindow7Kernel.Heads, D80_H6_Kv3_SlidingWindow7Kernel.KvHeads, D80_H6_Kv3_SlidingWindow7Kernel.Mask, D80_H6_Kv3_SlidingWindow7Kernel.Window, D80_H6_Kv3_SlidingWindow7Kernel.Scale, D80_H6_Kv3_SlidingWindow7Kernel.Layout, false, (q, k, v, o, _) => D80_H6_Kv3_SlidingWindow7(q, k, v, o), D80_H6_Kv3_SlidingWindow7Kernel.Cost),
        new(nameof(D96_H4_Kv4_None), D96_H4_Kv4_NoneKernel.HeadDim, D96_H4_Kv4_NoneKernel.Heads, D96_H4_Kv4_NoneKernel.KvHeads, D96_H4_Kv4_NoneKernel.Mask, D96_H4_Kv4_NoneKernel.Window, D96_H4_Kv4_NoneKernel.Scale, D96_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D96_H4_Kv4_None(q, k, v, o), D96_H4_Kv4_NoneKernel.Cost),
        new(nameof(D96_H4_Kv2_Causal), D96_H4_Kv2_CausalKernel.HeadDim, D96_H4_Kv2_CausalKernel.Heads, D96_H4_Kv2_CausalKernel.KvHeads, D96_H4_Kv2_CausalKernel.Mask, D96_H4_Kv2_CausalKernel.Window, D96_H4_Kv2_CausalKernel.Scale, D96_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D96_H4_Kv2_Causal(q, k, v, o), D96_H4_Kv2_CausalKernel.Cost),
        new(nameof(D96_H6_Kv3_SlidingWindow23), D96_H6_Kv3_SlidingWindow23Kernel.HeadDim, D96_H6_Kv3_SlidingWindow23Kernel.Heads, D96_H6_Kv3_SlidingWindow23Kernel.KvHeads, D96_H6_Kv3_SlidingWindow23Kernel.Mask, D96_H6_Kv3_SlidingWindow23Kernel.Window, D96_H6_Kv3_SlidingWindow23Kernel.Scale, D96_H6_Kv3_SlidingWindow23Kernel.Layout, false, (q, k, v, o, _) => D96_H6_Kv3_SlidingWindow23(q, k, v, o), D96_H6_Kv3_SlidingWindow23Kernel.Cost),
        new(nameof(D128_H4_Kv4_None), D128_H4_Kv4_NoneKernel.HeadDim, D128_H4_Kv4_NoneKernel.Heads, D128_H4_Kv4_NoneKernel.KvHeads, D128_H4_Kv4_NoneKernel.Mask, D128_H4_Kv4_NoneKernel.Window, D128_H4_Kv4_NoneKernel.Scale, D128_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D128_H4_Kv4_None(q, k, v, o), D128_H4_Kv4_NoneKernel.Cost),
        new(nameof(D128_H4_Kv2_Causal), D128_H4_Kv2_CausalKernel.HeadDim, D128_H4_Kv2_CausalKernel.Heads, D128_H4_Kv2_CausalKernel.KvHeads, D128_H4_Kv2_CausalKernel.Mask, D128_H4_Kv2_CausalKernel.Window, D128_H4_Kv2_CausalKernel.Scale, D128_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D128_H4_Kv2_Causal(q, k, v, o), D128_H4_Kv2_CausalKernel.Cost),
        new(nameof(D128_H6_Kv3_SlidingWindow18), D128_H6_Kv3_SlidingWindow18Kernel.HeadDim, D128_H6_Kv3_SlidingWindow18Kernel.Heads, D128_H6_Kv3_SlidingWindow18Kernel.KvHeads, D128_H6_Kv3_SlidingWindow18Kernel.Mask, D128_H6_Kv3_SlidingWindow18Kernel.Window, D128_H6_Kv3_SlidingWindow18Kernel.Scale, D128_H6_Kv3_SlidingWindow18Kernel.Layout, false, (q, k, v, o, _) => D128_H6_Kv3_SlidingWindow18(q, k, v, o), D128_H6_Kv3_SlidingWindow18Kernel.Cost),
        new(nameof(D160_H4_Kv4_None), D160_H4_Kv4_NoneKernel.HeadDim, D160_H4_Kv4_NoneKernel.Heads, D160_H4_Kv4_NoneKernel.KvHeads, D160_H4_Kv4_NoneKernel.Mask, D160_H4_Kv4_NoneKernel.Window, D160_H4_Kv4_NoneKernel.Scale, D160_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D160_H4_Kv4_None(q, k, v, o), D160_H4_Kv4_NoneKernel.Cost),
        new(nameof(D160_H4_Kv2_Causal), D160_H4_Kv2_CausalKernel.HeadDim, D160_H4_Kv2_CausalKernel.Heads, D160_H4_Kv2_CausalKernel.KvHeads, D160_H4_Kv2_CausalKernel.Mask, D160_H4_Kv2_CausalKernel.Window, D160_H4_Kv2_CausalKernel.Scale, D160_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D160_H4_Kv2_Causal(q, k, v, o), D160_H4_Kv2_CausalKernel.Cost),
        new(nameof(D160_H6_Kv3_SlidingWindow13), D160_H6_Kv3_SlidingWindow13Kernel.HeadDim, D160_H6_Kv3_SlidingWindow13Kernel.Heads, D160_H6_Kv3_SlidingWindow13Kernel.KvHeads, D160_H6_Kv3_SlidingWindow13Kernel.Mask, D160_H6_Kv3_SlidingWindow13Kernel.Window, D160_H6_Kv3_SlidingWindow13Kernel.Scale, D160_H6_Kv3_SlidingWindow13Kernel.Layout, false, (q, k, v, o, _) => D160_H6_Kv3_SlidingWindow13(q, k, v, o), D160_H6_Kv3_SlidingWindow13Kernel.Cost),
        new(nameof(D256_H4_Kv4_None), D256_H4_Kv4_NoneKernel.HeadDim, D256_H4_Kv4_NoneKernel.Heads, D256_H4_Kv4_NoneKernel.KvHeads, D256_H4_Kv4_NoneKernel.Mask, D256_H4_Kv4_NoneKernel.Window, D256_H4_Kv4_NoneKernel.Scale, D256_H4_Kv4_NoneKernel.Layout, false, (q, k, v, o, _) => D256_H4_Kv4_None(q, k, v, o), D256_H4_Kv4_NoneKernel.Cost),
        new(nameof(D256_H4_Kv2_Causal), D256_H4_Kv2_CausalKernel.HeadDim, D256_H4_Kv2_CausalKernel.Heads, D256_H4_Kv2_CausalKernel.KvHeads, D256_H4_Kv2_CausalKernel.Mask, D256_H4_Kv2_CausalKernel.Window, D256_H4_Kv2_CausalKernel.Scale, D256_H4_Kv2_CausalKernel.Layout, false, (q, k, v, o, _) => D256_H4_Kv2_Causal(q, k, v, o), D256_H4_Kv2_CausalKernel.Cost),
        new(nameof(D256_H6_Kv3_SlidingWindow35), D256_H6_Kv3_SlidingWindow35Kernel.HeadDim, D256_H6_Kv3_SlidingWindow35Kernel.Heads, D256_H6_Kv3_SlidingWindow35Kernel.KvHeads, D256_H6_Kv3_SlidingWindow35Kernel.Mask, D256_H6_Kv3_SlidingWindow35Kernel.Window, D256_H6_Kv3_SlidingWindow35Kernel.Scale, D256_H6_Kv3_SlidingWindow35Kernel.Layout, false, (q, k, v, o, _) => D256_H6_Kv3_SlidingWindow35(q, k, v, o), D256_H6_Kv3_SlidingWindow35Kernel.Cost),
        new(nameof(D16_H8_Kv1_Causal_Lse), D16_H8_Kv1_Causal_LseKernel.HeadDim, D16_H8_Kv1_Causal_LseKernel.Heads, D16_H8_Kv1_Causal_LseKernel.KvHeads, D16_H8_Kv1_Causal_LseKernel.Mask, D16_H8_Kv1_Causal_LseKernel.Window, D16_H8_Kv1_Causal_LseKernel.Scale, D16_H8_Kv1_Causal_LseKernel.Layout, true, (q, k, v, o, l) => D16_H8_Kv1_Causal_Lse(q, k, v, o, l!), D16_H8_Kv1_Causal_LseKernel.Cost),
        new(nameof(D16_H8_Kv2_None_BHTD_Lse), D16_H8_Kv2_None_BHTD_LseKernel.HeadDim, D16_H8_Kv2_None_BHTD_LseKernel.Heads, D16_H8_Kv2_None_BHTD_LseKernel.KvHeads, D16_H8_Kv2_None_BHTD_LseKernel.Mask, D16_H8_Kv2_None_BHTD_LseKernel.Window, D16_H8_Kv2_None_BHTD_LseKernel.Scale, D16_H8_Kv2_None_BHTD_LseKernel.Layout, true, (q, k, v, o, l) => D16_H8_Kv2_None_BHTD_Lse(q, k, v, o, l!), D16_H8_Kv2_None_BHTD_LseKernel.Cost),
        new(nameof(D16_H4_Kv4_SlidingWindow64_BHTD), D16_H4_Kv4_SlidingWindow64_BHTDKernel.HeadDim, D16_H4_Kv4_SlidingWindow64_BHTDKernel.Heads, D16_H4_Kv4_SlidingWindow64_BHTDKernel.KvHeads, D16_H4_Kv4_SlidingWindow64_BHTDKernel.Mask, D16_H4_Kv4_SlidingWindow64_BHTDKernel.Window, D16_H4_Kv4_SlidingWindow64_BHTDKernel.Scale, D16_H4_Kv4_SlidingWindow64_BHTDKernel.Layout, false, (q, k, v, o, _) => D16_H4_Kv4_SlidingWindow64_BHTD(q, k, v, o), D16_H4_Kv4_SlidingWindow64_BHTDKernel.Cost),
        new(nameof(D64_H8_Kv1_Causal_Lse), D64_H8_Kv1_Causal_LseKernel.HeadDim, D64_H8_Kv1_Causal_LseKernel.Heads, D64_H8_Kv1_Causal_LseKernel.KvHeads, D64_H8_Kv1_Causal_LseKernel.Mask, D64_H8_Kv1_Causal_LseKernel.Window, D64_H8_Kv1_Causal_LseKernel.Scale, D64_H8_Kv1_Causal_LseKernel.Layout, true, (q, k, v, o, l) => D64_H8_Kv1_Causal_Lse(q, k, v, o, l!), D64_H8_Kv1_Causal_LseKernel.Cost),
        new(nameof(D64_H8_Kv2_None_BHTD_Lse), D64_H8_Kv2_None_BHTD_LseKernel.HeadDim, D64_H8_Kv2_None_BHTD_LseKernel.Heads, D64_H8_Kv2_None_BHTD_LseKernel.KvHeads, D64_H8_Kv2_None_BHTD_LseKernel.Mask, D64_H8_Kv2_None_BHTD_LseKernel.Window, D64_H8_Kv2_None_BHTD_LseKernel.Scale, D64_H8_Kv2_None_BHTD_LseKernel.Layout, true, (q, k, v, o, l) => D64_H8_Kv2_None_BHTD_Lse(q, k, v, o, l!), D64_H8_Kv2_None_BHTD_LseKernel.Cost),
        new(nameof(D64_H4_Kv4_SlidingWindow64_BHTD), D64_H4_Kv4_SlidingWindow64_BHTDKernel.HeadDim, D64_H4_Kv4_SlidingWindow64_BHTDKernel.Heads, D64_H4_Kv4_SlidingWindow64_BHTDKernel.KvHeads, D64_H4_Kv4_SlidingWindow64_BHTDKernel.Mask, D64_H4_Kv4_SlidingWindow64_BHTDKernel.Window, D64_H4_Kv4_SlidingWindow64_BHTDKernel.Scale, D64_H4_Kv4_SlidingWindow64_BHTDKernel.Layout, false, (q, k, v, o, _) => D64_H4_Kv4_SlidingWindow64_BHTD(q, k, v, o), D64_H4_Kv4_SlidingWindow64_BHTDKernel.Cost),
        new(nameof(D33_H8_Kv1_Causal_Lse), D33_H8_Kv1_Causal_LseKernel.HeadDim, D33_H8_Kv1_Causal_LseKernel.Heads, D33_H8_Kv1_Causal_LseKernel.KvHeads, D33_H8_Kv1_Causal_LseKernel.Mask, D33_H8_Kv1_Causal_LseKernel.Window, D33_H8_Kv1_Causal_LseKernel.Scale, D33_H8_Kv1_Causal_LseKernel.Layout, true, (q, k, v, o, l) => D33_H8_Kv1_Causal_Lse(q, k, v, o, l!), D33_H8_Kv1_Causal_LseKernel.Cost),
        new(nameof(D33_H8_Kv2_None_BHTD_Lse), D33_H8_Kv2_None_BHTD_LseKernel.HeadDim, D33_H8_Kv2_None_BHTD_LseKernel.Heads, D33_H8_Kv2_None_BHTD_LseKernel.KvHeads, D33_H8_Kv2_None_BHTD_LseKernel.Mask, D33_H8_Kv2_None_BHTD_LseKernel.Window, D33_H8_Kv2_None_BHTD_LseKernel.Scale, D33_H8_Kv2_None_BHTD_LseKernel.Layout, true, (q, k, v, o, l) => D33_H8_Kv2_None_BHTD_Lse(q, k, v, o, l!), D33_H8_Kv2_None_BHTD_LseKernel.Cost),
        new(nameof(D33_H4_Kv4_SlidingWindow64_BHTD), D33_H4_Kv4_SlidingWindow64_BHTDKernel.HeadDim, D33_H4_Kv4_SlidingWindow64_BHTDKernel.Heads, D33_H4_Kv4_SlidingWindow64_BHTDKernel.KvHeads, D33_H4_Kv4_SlidingWindow64_BHTDKernel.Mask, D33_H4_Kv4_SlidingWindow64_BHTDKernel.Window, D33_H4_Kv4_SlidingWindow64_BHTDKernel.Scale, D33_H4_Kv4_SlidingWindow64_BHTDKernel.Layout, false, (q, k, v, o, _) => D33_H4_Kv4_SlidingWindow64_BHTD(q, k, v, o), D33_H4_Kv4_SlidingWindow64_BHTDKernel.Cost),
        new(nameof(D64_H8_Kv8_None_S), D64_H8_Kv8_None_SKernel.HeadDim, D64_H8_Kv8_None_SKernel.Heads, D64_H8_Kv8_None_SKernel.KvHeads, D64_H8_Kv8_None_SKernel.Mask, D64_H8_Kv8_None_SKernel.Window, D64_H8_Kv8_None_SKernel.Scale, D64_H8_Kv8_None_SKernel.Layout, false, (q, k, v, o, _) => D64_H8_Kv8_None_S(q, k, v, o), D64_H8_Kv8_None_SKernel.Cost),
        new(nameof(D64_H8_Kv4_Causal_Lse_S), D64_H8_Kv4_Causal_Lse_SKernel.HeadDim, D64_H8_Kv4_Causal_Lse_SKernel.Heads, D64_H8_Kv4_Causal_Lse_SKernel.KvHeads, D64_H8_Kv4_Causal_Lse_SKernel.Mask, D64_H8_Kv4_Causal_Lse_SKernel.Window, D64_H8_Kv4_Causal_Lse_SKernel.Scale, D64_H8_Kv4_Causal_Lse_SKernel.Layout, true, (q, k, v, o, l) => D64_H8_Kv4_Causal_Lse_S(q, k, v, o, l!), D64_H8_Kv4_Causal_Lse_SKernel.Cost),
        new(nameof(D128_H2_Kv2_SlidingWindow200_Lse), D128_H2_Kv2_SlidingWindow200_LseKernel.HeadDim, D128_H2_Kv2_SlidingWindow200_LseKernel.Heads, D128_H2_Kv2_SlidingWindow200_LseKernel.KvHeads, D128_H2_Kv2_SlidingWindow200_LseKernel.Mask, D128_H2_Kv2_SlidingWindow200_LseKernel.Window, D128_H2_Kv2_SlidingWindow200_LseKernel.Scale, D128_H2_Kv2_SlidingWindow200_LseKernel.Layout, true, (q, k, v, o, l) => D128_H2_Kv2_SlidingWindow200_Lse(q, k, v, o, l!), D128_H2_Kv2_SlidingWindow200_LseKernel.Cost),
        new(nameof(D1_H4_Kv2_CausalTopLeft), D1_H4_Kv2_CausalTopLeftKernel.HeadDim, D1_H4_Kv2_CausalTopLeftKernel.Heads, D1_H4_Kv2_CausalTopLeftKernel.KvHeads, D1_H4_Kv2_CausalTopLeftKernel.Mask, D1_H4_Kv2_CausalTopLeftKernel.Window, D1_H4_Kv2_CausalTopLeftKernel.Scale, D1_H4_Kv2_CausalTopLeftKernel.Layout, false, (q, k, v, o, _) => D1_H4_Kv2_CausalTopLeft(q, k, v, o), D1_H4_Kv2_CausalTopLeftKernel.Cost),
        new(nameof(D3_H6_Kv3_CausalTopLeft), D3_H6_Kv3_CausalTopLeftKernel.HeadDim, D3_H6_Kv3_CausalTopLeftKernel.Heads, D3_H6_Kv3_CausalTopLeftKernel.KvHeads, D3_H6_Kv3_CausalTopLeftKernel.Mask, D3_H6_Kv3_CausalTopLeftKernel.Window, D3_H6_Kv3_CausalTopLeftKernel.Scale, D3_H6_Kv3_CausalTopLeftKernel.Layout, false, (q, k, v, o, _) => D3_H6_Kv3_CausalTopLeft(q, k, v, o), D3_H6_Kv3_CausalTopLeftKernel.Cost),
        new(nameof(D17_H4_Kv2_CausalTopLeft), D17_H4_Kv2_CausalTopLeftKernel.HeadDim, D17_H4_Kv2_CausalTopLeftKernel.Heads, D17_H4_Kv2_CausalTopLeftKernel.KvHeads, D17_H4_Kv2_CausalTopLeftKernel.Mask, D17_H4_Kv2_CausalTopLeftKernel.Window, D17_H4_Kv2_CausalTopLeftKernel.Scale, D17_H4_Kv2_CausalTopLeftKernel.Layout, false, (q, k, v, o, _) => D17_H4_Kv2_CausalTopLeft(q, k, v, o), D17_H4_Kv2_CausalTopLeftKernel.Cost),
        new(nameof(D33_H8_Kv1_CausalTopLeft_Lse), D33_H8_Kv1_CausalTopLeft_LseKernel.HeadDim, D33_H8_Kv1_CausalTopLeft_LseKernel.Heads, D33_H8_Kv1_CausalTopLeft_LseKernel.KvHeads, D33_H8_Kv1_CausalTopLeft_LseKernel.Mask, D33_H8_Kv1_CausalTopLeft_LseKernel.Window, D33_H8_Kv1_CausalTopLeft_LseKernel.Scale, D33_H8_Kv1_CausalTopLeft_LseKernel.Layout, true, (q, k, v, o, l) => D33_H8_Kv1_CausalTopLeft_Lse(q, k, v, o, l!), D33_H8_Kv1_CausalTopLeft_LseKernel.Cost),
        new(nameof(D64_H4_Kv2_CausalTopLeft_BHTD), D64_H4_Kv2_CausalTopLeft_BHTDKernel.HeadDim, D64_H4_Kv2_CausalTopLeft_BHTDKernel.Heads, D64_H4_Kv2_CausalTopLeft_BHTDKernel.KvHeads, D64_H4_Kv2_CausalTopLeft_BHTDKernel.Mask, D64_H4_Kv2_CausalTopLeft_BHTDKernel.Window, D64_H4_Kv2_CausalTopLeft_BHTDKernel.Scale, D64_H4_Kv2_CausalTopLeft_BHTDKernel.Layout, false, (q, k, v, o, _) => D64_H4_Kv2_CausalTopLeft_BHTD(q, k, v, o), D64_H4_Kv2_CausalTopLeft_BHTDKernel.Cost),
        new(nameof(D64_H8_Kv2_CausalTopLeft_Lse), D64_H8_Kv2_CausalTopLeft_LseKernel.HeadDim, D64_H8_Kv2_CausalTopLeft_LseKernel.Heads, D64_H8_Kv2_CausalTopLeft_LseKernel.KvHeads, D64_H8_Kv2_CausalTopLeft_LseKernel.Mask, D64_H8_Kv2_CausalTopLeft_LseKernel.Window, D64_H8_Kv2_CausalTopLeft_LseKernel.Scale, D64_H8_Kv2_CausalTopLeft_LseKernel.Layout, true, (q, k, v, o, l) => D64_H8_Kv2_CausalTopLeft_Lse(q, k, v, o, l!), D64_H8_Kv2_CausalTopLeft_LseKernel.Cost),
        new(nameof(D80_H6_Kv3_CausalTopLeft_BHTD_Lse), D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.HeadDim, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Heads, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.KvHeads, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Mask, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Window, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Scale, D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Layout, true, (q, k, v, o, l) => D80_H6_Kv3_CausalTopLeft_BHTD_Lse(q, k, v, o, l!), D80_H6_Kv3_CausalTopLeft_BHTD_LseKernel.Cost),
        new(nameof(D256_H4_Kv2_CausalTopLeft), D256_H4_Kv2_CausalTopLeftKernel.HeadDim, D256_H4_Kv2_CausalTopLeftKernel.Heads, D256_H4_Kv2_CausalTopLeftKernel.KvHeads, D256_H4_Kv2_CausalTopLeftKernel.Mask, D256_H4_Kv2_CausalTopLeftKernel.Window, D256_H4_Kv2_CausalTopLeftKernel.Scale, D256_H4_Kv2_CausalTopLeftKernel.Layout, false, (q, k, v, o, _) => D256_H4_Kv2_CausalTopLeft(q, k, v, o), D256_H4_Kv2_CausalTopLeftKernel.Cost),
    ];
}
