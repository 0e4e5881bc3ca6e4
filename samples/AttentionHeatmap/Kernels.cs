using Attention.Kernels;

namespace AttentionHeatmap;

/// <summary>A causal kernel over four packed documents of uneven lengths: a query sees the earlier keys of its own document.</summary>
public static partial class Kernels
{
    /// <summary>Where each document starts, and the packed length (4 documents: 24, 168, 24 and 40 positions).</summary>
    public const int Start1 = 24, Start2 = 192, Start3 = 216, Length = 256;

    /// <summary>Causal and same-document attention, 4 heads of 64, with the log-sum-exp the weights are recomputed from.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, Mask = AttentionMask.Causal, MaskMod = nameof(SameDocument))]
    public static partial void DocumentCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    /// <summary>The mask modifier: query and key lie in the same document (comparisons only, so ILGPU compiles it too).</summary>
    private static bool SameDocument(int batch, int head, int query, int key) => Document(query) == Document(key);

    /// <summary>The document of a position.</summary>
    public static int Document(int position) => position < Start1 ? 0 : position < Start2 ? 1 : position < Start3 ? 2 : 3;
}
