namespace Attention.Kernels.Generator.Model;

/// <summary>
/// A dataflow graph of attention nodes. The method's parameters are the graph's inputs and outputs; nodes
/// read named values and produce named values. A single-op declaration is the one-node graph
/// <c>(q, k, v) → attention → output</c>, so model classes with several nodes are the same model, larger.
/// </summary>
internal sealed record AttentionGraph(
    EquatableArray<string> Inputs,
    EquatableArray<string> Outputs,
    EquatableArray<GraphNode> Nodes);

/// <summary>A node: reads <see cref="Inputs"/> (values by name), writes <see cref="Outputs"/>.</summary>
internal abstract record GraphNode(string Name, EquatableArray<string> Inputs, EquatableArray<string> Outputs);

/// <summary>Mask kinds, mirroring <c>Attention.Kernels.AttentionMask</c>.</summary>
internal enum MaskKind
{
    None = 0,
    Causal = 1,
    SlidingWindow = 2,
    CausalTopLeft = 3,
}

/// <summary>The attnMask tensor, mirroring <c>Attention.Kernels.MaskTensorKind</c>.</summary>
internal enum MaskTensorKind
{
    None = 0,
    Boolean = 1,
    Additive = 2,
}

/// <summary>Layouts, mirroring <c>Attention.Kernels.TensorLayout</c>.</summary>
internal enum LayoutKind
{
    BTHD = 0,
    BHTD = 1,

    /// <summary>Graph-internal: q, k and v heads packed in one [B, T, (H + 2·KvH)·D] value written by a QKV projection.</summary>
    PackedQkv = 2,
}

/// <summary>Scaled dot-product attention with everything resolved (defaults applied, values validated).</summary>
/// <param name="Scale">The multiplier of q·kᵀ, 1/√HeadDim when the attribute left it 0.</param>
/// <param name="HasLogSumExp">Whether the node also writes the per-row log-sum-exp.</param>
/// <param name="Storage">Element type of q, k, v and output (the log-sum-exp is always fp32; arithmetic is fp32 either way).</param>
/// <param name="ScoreMod">
/// The score modifier's call target (the declaring type's method, fully qualified, e.g. <c>global::Ns.Model.Alibi</c>), or
/// null for none; only a validated method is named here.
/// </param>
/// <param name="MaskMod">The mask modifier's call target, or null for none (see <paramref name="ScoreMod"/>).</param>
/// <param name="HasKeyLengths">
/// Whether the declaration takes a <c>keyLengths</c> tensor (key padding, [B] ints): its Launch then checks it and passes it
/// on. Every generated CPU kernel honours key lengths a launch carries, whatever this says (graph steps pass them too).
/// </param>
/// <param name="IsVarlen">
/// Packed variable-length batches (FlashAttention's varlen): the declaration takes <c>queryOffsets</c> and <c>keyOffsets</c>
/// ([B + 1] ints); q, k, v and output are token-major [Total, heads, D] and the log-sum-exp [H, TotalQ].
/// </param>
/// <param name="Alibi">Built-in ALiBi bias (Press's slopes for <paramref name="Heads"/>), part of the score modifier.</param>
/// <param name="SoftCap">Built-in tanh soft-capping of the scores (0: none), the last part of the score modifier.</param>
/// <param name="MaskTensor">The declaration's <c>attnMask</c>: Tensor&lt;bool&gt; (Boolean) or Tensor&lt;float&gt; (Additive), or none.</param>
/// <param name="DocumentMask">
/// Built-in document mask: the declaration takes <c>documentIds</c> ([B, T] ints, self-attention); query q and key k of
/// entry b see each other only where their ids are equal. The CPU kernel classifies each (query tile, key block) from the ids.
/// </param>
/// <param name="PrefixLm">
/// Built-in prefix-LM mask: the declaration takes <c>prefixLengths</c> ([B] ints); query q sees key k iff k &lt; prefix or
/// k ≤ q (top-left). The mask kind is then None.
/// </param>
internal sealed record AttentionNode(
    string Name,
    EquatableArray<string> Inputs,
    EquatableArray<string> Outputs,
    int HeadDim,
    int Heads,
    int KvHeads,
    MaskKind Mask,
    int Window,
    double Scale,
    LayoutKind Layout,
    bool HasLogSumExp,
    ElementType Storage = ElementType.Float32,
    string? ScoreMod = null,
    string? MaskMod = null,
    bool HasKeyLengths = false,
    bool IsVarlen = false,
    MaskTensorKind MaskTensor = MaskTensorKind.None,
    bool Alibi = false,
    double SoftCap = 0,
    bool DocumentMask = false,
    bool PrefixLm = false,
    EquatableArray<ModTensorInfo> ModTensors = default,
    string ScoreModTensors = "",
    string MaskModTensors = "") : GraphNode(Name, Inputs, Outputs)
{
    /// <summary>Bit n set: modifier tensor n is a <c>Tensor&lt;float&gt;</c> (IAttentionKernel.FloatModTensors).</summary>
    public int FloatModTensors
    {
        get
        {
            int bits = 0;
            for (int i = 0; i < ModTensors.Count; i++)
                bits |= ModTensors[i].IsFloat ? 1 << i : 0;
            return bits;
        }
    }

    public int GroupSize => Heads / KvHeads;

    /// <summary>True if the node has a score or mask modifier (the CPU kernel then runs in tile mode and calls them per element).</summary>
    public bool HasMods => HasScoreModifier || MaskMod is not null;

    /// <summary>True if scores are modified: the user's ScoreMod, ALiBi or soft-capping (composed into the kernel's one ScoreMod).</summary>
    public bool HasScoreModifier => ScoreMod is not null || Alibi || SoftCap > 0;

    /// <summary>
    /// True if the CPU kernel needs a per-element pass over every block (modifiers, a mask tensor or a document mask): it then
    /// runs in tiles only. (A prefix-LM row sees one contiguous key range, so the decode row path still serves it.)
    /// </summary>
    public bool HasElementPass => HasMods || MaskTensor != MaskTensorKind.None || DocumentMask;
}

/// <summary>
/// A tensor the modifiers read (docs/kernels/mods.md, "Tensors read by modifiers"): a trailing parameter of the declaration,
/// slot = its position among them. <see cref="AttentionNode.ScoreModTensors"/> / <see cref="AttentionNode.MaskModTensors"/> are
/// the extra arguments of the modifier calls (", tensors.Float0" …), empty when a modifier reads none.
/// </summary>
internal sealed record ModTensorInfo(string Name, bool IsFloat);
