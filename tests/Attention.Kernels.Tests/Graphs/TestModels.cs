namespace Attention.Kernels.Tests.Graphs;

/// <summary>A 2-layer transformer encoder: (MHA + residual + LayerNorm, FFN + residual + LayerNorm) × 2.</summary>
[AttentionModel]
public partial class TwoLayerEncoder
{
    public const int Features = 32, Heads = 4, KvHeads = 2, HeadDim = 8, Hidden = 64;

    [MultiHeadAttention("attn1", From = "x", Heads = Heads, KvHeads = KvHeads, HeadDim = HeadDim, Mask = AttentionMask.Causal)]
    [Residual("res1", From = "attn1", Skip = "x")]
    [LayerNorm("norm1", From = "res1")]
    [Linear("up1", From = "norm1", OutFeatures = Hidden, Activation = Activation.Gelu)] // fused activation, written on the Linear
    [Linear("down1", From = "up1", OutFeatures = Features)]
    [Residual("res2", From = "down1", Skip = "norm1")]
    [LayerNorm("norm2", From = "res2")]
    [MultiHeadAttention("attn2", From = "norm2", Heads = Heads, KvHeads = KvHeads, HeadDim = HeadDim, Mask = AttentionMask.Causal)]
    [Residual("res3", From = "attn2", Skip = "norm2")]
    [LayerNorm("norm3", From = "res3")]
    [Linear("up2", From = "norm3", OutFeatures = Hidden)]
    [Gelu("act2", From = "up2")] // the same, as its own node: the generator fuses it
    [Linear("down2", From = "act2", OutFeatures = Features)]
    [Residual("res4", From = "down2", Skip = "norm3")]
    [LayerNorm("y", From = "res4")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<float> y);
}

/// <summary>Positional weighting → squeeze-excitation → hierarchical attention → RMSNorm → class logits.</summary>
[AttentionModel]
public partial class DocumentClassifier
{
    public const int Features = 24, Classes = 5, MaxLength = 128;

    [PositionalWeighting("positioned", From = "tokens", MaxLength = MaxLength)]
    [SqueezeExcitation("excited", From = "positioned", Reduction = 4)]
    [HierarchicalAttention("document", From = "excited", Segments = "sentences", WordHidden = 16)]
    [RmsNorm("normalized", From = "document")]
    [Linear("logits", From = "normalized", OutFeatures = Classes)]
    public partial void Classify([Features(Features)] Tensor<float> tokens, Tensor<int> sentences, Tensor<float> logits);
}

/// <summary>Layer-wise adaptive mix of three depths, then attention pooling with a tanh scorer; a ReLU that cannot fuse.</summary>
[AttentionModel]
public partial class Mixer
{
    public const int Features = 16;

    [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = 4, Heads = 4)]
    [Linear("qkv", From = "x", OutFeatures = 3 * 16)]
    [Residual("h1", From = "x", Skip = "ctx")]
    [Relu("r", From = "h1")]
    [LayerwiseAdaptive("mixed", From = "x, h1, r")]
    [AttentionPooling("pooled", From = "mixed", Hidden = 8)]
    public static partial void Run([Features(Features)] Tensor<float> x, Tensor<float> pooled);
}

/// <summary>
/// A one-layer BERT from token ids: embeddings (token + position + token type, LayerNorm), self-attention with key padding,
/// post-LN residual blocks, then masked mean pooling and L2 normalization (a sentence embedding).
/// </summary>
[AttentionModel]
public partial class TinyBert
{
    public const int Vocabulary = 37, Features = 24, Positions = 64, Heads = 3, HeadDim = 8, Hidden = 40;

    [Embedding("emb", From = "ids", Vocabulary = Vocabulary, Features = Features, Positions = Positions, TokenTypes = 2, TokenTypeIds = "types", Epsilon = 1e-12)]
    [MultiHeadAttention("attn", From = "emb", Heads = Heads, HeadDim = HeadDim, KeyPadding = "mask")]
    [Residual("res1", From = "attn", Skip = "emb")]
    [LayerNorm("norm1", From = "res1", Epsilon = 1e-12)]
    [Linear("up", From = "norm1", OutFeatures = Hidden, Activation = Activation.Gelu)]
    [Linear("down", From = "up", OutFeatures = Features)]
    [Residual("res2", From = "down", Skip = "norm1")]
    [LayerNorm("hidden", From = "res2", Epsilon = 1e-12)]
    [MeanPooling("pooled", From = "hidden", Padding = "mask")]
    [L2Normalize("embedding", From = "pooled")]
    public partial void Forward(Tensor<int> ids, Tensor<int> types, Tensor<int> mask, Tensor<float> hidden, Tensor<float> embedding);
}

/// <summary>Multi-head attention with key padding and the user's score and mask modifiers (FlexAttention's idea) in a graph.</summary>
[AttentionModel]
public partial class ModdedAttention
{
    public const int Features = 16, Heads = 2, HeadDim = 8, Window = 5;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, HeadDim = HeadDim, KeyPadding = "lengths", ScoreMod = nameof(Alibi), MaskMod = nameof(Near))]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> lengths, Tensor<float> attn);

    /// <summary>ALiBi-style: a per-head slope times the distance.</summary>
    public static float Alibi(float score, int batch, int head, int query, int key) => score - 0.25f * (head + 1) * (query >= key ? query - key : key - query);

    /// <summary>Keys within a window that widens with the batch row.</summary>
    public static bool Near(int batch, int head, int query, int key) => (query >= key ? query - key : key - query) <= Window + batch;
}

/// <summary>Multi-head attention with the built-in ALiBi and soft-capping in a graph: no user code, same kernels as a declaration's.</summary>
[AttentionModel]
public partial class BuiltInModAttention
{
    public const int Features = 24, Heads = 3, HeadDim = 8;

    /// <summary>Small enough that tanh bends the random model's scores (a cap that changes nothing would test nothing).</summary>
    public const double Cap = 0.75;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, HeadDim = HeadDim, Mask = AttentionMask.CausalTopLeft, Alibi = true, SoftCap = Cap)]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<float> attn);
}

/// <summary>
/// A QKV projection read in place by a <c>[ScaledDotProductAttention]</c> node with key padding (lengths [B] or a mask
/// [B, T]: the same parameter takes either), top-left causal, grouped-query heads.
/// </summary>
[AttentionModel]
public partial class PaddedSdpa
{
    public const int Features = 20, Heads = 4, KvHeads = 2, HeadDim = 6, Packed = (Heads + 2 * KvHeads) * HeadDim;

    [Linear("qkv", From = "x", OutFeatures = Packed)]
    [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = HeadDim, Heads = Heads, KvHeads = KvHeads, Mask = AttentionMask.CausalTopLeft, KeyPadding = "padding")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> padding, Tensor<float> ctx);
}
