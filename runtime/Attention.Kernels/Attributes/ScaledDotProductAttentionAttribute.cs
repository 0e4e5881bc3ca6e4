namespace Attention.Kernels;

/// <summary>
/// Declares a fused scaled dot-product attention kernel on a <c>static partial void</c> method:
/// <c>output = softmax(scale · q·kᵀ + mask) · v</c>, computed flash-style (the Tq×Tk score matrix is never stored).
/// </summary>
/// <remarks>
/// <para>The method must be declared as
/// <c>static partial void Name(Tensor&lt;float&gt; q, Tensor&lt;float&gt; k, Tensor&lt;float&gt; v, Tensor&lt;float&gt; output)</c>,
/// optionally followed by <c>Tensor&lt;float&gt; logSumExp</c> ([batch, heads, Tq]) for the per-row log-sum-exp of the scaled scores,
/// and, in this order, <c>Tensor&lt;int&gt; keyLengths</c> (key padding, [batch]), <c>Tensor&lt;bool&gt;</c> or
/// <c>Tensor&lt;float&gt; attnMask</c> (PyTorch's attn_mask, broadcast over [batch, heads, Tq, Tk]) and
/// <c>Tensor&lt;int&gt; queryOffsets, Tensor&lt;int&gt; keyOffsets</c> (a packed variable-length batch, [batch + 1] each;
/// q, k, v, output are then [total tokens, heads, D]). See docs/kernels/masks.md.</para>
/// <para>Compile-time properties (head dim, heads, mask…) specialize the generated kernel; batch, Tq and Tk are read from the
/// tensors at each call. Mistakes in the attribute are compile-time errors (AK0001–AK0099, see docs/diagnostics).</para>
/// </remarks>
/// <para>In an <see cref="AttentionModelAttribute"/> graph, give the node a name and read packed QKV from a value:
/// <c>[ScaledDotProductAttention("ctx", From = "qkv", HeadDim = 64, Heads = 8)]</c>; the kernel reads the heads of
/// [B, T, (Heads + 2·KvHeads)·HeadDim] in place and writes [B, T, Heads·HeadDim].</para>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class ScaledDotProductAttentionAttribute : Attribute
{
    /// <summary>A single fused kernel on a <c>static partial void</c> method.</summary>
    public ScaledDotProductAttentionAttribute()
    {
    }

    /// <summary>A node named <paramref name="name"/> of an <see cref="AttentionModelAttribute"/> graph.</summary>
    public ScaledDotProductAttentionAttribute(string name) => Name = name;

    /// <summary>The node's name in a graph (null for a single kernel).</summary>
    public string? Name { get; }

    /// <summary>In a graph: the value holding packed [q | k | v] heads.</summary>
    public string? From { get; set; }

    /// <summary>
    /// In a graph: the name of a Tensor&lt;int&gt; padding parameter, an attention mask [B, T] (1 = token, 0 = padding, tokens
    /// first) or lengths [B], as <see cref="MultiHeadAttentionAttribute.KeyPadding"/>: keys at or past a row's length are never
    /// visited, padded query rows still attend to the row's valid keys, and a row of length 0 gives zeros. Graph nodes only: a
    /// kernel declaration takes a trailing <c>Tensor&lt;int&gt; keyLengths</c> parameter instead (AK0030).
    /// </summary>
    public string? KeyPadding { get; set; }

    /// <summary>
    /// In a graph: the name of a Tensor&lt;int&gt; parameter of document ids [B, T] (the built-in document mask, as a kernel
    /// declaration's <c>documentIds</c>): query q and key k of batch entry b see each other only where their ids are equal.
    /// Graph nodes only: a kernel declaration takes a trailing <c>Tensor&lt;int&gt; documentIds</c> parameter instead (AK0030).
    /// See docs/kernels/masks.md.
    /// </summary>
    public string? DocumentIds { get; set; }

    /// <summary>
    /// In a graph: the name of a Tensor&lt;int&gt; parameter of prefix lengths [B] (the built-in prefix-LM mask, as a kernel
    /// declaration's <c>prefixLengths</c>): query q sees key k iff k &lt; prefix or k ≤ q. Its own causal mask, so
    /// <see cref="Mask"/> stays None (AK0028). Graph nodes only (AK0030 on a kernel declaration). See docs/kernels/masks.md.
    /// </summary>
    public string? PrefixLengths { get; set; }

    /// <summary>
    /// In a graph: the name of a Tensor&lt;bool&gt; or Tensor&lt;float&gt; parameter (no [Features]) that is the node's attnMask, as a
    /// kernel declaration's (PyTorch SDPA's attn_mask): broadcast over [B, H, T, T]; a boolean one hides pairs where it is false,
    /// an additive one is added to the scaled score. Graph nodes only (AK0030 on a kernel declaration). See docs/kernels/masks.md.
    /// </summary>
    public string? AttnMask { get; set; }

    /// <summary>Size of one head's query/key/value vector (1–256).</summary>
    public int HeadDim { get; set; }

    /// <summary>Number of query heads.</summary>
    public int Heads { get; set; }

    /// <summary>Number of key/value heads (0 = same as <see cref="Heads"/>). Heads must be a multiple: GQA, or MQA with 1.</summary>
    public int KvHeads { get; set; }

    /// <summary>Which keys each query sees (<see cref="AttentionMask"/> describes the two causal alignments).</summary>
    public AttentionMask Mask { get; set; }

    /// <summary>For <see cref="AttentionMask.SlidingWindow"/>: how many keys (the diagonal one included) each query sees.</summary>
    public int Window { get; set; }

    /// <summary>Multiplier of q·kᵀ; 0 (the default) means 1/√HeadDim.</summary>
    public double Scale { get; set; }

    /// <summary>Layout of q, k, v and output.</summary>
    public TensorLayout Layout { get; set; }

    /// <summary>
    /// Optional score modifier: the name (write <c>nameof(Method)</c>) of a static method of the declaring type,
    /// <c>static float Method(float score, int batch, int head, int query, int key)</c>. It receives the scaled score
    /// scale·q·k (natural units, before the softmax) of every visible (query, key) pair and returns the score to use
    /// (−∞ hides the pair). Compiled into the kernel on every backend; see docs/kernels/mods.md.
    /// </summary>
    public string? ScoreMod { get; set; }

    /// <summary>
    /// Optional mask modifier: the name (write <c>nameof(Method)</c>) of a static method of the declaring type,
    /// <c>static bool Method(int batch, int head, int query, int key)</c>, true where query sees key. Combined (AND)
    /// with <see cref="Mask"/>; key blocks it hides from a whole query tile are skipped. See docs/kernels/mods.md.
    /// </summary>
    public string? MaskMod { get; set; }

    /// <summary>
    /// Built-in ALiBi (Press et al., "Train Short, Test Long"): adds slope_h·(key − query) to every visible score, with
    /// Press's per-head slopes (2^(−8(h+1)/H) when H is a power of two, interleaved from the next power otherwise).
    /// Applied after <see cref="ScoreMod"/>, before <see cref="SoftCap"/>; a per-row constant, so the outputs are the same for
    /// any alignment of the positions. See docs/kernels/mods.md.
    /// </summary>
    public bool Alibi { get; set; }

    /// <summary>
    /// Built-in logit soft-capping (Gemma 2): every visible score s becomes SoftCap·tanh(s / SoftCap), last of the score
    /// modifiers (after <see cref="ScoreMod"/> and <see cref="Alibi"/>). 0 (the default) means none; otherwise it must be
    /// finite and positive (AK0027). See docs/kernels/mods.md.
    /// </summary>
    public double SoftCap { get; set; }
}
