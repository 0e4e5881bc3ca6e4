namespace Attention.Kernels;

/// <summary>
/// One fused attention kernel as the generator specializes it: the compile-time constants of a declaration, and its CPU
/// kernel. The generator emits one struct per <c>[ScaledDotProductAttention]</c> declaration (and per attention node of an
/// <c>[AttentionModel]</c> graph) that implements this interface with constants only, so every backend specializes on
/// the same description: the CPU backend calls <see cref="RunCpu"/>, the generated SIMD kernel; an accelerator backend
/// (Attention.Kernels.Ilgpu) instantiates its kernel generic over the struct, so the constants become literals there too.
/// </summary>
/// <remarks>Implementations must be stateless structs: backends use them only as type arguments.</remarks>
public interface IAttentionKernel
{
    /// <summary>Length of one head's query, key and value vectors (1–256).</summary>
    static abstract int HeadDim { get; }

    /// <summary>Query heads.</summary>
    static abstract int Heads { get; }

    /// <summary>Key/value heads; query head h reads key/value head h / (Heads / KvHeads).</summary>
    static abstract int KvHeads { get; }

    /// <summary>Which keys each query sees (when the query and key lengths differ, <see cref="AttentionMask.CausalTopLeft"/> aligns top-left, the others bottom-right).</summary>
    static abstract AttentionMask Mask { get; }

    /// <summary>Keys per query under <see cref="AttentionMask.SlidingWindow"/>; 0 otherwise.</summary>
    static abstract int Window { get; }

    /// <summary>Multiplier of q·kᵀ.</summary>
    static abstract float Scale { get; }

    /// <summary>How q, k, v and output are laid out in memory.</summary>
    static abstract KernelLayout Layout { get; }

    /// <summary>True if the declaration has a log-sum-exp output ([B, H, Tq] fp32); it is then always written.</summary>
    static abstract bool HasLogSumExp { get; }

    /// <summary>
    /// True for a packed variable-length kernel (FlashAttention's varlen): q and output are [TotalQ, H, D], k and v
    /// [TotalK, KvH, D], the log-sum-exp [H, TotalQ], and a launch carries <see cref="AttentionLaunch{T}.QueryOffsets"/> and
    /// <see cref="AttentionLaunch{T}.KeyOffsets"/>; each sequence is attended alone, its mask aligned on its own lengths.
    /// </summary>
    static abstract bool IsVarlen { get; }

    /// <summary>
    /// The declaration's <c>attnMask</c> (PyTorch SDPA's <c>attn_mask</c>, broadcast over [B, H, Tq, Tk]): a launch then carries
    /// <see cref="AttentionLaunch{T}.BooleanMask"/> or <see cref="AttentionLaunch{T}.AdditiveMask"/>. A boolean mask hides the
    /// pairs where it is false (before the modifiers); an additive one is added to the score after the score modifier.
    /// </summary>
    static abstract MaskTensorKind MaskTensor { get; }

    /// <summary>
    /// Built-in document mask (the declaration's <c>documentIds</c>, [B, T] ints, self-attention): query q and key k of batch
    /// entry b see each other only where documentIds[b, q] == documentIds[b, k]. A launch then carries
    /// <see cref="AttentionLaunch{T}.DocumentIds"/>. ANDed with every other mask (docs/kernels/masks.md, "Document masks").
    /// </summary>
    static abstract bool DocumentMask { get; }

    /// <summary>
    /// Built-in prefix-LM mask (the declaration's <c>prefixLengths</c>, [B] ints): key k is visible from query q of batch
    /// entry b iff k &lt; prefixLengths[b] or k ≤ q (bidirectional prefix, then causal aligned top-left). A launch then
    /// carries <see cref="AttentionLaunch{T}.PrefixLengths"/>; <see cref="Mask"/> is then None (docs/kernels/masks.md, "Prefix-LM").
    /// </summary>
    static abstract bool PrefixLm { get; }

    /// <summary>True if the declaration has a score modifier: backends then apply <see cref="ScoreMod"/> to every visible score.</summary>
    static abstract bool HasScoreMod { get; }

    /// <summary>True if the declaration has a mask modifier: backends then hide the pairs where <see cref="MaskMod"/> is false.</summary>
    static abstract bool HasMaskMod { get; }

    /// <summary>
    /// The declaration's score modifier (the identity without one): <paramref name="score"/> is scale·q·k in natural units,
    /// before the softmax; the result replaces it (−∞ hides the pair). Called only for pairs the masks leave visible.
    /// </summary>
    /// <paramref name="tensors"/> holds the tensors the modifiers read (<see cref="ModTensorCount"/>; default without any).
    static abstract float ScoreMod<TInt, TFloat>(float score, int batch, int head, int query, int key, in ModTensors<TInt, TFloat> tensors)
        where TInt : struct, IModTensor<int>
        where TFloat : struct, IModTensor<float>;

    /// <summary>The declaration's mask modifier (always true without one): whether <paramref name="query"/> sees <paramref name="key"/>, ANDed with <see cref="Mask"/>.</summary>
    static abstract bool MaskMod<TInt, TFloat>(int batch, int head, int query, int key, in ModTensors<TInt, TFloat> tensors)
        where TInt : struct, IModTensor<int>
        where TFloat : struct, IModTensor<float>;

    /// <summary>
    /// How many tensors the modifiers read (0 to 4; docs/kernels/mods.md, "Tensors read by modifiers"): a launch then carries
    /// them in <see cref="AttentionLaunch{T}.ModTensors"/>, in declaration order.
    /// </summary>
    static abstract int ModTensorCount { get; }

    /// <summary>Bit n set: modifier tensor n is a <c>Tensor&lt;float&gt;</c> (else a <c>Tensor&lt;int&gt;</c>).</summary>
    static abstract int FloatModTensors { get; }

    /// <summary>
    /// The declaration's name of modifier tensor <paramref name="slot"/> (the trailing parameter it binds), for error messages
    /// (<see cref="ModTensorArgs.Label{TKernel}"/>); null where the kernel does not name it.
    /// </summary>
    static virtual string? ModTensorName(int slot) => null;

    /// <summary>
    /// How error messages name this kernel: a graph's attention step says which node of which graph method it runs
    /// ("attention step 'layer0.attention' of graph method Forward"), not only its generated struct; null: the struct's name.
    /// </summary>
    static virtual string? Origin => null;

    /// <summary>
    /// The generated CPU kernel over data stored as <typeparamref name="T"/> = <see cref="float"/>, <see cref="Half"/> or
    /// <see cref="BFloat16"/> (the kernel's storage type; 16-bit elements are widened to fp32 in its tiles and the output rounded
    /// once, docs/kernels/storage.md). Shapes are already checked; <paramref name="lse"/> is null exactly when
    /// <see cref="HasLogSumExp"/> is false). <paramref name="keyLengths"/> is <see cref="AttentionLaunch{T}.KeyLengths"/>
    /// ([B] ints, each in 0..keyLength), or null when every batch entry has all <paramref name="keyLength"/> keys: keys at
    /// or past keyLengths[b] are never read nor computed (docs/kernels/masks.md, "Key padding").
    /// <paramref name="queryOffsets"/> and <paramref name="keyOffsets"/> are a varlen launch's [B + 1] offsets (null
    /// otherwise); then <paramref name="queryLength"/> and <paramref name="keyLength"/> are the longest sequence's lengths.
    /// <paramref name="attnMask"/> is the mask tensor of <see cref="MaskTensor"/> (bool* or float*; null without one), read
    /// at <paramref name="maskStrides"/>. <paramref name="documentIds"/> ([B, T]) and <paramref name="prefixLengths"/> ([B])
    /// are the built-in document and prefix-LM masks' tensors (null unless <see cref="DocumentMask"/> / <see cref="PrefixLm"/>).
    /// <paramref name="modTensors"/> are the accessors of the tensors the modifiers read (default without any).
    /// </summary>
    static abstract unsafe void RunCpu<T>(T* q, T* k, T* v, T* output, float* lse, int* keyLengths, int* queryOffsets, int* keyOffsets,
        int* documentIds, int* prefixLengths, void* attnMask, MaskStrides maskStrides, int batch, int queryLength, int keyLength,
        in ModTensors<Cpu.CpuModTensor<int>, Cpu.CpuModTensor<float>> modTensors) where T : unmanaged;
}

/// <summary>Memory layout of an attention kernel's tensors.</summary>
public enum KernelLayout
{
    /// <summary>q and output [B, Tq, H, D]; k and v [B, Tk, KvH, D].</summary>
    Bthd,

    /// <summary>q and output [B, H, Tq, D]; k and v [B, KvH, Tk, D].</summary>
    Bhtd,

    /// <summary>
    /// Graph-internal: q, k and v are one tensor [B, T, (H + 2·KvH)·D] (a packed QKV projection, read in place; the
    /// query heads first, then the key heads, then the value heads); output [B, T, H·D].
    /// </summary>
    PackedQkv,
}

/// <summary>
/// The tensors and runtime sizes of one attention launch, already checked against the kernel's shapes by the generated
/// code. For <see cref="KernelLayout.PackedQkv"/>, <see cref="Query"/>, <see cref="Key"/> and <see cref="Value"/> are the
/// same tensor.
/// </summary>
/// <typeparam name="T">Storage type of q, k, v and output: <see cref="float"/>, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
public readonly record struct AttentionLaunch<T>(
    Tensor<T> Query, Tensor<T> Key, Tensor<T> Value, Tensor<T> Output, Tensor<float>? LogSumExp,
    int Batch, int QueryLength, int KeyLength)
    where T : unmanaged
{
    /// <summary>
    /// Key padding: the number of real keys of each batch entry ([B] ints on the launch's device, each in 0..KeyLength),
    /// or null when all KeyLength keys are real. Every kernel honours it (user declarations that take a
    /// <c>keyLengths</c> parameter and graph attention steps alike): batch entry b attends only to keys j &lt; KeyLengths[b],
    /// and the keys past it are never read, so padding costs nothing. The mask's alignment still uses the full
    /// KeyLength (PyTorch and FlashAttention: padding applies after the causal diagonal is placed); a row left with no key
    /// gets zeros and a log-sum-exp of −∞. Check it first with <see cref="TensorShape.ExpectLengths"/>.
    /// </summary>
    public Tensor<int>? KeyLengths { get; init; }

    /// <summary>
    /// Packed variable-length batches (FlashAttention's <c>cu_seqlens_q</c>; only for kernels with
    /// <see cref="IAttentionKernel.IsVarlen"/>): [B + 1] ints, sequence b's queries are rows QueryOffsets[b] ..
    /// QueryOffsets[b + 1] − 1 of q [TotalQ, H, D]. <see cref="QueryLength"/> is then the longest sequence's query count.
    /// Check with <see cref="TensorShape.ExpectOffsets"/>.
    /// </summary>
    public Tensor<int>? QueryOffsets { get; init; }

    /// <summary>As <see cref="QueryOffsets"/> for the keys and values (<c>cu_seqlens_k</c>); <see cref="KeyLength"/> is the longest sequence's key count.</summary>
    public Tensor<int>? KeyOffsets { get; init; }

    /// <summary>PyTorch SDPA's boolean <c>attn_mask</c> (true: take part), broadcast over [B, H, Tq, Tk]; only for kernels whose <see cref="IAttentionKernel.MaskTensor"/> is Boolean.</summary>
    public Tensor<bool>? BooleanMask { get; init; }

    /// <summary>PyTorch SDPA's float <c>attn_mask</c> (added to the scaled score), broadcast over [B, H, Tq, Tk]; only for kernels whose <see cref="IAttentionKernel.MaskTensor"/> is Additive.</summary>
    public Tensor<float>? AdditiveMask { get; init; }

    /// <summary>
    /// The built-in document mask's ids ([B, T] ints on the launch's device; only for kernels with
    /// <see cref="IAttentionKernel.DocumentMask"/>): query q and key k of entry b see each other only where the ids are equal.
    /// Self-attention: QueryLength == KeyLength. Check with <see cref="TensorShape.ExpectDocumentIds"/>.
    /// </summary>
    public Tensor<int>? DocumentIds { get; init; }

    /// <summary>
    /// The built-in prefix-LM mask's prefix lengths ([B] ints, each in 0..KeyLength; only for kernels with
    /// <see cref="IAttentionKernel.PrefixLm"/>): query q of entry b sees key k iff k &lt; PrefixLengths[b] or k ≤ q.
    /// Check with <see cref="TensorShape.ExpectLengths"/>.
    /// </summary>
    public Tensor<int>? PrefixLengths { get; init; }

    /// <summary>
    /// The tensors the kernel's modifiers read (<see cref="IAttentionKernel.ModTensorCount"/> of them, in declaration order;
    /// empty for kernels whose modifiers read none). Their shapes are the caller's business: the modifiers index them.
    /// </summary>
    public ModTensorArgs ModTensors { get; init; }

    /// <summary>The strides of the launch's mask tensor over [Batch, heads, QueryLength, KeyLength] (default without one).</summary>
    public MaskStrides MaskStridesFor(int heads) =>
        BooleanMask is { } b ? MaskStrides.Broadcast(b.Shape, "attnMask", Batch, heads, QueryLength, KeyLength)
        : AdditiveMask is { } a ? MaskStrides.Broadcast(a.Shape, "attnMask", Batch, heads, QueryLength, KeyLength)
        : default;

    /// <summary>
    /// Throws unless the launch's optional tensors fit <typeparamref name="TKernel"/>: offsets exactly for a varlen kernel
    /// (both of them), no key padding with offsets, and the mask tensor of the kernel's kind. Backends call this before
    /// they read any of them.
    /// </summary>
    public void ExpectInputsFor<TKernel>() where TKernel : struct, IAttentionKernel
    {
        if ((TKernel.MaskTensor == MaskTensorKind.Boolean) != BooleanMask is not null || (TKernel.MaskTensor == MaskTensorKind.Additive) != AdditiveMask is not null)
            throw new ArgumentException($"{typeof(TKernel).Name} takes {(TKernel.MaskTensor == MaskTensorKind.None ? "no attnMask" : $"a {TKernel.MaskTensor} attnMask")}: " +
                $"the launch's BooleanMask and AdditiveMask must match.");
        if (TKernel.IsVarlen != QueryOffsets is not null || TKernel.IsVarlen != KeyOffsets is not null)
            throw new ArgumentException(TKernel.IsVarlen
                ? $"{typeof(TKernel).Name} is a packed variable-length kernel: its launch needs QueryOffsets and KeyOffsets."
                : $"{typeof(TKernel).Name} is not a packed variable-length kernel: its launch takes no QueryOffsets or KeyOffsets.");
        if (TKernel.DocumentMask != DocumentIds is not null)
            throw new ArgumentException(TKernel.DocumentMask
                ? $"{typeof(TKernel).Name} has a built-in document mask: its launch needs DocumentIds ([B, T] ints)."
                : $"{typeof(TKernel).Name} has no built-in document mask: its launch takes no DocumentIds.");
        if (TKernel.PrefixLm != PrefixLengths is not null)
            throw new ArgumentException(TKernel.PrefixLm
                ? $"{typeof(TKernel).Name} has a built-in prefix-LM mask: its launch needs PrefixLengths ([B] ints)."
                : $"{typeof(TKernel).Name} has no built-in prefix-LM mask: its launch takes no PrefixLengths.");
        ModTensors.ExpectFor<TKernel>(Query.Device);
        if (TKernel.IsVarlen && KeyLengths is not null)
            throw new ArgumentException($"{typeof(TKernel).Name}: a packed variable-length launch takes no KeyLengths (each sequence has its own length already).");
    }
}
