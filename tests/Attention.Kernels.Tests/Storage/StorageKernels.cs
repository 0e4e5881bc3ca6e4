namespace Attention.Kernels.Tests.Storage;

/// <summary>Kernels declared over fp16 and bf16 storage: both layouts, every mask kind, GQA, odd head dims, with and without log-sum-exp.</summary>
public static partial class StorageKernels
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void Half_D64_H8_Kv2_Causal_Lse(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 17, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 18, Layout = TensorLayout.BHTD)]
    public static partial void Half_D17_H4_Kv4_SlidingWindow18_BHTD(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 128, Heads = 2, KvHeads = 1, Mask = AttentionMask.None)]
    public static partial void Half_D128_H2_Kv1_None(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 6, KvHeads = 3, Mask = AttentionMask.None)]
    public static partial void BF16_D32_H6_Kv3_None(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    [ScaledDotProductAttention(HeadDim = 80, Heads = 4, KvHeads = 1, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD)]
    public static partial void BF16_D80_H4_Kv1_Causal_BHTD_Lse(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 3, Heads = 4, KvHeads = 2, Mask = AttentionMask.SlidingWindow, Window = 5)]
    public static partial void BF16_D3_H4_Kv2_SlidingWindow5(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    // D160 bf16: the decode row's fp32 P·V register block of 8 vectors does not apply, its 16-bit pairs do (5 pairs of 512-bit
    // vectors, 10 of 256-bit); 5 heads: a group of 4 and one alone.
    [ScaledDotProductAttention(HeadDim = 160, Heads = 5, KvHeads = 5, Mask = AttentionMask.None)]
    public static partial void BF16_D160_H5_Kv5_None(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    // D56 bf16, 4 query heads per K/V head (BTHD): decode rows load each K row once for the four (DotLanesShared), over
    // 16-bit pairs (32 dims with 512-bit vectors), one plain vector (16) and a scalar tail (8).
    [ScaledDotProductAttention(HeadDim = 56, Heads = 8, KvHeads = 2, Mask = AttentionMask.None)]
    public static partial void BF16_D56_H8_Kv2_None(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>Every kernel above, with its constants read back from the generated class.</summary>
    public static readonly StorageKernelCase[] All =
    [
        StorageKernelCase.Half(nameof(Half_D64_H8_Kv2_Causal_Lse), Half_D64_H8_Kv2_Causal_LseKernel.HeadDim, Half_D64_H8_Kv2_Causal_LseKernel.Heads,
            Half_D64_H8_Kv2_Causal_LseKernel.KvHeads, Half_D64_H8_Kv2_Causal_LseKernel.Mask, Half_D64_H8_Kv2_Causal_LseKernel.Window,
            Half_D64_H8_Kv2_Causal_LseKernel.Scale, Half_D64_H8_Kv2_Causal_LseKernel.Layout, true, (q, k, v, o, l) => Half_D64_H8_Kv2_Causal_Lse(q, k, v, o, l!)),
        StorageKernelCase.Half(nameof(Half_D17_H4_Kv4_SlidingWindow18_BHTD), Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.HeadDim, Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.Heads,
            Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.KvHeads, Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.Mask, Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.Window,
            Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.Scale, Half_D17_H4_Kv4_SlidingWindow18_BHTDKernel.Layout, false, (q, k, v, o, _) => Half_D17_H4_Kv4_SlidingWindow18_BHTD(q, k, v, o)),
        StorageKernelCase.Half(nameof(Half_D128_H2_Kv1_None), Half_D128_H2_Kv1_NoneKernel.HeadDim, Half_D128_H2_Kv1_NoneKernel.Heads,
            Half_D128_H2_Kv1_NoneKernel.KvHeads, Half_D128_H2_Kv1_NoneKernel.Mask, Half_D128_H2_Kv1_NoneKernel.Window,
            Half_D128_H2_Kv1_NoneKernel.Scale, Half_D128_H2_Kv1_NoneKernel.Layout, false, (q, k, v, o, _) => Half_D128_H2_Kv1_None(q, k, v, o)),
        StorageKernelCase.BFloat16(nameof(BF16_D32_H6_Kv3_None), BF16_D32_H6_Kv3_NoneKernel.HeadDim, BF16_D32_H6_Kv3_NoneKernel.Heads,
            BF16_D32_H6_Kv3_NoneKernel.KvHeads, BF16_D32_H6_Kv3_NoneKernel.Mask, BF16_D32_H6_Kv3_NoneKernel.Window,
            BF16_D32_H6_Kv3_NoneKernel.Scale, BF16_D32_H6_Kv3_NoneKernel.Layout, false, (q, k, v, o, _) => BF16_D32_H6_Kv3_None(q, k, v, o)),
        StorageKernelCase.BFloat16(nameof(BF16_D80_H4_Kv1_Causal_BHTD_Lse), BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.HeadDim, BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Heads,
            BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.KvHeads, BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Mask, BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Window,
            BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Scale, BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Layout, true, (q, k, v, o, l) => BF16_D80_H4_Kv1_Causal_BHTD_Lse(q, k, v, o, l!)),
        StorageKernelCase.BFloat16(nameof(BF16_D3_H4_Kv2_SlidingWindow5), BF16_D3_H4_Kv2_SlidingWindow5Kernel.HeadDim, BF16_D3_H4_Kv2_SlidingWindow5Kernel.Heads,
            BF16_D3_H4_Kv2_SlidingWindow5Kernel.KvHeads, BF16_D3_H4_Kv2_SlidingWindow5Kernel.Mask, BF16_D3_H4_Kv2_SlidingWindow5Kernel.Window,
            BF16_D3_H4_Kv2_SlidingWindow5Kernel.Scale, BF16_D3_H4_Kv2_SlidingWindow5Kernel.Layout, false, (q, k, v, o, _) => BF16_D3_H4_Kv2_SlidingWindow5(q, k, v, o)),
        StorageKernelCase.BFloat16(nameof(BF16_D160_H5_Kv5_None), BF16_D160_H5_Kv5_NoneKernel.HeadDim, BF16_D160_H5_Kv5_NoneKernel.Heads,
            BF16_D160_H5_Kv5_NoneKernel.KvHeads, BF16_D160_H5_Kv5_NoneKernel.Mask, BF16_D160_H5_Kv5_NoneKernel.Window,
            BF16_D160_H5_Kv5_NoneKernel.Scale, BF16_D160_H5_Kv5_NoneKernel.Layout, false, (q, k, v, o, _) => BF16_D160_H5_Kv5_None(q, k, v, o)),
        StorageKernelCase.BFloat16(nameof(BF16_D56_H8_Kv2_None), BF16_D56_H8_Kv2_NoneKernel.HeadDim, BF16_D56_H8_Kv2_NoneKernel.Heads,
            BF16_D56_H8_Kv2_NoneKernel.KvHeads, BF16_D56_H8_Kv2_NoneKernel.Mask, BF16_D56_H8_Kv2_NoneKernel.Window,
            BF16_D56_H8_Kv2_NoneKernel.Scale, BF16_D56_H8_Kv2_NoneKernel.Layout, false, (q, k, v, o, _) => BF16_D56_H8_Kv2_None(q, k, v, o)),
    ];
}
