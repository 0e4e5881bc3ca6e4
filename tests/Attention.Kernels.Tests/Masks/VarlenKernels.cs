namespace Attention.Kernels.Tests.Masks;

/// <summary>Runs a packed variable-length kernel: (q, k, v, output, logSumExp or null, queryOffsets, keyOffsets).</summary>
public delegate void VarlenRunner(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float>? logSumExp,
    Tensor<int> queryOffsets, Tensor<int> keyOffsets);

/// <summary>A packed variable-length declaration with its constants (<see cref="KernelCase.Run"/> is unused: see <see cref="Run"/>).</summary>
public sealed record VarlenCase(KernelCase Kernel, VarlenRunner Run)
{
    public override string ToString() => Kernel.Name;
}

/// <summary>Packed variable-length declarations (docs/kernels/masks.md, "Packed variable-length batches") over every mask kind, GQA and modifiers.</summary>
public static partial class VarlenKernels
{
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2)]
    public static partial void VarlenNone(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 2, Mask = AttentionMask.Causal)]
    public static partial void VarlenCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 3, KvHeads = 1, Mask = AttentionMask.CausalTopLeft)]
    public static partial void VarlenTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output,
        Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    [ScaledDotProductAttention(HeadDim = 24, Heads = 2, Mask = AttentionMask.SlidingWindow, Window = 9)]
    public static partial void VarlenWindow(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    // Modifiers see the sequence index as batch and positions within the sequence.
    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, Mask = AttentionMask.Causal, ScoreMod = nameof(SoftCap), MaskMod = nameof(SameDocument))]
    public static partial void VarlenMods(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    private static float SoftCap(float score, int batch, int head, int query, int key) => (2f + batch) * MathF.Tanh(score / (2f + batch));

    private static bool SameDocument(int batch, int head, int query, int key) => query / 13 == key / 13;

    private static VarlenCase Case(string name, int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale,
        bool hasLse, VarlenRunner run, Func<int, int, int, KernelCost> cost,
        Reference.ScoreModFunction? scoreMod = null, Reference.MaskModFunction? maskMod = null) =>
        new(new KernelCase(name, headDim, heads, kvHeads, mask, window, scale, TensorLayout.BTHD, hasLse,
            (_, _, _, _, _) => throw new InvalidOperationException("a varlen kernel runs through VarlenCase.Run"), cost)
        { ScoreMod = scoreMod, MaskMod = maskMod }, run);

    /// <summary>Every kernel above.</summary>
    public static readonly VarlenCase[] All =
    [
        Case(nameof(VarlenNone), VarlenNoneKernel.HeadDim, VarlenNoneKernel.Heads, VarlenNoneKernel.KvHeads, VarlenNoneKernel.Mask, VarlenNoneKernel.Window,
            VarlenNoneKernel.Scale, true, (q, k, v, o, l, qo, ko) => VarlenNone(q, k, v, o, l!, qo, ko), VarlenNoneKernel.Cost),
        Case(nameof(VarlenCausal), VarlenCausalKernel.HeadDim, VarlenCausalKernel.Heads, VarlenCausalKernel.KvHeads, VarlenCausalKernel.Mask, VarlenCausalKernel.Window,
            VarlenCausalKernel.Scale, true, (q, k, v, o, l, qo, ko) => VarlenCausal(q, k, v, o, l!, qo, ko), VarlenCausalKernel.Cost),
        Case(nameof(VarlenTopLeft), VarlenTopLeftKernel.HeadDim, VarlenTopLeftKernel.Heads, VarlenTopLeftKernel.KvHeads, VarlenTopLeftKernel.Mask, VarlenTopLeftKernel.Window,
            VarlenTopLeftKernel.Scale, false, (q, k, v, o, _, qo, ko) => VarlenTopLeft(q, k, v, o, qo, ko), VarlenTopLeftKernel.Cost),
        Case(nameof(VarlenWindow), VarlenWindowKernel.HeadDim, VarlenWindowKernel.Heads, VarlenWindowKernel.KvHeads, VarlenWindowKernel.Mask, VarlenWindowKernel.Window,
            VarlenWindowKernel.Scale, true, (q, k, v, o, l, qo, ko) => VarlenWindow(q, k, v, o, l!, qo, ko), VarlenWindowKernel.Cost),
        Case(nameof(VarlenMods), VarlenModsKernel.HeadDim, VarlenModsKernel.Heads, VarlenModsKernel.KvHeads, VarlenModsKernel.Mask, VarlenModsKernel.Window,
            VarlenModsKernel.Scale, true, (q, k, v, o, l, qo, ko) => VarlenMods(q, k, v, o, l!, qo, ko), VarlenModsKernel.Cost,
            scoreMod: (s, b, h, i, j) => (2 + b) * Math.Tanh(s / (2 + b)), maskMod: SameDocument),
    ];
}
