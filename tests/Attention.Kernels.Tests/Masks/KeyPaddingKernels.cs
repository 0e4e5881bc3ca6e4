namespace Attention.Kernels.Tests.Masks;

/// <summary>Runs a key-padded kernel: (q, k, v, output, logSumExp or null, keyLengths).</summary>
public delegate void PaddedRunner(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float>? logSumExp, Tensor<int> keyLengths);

/// <summary>A declaration that takes <c>keyLengths</c>, with its constants (<see cref="KernelCase.Run"/> is unused: see <see cref="Run"/>).</summary>
public sealed record PaddedCase(KernelCase Kernel, PaddedRunner Run)
{
    public override string ToString() => Kernel.Name;
}

/// <summary>Declarations with key padding (docs/kernels/masks.md, "Key padding") over every mask kind, both layouts, GQA and modifiers.</summary>
public static partial class KeyPaddingKernels
{
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2)]
    public static partial void PaddedNone(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 2, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD)]
    public static partial void PaddedCausalBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 3, KvHeads = 1, Mask = AttentionMask.CausalTopLeft)]
    public static partial void PaddedTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths);

    [ScaledDotProductAttention(HeadDim = 24, Heads = 2, Mask = AttentionMask.SlidingWindow, Window = 17)]
    public static partial void PaddedWindow(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths);

    // Key padding ANDed with a mask modifier and a score modifier (documents of 13 positions, soft-capping).
    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, Mask = AttentionMask.Causal, ScoreMod = nameof(SoftCap), MaskMod = nameof(SameDocument))]
    public static partial void PaddedMods(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths);

    private static float SoftCap(float score, int batch, int head, int query, int key) => 3f * MathF.Tanh(score / 3f);

    private static bool SameDocument(int batch, int head, int query, int key) => query / 13 == key / 13;

    private static PaddedCase Case(string name, int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale,
        TensorLayout layout, bool hasLse, PaddedRunner run, Func<int, int, int, KernelCost> cost,
        Reference.ScoreModFunction? scoreMod = null, Reference.MaskModFunction? maskMod = null) =>
        new(new KernelCase(name, headDim, heads, kvHeads, mask, window, scale, layout, hasLse,
            (_, _, _, _, _) => throw new InvalidOperationException("a padded kernel runs through PaddedCase.Run"), cost)
        { ScoreMod = scoreMod, MaskMod = maskMod }, run);

    /// <summary>Every kernel above.</summary>
    public static readonly PaddedCase[] All =
    [
        Case(nameof(PaddedNone), PaddedNoneKernel.HeadDim, PaddedNoneKernel.Heads, PaddedNoneKernel.KvHeads, PaddedNoneKernel.Mask,
            PaddedNoneKernel.Window, PaddedNoneKernel.Scale, PaddedNoneKernel.Layout, true, (q, k, v, o, l, n) => PaddedNone(q, k, v, o, l!, n), PaddedNoneKernel.Cost),
        Case(nameof(PaddedCausalBhtd), PaddedCausalBhtdKernel.HeadDim, PaddedCausalBhtdKernel.Heads, PaddedCausalBhtdKernel.KvHeads, PaddedCausalBhtdKernel.Mask,
            PaddedCausalBhtdKernel.Window, PaddedCausalBhtdKernel.Scale, PaddedCausalBhtdKernel.Layout, true, (q, k, v, o, l, n) => PaddedCausalBhtd(q, k, v, o, l!, n), PaddedCausalBhtdKernel.Cost),
        Case(nameof(PaddedTopLeft), PaddedTopLeftKernel.HeadDim, PaddedTopLeftKernel.Heads, PaddedTopLeftKernel.KvHeads, PaddedTopLeftKernel.Mask,
            PaddedTopLeftKernel.Window, PaddedTopLeftKernel.Scale, PaddedTopLeftKernel.Layout, false, (q, k, v, o, _, n) => PaddedTopLeft(q, k, v, o, n), PaddedTopLeftKernel.Cost),
        Case(nameof(PaddedWindow), PaddedWindowKernel.HeadDim, PaddedWindowKernel.Heads, PaddedWindowKernel.KvHeads, PaddedWindowKernel.Mask,
            PaddedWindowKernel.Window, PaddedWindowKernel.Scale, PaddedWindowKernel.Layout, true, (q, k, v, o, l, n) => PaddedWindow(q, k, v, o, l!, n), PaddedWindowKernel.Cost),
        Case(nameof(PaddedMods), PaddedModsKernel.HeadDim, PaddedModsKernel.Heads, PaddedModsKernel.KvHeads, PaddedModsKernel.Mask,
            PaddedModsKernel.Window, PaddedModsKernel.Scale, PaddedModsKernel.Layout, true, (q, k, v, o, l, n) => PaddedMods(q, k, v, o, l!, n), PaddedModsKernel.Cost,
            scoreMod: (s, b, h, i, j) => 3 * Math.Tanh(s / 3), maskMod: SameDocument),
    ];
}
