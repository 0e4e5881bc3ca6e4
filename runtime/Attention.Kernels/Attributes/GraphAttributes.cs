namespace Attention.Kernels;

/// <summary>
/// Marks a partial class whose partial methods are attention graphs: node attributes on a method, wired by name
/// (<c>From</c>); the method's parameters are the graph's inputs and outputs (an output is the parameter named like the
/// node that produces it). Activations are [batch, length, features]; declare an input's features with
/// <see cref="FeaturesAttribute"/>. Weights become generated members of the class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AttentionModelAttribute : Attribute
{
}

/// <summary>The compile-time feature count (last axis) of a graph input or output [batch, length, features].</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class FeaturesAttribute(int features) : Attribute
{
    /// <summary>Size of the last axis.</summary>
    public int Features { get; } = features;
}

/// <summary>A node of an attention graph: it has a name and reads the value named by <see cref="From"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public abstract class GraphNodeAttribute(string name) : Attribute
{
    /// <summary>The node's name: the name of the value it produces.</summary>
    public string Name { get; } = name;

    /// <summary>The value the node reads: a parameter or another node's name.</summary>
    public string? From { get; set; }
}

/// <summary>y = activation(x·Wᵀ + b): W is [OutFeatures, inFeatures] (PyTorch layout), b is [OutFeatures].</summary>
public sealed class LinearAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Output features.</summary>
    public int OutFeatures { get; set; }

    /// <summary>Whether the node has a bias (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Activation applied in the GEMM epilogue.</summary>
    public Activation Activation { get; set; }
}

/// <summary>y = From + Skip (same shape). Fused into the producing Linear's epilogue when possible.</summary>
public sealed class ResidualAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>The skip-path value added to <see cref="GraphNodeAttribute.From"/>.</summary>
    public string? Skip { get; set; }
}

/// <summary>Layer normalization over the features: (x − mean)/√(var + ε)·γ + β.</summary>
public sealed class LayerNormAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>ε (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
}

/// <summary>RMS normalization over the features: x/√(mean(x²) + ε)·γ.</summary>
public sealed class RmsNormAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>ε (default 1e-6).</summary>
    public double Epsilon { get; set; } = 1e-6;
}

/// <summary>Exact GELU, element-wise. Fused into the producing Linear's epilogue when possible.</summary>
public sealed class GeluAttribute(string name) : GraphNodeAttribute(name);

/// <summary>ReLU, element-wise. Fused into the producing Linear's epilogue when possible.</summary>
public sealed class ReluAttribute(string name) : GraphNodeAttribute(name);

/// <summary>
/// Multi-head self-attention block: a QKV projection writing packed heads, fused attention reading them in place,
/// and the output projection back to the input's features. Weights: <c>{name}.qkv</c> (<c>weight</c> [(Heads + 2·KvHeads)·HeadDim, F],
/// <c>bias</c>) for the QKV projection and <c>{name}.out</c> (<c>weight</c> [F, Heads·HeadDim], <c>bias</c>) for the output projection,
/// e.g. <c>Load("{name}.out", "weight", values)</c>.
/// </summary>
public sealed class MultiHeadAttentionAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Size of one head.</summary>
    public int HeadDim { get; set; }

    /// <summary>Query heads.</summary>
    public int Heads { get; set; }

    /// <summary>Key/value heads (0 = Heads).</summary>
    public int KvHeads { get; set; }

    /// <summary>Mask.</summary>
    public AttentionMask Mask { get; set; }

    /// <summary>Window for <see cref="AttentionMask.SlidingWindow"/>.</summary>
    public int Window { get; set; }

    /// <summary>
    /// Name of a Tensor&lt;int&gt; padding parameter, an attention mask [B, T] (1 = token, 0 = padding, tokens first) or
    /// lengths [B]: keys at or past a row's length are never visited. Padded query rows still attend to the row's valid
    /// keys (their outputs are defined, as in BERT); a row of length 0 gives zeros.
    /// </summary>
    public string? KeyPadding { get; set; }

    /// <summary>Name of a Tensor&lt;int&gt; parameter of document ids [B, T], as <see cref="ScaledDotProductAttentionAttribute.DocumentIds"/>.</summary>
    public string? DocumentIds { get; set; }

    /// <summary>Name of a Tensor&lt;int&gt; parameter of prefix lengths [B] (prefix-LM), as <see cref="ScaledDotProductAttentionAttribute.PrefixLengths"/>.</summary>
    public string? PrefixLengths { get; set; }

    /// <summary>Name of a Tensor&lt;bool&gt; or Tensor&lt;float&gt; parameter, the node's attnMask, as <see cref="ScaledDotProductAttentionAttribute.AttnMask"/>.</summary>
    public string? AttnMask { get; set; }

    /// <summary>
    /// Name of a static method of the model class, <c>float M(float score, int batch, int head, int query, int key)</c>,
    /// applied to every visible scaled score before the softmax (as <see cref="ScaledDotProductAttentionAttribute.ScoreMod"/>).
    /// It may read tensors: each parameter after <c>key</c> (a type parameter constrained to <c>IModTensor&lt;int&gt;</c> or
    /// <c>IModTensor&lt;float&gt;</c>) is bound to the graph method's parameter of the same name (docs/kernels/mods.md).
    /// </summary>
    public string? ScoreMod { get; set; }

    /// <summary>
    /// Name of a static method of the model class, <c>bool M(int batch, int head, int query, int key)</c>: false hides the
    /// pair (ANDed with <see cref="Mask"/> and the key padding; as <see cref="ScaledDotProductAttentionAttribute.MaskMod"/>).
    /// It may read tensors, bound by name to the graph method's parameters, as <see cref="ScoreMod"/>.
    /// </summary>
    public string? MaskMod { get; set; }

    /// <summary>Built-in ALiBi, as <see cref="ScaledDotProductAttentionAttribute.Alibi"/>.</summary>
    public bool Alibi { get; set; }

    /// <summary>Built-in soft-capping of the scores (0: none), as <see cref="ScaledDotProductAttentionAttribute.SoftCap"/>.</summary>
    public double SoftCap { get; set; }
}

/// <summary>
/// Attention pooling over time, [B, T, F] → [B, F]: scores u·x_t (Hidden = 0) or u·tanh(W·x_t + b), softmax over t,
/// Σ_t w_t·x_t, in one streaming pass.
/// </summary>
public sealed class AttentionPoolingAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Size of the tanh scoring layer; 0 scores with a learned vector.</summary>
    public int Hidden { get; set; }
}

/// <summary>
/// Hierarchical attention, [B, T, F] → [B, F]: attention pooling within the segments given by <see cref="Segments"/>
/// (a Tensor&lt;int&gt; parameter of offsets [B, S + 1]), then attention pooling over the segment vectors.
/// </summary>
public sealed class HierarchicalAttentionAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Name of the Tensor&lt;int&gt; parameter holding segment offsets [B, S + 1].</summary>
    public string? Segments { get; set; }

    /// <summary>Size of the word-level tanh layer (0 = learned vector).</summary>
    public int WordHidden { get; set; }

    /// <summary>Size of the segment-level tanh layer (0 = learned vector).</summary>
    public int SegmentHidden { get; set; }
}

/// <summary>Squeeze-and-excitation over channels: mean over time → FC → ReLU → FC → sigmoid → scale; at most two kernels.</summary>
public sealed class SqueezeExcitationAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Channel reduction of the bottleneck (default 4).</summary>
    public int Reduction { get; set; } = 4;
}

/// <summary>Learnable positional weighting with a skip path: y[t] = x[t]·(1 + p[t]), p is [MaxLength, F].</summary>
public sealed class PositionalWeightingAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Longest sequence the learned weights cover.</summary>
    public int MaxLength { get; set; }
}

/// <summary>
/// Layer-wise adaptive attention: γ·Σ_l softmax(a)_l·layer_l over the values listed in <see cref="GraphNodeAttribute.From"/>
/// (comma-separated, same shape), with learned logits a and scale γ.
/// </summary>
public sealed class LayerwiseAdaptiveAttribute(string name) : GraphNodeAttribute(name);

/// <summary>
/// Token embedding, [B, T] int ids → [B, T, Features]: y[b, t] = tokens[ids[b, t]] + positions[t] + types[typeIds[b, t]]
/// (BERT's embeddings; position and token-type tables optional), then LayerNorm when <see cref="Epsilon"/> is positive
/// (weights <c>gamma</c>, <c>beta</c>), all in one pass. Weights: <c>tokens</c> [Vocabulary, Features],
/// <c>positions</c> [Positions, Features], <c>types</c> [TokenTypes, Features]. An id outside its table throws
/// <see cref="ArgumentException"/> naming the tensor; T must not exceed <see cref="Positions"/>.
/// </summary>
public sealed class EmbeddingAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Rows of the token table.</summary>
    public int Vocabulary { get; set; }

    /// <summary>Embedding width.</summary>
    public int Features { get; set; }

    /// <summary>Rows of the learned position table (0 = no position embedding).</summary>
    public int Positions { get; set; }

    /// <summary>Rows of the token-type table (0 = none).</summary>
    public int TokenTypes { get; set; }

    /// <summary>Name of a Tensor&lt;int&gt; parameter [B, T] of token-type ids; without it every token has type 0.</summary>
    public string? TokenTypeIds { get; set; }

    /// <summary>ε of the LayerNorm applied to the sum; 0 (the default) applies none.</summary>
    public double Epsilon { get; set; }
}

/// <summary>
/// Mean over time of the valid tokens, [B, T, F] → [B, F]: y[b] = Σ_{t &lt; n_b} x[b, t] / n_b with n_b from
/// <see cref="Padding"/> (all T without it); a row with no valid token gives zeros (sentence-transformers' mean pooling).
/// </summary>
public sealed class MeanPoolingAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>Name of a Tensor&lt;int&gt; padding parameter: an attention mask [B, T] (1 = token, 0 = padding, tokens first) or lengths [B].</summary>
    public string? Padding { get; set; }
}

/// <summary>L2 normalization of each row over the features: y = x / max(‖x‖₂, ε) (PyTorch's <c>F.normalize</c>).</summary>
public sealed class L2NormalizeAttribute(string name) : GraphNodeAttribute(name)
{
    /// <summary>ε (default 1e-12).</summary>
    public double Epsilon { get; set; } = 1e-12;
}
