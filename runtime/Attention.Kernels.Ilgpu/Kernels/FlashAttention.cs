using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Attention.Kernels.Ilgpu.Kernels;

/// <summary>
/// The fused attention kernel for ILGPU accelerators, written once and specialized per declaration: ILGPU instantiates
/// <see cref="Kernel{TKernel, TElement, TStorage, TSplit}"/> for the generated <see cref="IAttentionKernel"/> struct, so head dim,
/// heads, mask, window, scale and layout are literals in the PTX or OpenCL C it emits, and the loops over the head dim
/// have constant trip counts.
/// </summary>
/// <remarks>
/// <para>Flash attention as two register-tiled products per key block. A group owns <see cref="BlockRows"/> query rows
/// of one (batch, head); grid = (query blocks, heads, batch). The group stages the rows' queries once and, per block of
/// <see cref="BlockKeys"/> keys the mask lets them see, the keys and values, all as fp32 in shared memory. Then:</para>
/// <list type="number">
/// <item><b>Scores</b>: each thread computes a 4×4 tile of S = Q·Kᵀ (4 rows × 4 keys, 16 accumulators in registers; per
/// step of the head dim one 4-wide load of queries and one of keys feed 16 FMAs), masks and modifies it, and writes it to
/// the probability tile.</item>
/// <item><b>Softmax</b>: four or more threads per row (<see cref="RowSoftmax"/>) raise the row's running max over the
/// block, write p = 2^(s − max) back and keep the rescale factor 2^(old max − new max) (the log2 domain: the queries
/// are pre-scaled by scale·log₂e).</item>
/// <item><b>Values</b>: each thread owns a 4×4 tile of the output (4 rows × 4 dims, in registers for the whole key
/// range), rescales it and adds P·V with the same 4-wide loads.</item>
/// </list>
/// <para>Why this shape: ILGPU keeps a per-thread array in local memory (it does not unroll the head-dim loops), and the
/// first kernel, one thread per row with its query and accumulator in such arrays, ran at 4.5 % of an H200's fp32 peak.
/// Fixed 4×4 tiles of named registers do not depend on the head dim; the group size does (<see cref="GroupSize"/>).
/// Blocks outside the mask's band are never visited; blocks a mask modifier, a boolean attn_mask or the document and
/// prefix-LM masks hide entirely are skipped after a group vote. A row that sees no key stores zeros (log-sum-exp −∞).</para>
/// <para>The stages are separate methods over the shared tiles, so a tensor-core variant (<c>mma.sync</c> through
/// <c>CudaAsm</c>) can replace <see cref="ScoreTile"/> and the value product and keep the staging, the masks
/// (<see cref="Score"/>), the key ranges (<see cref="KeyRange"/>) and the softmax.</para>
/// </remarks>
public static class FlashAttention
{
    private const float Log2E = 1.44269504f;
    private const float Ln2 = 0.693147181f;

    /// <summary>Shared memory one group may use, in floats: CUDA's 48 KiB static limit (ILGPU cannot opt in to more).</summary>
    public const int SharedFloats = 48 * 1024 / sizeof(float);

    /// <summary>The head dim rounded up to a multiple of 4 (the 4-wide tiles; padding dims are staged as zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folded to a constant by ILGPU: it sizes shared memory
    public static int PaddedDim(int headDim) => (headDim + 3) & ~3;

    /// <summary>Query rows per group: 64 up to D = 64, 32 up to 128, 16 above (the query tile stays at 16 KiB or less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folded to a constant by ILGPU: it sizes shared memory
    public static int BlockRows(int headDim) => headDim <= 64 ? 64 : headDim <= 128 ? 32 : 16;

    /// <summary>
    /// Keys per block: the largest multiple of 4, at most 64, whose key tile [D][keys] (reused for the probabilities
    /// [keys][rows] and the softmax's partials, one float per thread) and value tile [keys][D] fit
    /// <see cref="SharedFloats"/> beside the query tile and the row vector: 60 for D = 64, 28 for D = 128, 12 for D = 256.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folded to a constant by ILGPU: it sizes shared memory
    public static int BlockKeys(int headDim)
    {
        // Closed form without branches (ILGPU folds it). The threads are at most rows·max(D, 64)/16; both uses of the
        // key tile's floats must fit: 2·D·keys, and (rows + D)·keys + threads.
        int dim = PaddedDim(headDim), rows = BlockRows(headDim);
        int rest = SharedFloats - dim * rows - RowVectors * rows;
        int keyTileBound = rest / (2 * dim);
        int probabilityBound = (rest - rows * Math.Max(dim, 64) / 16) / (rows + dim);
        return Math.Min(64, Math.Min(keyTileBound, probabilityBound)) & ~3;
    }

    /// <summary>
    /// Threads per group: one per 4×4 tile of the output (rows × D) and one per 4×4 tile of the scores (rows × keys), the
    /// larger count: (BlockRows/4)·max(D, BlockKeys)/4, 256 for D = 64, 128 and 256.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folded to a constant by ILGPU: it sizes shared memory
    public static int GroupSize(int headDim) => BlockRows(headDim) / 4 * (Math.Max(PaddedDim(headDim), BlockKeys(headDim)) / 4);

    /// <summary>
    /// Floats of the key tile [D][keys], reused once every score is in registers for the probabilities [keys][rows]
    /// followed by one float per thread, where the softmax's threads of a row pass their partial maxima and sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folded to a constant by ILGPU: it sizes shared memory
    private static int KeyProbabilityFloats(int headDim) =>
        Math.Max(BlockKeys(headDim) * PaddedDim(headDim), BlockKeys(headDim) * BlockRows(headDim) + GroupSize(headDim));

    /// <summary>Per-row vectors in shared memory: the block's rescale factor, then 1/sum at the end.</summary>
    private const int RowVectors = 1;

    /// <summary>Runtime sizes of a launch (everything else is a constant of the kernel struct).</summary>
    public readonly record struct Lengths(int Query, int Key);

    /// <summary>Four floats read and written as one 16-byte access (ILGPU emits <c>ld.shared.v4.f32</c> for it).</summary>
    public struct Float4
    {
        public float X, Y, Z, W;
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
        int threads = GroupSize(TKernel.HeadDim);
        if (threads > device.MaxGroupSize)
            throw new NotSupportedException($"Head dim {TKernel.HeadDim} needs groups of {threads} threads; {device.Name} allows {device.MaxGroupSize}.");
        int rows = BlockRows(TKernel.HeadDim);
        int queryBlocks = (launch.QueryLength + rows - 1) / rows;
        int splits = TKernel.IsVarlen ? 1 : KeySplitsFor(device, TKernel.HeadDim, TKernel.Heads, launch.Batch, launch.QueryLength, launch.KeyLength);
        // Two specializations: the split one carries the parts' bookkeeping, the whole one none of it (registers: 63 for D = 64
        // without against 71 with, on an H200, which is 4 groups per multiprocessor against 3).
        var kernel = splits > 1 ? KernelFor<TKernel, TElement, TStorage, SplitKeys>(device) : KernelFor<TKernel, TElement, TStorage, WholeKeys>(device);
        var grid = new Index3D(queryBlocks * splits, TKernel.Heads, launch.Batch);
        // Split over the keys: each part writes its unnormalized output rows, row max and row sum; a second kernel merges them.
        long splitRows = (long)splits * launch.Batch * TKernel.Heads * launch.QueryLength;
        using var partialOutput = splits > 1 ? Tensor.Create<float>(device, checked((int)(splitRows * PaddedDim(TKernel.HeadDim)))) : null;
        using var partialRows = splits > 1 ? Tensor.Create<float>(device, checked((int)(splitRows * 2))) : null;
        var split = new KeySplit { Count = splits, Output = partialOutput?.View() ?? ArrayView<float>.Empty, Rows = partialRows?.View() ?? ArrayView<float>.Empty };
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
        var config = new KernelConfig(grid, new Index3D(threads, 1, 1));
        var (qv, kv, vv, ov) = (launch.Query.View<T, TElement>(), launch.Key.View<T, TElement>(), launch.Value.View<T, TElement>(), launch.Output.View<T, TElement>());
        var sizes = new Lengths(launch.QueryLength, launch.KeyLength);
        if (TKernel.ModTensorCount == 0)
        {
            kernel(config, qv, kv, vv, ov, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, masks, sizes, split);
            Combine<TKernel, TElement, TStorage>(device, split, ov, lse, launch.Batch, sizes);
            return;
        }
        // Modifiers that read tensors: a read outside a tensor's shape is recorded in the kernel and thrown here after it.
        var errors = device.ModTensorErrors;
        lock (errors.Gate)
        {
            errors.Clear();
            masks.ModTensors = IlgpuModTensors.From(launch.ModTensors, errors.View);
            kernel(config, qv, kv, vv, ov, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, masks, sizes, split);
            errors.Check<TKernel>(device, launch.ModTensors);
            Combine<TKernel, TElement, TStorage>(device, split, ov, lse, launch.Batch, sizes);
        }
    }

    /// <summary>The loaded kernel of one specialization (compiled at its first launch on the device, then cached there).</summary>
    private static Action<KernelConfig, ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<float>, ArrayView<int>, ArrayView<int>,
        ArrayView<int>, ArrayView<int>, ArrayView<int>, MaskInputs, Lengths, KeySplit> KernelFor<TKernel, TElement, TStorage, TSplit>(IlgpuDevice device)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
        where TSplit : struct, ISplitMode =>
        device.Kernel(typeof(Entry<TKernel, TElement, TStorage, TSplit>), static accelerator =>
            accelerator.LoadStreamKernel<ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<TElement>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
                ArrayView<int>, ArrayView<int>, MaskInputs, Lengths, KeySplit>(
                Kernel<TKernel, TElement, TStorage, TSplit>));

    /// <summary>The key to the loaded kernel of one specialization in a device's kernel cache.</summary>
    private static class Entry<TKernel, TElement, TStorage, TSplit>;

    /// <summary>Whether a kernel specialization splits the keys of its groups (a literal, so the other path is not compiled).</summary>
    public interface ISplitMode
    {
        static abstract bool Splits { get; }
    }

    /// <summary>Each group sees all its keys and writes the output itself.</summary>
    public struct WholeKeys : ISplitMode
    {
        public static bool Splits => false;
    }

    /// <summary>Each group sees one part of its keys and leaves its rows for <see cref="CombineKernel"/>.</summary>
    public struct SplitKeys : ISplitMode
    {
        public static bool Splits => true;
    }

    /// <summary>The key to the loaded combine kernel of one specialization.</summary>
    private static class CombineEntry<TKernel, TElement, TStorage>;

    /// <summary>Tests set this to force a number of key splits on any device (null: <see cref="KeySplits"/> decides).</summary>
    internal static int? ForcedKeySplits;

    /// <summary>
    /// Parts to split each group's keys into (flash-decoding): 1 when the groups fill one wave of 4 resident groups per
    /// multiprocessor, otherwise enough for about two waves, at most one part per 4 key blocks and 32 parts. (On an H200,
    /// splitting B1 H16 T4096 D64's 1024 groups in two made it 12 % slower; decode and short prefill gain.)
    /// <paramref name="multiprocessors"/> is 0 on the host (ILGPU's CPU accelerator gains nothing from splitting).
    /// </summary>
    public static int KeySplits(int groups, int keyBlocks, int multiprocessors)
    {
        int maxSplits = Math.Max(1, Math.Min(32, keyBlocks / 4));
        if (ForcedKeySplits is { } forced)
            return Math.Clamp(forced, 1, Math.Max(1, keyBlocks));
        int wave = 4 * multiprocessors;
        if (groups <= 0 || groups >= wave)
            return 1;
        return Math.Min(maxSplits, (2 * wave + groups - 1) / groups);
    }

    /// <summary>The key splits of a launch of this shape on <paramref name="device"/> (<see cref="KeySplits"/> on its groups and key blocks).</summary>
    public static int KeySplitsFor(IlgpuDevice device, int headDim, int heads, int batch, int queryLength, int keyLength)
    {
        int rows = BlockRows(headDim), keys = BlockKeys(headDim);
        return KeySplits((queryLength + rows - 1) / rows * heads * batch, (keyLength + keys - 1) / keys,
            device.RunsOnHost ? 0 : device.Accelerator.NumMultiprocessors);
    }

    /// <summary>How a launch splits its keys, and where the parts leave their rows (empty views when it does not split).</summary>
    public struct KeySplit
    {
        /// <summary>Parts per group's keys (1: no split; the kernel writes the output itself).</summary>
        public int Count;

        /// <summary>Unnormalized output rows, [split][batch][head][query][PaddedDim].</summary>
        public ArrayView<float> Output;

        /// <summary>Each part's row max (log2 domain) and row sum, [split][batch][head][query][2].</summary>
        public ArrayView<float> Rows;
    }

    /// <summary>Merges the key splits' partial rows into the output and log-sum-exp (nothing to do without a split).</summary>
    private static void Combine<TKernel, TElement, TStorage>(IlgpuDevice device, KeySplit split, ArrayView<TElement> output, ArrayView<float> logSumExp, int batch, Lengths lengths)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        if (split.Count == 1)
            return;
        var combine = device.Kernel(typeof(CombineEntry<TKernel, TElement, TStorage>), static accelerator =>
            accelerator.LoadAutoGroupedStreamKernel<Index1D, KeySplit, ArrayView<TElement>, ArrayView<float>, int, Lengths>(CombineKernel<TKernel, TElement, TStorage>));
        combine((int)((long)batch * TKernel.Heads * lengths.Query * PaddedDim(TKernel.HeadDim)), split, output, logSumExp, batch, lengths);
    }

    /// <summary>
    /// One output element (batch, head, query, dim) from the key splits: o = Σ 2^(mᵢ − m)·oᵢ / Σ 2^(mᵢ − m)·lᵢ with m the
    /// largest part max; a row no part saw stores zeros and a log-sum-exp of −∞. Dim 0 also writes the log-sum-exp.
    /// </summary>
    public static void CombineKernel<TKernel, TElement, TStorage>(Index1D index, KeySplit split, ArrayView<TElement> output, ArrayView<float> logSumExp, int batch, Lengths lengths)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        int dim = PaddedDim(TKernel.HeadDim);
        int d = index % dim;
        long row = index / dim; // ((batch·H + head)·Tq + query)
        if (d >= TKernel.HeadDim)
            return;
        long rowsPerSplit = (long)batch * TKernel.Heads * lengths.Query;
        float max = float.NegativeInfinity;
        for (int i = 0; i < split.Count; i++)
            max = XMath.Max(max, split.Rows[2 * (i * rowsPerSplit + row)]);
        float sum = 0f, value = 0f;
        if (max != float.NegativeInfinity)
        {
            for (int i = 0; i < split.Count; i++)
            {
                long at = i * rowsPerSplit + row;
                float weight = XMath.Exp2(split.Rows[2 * at] - max); // 0 for a part that saw no key (max −∞)
                sum += weight * split.Rows[2 * at + 1];
                value += weight * split.Output[at * dim + d];
            }
        }
        int query = (int)(row % lengths.Query);
        int head = (int)(row / lengths.Query % TKernel.Heads);
        int b = (int)(row / lengths.Query / TKernel.Heads);
        output[AttentionAddressing<TKernel>.Output(b, head, query, lengths) + d] = TStorage.Store(sum > 0f ? value / sum : 0f);
        if (TKernel.HasLogSumExp && d == 0)
            logSumExp[row] = sum > 0f ? (max + XMath.Log2(sum)) * Ln2 : float.NegativeInfinity;
    }

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
    /// True if query row <paramref name="query"/> sees key <paramref name="key"/> under the mask's band;
    /// <paramref name="diagonal"/> is <see cref="Diagonal"/>, so the causal kinds differ only there.
    /// </summary>
    public static bool Visible<TKernel>(int query, int key, int diagonal)
        where TKernel : struct, IAttentionKernel =>
        TKernel.Mask == AttentionMask.None
        || (key - query <= diagonal && (TKernel.Mask != AttentionMask.SlidingWindow || key - query > diagonal - TKernel.Window));

    /// <summary>Where one group works: its (batch, head), its rows, the sequence's lengths and the keys its rows may see.</summary>
    public struct Place
    {
        public int Batch, Head, KvHead, FirstQuery, Rows, QueryBase, KeyBase, AddressBatch, Diagonal, KeyEnd;
        public Lengths Sequence;
    }

    /// <summary>The kernel: one group per (query block, head, batch); see the class remarks for the three stages.</summary>
    public static void Kernel<TKernel, TElement, TStorage, TSplit>(
        ArrayView<TElement> q, ArrayView<TElement> k, ArrayView<TElement> v, ArrayView<TElement> output, ArrayView<float> logSumExp,
        ArrayView<int> keyLengths, ArrayView<int> queryOffsets, ArrayView<int> keyOffsets, ArrayView<int> documentIds, ArrayView<int> prefixLengths,
        MaskInputs masks, Lengths lengths, KeySplit split)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
        where TSplit : struct, ISplitMode
    {
        int dim = PaddedDim(TKernel.HeadDim), rows = BlockRows(TKernel.HeadDim), blockKeys = BlockKeys(TKernel.HeadDim);
        // Shared memory: queries [dim][rows] (pre-scaled), keys [dim][blockKeys] then probabilities [blockKeys][rows] and the
        // softmax's partials in the same floats, values [blockKeys][dim], and one row vector (the block's rescale factors,
        // 1/sum at the end). Each is its own allocation of Float4s, so ILGPU knows them 16-byte aligned (4-wide loads).
        var queryTile = SharedMemory.Allocate<Float4>(dim * rows / 4).Cast<float>();
        var keyTile = SharedMemory.Allocate<Float4>(KeyProbabilityFloats(TKernel.HeadDim) / 4).Cast<float>();
        var valueTile = SharedMemory.Allocate<Float4>(blockKeys * dim / 4).Cast<float>();
        var rowState = SharedMemory.Allocate<Float4>(RowVectors * rows / 4).Cast<float>();

        // Group → (batch, head, block of query rows, key split): grid x is (query block, split) with the split fastest.
        // Under a causal mask later query blocks see more keys: they go first (grid x reversed), so the longest blocks do
        // not start in the last wave and leave the GPU idle at the tail. A packed variable-length batch (IsVarlen, a
        // literal): sequence `batch` has its own lengths and starts at these token rows of the [Total, heads, D] tensors,
        // addressed as BTHD with batch 0. Positions (query, key) stay sequence-local.
        bool causal = TKernel.Mask == AttentionMask.Causal || TKernel.Mask == AttentionMask.CausalTopLeft;
        int splits = TSplit.Splits ? split.Count : 1;
        int part = TSplit.Splits ? Grid.IdxX % splits : 0, queryBlock = TSplit.Splits ? Grid.IdxX / splits : Grid.IdxX;
        int queryBlocks = TSplit.Splits ? Grid.DimX / splits : Grid.DimX;
        var place = new Place { Batch = Grid.IdxZ, Head = Grid.IdxY, FirstQuery = (causal ? queryBlocks - 1 - queryBlock : queryBlock) * rows };
        place.KvHead = place.Head / (TKernel.Heads / TKernel.KvHeads); // GQA: consecutive query heads share a key/value head
        place.Sequence = TKernel.IsVarlen
            ? new Lengths(queryOffsets[place.Batch + 1] - queryOffsets[place.Batch], keyOffsets[place.Batch + 1] - keyOffsets[place.Batch])
            : lengths;
        place.QueryBase = TKernel.IsVarlen ? queryOffsets[place.Batch] : 0;
        place.KeyBase = TKernel.IsVarlen ? keyOffsets[place.Batch] : 0;
        place.AddressBatch = TKernel.IsVarlen ? 0 : place.Batch;
        if (TKernel.IsVarlen && place.FirstQuery >= place.Sequence.Query)
            return; // a shorter sequence than the longest: the whole group leaves before any barrier
        place.Rows = XMath.Min(rows, place.Sequence.Query - place.FirstQuery);
        place.Diagonal = Diagonal<TKernel>(place.Sequence);
        KeyRange<TKernel>(place.FirstQuery, place.Rows, place.Sequence, KeysOf(keyLengths, place.Batch, place.Sequence), out int keyStart, out place.KeyEnd);
        // This part's whole blocks of the range (a part may get none: it then leaves max −∞ and sum 0).
        int firstPartKey = keyStart, partEnd = place.KeyEnd;
        if (TSplit.Splits)
        {
            int partBlocks = ((place.KeyEnd - keyStart + blockKeys - 1) / blockKeys + splits - 1) / splits;
            firstPartKey = keyStart + part * partBlocks * blockKeys;
            partEnd = XMath.Min(place.KeyEnd, firstPartKey + partBlocks * blockKeys);
        }

        int thread = Group.IdxX, threads = Group.DimX;
        StageQueries<TKernel, TElement, TStorage>(q, queryTile, place, lengths, thread, threads);
        // The softmax's threads: `parts` per row (at least 4: GroupSize ≥ 4·rows), row = thread mod rows, so a warp reads
        // consecutive floats of the probability tile. Each keeps its row's running max and its own part of the running sum.
        int parts = threads / rows, softmaxRow = thread % rows, softmaxPart = thread / rows;
        var softmax = new RowSoftmax { Max = float.NegativeInfinity, Sum = 0f, Active = softmaxPart < parts };
        var partials = keyTile.SubView(blockKeys * rows, threads);

        // This thread's output tile, if it has one: rows 4·tileRow…+3, dims 4·tileDim…+3, in registers over the whole key range.
        bool accumulator = thread < rows / 4 * (dim / 4);
        int tileRow = thread / (dim / 4), tileDim = thread - tileRow * (dim / 4);
        var o0 = new Float4();
        var o1 = new Float4();
        var o2 = new Float4();
        var o3 = new Float4();
        // This thread's score tile, if it has one (GroupSize gives every tile a thread): rows 4·scoreRow…, keys 4·scoreKey….
        bool scorer = thread < rows / 4 * (blockKeys / 4);
        int scoreRow = thread / (blockKeys / 4), scoreKey = thread - scoreRow * (blockKeys / 4);
        Group.Barrier();

        for (int firstKey = firstPartKey; firstKey < partEnd; firstKey += blockKeys)
        {
            int keys = XMath.Min(blockKeys, partEnd - firstKey);
            // Block skipping: a block that no row of the group sees (only the element masks can hide one inside the key
            // range) is neither staged nor computed. The vote is uniform, so every thread skips together.
            if (HasElementMask<TKernel>() && !Group.BarrierOr(scorer && AnyVisible<TKernel>(place, 4 * scoreRow, firstKey + 4 * scoreKey, masks, documentIds, prefixLengths, lengths)))
                continue;
            StageKeysValues<TKernel, TElement, TStorage>(k, v, keyTile, valueTile, place, firstKey, keys, lengths, thread, threads);
            Group.Barrier();
            var s = new ScoreTile();
            if (scorer)
                s = ScoreTile.Compute(queryTile, keyTile, scoreRow, scoreKey, rows, blockKeys, dim);
            Group.Barrier(); // every key is read: the probabilities may overwrite them
            if (scorer)
                s.Store<TKernel>(keyTile, place, scoreRow, scoreKey, firstKey, rows, masks, documentIds, prefixLengths, lengths);
            Group.Barrier();
            softmax.PartialMax(keyTile, partials, keys, rows, parts, softmaxRow, softmaxPart);
            Group.Barrier();
            softmax.Exponentiate(keyTile, partials, rowState, keys, rows, parts, softmaxRow, softmaxPart);
            Group.Barrier();
            if (accumulator)
                AccumulateValues(ref o0, ref o1, ref o2, ref o3, keyTile, valueTile, rowState, keys, rows, dim, tileRow, tileDim);
            Group.Barrier(); // the tiles are restaged by the next block
        }

        // Each row's sum from its parts, then its 1/sum (0 for a row that saw no key: it stores zeros) and log-sum-exp.
        if (softmax.Active)
            partials[thread] = softmax.Sum;
        Group.Barrier();
        if (softmax.Active && softmaxPart == 0 && softmaxRow < place.Rows)
        {
            float sum = 0f;
            for (int i = 0; i < parts; i++)
                sum += partials[i * rows + softmaxRow];
            if (TSplit.Splits)
            {
                // A key split: this part's max and sum; the combine kernel divides and writes the log-sum-exp.
                long splitRow = SplitRow<TKernel>(place, part, softmaxRow, lengths);
                split.Rows[2 * splitRow] = softmax.Max;
                split.Rows[2 * splitRow + 1] = sum;
            }
            else
                rowState[softmaxRow] = sum > 0f ? 1f / sum : 0f;
            if (TKernel.HasLogSumExp && !TSplit.Splits)
            {
                int query = place.FirstQuery + softmaxRow;
                // [B, H, Tq], or [H, TotalQ] for a packed batch (FlashAttention's varlen layout).
                long lseAt = TKernel.IsVarlen
                    ? (long)place.Head * queryOffsets[queryOffsets.IntLength - 1] + place.QueryBase + query
                    : ((long)place.Batch * TKernel.Heads + place.Head) * lengths.Query + query;
                logSumExp[lseAt] = sum > 0f ? (softmax.Max + XMath.Log2(sum)) * Ln2 : float.NegativeInfinity;
            }
        }
        Group.Barrier();
        if (!accumulator)
            return;
        if (TSplit.Splits)
        {
            StorePartialRow<TKernel>(split, o0, place, part, lengths, 4 * tileRow, 4 * tileDim);
            StorePartialRow<TKernel>(split, o1, place, part, lengths, 4 * tileRow + 1, 4 * tileDim);
            StorePartialRow<TKernel>(split, o2, place, part, lengths, 4 * tileRow + 2, 4 * tileDim);
            StorePartialRow<TKernel>(split, o3, place, part, lengths, 4 * tileRow + 3, 4 * tileDim);
            return;
        }
        StoreRow<TKernel, TElement, TStorage>(output, o0, rowState, place, lengths, rows, 4 * tileRow, 4 * tileDim);
        StoreRow<TKernel, TElement, TStorage>(output, o1, rowState, place, lengths, rows, 4 * tileRow + 1, 4 * tileDim);
        StoreRow<TKernel, TElement, TStorage>(output, o2, rowState, place, lengths, rows, 4 * tileRow + 2, 4 * tileDim);
        StoreRow<TKernel, TElement, TStorage>(output, o3, rowState, place, lengths, rows, 4 * tileRow + 3, 4 * tileDim);
    }

    /// <summary>Row <paramref name="row"/> of the group in key split <paramref name="part"/>: ((part·B + batch)·H + head)·Tq + query.</summary>
    private static long SplitRow<TKernel>(in Place place, int part, int row, Lengths lengths)
        where TKernel : struct, IAttentionKernel =>
        (((long)part * Grid.DimZ + place.Batch) * TKernel.Heads + place.Head) * lengths.Query + place.FirstQuery + row;

    /// <summary>Stores four unnormalized dims of group row <paramref name="row"/> for key split <paramref name="part"/>, if the row is real.</summary>
    private static void StorePartialRow<TKernel>(KeySplit split, Float4 values, in Place place, int part, Lengths lengths, int row, int firstDim)
        where TKernel : struct, IAttentionKernel
    {
        if (row >= place.Rows)
            return;
        var rowsOut = split.Output.Cast<Float4>();
        rowsOut[SplitRow<TKernel>(place, part, row, lengths) * (PaddedDim(TKernel.HeadDim) / 4) + firstDim / 4] = values;
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

    /// <summary>The group's queries into [dim][rows], pre-scaled by Scale·log₂e (so the softmax can use 2^x); zeros past the last row and the head dim.</summary>
    private static void StageQueries<TKernel, TElement, TStorage>(ArrayView<TElement> q, ArrayView<float> queryTile, in Place place, Lengths lengths, int thread, int threads)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        int dim = PaddedDim(TKernel.HeadDim), rows = BlockRows(TKernel.HeadDim);
        for (int i = thread; i < rows * dim; i += threads)
        {
            int r = i / dim, d = i - r * dim; // consecutive threads read consecutive elements of a row
            float value = 0f;
            if (r < place.Rows && d < TKernel.HeadDim)
                value = TStorage.Load(q[AttentionAddressing<TKernel>.Query(place.AddressBatch, place.Head, place.QueryBase + place.FirstQuery + r, lengths) + d]) * (TKernel.Scale * Log2E);
            queryTile[d * rows + r] = value;
        }
    }

    /// <summary>Keys [firstKey, firstKey + keys) into [dim][BlockKeys] and their values into [BlockKeys][dim] as fp32; zeros past the last key and the head dim.</summary>
    private static void StageKeysValues<TKernel, TElement, TStorage>(
        ArrayView<TElement> k, ArrayView<TElement> v, ArrayView<float> keyTile, ArrayView<float> valueTile, in Place place,
        int firstKey, int keys, Lengths lengths, int thread, int threads)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        int dim = PaddedDim(TKernel.HeadDim), blockKeys = BlockKeys(TKernel.HeadDim);
        for (int i = thread; i < blockKeys * dim; i += threads)
        {
            int j = i / dim, d = i - j * dim;
            float key = 0f, value = 0f;
            if (j < keys && d < TKernel.HeadDim)
            {
                int row = place.KeyBase + firstKey + j;
                key = TStorage.Load(k[AttentionAddressing<TKernel>.Key(place.AddressBatch, place.KvHead, row, lengths) + d]);
                value = TStorage.Load(v[AttentionAddressing<TKernel>.Value(place.AddressBatch, place.KvHead, row, lengths) + d]);
            }
            keyTile[d * blockKeys + j] = key;
            valueTile[j * dim + d] = value;
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

    /// <summary>True if any of the 4×4 (row, key) pairs from (<paramref name="row"/>, <paramref name="key"/>) is visible: this thread's vote on a block.</summary>
    private static bool AnyVisible<TKernel>(in Place place, int row, int key, in MaskInputs masks, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths)
        where TKernel : struct, IAttentionKernel
    {
        bool any = false;
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 4; c++)
                any |= IsVisible<TKernel>(place, row + r, key + c, masks, documentIds, prefixLengths, lengths);
        }
        return any;
    }

    /// <summary>
    /// True if group row <paramref name="row"/> sees key <paramref name="key"/> (sequence-local): a real row and key, the
    /// mask's band, the built-in prefix-LM (a bidirectional prefix, then causal top-left) and document masks (documentIds
    /// [B, T], self-attention), the boolean attn_mask, then the mask modifier.
    /// </summary>
    private static bool IsVisible<TKernel>(in Place place, int row, int key, in MaskInputs masks, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths)
        where TKernel : struct, IAttentionKernel
    {
        int query = place.FirstQuery + row;
        if (row >= place.Rows || key >= place.KeyEnd || !Visible<TKernel>(query, key, place.Diagonal))
            return false;
        long documentRow = (long)place.Batch * lengths.Key;
        return (!TKernel.PrefixLm || key < prefixLengths[place.Batch] || key <= query)
            && (!TKernel.DocumentMask || documentIds[documentRow + key] == documentIds[documentRow + query])
            && (TKernel.MaskTensor != MaskTensorKind.Boolean || masks.Boolean[masks.Strides.Offset(place.Batch, place.Head, query, key)] != 0)
            && (!TKernel.HasMaskMod || TKernel.MaskMod(place.Batch, place.Head, query, key, masks.ModTensors));
    }

    /// <summary>
    /// One score in the log2 domain, or −∞ where <see cref="IsVisible"/> is false. A score modifier sees the natural-unit
    /// score: s becomes ScoreMod(s·ln2, …)·log₂e; an additive attnMask is added after it (·log₂e). HasScoreMod and
    /// MaskTensor are literals of the kernel struct, so without them their branches are not compiled.
    /// </summary>
    private static float Score<TKernel>(float dot, in Place place, int row, int key, in MaskInputs masks, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths)
        where TKernel : struct, IAttentionKernel
    {
        if (!IsVisible<TKernel>(place, row, key, masks, documentIds, prefixLengths, lengths))
            return float.NegativeInfinity;
        int query = place.FirstQuery + row;
        if (TKernel.HasScoreMod)
            dot = TKernel.ScoreMod(dot * Ln2, place.Batch, place.Head, query, key, masks.ModTensors) * Log2E;
        if (TKernel.MaskTensor == MaskTensorKind.Additive)
            dot += masks.Additive[masks.Strides.Offset(place.Batch, place.Head, query, key)] * Log2E;
        return dot;
    }

    /// <summary>A 4×4 tile of scores: row r of the tile in <c>R{r}</c>, its four keys in X, Y, Z, W.</summary>
    public struct ScoreTile
    {
        public Float4 R0, R1, R2, R3;

        /// <summary>
        /// q·k for rows 4·<paramref name="scoreRow"/>…+3 and keys 4·<paramref name="scoreKey"/>…+3 of the staged tiles: per
        /// dim, one 4-wide load of queries and one of keys, 16 FMAs.
        /// </summary>
        public static ScoreTile Compute(ArrayView<float> queryTile, ArrayView<float> keyTile, int scoreRow, int scoreKey, int rows, int blockKeys, int dim)
        {
            var queries = queryTile.Cast<Float4>();
            var keys = keyTile.Cast<Float4>();
            var t = new ScoreTile();
            for (int d = 0; d < dim; d++)
            {
                var a = queries[(d * rows) / 4 + scoreRow];
                var b = keys[(d * blockKeys) / 4 + scoreKey];
                t.R0 = MultiplyAdd(a.X, b, t.R0);
                t.R1 = MultiplyAdd(a.Y, b, t.R1);
                t.R2 = MultiplyAdd(a.Z, b, t.R2);
                t.R3 = MultiplyAdd(a.W, b, t.R3);
            }
            return t;
        }

        /// <summary>Masks and modifies the tile (<see cref="Score"/>) and stores it into the probability tile [BlockKeys][rows].</summary>
        public readonly void Store<TKernel>(ArrayView<float> probabilities, in Place place, int scoreRow, int scoreKey, int firstKey, int rows,
            in MaskInputs masks, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths)
            where TKernel : struct, IAttentionKernel
        {
            int row = 4 * scoreRow, key = 4 * scoreKey;
            var p = probabilities.Cast<Float4>();
            p[(key * rows) / 4 + scoreRow] = Column<TKernel>(R0.X, R1.X, R2.X, R3.X, place, row, firstKey + key, masks, documentIds, prefixLengths, lengths);
            p[((key + 1) * rows) / 4 + scoreRow] = Column<TKernel>(R0.Y, R1.Y, R2.Y, R3.Y, place, row, firstKey + key + 1, masks, documentIds, prefixLengths, lengths);
            p[((key + 2) * rows) / 4 + scoreRow] = Column<TKernel>(R0.Z, R1.Z, R2.Z, R3.Z, place, row, firstKey + key + 2, masks, documentIds, prefixLengths, lengths);
            p[((key + 3) * rows) / 4 + scoreRow] = Column<TKernel>(R0.W, R1.W, R2.W, R3.W, place, row, firstKey + key + 3, masks, documentIds, prefixLengths, lengths);
        }

        /// <summary>One key's scores for the tile's four rows, masked and modified.</summary>
        private static Float4 Column<TKernel>(float s0, float s1, float s2, float s3, in Place place, int row, int key,
            in MaskInputs masks, ArrayView<int> documentIds, ArrayView<int> prefixLengths, Lengths lengths)
            where TKernel : struct, IAttentionKernel =>
            new()
            {
                X = Score<TKernel>(s0, place, row, key, masks, documentIds, prefixLengths, lengths),
                Y = Score<TKernel>(s1, place, row + 1, key, masks, documentIds, prefixLengths, lengths),
                Z = Score<TKernel>(s2, place, row + 2, key, masks, documentIds, prefixLengths, lengths),
                W = Score<TKernel>(s3, place, row + 3, key, masks, documentIds, prefixLengths, lengths),
            };
    }

    /// <summary><paramref name="accumulator"/> + <paramref name="a"/>·<paramref name="b"/>, four lanes.</summary>
    private static Float4 MultiplyAdd(float a, Float4 b, Float4 accumulator) => new()
    {
        X = accumulator.X + a * b.X,
        Y = accumulator.Y + a * b.Y,
        Z = accumulator.Z + a * b.Z,
        W = accumulator.W + a * b.W,
    };

    /// <summary>
    /// Online softmax over one block, <c>parts</c> threads per row (part p takes keys p, p + parts, …): each finds its
    /// keys' max and passes it through the partials; then every part raises the row's running max to the largest, writes
    /// p = 2^(s − new max) over its scores and adds them to its part of the sum, rescaled by 2^(old max − new max), which
    /// part 0 also leaves for the output tiles. A row that has seen no visible key keeps max −∞, sum 0 and p = 0.
    /// </summary>
    public struct RowSoftmax
    {
        /// <summary>The row's running max (log2 domain; −∞ before any visible key), the same in every part.</summary>
        public float Max;

        /// <summary>This part's Σ 2^(score − Max) over the keys it has seen.</summary>
        public float Sum;

        /// <summary>False for threads beyond parts·rows: they take no part.</summary>
        public bool Active;

        /// <summary>This part's max over its keys of the block, into the partials after the probability tile.</summary>
        public readonly void PartialMax(ArrayView<float> probabilities, ArrayView<float> partials, int keys, int rows, int parts, int row, int part)
        {
            if (!Active)
                return;
            float max = float.NegativeInfinity;
            for (int j = part; j < keys; j += parts)
                max = XMath.Max(max, probabilities[j * rows + row]);
            partials[part * rows + row] = max;
        }

        /// <summary>The new running max from every part's, then this part's probabilities and sum; part 0 stores the row's rescale factor.</summary>
        public void Exponentiate(ArrayView<float> probabilities, ArrayView<float> partials, ArrayView<float> rowState, int keys, int rows, int parts, int row, int part)
        {
            if (!Active)
                return;
            float newMax = Max;
            for (int i = 0; i < parts; i++)
                newMax = XMath.Max(newMax, partials[i * rows + row]);
            float rescale = 1f;
            if (newMax == float.NegativeInfinity)
            {
                for (int j = part; j < keys; j += parts)
                    probabilities[j * rows + row] = 0f;
            }
            else
            {
                rescale = XMath.Exp2(Max - newMax); // 0 while the row had seen nothing: its sum and output are 0 anyway
                float sum = Sum * rescale;
                for (int j = part; j < keys; j += parts)
                {
                    float p = XMath.Exp2(probabilities[j * rows + row] - newMax);
                    probabilities[j * rows + row] = p;
                    sum += p;
                }
                Sum = sum;
                Max = newMax;
            }
            if (part == 0)
                rowState[row] = rescale;
        }
    }

    /// <summary>
    /// The output tile (rows 4·<paramref name="tileRow"/>…+3, dims 4·<paramref name="tileDim"/>…+3) rescaled by its rows'
    /// factors, plus P·V over the block's keys: per key one 4-wide load of probabilities and one of values, 16 FMAs.
    /// </summary>
    private static void AccumulateValues(ref Float4 o0, ref Float4 o1, ref Float4 o2, ref Float4 o3, ArrayView<float> probabilities, ArrayView<float> valueTile,
        ArrayView<float> rowState, int keys, int rows, int dim, int tileRow, int tileDim)
    {
        var rescale = rowState.Cast<Float4>()[tileRow];
        o0 = Scale(o0, rescale.X);
        o1 = Scale(o1, rescale.Y);
        o2 = Scale(o2, rescale.Z);
        o3 = Scale(o3, rescale.W);
        var p = probabilities.Cast<Float4>();
        var values = valueTile.Cast<Float4>();
        for (int j = 0; j < keys; j++)
        {
            var a = p[(j * rows) / 4 + tileRow];
            var b = values[(j * dim) / 4 + tileDim];
            o0 = MultiplyAdd(a.X, b, o0);
            o1 = MultiplyAdd(a.Y, b, o1);
            o2 = MultiplyAdd(a.Z, b, o2);
            o3 = MultiplyAdd(a.W, b, o3);
        }
    }

    private static Float4 Scale(Float4 value, float factor) => new() { X = value.X * factor, Y = value.Y * factor, Z = value.Z * factor, W = value.W * factor };

    /// <summary>Stores four dims of group row <paramref name="row"/> divided by the row's sum (its 1/sum in the third row vector), if the row and dims are real.</summary>
    private static void StoreRow<TKernel, TElement, TStorage>(ArrayView<TElement> output, Float4 values, ArrayView<float> rowState, in Place place, Lengths lengths,
        int rows, int row, int firstDim)
        where TKernel : struct, IAttentionKernel
        where TElement : unmanaged
        where TStorage : struct, IStorage<TElement>
    {
        if (row >= place.Rows)
            return;
        float inverse = rowState[row];
        long at = AttentionAddressing<TKernel>.Output(place.AddressBatch, place.Head, place.QueryBase + place.FirstQuery + row, lengths) + firstDim;
        // The head dim is a literal, so for a multiple of 4 these bounds tests fold away.
        if (firstDim < TKernel.HeadDim)
            output[at] = TStorage.Store(values.X * inverse);
        if (firstDim + 1 < TKernel.HeadDim)
            output[at + 1] = TStorage.Store(values.Y * inverse);
        if (firstDim + 2 < TKernel.HeadDim)
            output[at + 2] = TStorage.Store(values.Z * inverse);
        if (firstDim + 3 < TKernel.HeadDim)
            output[at + 3] = TStorage.Store(values.W * inverse);
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
