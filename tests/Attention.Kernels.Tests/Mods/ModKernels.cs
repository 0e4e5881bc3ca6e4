using Attention.Kernels.Reference;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// Kernels with score and mask modifiers (docs/kernels/mods.md), each paired in <see cref="All"/> with the same modifier
/// written in fp64 for the reference. The modifiers are private: the generated kernel structs are nested here.
/// </summary>
public static partial class ModKernels
{
    // ALiBi (Press et al.): score − slope_h·(query − key), slope_h = 2^(−8(h+1)/H), with the built-in causal mask.
    [ScaledDotProductAttention(HeadDim = 32, Heads = 4, KvHeads = 4, Mask = AttentionMask.Causal, ScoreMod = nameof(Alibi))]
    public static partial void AlibiCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    private static float Alibi(float score, int batch, int head, int query, int key) =>
        score - MathF.Pow(2f, -8f * (head + 1) / AlibiCausalKernel.Heads) * (query - key);

    private static double AlibiReference(double score, int batch, int head, int query, int key) =>
        score - Math.Pow(2, -8.0 * (head + 1) / AlibiCausalKernel.Heads) * (query - key);

    // Logit soft-capping (Gemma 2): cap·tanh(score / cap); a small cap so that it bends most scores.
    private const float Cap = 2f;

    [ScaledDotProductAttention(HeadDim = 17, Heads = 3, ScoreMod = nameof(SoftCap))]
    public static partial void SoftCapped(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static float SoftCap(float score, int batch, int head, int query, int key) => Cap * MathF.Tanh(score / Cap);

    // Prefix-LM: the first 7 keys (the prefix) are seen by every query, the rest causally (top-left).
    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, MaskMod = nameof(PrefixLm))]
    public static partial void PrefixLmMasked(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static bool PrefixLm(int batch, int head, int query, int key) => key < 7 || key <= query;

    // Documents of 37 positions packed in one sequence: a query sees the keys of its own document only.
    [ScaledDotProductAttention(HeadDim = 64, Heads = 2, MaskMod = nameof(SameDocument))]
    public static partial void DocumentMasked(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static bool SameDocument(int batch, int head, int query, int key) => query / 37 == key / 37;

    // The top-left causal mask written as a mask modifier, with Mask = None (compare AttentionMask.CausalTopLeft).
    [ScaledDotProductAttention(HeadDim = 8, Heads = 4, KvHeads = 1, Mask = AttentionMask.None, MaskMod = nameof(CausalTopLeft))]
    public static partial void CausalByMaskMod(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static bool CausalTopLeft(int batch, int head, int query, int key) => key <= query;

    // Both modifiers, with GQA, BHTD and the built-in causal mask (three masks ANDed: causal, documents; ALiBi on top).
    [ScaledDotProductAttention(HeadDim = 48, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal, Layout = TensorLayout.BHTD,
        ScoreMod = nameof(AlibiEight), MaskMod = nameof(SameDocument))]
    public static partial void AlibiDocumentsGqaBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static float AlibiEight(float score, int batch, int head, int query, int key) =>
        score - MathF.Pow(2f, -8f * (head + 1) / AlibiDocumentsGqaBhtdKernel.Heads) * (query - key);

    private static double AlibiEightReference(double score, int batch, int head, int query, int key) =>
        score - Math.Pow(2, -8.0 * (head + 1) / AlibiDocumentsGqaBhtdKernel.Heads) * (query - key);

    /// <summary>Every kernel above with its fp64 modifiers.</summary>
    public static readonly KernelCase[] All =
    [
        new(nameof(AlibiCausal), AlibiCausalKernel.HeadDim, AlibiCausalKernel.Heads, AlibiCausalKernel.KvHeads, AlibiCausalKernel.Mask,
            AlibiCausalKernel.Window, AlibiCausalKernel.Scale, AlibiCausalKernel.Layout, false, (q, k, v, o, _) => AlibiCausal(q, k, v, o), AlibiCausalKernel.Cost)
        { ScoreMod = AlibiReference },
        new(nameof(SoftCapped), SoftCappedKernel.HeadDim, SoftCappedKernel.Heads, SoftCappedKernel.KvHeads, SoftCappedKernel.Mask,
            SoftCappedKernel.Window, SoftCappedKernel.Scale, SoftCappedKernel.Layout, true, (q, k, v, o, l) => SoftCapped(q, k, v, o, l!), SoftCappedKernel.Cost)
        { ScoreMod = (s, b, h, i, j) => Cap * Math.Tanh(s / Cap) },
        new(nameof(PrefixLmMasked), PrefixLmMaskedKernel.HeadDim, PrefixLmMaskedKernel.Heads, PrefixLmMaskedKernel.KvHeads, PrefixLmMaskedKernel.Mask,
            PrefixLmMaskedKernel.Window, PrefixLmMaskedKernel.Scale, PrefixLmMaskedKernel.Layout, true, (q, k, v, o, l) => PrefixLmMasked(q, k, v, o, l!), PrefixLmMaskedKernel.Cost)
        { MaskMod = PrefixLm },
        new(nameof(DocumentMasked), DocumentMaskedKernel.HeadDim, DocumentMaskedKernel.Heads, DocumentMaskedKernel.KvHeads, DocumentMaskedKernel.Mask,
            DocumentMaskedKernel.Window, DocumentMaskedKernel.Scale, DocumentMaskedKernel.Layout, true, (q, k, v, o, l) => DocumentMasked(q, k, v, o, l!), DocumentMaskedKernel.Cost)
        { MaskMod = SameDocument },
        new(nameof(CausalByMaskMod), CausalByMaskModKernel.HeadDim, CausalByMaskModKernel.Heads, CausalByMaskModKernel.KvHeads, CausalByMaskModKernel.Mask,
            CausalByMaskModKernel.Window, CausalByMaskModKernel.Scale, CausalByMaskModKernel.Layout, true, (q, k, v, o, l) => CausalByMaskMod(q, k, v, o, l!), CausalByMaskModKernel.Cost)
        { MaskMod = CausalTopLeft },
        new(nameof(AlibiDocumentsGqaBhtd), AlibiDocumentsGqaBhtdKernel.HeadDim, AlibiDocumentsGqaBhtdKernel.Heads, AlibiDocumentsGqaBhtdKernel.KvHeads, AlibiDocumentsGqaBhtdKernel.Mask,
            AlibiDocumentsGqaBhtdKernel.Window, AlibiDocumentsGqaBhtdKernel.Scale, AlibiDocumentsGqaBhtdKernel.Layout, true, (q, k, v, o, l) => AlibiDocumentsGqaBhtd(q, k, v, o, l!), AlibiDocumentsGqaBhtdKernel.Cost)
        { ScoreMod = AlibiEightReference, MaskMod = SameDocument },
        .. BuiltIns,
    ];
}
