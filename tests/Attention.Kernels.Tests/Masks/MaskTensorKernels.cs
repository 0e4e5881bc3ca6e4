namespace Attention.Kernels.Tests.Masks;

/// <summary>Runs a kernel with an attnMask: (q, k, v, output, logSumExp or null, the boolean or additive mask, keyLengths or null).</summary>
public delegate void MaskedRunner(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float>? logSumExp,
    Tensor<bool>? booleanMask, Tensor<float>? additiveMask, Tensor<int>? keyLengths);

/// <summary>A declaration with an attnMask (and perhaps keyLengths); <see cref="KernelCase.Run"/> is unused: see <see cref="Run"/>.</summary>
public sealed record MaskedCase(KernelCase Kernel, bool Boolean, bool HasKeyLengths, MaskedRunner Run)
{
    public override string ToString() => Kernel.Name;
}

/// <summary>Declarations with PyTorch's attn_mask (docs/kernels/masks.md, "Mask tensors"): boolean and additive, with every mask kind.</summary>
public static partial class MaskTensorKernels
{
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2)]
    public static partial void BooleanNone(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<bool> attnMask);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 2, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD)]
    public static partial void BooleanCausalBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<bool> attnMask);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 3, KvHeads = 1, Mask = AttentionMask.CausalTopLeft)]
    public static partial void AdditiveTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> attnMask);

    // Additive after the score modifier: s' = SoftCap(s) + mask.
    [ScaledDotProductAttention(HeadDim = 24, Heads = 2, Mask = AttentionMask.SlidingWindow, Window = 13, ScoreMod = nameof(SoftCap))]
    public static partial void AdditiveWindowSoftCap(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<float> attnMask);

    // Key padding AND a boolean mask AND a mask modifier.
    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, MaskMod = nameof(NotSeventh))]
    public static partial void BooleanPaddedMaskMod(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> keyLengths, Tensor<bool> attnMask);

    private static float SoftCap(float score, int batch, int head, int query, int key) => 2.5f * MathF.Tanh(score / 2.5f);

    private static bool NotSeventh(int batch, int head, int query, int key) => key % 7 != 3;

    private static MaskedCase Case(string name, int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale, TensorLayout layout,
        bool hasLse, bool boolean, bool hasKeyLengths, MaskedRunner run, Func<int, int, int, KernelCost> cost,
        Reference.ScoreModFunction? scoreMod = null, Reference.MaskModFunction? maskMod = null) =>
        new(new KernelCase(name, headDim, heads, kvHeads, mask, window, scale, layout, hasLse,
            (_, _, _, _, _) => throw new InvalidOperationException("a masked kernel runs through MaskedCase.Run"), cost)
        { ScoreMod = scoreMod, MaskMod = maskMod }, boolean, hasKeyLengths, run);

    /// <summary>Every kernel above.</summary>
    public static readonly MaskedCase[] All =
    [
        Case(nameof(BooleanNone), BooleanNoneKernel.HeadDim, BooleanNoneKernel.Heads, BooleanNoneKernel.KvHeads, BooleanNoneKernel.Mask, BooleanNoneKernel.Window,
            BooleanNoneKernel.Scale, BooleanNoneKernel.Layout, true, true, false, (q, k, v, o, l, b, _, _) => BooleanNone(q, k, v, o, l!, b!), BooleanNoneKernel.Cost),
        Case(nameof(BooleanCausalBhtd), BooleanCausalBhtdKernel.HeadDim, BooleanCausalBhtdKernel.Heads, BooleanCausalBhtdKernel.KvHeads, BooleanCausalBhtdKernel.Mask,
            BooleanCausalBhtdKernel.Window, BooleanCausalBhtdKernel.Scale, BooleanCausalBhtdKernel.Layout, true, true, false,
            (q, k, v, o, l, b, _, _) => BooleanCausalBhtd(q, k, v, o, l!, b!), BooleanCausalBhtdKernel.Cost),
        Case(nameof(AdditiveTopLeft), AdditiveTopLeftKernel.HeadDim, AdditiveTopLeftKernel.Heads, AdditiveTopLeftKernel.KvHeads, AdditiveTopLeftKernel.Mask,
            AdditiveTopLeftKernel.Window, AdditiveTopLeftKernel.Scale, AdditiveTopLeftKernel.Layout, false, false, false,
            (q, k, v, o, _, _, a, _) => AdditiveTopLeft(q, k, v, o, a!), AdditiveTopLeftKernel.Cost),
        Case(nameof(AdditiveWindowSoftCap), AdditiveWindowSoftCapKernel.HeadDim, AdditiveWindowSoftCapKernel.Heads, AdditiveWindowSoftCapKernel.KvHeads,
            AdditiveWindowSoftCapKernel.Mask, AdditiveWindowSoftCapKernel.Window, AdditiveWindowSoftCapKernel.Scale, AdditiveWindowSoftCapKernel.Layout, true, false, false,
            (q, k, v, o, l, _, a, _) => AdditiveWindowSoftCap(q, k, v, o, l!, a!), AdditiveWindowSoftCapKernel.Cost,
            scoreMod: (s, b, h, i, j) => 2.5 * Math.Tanh(s / 2.5)),
        Case(nameof(BooleanPaddedMaskMod), BooleanPaddedMaskModKernel.HeadDim, BooleanPaddedMaskModKernel.Heads, BooleanPaddedMaskModKernel.KvHeads,
            BooleanPaddedMaskModKernel.Mask, BooleanPaddedMaskModKernel.Window, BooleanPaddedMaskModKernel.Scale, BooleanPaddedMaskModKernel.Layout, true, true, true,
            (q, k, v, o, l, b, _, n) => BooleanPaddedMaskMod(q, k, v, o, l!, n!, b!), BooleanPaddedMaskModKernel.Cost, maskMod: NotSeventh),
    ];
}
