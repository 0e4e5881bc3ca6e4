using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Attention.Kernels.Ilgpu.Kernels;

/// <summary>
/// The fused attention kernel for ILGPU accelerators, written once and specialized per declaration: ILGPU instantiates
/// <see cref="Kernel{TKernel, TElement, TStorage}"/> for the generated <see cref="IAttentionKernel"/> struct, so head dim,
/// heads, mask, window, scale and layout are literals in the PTX or OpenCL C it emits, and the loops over the head dim
/// have constant trip counts.
/// </summary>
/// <remarks>
/// <para>Flash attention, one thread per query row: a group of <c>rows</c> threads owns a block of consecutive query rows
/// of one (batch, head); grid = (query blocks, heads, batch). The group streams the key/value blocks its rows may see,
/// staging each block of <see cref="KeyBlock"/> keys and values in shared memory (converted to fp32 once), and every
/// thread keeps its query row, its output accumulator, a running max and a running sum (online softmax, in the log2
/// domain) in private memory. Blocks the mask's band hides from the whole group are never visited, and blocks a mask
/// modifier or boolean attn_mask hides from it are skipped after a group vote; the accumulator is divided
/// once at the end. A row that sees no key stores zeros (log-sum-exp −∞), never NaN.</para>
/// <para>The stages are separate methods over the same state so that a tensor-core variant can replace
/// <see cref="Scores"/> and <see cref="AccumulateValues"/> (a warp per 16 query rows with <c>mma.sync</c> fragments
/// through <c>CudaAsm</c>) while keeping the addressing (<see cref="AttentionAddressing{TKernel}"/>), the key ranges
/// (<see cref="KeyRange"/>) and the online softmax.</para>
/// </remarks>
public static class FlashAttention
{
    /// <summary>Most query rows (threads) of one group.</summary>
    public const int MaxQueryRows = 64;

    /// <summary>Fewest threads of a group: short queries still stage tiles with a full warp.</summary>
    public const int MinGroupSize = 32;

    private const float Log2E = 1.44269504f;
    private const float Ln2 = 0.693147181f;

    /// <summary>
    /// Keys staged in shared memory per step: 2·KeyBlock·headDim floats of tile stay at 16 KiB or less for every head
    /// dim up to 256, so several groups fit on one multiprocessor. At most 32, so that one row's visibility over a block
    /// fits a word (<see cref="VisibleKeys"/>).
    /// </summary>
    public static int KeyBlock(int headDim) => headDim <= 64 ? 32 : headDim <= 128 ? 16 : 8;

    /// <summary>Runtime sizes of a launch (everything else is a constant of the kernel struct).</summary>
    public readonly record struct Lengths(int Query, int Key);

    /// <summary>Threads per group for <paramref name="queryLength"/> rows: a power of two in [MinGroupSize, MaxQueryRows], within the device's limit.</summary>
    public static int GroupSize(int queryLength, int maxGroupSize)
    {
        int rows = MinGroupSize;
        while (rows < queryLength && rows < MaxQueryRows)
            rows *= 2;
        return Math.Max(1, Math.Min(rows, maxGroupSize));
    }

    /// <summary>Runs <typeparamref name="TKernel"/> on <paramref name="device"/>, picking the kernel for the storage type <typeparamref name="T"/>.</summary>
    internal static void Run<TKernel, T>(IlgpuDevice device, in AttentionLaunch<T> launch)
        where TKernel : struct, IAttentionKernel
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Launch<TKernel, T, float, Fp32Storage>(device, launch);
        else if (typeof(T) == typeof(System.Half) && HasNativeHalf(device.Accelerator.Capabilities))
            Launch<TKernel, T, ILGPU.Half, Fp16Storage>(device, launch);
        else if (typeof(T) == typeof(System.Half))
            Launch<TKernel, T, ushort, Fp16BitsStorage>(device, launch);
        else if (typeof(T) == typeof(BFloat16))
            Launch<TKernel, T, ushort, Bf16Storage>(device, launch);
        else
            throw new NotSupportedException($"Storage type {typeof(T).Name} is not supported (float, Half or BFloat16).");
    }

    /// <summary>
    /// True if fp16 kernels can use ILGPU's Half (hardware conversions: every CUDA GPU, the CPU accelerator, OpenCL with
    /// cl_khr_fp16); otherwise they convert the bits in integer arithmetic (<see cref="Fp16BitsStorage"/>).
    /// </summary>
    public static bool HasNativeHalf(CapabilityContext capabilities) =>
        capabilities is not ILGPU.Runtime.OpenCL.CLCapabilityContext openCl || openCl.Float16;

    private static void Launch<TKernel, T, TElement, TStorage>(IlgpuDevice device, in AttentionLaunch<T> launch)
        where TKernel : struct, IAttentionKernel
        where T : unmanaged
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        launch.ExpectInputsFor<TKernel>();
        if (launch.Batch == 0 || launch.QueryLength == 0)
            return; // no query rows: nothing to write
        var kernel = device.Kernel(typeof(Entry<TKernel, TElement, TStorage>), static accelerator =>
            accelerator.LoadStreamKernel<ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
                ArrayView<int>, ArrayView<int>, MaskInputs, Lengths>(
                Kernel<TKernel, TElement, TStorage>));
        int rows = GroupSize(launch.QueryLength, device.MaxGroupSize);
        var grid = new Index3D((launch.QueryLength + rows - 1) / rows, TKernel.Heads, launch.Batch);
        var lse = launch.LogSumExp is { } l ? l.View() : ArrayView<float>.Empty;
        var keyLengths = launch.KeyLengths is { } lengths ? lengths.View() : ArrayView<int>.Empty; // empty: no key padding
        // A varlen launch: grid x covers the longest sequence's query blocks (launch.QueryLength); shorter ones exit early.
        var queryOffsets = launch.QueryOffsets is { } qo ? qo.View() : ArrayView<int>.Empty;
        var keyOffsets = launch.KeyOffsets is { } ko ? ko.View() : ArrayView<int>.Empty;
        // The built-in document and prefix-LM masks' tensors (empty unless the kernel struct declares them).
        var documentIds = launch.DocumentIds is { } ids ? ids.View() : ArrayView<int>.Empty;
        var prefixLengths = launch.PrefixLengths is { } pl ? pl.View() : ArrayView<int>.Empty;
        // PyTorch's attn_mask: bools read as bytes (a bool is one byte, 0 or 1), or floats; broadcast by the strides.
        var booleanMask = launch.BooleanMask is { } bm ? bm.View<bool, byte>() : ArrayView<byte>.Empty;
        var additiveMask = launch.AdditiveMask is { } am ? am.View() : ArrayView<float>.Empty;
        // The mask tensors and the tensors the modifiers read travel as one struct of views: LoadStreamKernel takes at most 14 parameters.
        var masks = new MaskInputs { Boolean = booleanMask, Additive = additiveMask, Strides = launch.MaskStridesFor(TKernel.Heads) };
        var config = new KernelConfig(grid, new Index3D(rows, 1, 1));
        var (qv, kv, vv, ov) = (launch.Query.View<T, TElement>(), launch.Key.View<T, TElement>(), launch.Value.View<T, TElement>(), launch.Output.View<T, TElement>());
        var sizes = new Lengths(launch.QueryLength, launch.KeyLength);
        if (TKernel.ModTensorCount == 0)
        {
            kernel(config, qv, kv, vv, ov, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, masks, sizes);
            return;
        }
        // Modifiers that read tensors: a read outside a tensor's shape is recorded in the kernel and thrown here after it.
        var errors = device.ModTensorErrors;
        lock (errors.Gate)
        {
            errors.Clear();
            masks.ModTensors = IlgpuModTensors.From(launch.ModTensors, errors.View);
            kernel(config, qv, kv, vv, ov, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, masks, sizes);
            errors.Check<TKernel>(device, launch.ModTensors);
        }
    }

    /// <summary>The key to the loaded kernel of one specialization in a device's kernel cache.</summary>
    private static class Entry<TKernel, TElement, TStorage>;

    /// <summary>
    /// The mask's diagonal d (query i sees keys j ≤ i + d): Tk − Tq for the bottom-right aligned Causal and
    /// SlidingWindow, 0 for the top-left aligned CausalTopLeft (PyTorch's <c>is_causal</c>). A literal test on the
    /// kernel struct's mask, so each specialization keeps one branch. Mirrors <see cref="AttentionGeometry.Diagonal"/>.
    /// </summary>
    public static int Diagonal<TKernel>(Lengths lengths)
        where TKernel : struct, IAttentionKernel =>
        TKernel.Mask == AttentionMask.CausalTopLeft ? 0 : lengths.Key - lengths.Query;

    /// <summary>
    /// Real keys of batch entry <paramref name="batch"/>: keyLengths[batch] with key padding (the launch's
    /// <see cref="AttentionLaunch{T}.KeyLengths"/>), all Tk keys when <paramref name="keyLengths"/> is empty.
    /// </summary>
    public static int KeysOf(ArrayView<int> keyLengths, int batch, Lengths lengths) =>
        keyLengths.Length > 0 ? keyLengths[batch] : lengths.Key;

    /// <summary>
    /// Keys [start, end) that some query row of [firstQuery, firstQuery + rows) may see: the mask's band below its
    /// <see cref="Diagonal"/> d (query i sees keys j ≤ i + d under a causal mask, and j &gt; i + d − Window under a
    /// sliding window), placed on the full Tk, then cut to the batch entry's <paramref name="keys"/> real keys (key
    /// padding). Uniform across a group, so every thread reaches every barrier.
    /// </summary>
    public static void KeyRange<TKernel>(int firstQuery, int rows, Lengths lengths, int keys, out int start, out int end)
        where TKernel : struct, IAttentionKernel
    {
        int diagonal = Diagonal<TKernel>(lengths);
        start = 0;
        end = XMath.Min(lengths.Key, keys);
        if (TKernel.Mask != AttentionMask.None)
            end = XMath.Min(end, firstQuery + rows + diagonal);
        if (TKernel.Mask == AttentionMask.SlidingWindow)
            start = XMath.Max(0, firstQuery + diagonal - TKernel.Window + 1);
    }

    /// <summary>
    /// True if query row <paramref name="query"/> sees key <paramref name="key"/> (the element test inside a visited block);
    /// <paramref name="diagonal"/> is <see cref="Diagonal"/>, so the causal kinds differ only there.
    /// </summary>
    public static bool Visible<TKernel>(int query, int key, int diagonal)
        where TKernel : struct, IAttentionKernel =>
        TKernel.Mask == AttentionMask.None
        || (key - query <= diagonal && (TKernel.Mask != AttentionMask.SlidingWindow || key - query > diagonal - TKernel.Window));

    /// <summary>The kernel: one group per (query block, head, batch), one thread per query row.</summary>
    public static void Kernel<TKernel, TElement, TStorage>(
        ArrayView<TElement> q, ArrayView<TElement> k, ArrayView<TElement> v, ArrayView<TElement> output, ArrayView<float> logSumExp,
        ArrayView<int> keyLengths, ArrayView<int> queryOffsets, ArrayView<int> keyOffsets, ArrayView<int> documentIds, ArrayView<int> prefixLengths,
        MaskInputs masks, Lengths lengths)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        var booleanMask = masks.Boolean;
        var additiveMask = masks.Additive;
        var maskStrides = masks.Strides;
        var modTensors = masks.ModTensors;
        // Keys and values of the current block as fp32, shared by the group; this row's query, accumulator and scores.
        var keyTile = SharedMemory.Allocate<float>(TKernel.HeadDim * KeyBlock(TKernel.HeadDim));
        var valueTile = SharedMemory.Allocate<float>(TKernel.HeadDim * KeyBlock(TKernel.HeadDim));
        var queryRow = LocalMemory.Allocate<float>(TKernel.HeadDim);
        var accumulator = LocalMemory.Allocate<float>(TKernel.HeadDim);
        var scores = LocalMemory.Allocate<float>(KeyBlock(TKernel.HeadDim));

        // Group → (batch, head, block of query rows); thread → one query row. Rows past the end only help stage tiles.
        int rows = Group.DimX;
        int lane = Group.IdxX;
        int head = Grid.IdxY;
        int batch = Grid.IdxZ;
        int kvHead = head / (TKernel.Heads / TKernel.KvHeads); // GQA: consecutive query heads share a key/value head
        int firstQuery = Grid.IdxX * rows;
        int query = firstQuery + lane;
        // A packed variable-length batch (IsVarlen, a literal): sequence `batch` has its own lengths and starts at these token
        // rows of the [Total, heads, D] tensors, addressed as BTHD with batch 0. Positions (query, key) stay sequence-local.
        var sequence = TKernel.IsVarlen
            ? new Lengths(queryOffsets[batch + 1] - queryOffsets[batch], keyOffsets[batch + 1] - keyOffsets[batch])
            : lengths;
        int queryBase = TKernel.IsVarlen ? queryOffsets[batch] : 0;
        int keyBase = TKernel.IsVarlen ? keyOffsets[batch] : 0;
        int addressBatch = TKernel.IsVarlen ? 0 : batch;
        if (TKernel.IsVarlen && firstQuery >= sequence.Query)
            return; // a shorter sequence than the longest: the whole group leaves before any barrier
        bool active = query < sequence.Query;
        int diagonal = Diagonal<TKernel>(sequence);
        KeyRange<TKernel>(firstQuery, XMath.Min(rows, sequence.Query - firstQuery), sequence, KeysOf(keyLengths, batch, sequence), out int keyStart, out int keyEnd);

        // The query, pre-scaled by Scale·log2(e) so the softmax can use 2^x.
        long queryAt = active ? AttentionAddressing<TKernel>.Query(addressBatch, head, queryBase + query, lengths) : 0;
        for (int d = 0; d < TKernel.HeadDim; d++)
        {
            queryRow[d] = active ? TStorage.Load(q[queryAt + d]) * (TKernel.Scale * Log2E) : 0f;
            accumulator[d] = 0f;
        }
        var state = new OnlineSoftmax { Max = float.NegativeInfinity, Sum = 0f };

        for (int firstKey = keyStart; firstKey < keyEnd; firstKey += KeyBlock(TKernel.HeadDim))
        {
            int keys = XMath.Min(KeyBlock(TKernel.HeadDim), keyEnd - firstKey);
            uint visible = active ? VisibleKeys<TKernel>(batch, head, query, firstKey, keys, diagonal, booleanMask, maskStrides, documentIds, prefixLengths, lengths, modTensors) : 0u;
            // Block skipping: a block that no row of the group sees (only a mask modifier or a boolean attn_mask can hide one
            // inside the key range) is neither staged nor computed. The vote is uniform, so every thread skips together.
            if (HasElementMask<TKernel>() && !Group.BarrierOr(visible != 0u))
                continue;
            StageKeysValues<TKernel, TElement, TStorage>(k, v, keyTile, valueTile, addressBatch, kvHead, keyBase + firstKey, keys, lengths, lane, rows);
            Group.Barrier();
            if (active)
            {
                float blockMax = Scores<TKernel>(queryRow, keyTile, scores, batch, head, query, firstKey, keys, visible, additiveMask, maskStrides, modTensors);
                AccumulateValues<TKernel>(ref state, accumulator, valueTile, scores, keys, blockMax);
            }
            Group.Barrier(); // the tiles are restaged by the next block
        }

        if (!active)
            return;
        // Store: output = accumulator / sum; a row that saw no key gets zeros and a log-sum-exp of −∞.
        float inverse = state.Sum > 0f ? 1f / state.Sum : 0f;
        long outputAt = AttentionAddressing<TKernel>.Output(addressBatch, head, queryBase + query, lengths);
        for (int d = 0; d < TKernel.HeadDim; d++)
            output[outputAt + d] = TStorage.Store(accumulator[d] * inverse);
        if (TKernel.HasLogSumExp)
        {
            // [B, H, Tq], or [H, TotalQ] for a packed batch (FlashAttention's varlen layout).
            long lseAt = TKernel.IsVarlen
                ? (long)head * queryOffsets[queryOffsets.IntLength - 1] + queryBase + query
                : ((long)batch * TKernel.Heads + head) * lengths.Query + query;
            logSumExp[lseAt] = state.Sum > 0f ? (state.Max + XMath.Log2(state.Sum)) * Ln2 : float.NegativeInfinity;
        }
    }

    /// <summary>
    /// The kernel's mask inputs as one parameter: PyTorch's attn_mask (boolean as bytes, or additive; empty without one), its
    /// broadcast strides, and the tensors the modifiers read (docs/kernels/mods.md; default slots without any).
    /// </summary>
    public struct MaskInputs
    {
        /// <summary>A boolean attn_mask, one byte per bool (empty without one).</summary>
        public ArrayView<byte> Boolean;

        /// <summary>An additive attn_mask (empty without one).</summary>
        public ArrayView<float> Additive;

        /// <summary>The attn_mask's broadcast strides.</summary>
        public MaskStrides Strides;

        /// <summary>The tensors the modifiers read.</summary>
        public ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>> ModTensors;
    }

    /// <summary>The running max (log2 domain) and sum of one row's online softmax.</summary>
    public struct OnlineSoftmax
    {
        /// <summary>Largest score seen so far (−∞ before any visible key).</summary>
        public float Max;

        /// <summary>Σ 2^(score − Max) over the keys seen so far.</summary>
        public float Sum;
    }

    /// <summary>The group copies keys and values [firstKey, firstKey + keys) into shared memory as fp32; consecutive threads read consecutive elements.</summary>
    private static void StageKeysValues<TKernel, TElement, TStorage>(
        ArrayView<TElement> k, ArrayView<TElement> v, ArrayView<float> keyTile, ArrayView<float> valueTile,
        int batch, int kvHead, int firstKey, int keys, Lengths lengths, int lane, int rows)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        for (int i = lane; i < keys * TKernel.HeadDim; i += rows)
        {
            int j = i / TKernel.HeadDim;
            int d = i - j * TKernel.HeadDim;
            keyTile[i] = TStorage.Load(k[AttentionAddressing<TKernel>.Key(batch, kvHead, firstKey + j, lengths) + d]);
            valueTile[i] = TStorage.Load(v[AttentionAddressing<TKernel>.Value(batch, kvHead, firstKey + j, lengths) + d]);
        }
    }

    /// <summary>
    /// True when elements inside the key range can be hidden by more than the band: the built-in document or prefix-LM
    /// mask, a mask modifier or a boolean attn_mask (literals of the kernel struct, so the block vote is compiled only for
    /// those kernels).
    /// </summary>
    private static bool HasElementMask<TKernel>()
        where TKernel : struct, IAttentionKernel =>
        TKernel.DocumentMask || TKernel.PrefixLm || TKernel.HasMaskMod || TKernel.MaskTensor == MaskTensorKind.Boolean;

    /// <summary>
    /// Bit j set: query row <paramref name="query"/> sees key firstKey + j — the mask's band, the built-in prefix-LM
    /// (a bidirectional prefix, then causal top-left) and document masks (documentIds [B, T], self-attention), the boolean
    /// attn_mask, then the mask modifier, each evaluated once per element (<see cref="KeyBlock"/> ≤ 32 keys fit one word).
    /// </summary>
    private static uint VisibleKeys<TKernel>(int batch, int head, int query, int firstKey, int keys, int diagonal,
        ArrayView<byte> booleanMask, MaskStrides maskStrides, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths,
        in ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>> modTensors)
        where TKernel : struct, IAttentionKernel
    {
        int prefixLength = TKernel.PrefixLm ? prefixLengths[batch] : 0;
        long documentRow = (long)batch * lengths.Key;
        int queryDocument = TKernel.DocumentMask ? documentIds[documentRow + query] : 0;
        uint visible = 0u;
        for (int j = 0; j < keys; j++)
        {
            int key = firstKey + j;
            bool seen = Visible<TKernel>(query, key, diagonal)
                && (!TKernel.PrefixLm || key < prefixLength || key <= query)
                && (!TKernel.DocumentMask || documentIds[documentRow + key] == queryDocument)
                && (TKernel.MaskTensor != MaskTensorKind.Boolean || booleanMask[maskStrides.Offset(batch, head, query, key)] != 0)
                && (!TKernel.HasMaskMod || TKernel.MaskMod(batch, head, query, key, modTensors));
            if (seen)
                visible |= 1u << j;
        }
        return visible;
    }

    /// <summary>
    /// scores[j] = q·k_j (log2 domain), −∞ where bit j of <paramref name="visible"/> is clear (<see cref="VisibleKeys"/>);
    /// returns the block's max. A score modifier sees the natural-unit score: s becomes ScoreMod(s·ln2, …)·log₂e; an
    /// additive attnMask is added after it (·log₂e). HasScoreMod and MaskTensor are literals of the kernel struct, so
    /// without them their branches are not compiled.
    /// </summary>
    private static float Scores<TKernel>(ArrayView<float> queryRow, ArrayView<float> keyTile, ArrayView<float> scores,
        int batch, int head, int query, int firstKey, int keys, uint visible,
        ArrayView<float> additiveMask, MaskStrides maskStrides, in ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>> modTensors)
        where TKernel : struct, IAttentionKernel
    {
        float blockMax = float.NegativeInfinity;
        for (int j = 0; j < keys; j++)
        {
            float dot = 0f;
            for (int d = 0; d < TKernel.HeadDim; d++)
                dot += queryRow[d] * keyTile[j * TKernel.HeadDim + d];
            if ((visible & (1u << j)) == 0u)
                dot = float.NegativeInfinity;
            else
            {
                if (TKernel.HasScoreMod)
                    dot = TKernel.ScoreMod(dot * Ln2, batch, head, query, firstKey + j, modTensors) * Log2E;
                if (TKernel.MaskTensor == MaskTensorKind.Additive)
                    dot += additiveMask[maskStrides.Offset(batch, head, query, firstKey + j)] * Log2E;
            }
            scores[j] = dot;
            blockMax = XMath.Max(blockMax, dot);
        }
        return blockMax;
    }

    /// <summary>
    /// Online softmax step: raise the running max to include the block, rescale the sum and accumulator by
    /// 2^(old max − new max), then add p_j = 2^(s_j − new max) and p_j·v_j. A row that has seen no visible key yet keeps
    /// max −∞ and sum 0.
    /// </summary>
    private static void AccumulateValues<TKernel>(ref OnlineSoftmax state, ArrayView<float> accumulator, ArrayView<float> valueTile,
        ArrayView<float> scores, int keys, float blockMax)
        where TKernel : struct, IAttentionKernel
    {
        float newMax = XMath.Max(state.Max, blockMax);
        if (newMax == float.NegativeInfinity)
            return;
        float correction = XMath.Exp2(state.Max - newMax);
        state.Sum *= correction;
        for (int d = 0; d < TKernel.HeadDim; d++)
            accumulator[d] *= correction;
        for (int j = 0; j < keys; j++)
        {
            float p = XMath.Exp2(scores[j] - newMax);
            state.Sum += p;
            for (int d = 0; d < TKernel.HeadDim; d++)
                accumulator[d] += p * valueTile[j * TKernel.HeadDim + d];
        }
        state.Max = newMax;
    }
}

/// <summary>
/// Where a head's vector starts in q, k, v and output for each <see cref="KernelLayout"/> (element offsets; the head's
/// <c>HeadDim</c> elements follow contiguously). Shared by every attention kernel variant.
/// </summary>
public static class AttentionAddressing<TKernel> where TKernel : struct, IAttentionKernel
{
    /// <summary>Row stride of the packed QKV projection: (H + 2·KvH)·D.</summary>
    private static int PackedRow => (TKernel.Heads + 2 * TKernel.KvHeads) * TKernel.HeadDim;

    /// <summary>Query row <paramref name="query"/> of head <paramref name="head"/>.</summary>
    public static long Query(int batch, int head, int query, FlashAttention.Lengths lengths) => TKernel.Layout switch
    {
        KernelLayout.Bhtd => (((long)batch * TKernel.Heads + head) * lengths.Query + query) * TKernel.HeadDim,
        KernelLayout.PackedQkv => ((long)batch * lengths.Query + query) * PackedRow + head * TKernel.HeadDim,
        _ => (((long)batch * lengths.Query + query) * TKernel.Heads + head) * TKernel.HeadDim,
    };

    /// <summary>Output row <paramref name="query"/> of head <paramref name="head"/> (packed graphs write [B, T, H·D]).</summary>
    public static long Output(int batch, int head, int query, FlashAttention.Lengths lengths) => TKernel.Layout switch
    {
        KernelLayout.Bhtd => (((long)batch * TKernel.Heads + head) * lengths.Query + query) * TKernel.HeadDim,
        _ => (((long)batch * lengths.Query + query) * TKernel.Heads + head) * TKernel.HeadDim,
    };

    /// <summary>Key row <paramref name="key"/> of key/value head <paramref name="kvHead"/>.</summary>
    public static long Key(int batch, int kvHead, int key, FlashAttention.Lengths lengths) => TKernel.Layout switch
    {
        KernelLayout.Bhtd => (((long)batch * TKernel.KvHeads + kvHead) * lengths.Key + key) * TKernel.HeadDim,
        KernelLayout.PackedQkv => ((long)batch * lengths.Key + key) * PackedRow + (TKernel.Heads + kvHead) * TKernel.HeadDim,
        _ => (((long)batch * lengths.Key + key) * TKernel.KvHeads + kvHead) * TKernel.HeadDim,
    };

    /// <summary>Value row <paramref name="key"/> of key/value head <paramref name="kvHead"/>.</summary>
    public static long Value(int batch, int kvHead, int key, FlashAttention.Lengths lengths) => TKernel.Layout switch
    {
        KernelLayout.PackedQkv => ((long)batch * lengths.Key + key) * PackedRow + (TKernel.Heads + TKernel.KvHeads + kvHead) * TKernel.HeadDim,
        _ => Key(batch, kvHead, key, lengths),
    };
}
