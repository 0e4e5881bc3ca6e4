namespace Attention.Kernels.Tests.Masks;

/// <summary>
/// Runs a kernel with the built-in document and/or prefix-LM masks: (q, k, v, output, logSumExp or null, keyLengths or null,
/// documentIds or null, prefixLengths or null); each runner passes on the tensors its declaration takes.
/// </summary>
public delegate void BuiltInMaskRunner(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float>? logSumExp,
    Tensor<int>? keyLengths, Tensor<int>? documentIds, Tensor<int>? prefixLengths);

/// <summary>The generated data-aware Cost(batch, Tq, Tk, tensors…): (keyLengths or null, documentIds or null, prefixLengths or null) as the declaration takes them.</summary>
public delegate KernelCost BuiltInMaskCost(int batch, int queryLength, int keyLength, Tensor<int>? keyLengths, Tensor<int>? documentIds, Tensor<int>? prefixLengths);

/// <summary>A declaration with built-in document / prefix-LM masks, with its constants and which tensors it takes.</summary>
public sealed record BuiltInMaskCase(KernelCase Kernel, bool Documents, bool Prefix, bool Padding, BuiltInMaskRunner Run, BuiltInMaskCost DataCost)
{
    public override string ToString() => Kernel.Name;
}

/// <summary>
/// Declarations with the built-in document mask (<c>documentIds</c>) and prefix-LM mask (<c>prefixLengths</c>), alone and
/// composed with the causal and window masks, key padding, GQA, both layouts, ALiBi and user modifiers (docs/kernels/masks.md).
/// </summary>
public static partial class BuiltInMaskKernels
{
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2)]
    public static partial void Documents(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> documentIds);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 2, Mask = AttentionMask.CausalTopLeft, Layout = TensorLayout.BHTD)]
    public static partial void DocumentsCausalBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> documentIds);

    [ScaledDotProductAttention(HeadDim = 24, Heads = 3, KvHeads = 1, Mask = AttentionMask.SlidingWindow, Window = 19, Alibi = true)]
    public static partial void DocumentsWindowAlibi(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> documentIds);

    // Documents ANDed with key padding, a mask modifier (no key 5 mod 7) and a score modifier.
    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, Mask = AttentionMask.Causal, ScoreMod = nameof(Halve), MaskMod = nameof(NoSevenths))]
    public static partial void DocumentsPaddedMods(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> keyLengths, Tensor<int> documentIds);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 3)]
    public static partial void PrefixLm(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> prefixLengths);

    [ScaledDotProductAttention(HeadDim = 32, Heads = 4, KvHeads = 1, Layout = TensorLayout.BHTD, SoftCap = 2)]
    public static partial void PrefixLmPaddedBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> keyLengths, Tensor<int> prefixLengths);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 2)]
    public static partial void PrefixLmDocuments(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> documentIds, Tensor<int> prefixLengths);

    private static float Halve(float score, int batch, int head, int query, int key) => 0.5f * score;

    private static bool NoSevenths(int batch, int head, int query, int key) => key % 7 != 5;

    private static BuiltInMaskCase Case<TKernel>(string name, bool hasLse, bool documents, bool prefix, bool padding, BuiltInMaskRunner run,
        Func<int, int, int, KernelCost> cost, BuiltInMaskCost dataCost, Reference.ScoreModFunction? scoreMod = null, Reference.MaskModFunction? maskMod = null)
        where TKernel : struct, IAttentionKernel =>
        new(new KernelCase(name, TKernel.HeadDim, TKernel.Heads, TKernel.KvHeads, TKernel.Mask, TKernel.Window, TKernel.Scale,
            TKernel.Layout == KernelLayout.Bhtd ? TensorLayout.BHTD : TensorLayout.BTHD, hasLse,
            (_, _, _, _, _) => throw new InvalidOperationException("runs through BuiltInMaskCase.Run"), cost)
        { ScoreMod = scoreMod, MaskMod = maskMod }, documents, prefix, padding, run, dataCost);

    /// <summary>Press's ALiBi slopes in fp64 for the reference (as ModKernels.PressSlopes).</summary>
    private static double AlibiSlope(int heads, int head) => s_slopes3[head];

    private static readonly double[] s_slopes3 = Mods.ModKernels.PressSlopes(3);

    /// <summary>Every kernel above.</summary>
    public static readonly BuiltInMaskCase[] All =
    [
        Case<DocumentsKernel>(nameof(Documents), true, documents: true, prefix: false, padding: false,
            (q, k, v, o, l, _, d, _) => Documents(q, k, v, o, l!, d!), DocumentsKernel.Cost,
            (b, tq, tk, _, d, _) => DocumentsKernel.Cost(b, tq, tk, d!)),
        Case<DocumentsCausalBhtdKernel>(nameof(DocumentsCausalBhtd), true, documents: true, prefix: false, padding: false,
            (q, k, v, o, l, _, d, _) => DocumentsCausalBhtd(q, k, v, o, l!, d!), DocumentsCausalBhtdKernel.Cost,
            (b, tq, tk, _, d, _) => DocumentsCausalBhtdKernel.Cost(b, tq, tk, d!)),
        Case<DocumentsWindowAlibiKernel>(nameof(DocumentsWindowAlibi), false, documents: true, prefix: false, padding: false,
            (q, k, v, o, _, _, d, _) => DocumentsWindowAlibi(q, k, v, o, d!), DocumentsWindowAlibiKernel.Cost,
            (b, tq, tk, _, d, _) => DocumentsWindowAlibiKernel.Cost(b, tq, tk, d!),
            scoreMod: (s, b, h, i, j) => s + AlibiSlope(3, h) * (j - i)),
        Case<DocumentsPaddedModsKernel>(nameof(DocumentsPaddedMods), true, documents: true, prefix: false, padding: true,
            (q, k, v, o, l, n, d, _) => DocumentsPaddedMods(q, k, v, o, l!, n!, d!), DocumentsPaddedModsKernel.Cost,
            (b, tq, tk, n, d, _) => DocumentsPaddedModsKernel.Cost(b, tq, tk, n!, d!),
            scoreMod: (s, b, h, i, j) => 0.5 * s, maskMod: NoSevenths),
        Case<PrefixLmKernel>(nameof(PrefixLm), true, documents: false, prefix: true, padding: false,
            (q, k, v, o, l, _, _, p) => PrefixLm(q, k, v, o, l!, p!), PrefixLmKernel.Cost,
            (b, tq, tk, _, _, p) => PrefixLmKernel.Cost(b, tq, tk, p!)),
        Case<PrefixLmPaddedBhtdKernel>(nameof(PrefixLmPaddedBhtd), true, documents: false, prefix: true, padding: true,
            (q, k, v, o, l, n, _, p) => PrefixLmPaddedBhtd(q, k, v, o, l!, n!, p!), PrefixLmPaddedBhtdKernel.Cost,
            (b, tq, tk, n, _, p) => PrefixLmPaddedBhtdKernel.Cost(b, tq, tk, n!, p!),
            scoreMod: (s, b, h, i, j) => 2 * Math.Tanh(s / 2)),
        Case<PrefixLmDocumentsKernel>(nameof(PrefixLmDocuments), true, documents: true, prefix: true, padding: false,
            (q, k, v, o, l, _, d, p) => PrefixLmDocuments(q, k, v, o, l!, d!, p!), PrefixLmDocumentsKernel.Cost,
            (b, tq, tk, _, d, p) => PrefixLmDocumentsKernel.Cost(b, tq, tk, d!, p!)),
    ];
}
