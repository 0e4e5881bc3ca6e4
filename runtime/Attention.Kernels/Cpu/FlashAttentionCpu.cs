using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Kernels.Cpu;

/// <summary>
/// The building blocks of the generated CPU attention kernels (flash attention with online softmax).
/// </summary>
/// <remarks>
/// <para>A work item is one tile of <see cref="QueryTile{TVec}"/> query rows of one (batch, head). The tile is
/// kept <b>transposed</b> (row i of the tile is SIMD lane i): Qᵀ[d][i], Sᵀ[j][i], Oᵀ[d][i]. Then every step is
/// lane-parallel over queries: scores are FMAs of a query vector by a broadcast key element; the row max and
/// sum of the online softmax are element-wise vector max/add (no horizontal reductions); P·V is FMAs of a
/// probability vector by a broadcast value element. K and V are never transposed; strided rows are copied block by
/// block into L1 (or once per worker and head, see <see cref="KeysValues{T}"/>).</para>
/// <para>Padding rows of a short tile compute on zero queries and are never stored. Scores are pre-multiplied by
/// scale·log₂e so the softmax uses 2^x.</para>
/// </remarks>
public static unsafe class FlashAttentionCpu
{
    /// <summary>Keys per block of the streaming loop: Sᵀ of a block stays in L1.</summary>
    public const int KeyBlock = 64;

    private const float Log2E = 1.4426950408889634f;
    private const float Ln2 = 0.6931471805599453f;

    /// <summary>Query rows per tile: four vectors of lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int QueryTile<TVec>() where TVec : struct => 4 * Simd.Count<TVec>();

    /// <summary>Query rows per tile on this machine (64 with AVX-512, 32 otherwise).</summary>
    public static int QueryTileRows => Simd.UseVector512 ? QueryTile<Vector512<float>>() : QueryTile<Vector256<float>>();

    /// <summary>
    /// Bytes of per-core scratch all workers hold for <paramref name="headDim"/> (the cost model's scratch term), plus the
    /// contiguous K/V copies of <see cref="KeysValues{T}"/> for heads of <paramref name="stridedKeyLength"/> keys whose
    /// rows are strided (BTHD and packed layouts) or stored in 16 bits (pass 0 when fp32 K/V are already contiguous).
    /// </summary>
    public static long ScratchBytes(int headDim, int stridedKeyLength = 0)
    {
        long tile = Simd.UseVector512 ? ScratchFloats<Vector512<float>>(headDim) : ScratchFloats<Vector256<float>>(headDim);
        long keysValues = 2L * stridedKeyLength * headDim;
        if (keysValues > MaxContiguousKeyValueFloats)
            keysValues = 0;
        return CpuParallel.WorkerCount * sizeof(float) * (tile + keysValues);
    }

    /// <summary>Floats of scratch one tile needs for <paramref name="headDim"/>.</summary>
    public static long ScratchFloats<TVec>(int headDim) where TVec : struct =>
        (long)QueryTile<TVec>() * (2L * headDim + KeyBlock + 2) + (long)KeyBlock * headDim;

    /// <summary>Pointers into one worker's scratch for one tile.</summary>
    public readonly struct Tile
    {
        /// <summary>Qᵀ[d][i], pre-scaled.</summary>
        public readonly float* Queries;
        /// <summary>Sᵀ[j][i] of the current key block, then P after the softmax step.</summary>
        public readonly float* Scores;
        /// <summary>Oᵀ[d][i], the unnormalized output accumulator.</summary>
        public readonly float* Output;
        /// <summary>Reference max per row (log₂ domain): the running max, moved lazily (<see cref="Softmax{TVec}"/>).</summary>
        public readonly float* RowMax;
        /// <summary>Running Σ 2^(s − reference max) per row.</summary>
        public readonly float* RowSum;
        /// <summary>The current value block, packed row-major [key][d] (see <see cref="AccumulateValues{TVec}"/>).</summary>
        public readonly float* Values;

        internal Tile(float* scratch, int rows, int headDim)
        {
            Queries = scratch;
            Output = Queries + (long)headDim * rows;
            Scores = Output + (long)headDim * rows;
            RowMax = Scores + (long)KeyBlock * rows;
            RowSum = RowMax + rows;
            Values = RowSum + rows;
        }
    }

    /// <summary>Takes the worker's scratch and resets the running max, sum and accumulator.</summary>
    public static Tile BeginTile<TVec>(int worker, int headDim) where TVec : struct
    {
        int rows = QueryTile<TVec>();
        var tile = new Tile(CpuScratch.Floats(worker, ScratchFloats<TVec>(headDim)), rows, headDim);
        new Span<float>(tile.RowMax, rows).Fill(float.NegativeInfinity);
        new Span<float>(tile.RowSum, rows).Clear();
        new Span<float>(tile.Output, headDim * rows).Clear();
        return tile;
    }

    /// <summary>
    /// Query tiles a worker claims at a time (<see cref="CpuParallel.For{TBody}(int, ref TBody, int)"/>): a run of an
    /// eighth of a head's tiles, while the launch still has 8 runs per worker to balance the cores (a causal mask's tiles
    /// differ in cost). Why runs: tiles handed out one at a time alternate between the workers, so each worker reads
    /// (and copies, <see cref="KeysValues{T}"/>) every key block of a head; in runs, a document mask's tiles of one
    /// document go to one worker, which copies only that document's keys and finds them in its L2 for the next tile.
    /// </summary>
    public static int TileGrain(int queryTiles, int items) =>
        Math.Max(1, Math.Min(queryTiles / 8, items / (8 * CpuParallel.WorkerCount)));

    /// <summary>Most floats of contiguous K and V one worker keeps for <see cref="KeysValues{T}"/> (4 MiB).</summary>
    public const long MaxContiguousKeyValueFloats = 1L << 20;

    // Per worker: which launch and key/value head its contiguous copy holds (a worker is one thread during a launch).
    private static readonly long[] s_packedLaunch = new long[CpuParallel.WorkerCount];
    private static readonly int[] s_packedHead = new int[CpuParallel.WorkerCount];
    private static long s_launches;

    /// <summary>A new launch number for <see cref="KeysValues{T}"/>'s per-worker cache (one per kernel launch).</summary>
    public static long NextLaunch() => Interlocked.Increment(ref s_launches);

    /// <summary>
    /// One key/value head as a tile item reads it: in place (<see cref="K"/>, <see cref="V"/>, rows <see cref="Stride"/>
    /// elements apart, stored as T), or as a contiguous fp32 copy in the worker's scratch (<see cref="K32"/>,
    /// <see cref="V32"/>, rows D floats apart) made by <see cref="KeysValues{T}"/>.
    /// </summary>
    public readonly struct KeyValueHead<T> where T : unmanaged
    {
        /// <summary>Key row 0 of the head in place.</summary>
        public readonly T* K;
        /// <summary>Value row 0 of the head in place.</summary>
        public readonly T* V;
        /// <summary>Elements between consecutive key (and value) rows in place.</summary>
        public readonly long Stride;
        /// <summary>The contiguous fp32 keys, or null when read in place.</summary>
        public readonly float* K32;
        /// <summary>The contiguous fp32 values, or null when read in place.</summary>
        public readonly float* V32;
        /// <summary>One bit per <see cref="KeyBlock"/> keys of the copy: set once that block of K32 and V32 is filled.</summary>
        public readonly ulong* Staged;
        /// <summary>Key rows of the head (the last staged block may be shorter).</summary>
        public readonly int KeyLength;

        internal KeyValueHead(T* k, T* v, long stride, float* k32, float* v32, ulong* staged, int keyLength)
        {
            K = k;
            V = v;
            Stride = stride;
            K32 = k32;
            V32 = v32;
            Staged = staged;
            KeyLength = keyLength;
        }
    }

    /// <summary>
    /// One key/value head for a tile item. With <paramref name="reuse"/> (the worker's later items reread the head: the
    /// generated kernel passes more than two query tiles per head) and rows that are strided (BTHD, packed QKV: <paramref name="stride"/> ≠ D) or stored in 16
    /// bits, K and V are copied into the worker's scratch as contiguous fp32 — block by block as its tiles first read them (<see cref="Stage{T}"/>),
    /// 16-bit values widened on the way — and reused by its later items of the same head in the same launch.
    /// Why: with H·D a power of two, as usual, the rows of one head fall into a few L2 sets, so a head's K and V do not
    /// stay in L2 between the tiles that reread them (measured by the benchmarks' <c>limits</c> probe: +20 % per block);
    /// and a 16-bit head is widened once per worker instead of once per tile. Heads too long for
    /// <see cref="MaxContiguousKeyValueFloats"/>, and heads read by one tile, are read in place: <see cref="Scores{TVec, T}"/>
    /// and <see cref="AccumulateValues{TVec, T}"/> then widen each block as they go.
    /// </summary>
    public static KeyValueHead<T> KeysValues<T>(int worker, long launch, int kvIndex, T* k, T* v, long stride,
        int keyLength, int headDim, bool reuse) where T : unmanaged
    {
        long floats = (long)keyLength * headDim;
        if (!reuse || (stride == headDim && typeof(T) == typeof(float)) || 2 * floats > MaxContiguousKeyValueFloats)
        {
            // Read in place, block by block: ask for the first key block now, so it arrives while the tile packs its queries
            // (the head's rows come from a projection larger than L2; see Scores/AccumulateValues for the later blocks).
            if (typeof(T) == typeof(float) && stride != headDim)
                PrefetchRows(k, stride, Math.Min(KeyBlock, keyLength), headDim * sizeof(float));
            return new KeyValueHead<T>(k, v, stride, null, null, null, keyLength);
        }
        int words = ((keyLength + KeyBlock - 1) / KeyBlock + 63) / 64;
        float* packed = CpuScratch.Floats(worker, 2 * floats + 2L * words, slot: 1);
        ulong* staged = (ulong*)(packed + 2 * floats); // 8-byte aligned: 2·floats floats before it
        if (s_packedLaunch[worker] != launch || s_packedHead[worker] != kvIndex)
        {
            new Span<ulong>(staged, words).Clear(); // nothing of this head copied yet: Scores stages blocks on first use
            s_packedLaunch[worker] = launch;
            s_packedHead[worker] = kvIndex;
        }
        return new KeyValueHead<T>(k, v, stride, packed, packed + floats, staged, keyLength);
    }

    /// <summary>
    /// Copies (widens) the K and V blocks of keys [<paramref name="firstKey"/>, firstKey + keys) not yet in the head's
    /// fp32 copy. Why lazily: with work handed out in runs of a head's consecutive tiles (<see cref="TileGrain"/>), a
    /// worker whose tiles see only some keys (a document mask) copies only those, and the blocks it copied last are
    /// still in L2 when its next tile rereads them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage<T>(in KeyValueHead<T> head, int firstKey, int keys, int headDim) where T : unmanaged
    {
        int last = (firstKey + keys - 1) / KeyBlock;
        for (int block = firstKey / KeyBlock; block <= last; block++)
        {
            ulong bit = 1UL << (block & 63);
            if ((head.Staged[block >> 6] & bit) != 0)
                continue;
            int first = block * KeyBlock, rows = Math.Min(KeyBlock, head.KeyLength - first);
            long offset = (long)first * headDim;
            CpuElements.WidenRows(head.K + first * head.Stride, head.Stride, head.K32 + offset, rows, headDim);
            CpuElements.WidenRows(head.V + first * head.Stride, head.Stride, head.V32 + offset, rows, headDim);
            head.Staged[block >> 6] |= bit;
        }
    }

    /// <summary>
    /// <see cref="Scores{TVec}"/> for key block [<paramref name="firstKey"/>, firstKey + keys) of a head: from its fp32 copy,
    /// in place for fp32, or for 16-bit keys read in place from the block's rows widened into the tile's block buffer (L1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scores<TVec, T>(in Tile tile, in KeyValueHead<T> head, int firstKey, int keys, int headDim)
        where TVec : struct where T : unmanaged
    {
        if (head.K32 != null)
        {
            Stage(head, firstKey, keys, headDim); // K and V of the block: AccumulateValues follows on the same block
            Scores<TVec>(tile, head.K32 + (long)firstKey * headDim, headDim, keys, headDim);
        }
        else if (typeof(T) == typeof(float) && head.Stride == headDim)
            Scores<TVec>(tile, (float*)head.K + firstKey * head.Stride, headDim, keys, headDim);
        else
        {
            // Strided fp32 rows (packed QKV, BTHD) and 16-bit rows go through the block buffer (L1), widened on the way, as
            // the value block does: in place, the micro-kernel's four key rows per step lie H·D floats apart and thrash a few
            // L1 sets. Measured on MiniLM's packed heads (D32, T128, two tiles per head, so no per-worker copy): Scores took
            // 3× AccumulateValues.
            CpuElements.WidenRows(head.K + firstKey * head.Stride, head.Stride, tile.Values, keys, headDim);
            if (typeof(T) == typeof(float))
                PrefetchRows((float*)head.V + firstKey * head.Stride, head.Stride, keys, headDim * sizeof(float)); // read after the softmax
            Scores<TVec>(tile, tile.Values, headDim, keys, headDim);
        }
    }

    /// <summary><see cref="AccumulateValues{TVec}"/> for value block [<paramref name="firstKey"/>, firstKey + keys) of a head (as <see cref="Scores{TVec, T}"/> reads keys).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AccumulateValues<TVec, T>(in Tile tile, in KeyValueHead<T> head, int firstKey, int keys, int headDim)
        where TVec : struct where T : unmanaged
    {
        if (head.V32 != null)
            AccumulateValues<TVec>(tile, head.V32 + (long)firstKey * headDim, headDim, keys, headDim);
        else if (typeof(T) == typeof(float))
        {
            if (head.Stride != headDim) // the next key block, if any, arrives while this one is accumulated
                PrefetchRows((float*)head.K + (firstKey + keys) * head.Stride, head.Stride, Math.Min(KeyBlock, head.KeyLength - firstKey - keys), headDim * sizeof(float));
            AccumulateValues<TVec>(tile, (float*)head.V + firstKey * head.Stride, head.Stride, keys, headDim);
        }
        else
        {
            CpuElements.WidenRows(head.V + firstKey * head.Stride, head.Stride, tile.Values, keys, headDim);
            AccumulateValues<TVec>(tile, tile.Values, headDim, keys, headDim);
        }
    }

    /// <summary>
    /// <see cref="PackQueries{TVec}"/> for queries stored as T: 16-bit rows are first widened into the tile's block buffer
    /// (free before the first key block), then packed from there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PackQueries<TVec, T>(in Tile tile, T* q, long rowStride, int rows, int headDim, float scale)
        where TVec : struct where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            PackQueries<TVec>(tile, (float*)q, rowStride, rows, headDim, scale);
            return;
        }
        CpuElements.WidenRows(q, rowStride, tile.Values, rows, headDim);
        PackQueries<TVec>(tile, tile.Values, headDim, rows, headDim, scale);
    }

    /// <summary>
    /// <see cref="Store{TVec}"/> for an output stored as T: for 16 bits the normalized rows go to the tile's block buffer
    /// (free after the last key block) and are rounded from there, each element once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TVec, T>(in Tile tile, T* output, long rowStride, int rows, int headDim, float* logSumExp, long lseStride)
        where TVec : struct where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Store<TVec>(tile, (float*)output, rowStride, rows, headDim, logSumExp, lseStride);
            return;
        }
        Store<TVec>(tile, tile.Values, headDim, rows, headDim, logSumExp, lseStride);
        for (int i = 0; i < rows; i++)
            CpuElements.Narrow(tile.Values + (long)i * headDim, output + i * rowStride, headDim);
    }

    /// <summary>Qᵀ[d][i] = q[i][d] · scale · log₂e for the tile's <paramref name="rows"/> rows, zero for padding rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void PackQueries<TVec>(in Tile tile, float* q, long rowStride, int rows, int headDim, float scale)
        where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        float factor = scale * Log2E;
        int i0 = 0;
        if (Sse.IsSupported)
        {
            // 4×4 blocks transposed in registers: the scalar transpose was ~4 % of a T1024 tile, ~10 % under a causal mask.
            var scaleBy = Vector128.Create(factor);
            int blockDims = headDim & ~3;
            for (; i0 + 4 <= rows; i0 += 4)
            {
                for (int d = 0; d < blockDims; d += 4)
                    Transpose4x4(q + i0 * rowStride + d, rowStride, tile.Queries + (long)d * tileRows + i0, tileRows, scaleBy);
                for (int d = blockDims; d < headDim; d++)
                    for (int i = i0; i < i0 + 4; i++)
                        tile.Queries[(long)d * tileRows + i] = q[i * rowStride + d] * factor;
            }
        }
        for (int d = 0; d < headDim; d++)
        {
            float* column = tile.Queries + (long)d * tileRows;
            for (int i = i0; i < rows; i++)
                column[i] = q[i * rowStride + d] * factor;
            for (int i = rows; i < tileRows; i++)
                column[i] = 0f;
        }
    }

    /// <summary>
    /// dst[c][r] = src[r][c] · columnScale[c] for a 4×4 block (row strides in floats): two unpacks and two moves per
    /// pair of rows instead of 16 scalar loads and stores to 16 different lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(float* src, long srcStride, float* dst, long dstStride, Vector128<float> columnScale)
    {
        Vector128<float> r0 = Sse.LoadVector128(src) * columnScale, r1 = Sse.LoadVector128(src + srcStride) * columnScale;
        Vector128<float> r2 = Sse.LoadVector128(src + 2 * srcStride) * columnScale, r3 = Sse.LoadVector128(src + 3 * srcStride) * columnScale;
        Vector128<float> low01 = Sse.UnpackLow(r0, r1), low23 = Sse.UnpackLow(r2, r3);    // a0 b0 a1 b1 | c0 d0 c1 d1
        Vector128<float> high01 = Sse.UnpackHigh(r0, r1), high23 = Sse.UnpackHigh(r2, r3); // a2 b2 a3 b3 | c2 d2 c3 d3
        Sse.Store(dst, Sse.MoveLowToHigh(low01, low23));
        Sse.Store(dst + dstStride, Sse.MoveHighToLow(low23, low01));
        Sse.Store(dst + 2 * dstStride, Sse.MoveLowToHigh(high01, high23));
        Sse.Store(dst + 3 * dstStride, Sse.MoveHighToLow(high23, high01));
    }

    /// <summary>Sᵀ[j][·] = Σ_d k[j][d] · Qᵀ[d][·] for <paramref name="keys"/> keys (register tile: 4 keys × 4 vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void Scores<TVec>(in Tile tile, float* k, long keyStride, int keys, int headDim) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int tileRows = 4 * w;
        float* qt = tile.Queries;
        int j = 0;
        for (; j + 4 <= keys; j += 4)
        {
            float* k0 = k + j * keyStride, k1 = k0 + keyStride, k2 = k1 + keyStride, k3 = k2 + keyStride;
            TVec a00 = default, a01 = default, a02 = default, a03 = default;
            TVec a10 = default, a11 = default, a12 = default, a13 = default;
            TVec a20 = default, a21 = default, a22 = default, a23 = default;
            TVec a30 = default, a31 = default, a32 = default, a33 = default;
            for (int d = 0; d < headDim; d++)
            {
                float* row = qt + (long)d * tileRows;
                TVec q0 = Simd.Load<TVec>(row), q1 = Simd.Load<TVec>(row + w), q2 = Simd.Load<TVec>(row + 2 * w), q3 = Simd.Load<TVec>(row + 3 * w);
                TVec b = Simd.Broadcast<TVec>(k0[d]);
                a00 = Simd.Fma(q0, b, a00); a01 = Simd.Fma(q1, b, a01); a02 = Simd.Fma(q2, b, a02); a03 = Simd.Fma(q3, b, a03);
                b = Simd.Broadcast<TVec>(k1[d]);
                a10 = Simd.Fma(q0, b, a10); a11 = Simd.Fma(q1, b, a11); a12 = Simd.Fma(q2, b, a12); a13 = Simd.Fma(q3, b, a13);
                b = Simd.Broadcast<TVec>(k2[d]);
                a20 = Simd.Fma(q0, b, a20); a21 = Simd.Fma(q1, b, a21); a22 = Simd.Fma(q2, b, a22); a23 = Simd.Fma(q3, b, a23);
                b = Simd.Broadcast<TVec>(k3[d]);
                a30 = Simd.Fma(q0, b, a30); a31 = Simd.Fma(q1, b, a31); a32 = Simd.Fma(q2, b, a32); a33 = Simd.Fma(q3, b, a33);
            }
            float* s = tile.Scores + (long)j * tileRows;
            Simd.Store(a00, s); Simd.Store(a01, s + w); Simd.Store(a02, s + 2 * w); Simd.Store(a03, s + 3 * w);
            s += tileRows;
            Simd.Store(a10, s); Simd.Store(a11, s + w); Simd.Store(a12, s + 2 * w); Simd.Store(a13, s + 3 * w);
            s += tileRows;
            Simd.Store(a20, s); Simd.Store(a21, s + w); Simd.Store(a22, s + 2 * w); Simd.Store(a23, s + 3 * w);
            s += tileRows;
            Simd.Store(a30, s); Simd.Store(a31, s + w); Simd.Store(a32, s + 2 * w); Simd.Store(a33, s + 3 * w);
        }
        for (; j < keys; j++)
        {
            float* kj = k + j * keyStride;
            TVec a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < headDim; d++)
            {
                float* row = qt + (long)d * tileRows;
                TVec b = Simd.Broadcast<TVec>(kj[d]);
                a0 = Simd.Fma(Simd.Load<TVec>(row), b, a0);
                a1 = Simd.Fma(Simd.Load<TVec>(row + w), b, a1);
                a2 = Simd.Fma(Simd.Load<TVec>(row + 2 * w), b, a2);
                a3 = Simd.Fma(Simd.Load<TVec>(row + 3 * w), b, a3);
            }
            float* s = tile.Scores + (long)j * tileRows;
            Simd.Store(a0, s); Simd.Store(a1, s + w); Simd.Store(a2, s + 2 * w); Simd.Store(a3, s + 3 * w);
        }
    }

    /// <summary>
    /// Sets Sᵀ[j][i] = −∞ where key <paramref name="firstKey"/>+j is outside the mask of query
    /// <paramref name="firstQuery"/>+i: allowed iff j − i ≤ diagonal and, with a window, j − i &gt; diagonal − window.
    /// Called only on blocks that straddle a mask edge.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyMask<TVec>(in Tile tile, int keys, int firstKey, int firstQuery, int diagonal, int window)
        where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        for (int j = 0; j < keys; j++)
        {
            // With c = (firstKey + j) − firstQuery, row i sees key j iff c − i ≤ diagonal (i ≥ c − diagonal) and, with a
            // window, c − i > diagonal − window (i < c − diagonal + window): the masked rows are two runs, filled as such.
            float* s = tile.Scores + (long)j * tileRows;
            int firstVisible = firstKey + j - firstQuery - diagonal;
            new Span<float>(s, Math.Clamp(firstVisible, 0, tileRows)).Fill(float.NegativeInfinity);
            if (window > 0)
            {
                int end = Math.Clamp(firstVisible + window, 0, tileRows);
                new Span<float>(s + end, tileRows - end).Fill(float.NegativeInfinity);
            }
        }
    }

    /// <summary>
    /// Built-in prefix-LM on a score block (query i sees key j iff j &lt; <paramref name="prefix"/> or j ≤ i): for each key at or
    /// past the prefix, the rows above the diagonal (firstQuery + i &lt; key) become −∞, as one run per key. Called only on
    /// blocks with a key past both the prefix and the tile's first row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyPrefixLm<TVec>(in Tile tile, int keys, int firstKey, int firstQuery, int prefix) where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        for (int j = Math.Max(0, prefix - firstKey); j < keys; j++)
        {
            // Rows i < key − firstQuery do not reach this key yet.
            int hidden = Math.Clamp(firstKey + j - firstQuery, 0, tileRows);
            new Span<float>(tile.Scores + (long)j * tileRows, hidden).Fill(float.NegativeInfinity);
        }
    }

    /// <summary>The smallest and largest of <paramref name="count"/> document ids (a query tile's rows); an empty run gives (1, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // compiled into the fully optimized tile loop (no tier-0 copy)
    public static void DocumentRange(int* ids, int count, out int first, out int last)
    {
        first = 1;
        last = 0;
        if (count <= 0)
            return;
        int i = 0, lo = int.MaxValue, hi = int.MinValue;
        if (count >= 8)
        {
            // Eight ids per step (every tile and key block asks: a scalar loop was a visible share of a sparse launch).
            var low = Vector256.Create(int.MaxValue);
            var high = Vector256.Create(int.MinValue);
            for (; i + 8 <= count; i += 8)
            {
                var x = Vector256.Load(ids + i);
                low = Vector256.Min(low, x);
                high = Vector256.Max(high, x);
            }
            for (int lane = 0; lane < 8; lane++)
            {
                lo = Math.Min(lo, low.GetElement(lane));
                hi = Math.Max(hi, high.GetElement(lane));
            }
        }
        for (; i < count; i++)
        {
            lo = Math.Min(lo, ids[i]);
            hi = Math.Max(hi, ids[i]);
        }
        first = lo;
        last = hi;
    }

    /// <summary>
    /// Class of a key block under the built-in document mask, from id ranges alone (O(keys), no element test):
    /// <see cref="BlockEmpty"/> when the block's ids [min, max] miss the tile's [<paramref name="firstDocument"/>,
    /// <paramref name="lastDocument"/>] (no pair can match), <see cref="BlockFull"/> when both hold one and the same id, else
    /// <see cref="BlockPartial"/> (which may still hide every pair: the element test decides). Correct for arbitrary ids;
    /// with contiguous documents only the blocks on a document boundary are partial.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // compiled into the fully optimized tile loop (no tier-0 copy)
    public static int ClassifyDocuments(int* keyIds, int keys, int firstDocument, int lastDocument)
    {
        DocumentRange(keyIds, keys, out int first, out int last);
        if (last < firstDocument || first > lastDocument || first > last)
            return BlockEmpty;
        return first == last && firstDocument == lastDocument ? BlockFull : BlockPartial;
    }

    /// <summary>
    /// The built-in document mask on a partial block: −∞ where query row i's id differs from key j's. Padding rows are left
    /// alone (they have no id and are never stored).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyDocumentMask<TVec>(in Tile tile, int keys, int rows, int* queryIds, int* keyIds) where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        for (int j = 0; j < keys; j++)
        {
            float* s = tile.Scores + (long)j * tileRows;
            int id = keyIds[j];
            for (int i = 0; i < rows; i++)
            {
                if (queryIds[i] != id)
                    s[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>A key block the mask modifier hides from every real row of the tile: skipped before its scores are computed.</summary>
    public const int BlockEmpty = 1;
    /// <summary>A key block the mask modifier shows to every real row of the tile: no element masking.</summary>
    public const int BlockFull = 2;
    /// <summary>A key block with both: masked per element.</summary>
    public const int BlockPartial = 3;

    /// <summary>Most cached block classes per launch shape (8 bytes each); bigger launches classify every block every launch.</summary>
    public const long MaxBlockMaskEntries = 1L << 21;

    /// <summary>Slots per query tile in a block-mask cache: the key range of a tile spans at most this many blocks.</summary>
    public static int BlocksPerTile(int keyLength) => (keyLength + KeyBlock - 1) / KeyBlock + 1;

    /// <summary>
    /// The block-mask cache of <typeparamref name="TMods"/>'s mask modifier for one launch shape: one slot per (tile item,
    /// key block), tile item = (batch, head, query tile) as the generated kernel numbers them. Null when the shape needs more
    /// than <see cref="MaxBlockMaskEntries"/> slots. Shared by every launch of that shape: mods are pure functions of
    /// (batch, head, query, key), so a block's class never changes (a slot also records which block it classified, so a launch
    /// with other key lengths or offsets reclassifies instead of trusting a stale slot). Null too for a mask modifier that reads
    /// tensors (<see cref="IElementMods.MaskModReadsTensors"/>): their contents may change between launches, so each launch
    /// classifies its blocks anew.
    /// </summary>
    public static long[]? BlockMasks<TMods>(int batch, int heads, int queryLength, int keyLength, int tileRows)
        where TMods : struct, IElementMods =>
        TMods.MaskModReadsTensors ? null : BlockMaskCache<TMods>.Get(batch, heads, queryLength, keyLength, tileRows);

    private static class BlockMaskCache<TMods> where TMods : struct, IElementMods
    {
        private const int MaxShapes = 16;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int, int, int, int), long[]> s_byShape = new();

        public static long[]? Get(int batch, int heads, int queryLength, int keyLength, int tileRows)
        {
            long entries = (long)batch * heads * ((queryLength + tileRows - 1) / tileRows) * BlocksPerTile(keyLength);
            if (entries <= 0 || entries > MaxBlockMaskEntries)
                return null;
            var shape = (batch, heads, queryLength, keyLength, tileRows);
            if (s_byShape.TryGetValue(shape, out var cache))
                return cache;
            if (s_byShape.Count >= MaxShapes)
                s_byShape.Clear(); // bounded memory; launches in flight keep their arrays
            return s_byShape.GetOrAdd(shape, _ => new long[entries]);
        }
    }

    /// <summary>
    /// Class of key block [firstKey, firstKey + keys) for the tile's real rows under <typeparamref name="TMods"/>'s mask
    /// modifier: <see cref="BlockEmpty"/>, <see cref="BlockFull"/> or <see cref="BlockPartial"/>. Read from
    /// <paramref name="cache"/>[<paramref name="slot"/>] when that slot holds this very block, else evaluated (every element
    /// for an empty or full block, until both kinds are seen for a partial one) and stored there.
    /// </summary>
    public static int ClassifyBlock<TMods>(long[]? cache, long slot, int batch, int head, int firstQuery, int rows, int firstKey, int keys,
        in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors = default)
        where TMods : struct, IElementMods
    {
        // Slot = firstQuery (25 bits) | firstKey (24) | rows − 1 (7) | keys − 1 (6) | class (2, 0 = empty slot).
        bool cacheable = cache is not null && (uint)firstQuery < (1u << 25) && (uint)firstKey < (1u << 24);
        long tag = ((long)firstQuery << 39) | ((long)firstKey << 15) | ((long)(rows - 1) << 8) | ((long)(keys - 1) << 2);
        if (cacheable)
        {
            long entry = Volatile.Read(ref cache![slot]);
            if ((entry & ~3L) == tag && (entry & 3) != 0)
                return (int)(entry & 3);
        }
        int kind = Classify<TMods>(batch, head, firstQuery, rows, firstKey, keys, tensors);
        if (cacheable)
            Volatile.Write(ref cache![slot], tag | (uint)kind);
        return kind;
    }

    private static int Classify<TMods>(int batch, int head, int firstQuery, int rows, int firstKey, int keys,
        in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors)
        where TMods : struct, IElementMods
    {
        bool any = false, all = true;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < keys; j++)
            {
                if (TMods.MaskMod(batch, head, firstQuery + i, firstKey + j, tensors))
                    any = true;
                else
                    all = false;
                if (any && !all)
                    return BlockPartial;
            }
        return any ? BlockFull : BlockEmpty;
    }

    /// <summary>
    /// Applies a declaration's modifiers to a computed (and built-in-masked) score block, before <see cref="Softmax{TVec}"/>:
    /// −∞ where <c>MaskMod</c> hides the pair, else <c>ScoreMod</c> on the natural-unit score. The tile holds
    /// scale·log₂e·q·k (key-major: row i of key j at <c>Scores[j · tileRows + i]</c>), so a score s becomes
    /// ScoreMod(s·ln2, …)·log₂e. Pairs already at −∞ (hidden by the built-in mask) stay hidden; padding rows are left alone.
    /// One mask and one score evaluation per element, scalar: only declarations with user modifiers call this, and with
    /// <paramref name="maskPartial"/> false (a block <see cref="ClassifyBlock{TMods}"/> found full) the mask is not evaluated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyMods<TVec, TKernel>(in Tile tile, int keys, int firstKey, int rows, int firstQuery, int batch, int head,
        in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors, bool maskPartial = true)
        where TVec : struct
        where TKernel : struct, IElementMods
    {
        bool mask = TKernel.HasMaskMod && maskPartial; // a block classified full needs no mask evaluation
        int tileRows = QueryTile<TVec>();
        for (int j = 0; j < keys; j++)
        {
            float* s = tile.Scores + (long)j * tileRows;
            int key = firstKey + j;
            for (int i = 0; i < rows; i++)
            {
                if (float.IsNegativeInfinity(s[i]))
                    continue;
                if (mask && !TKernel.MaskMod(batch, head, firstQuery + i, key, tensors))
                    s[i] = float.NegativeInfinity;
                else if (TKernel.HasScoreMod)
                    s[i] = TKernel.ScoreMod(s[i] * Ln2, batch, head, firstQuery + i, key, tensors) * Log2E;
            }
        }
    }

    /// <summary>
    /// Built-in ALiBi on a score block, vectorized: s + slope·(key − query) in natural units is s + slope·log₂e·(key − query)
    /// in the tile's log₂ domain. key − query is formed exactly as a float (|·| &lt; 2²⁴) and added with one FMA; −∞ stays −∞.
    /// Padding rows get a finite bias and are never stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyAlibi<TVec>(in Tile tile, int keys, int firstKey, int firstQuery, float slope) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int tileRows = 4 * w;
        float* rowIndex = stackalloc float[tileRows];
        for (int i = 0; i < tileRows; i++)
            rowIndex[i] = i;
        TVec i0 = Simd.Load<TVec>(rowIndex), i1 = Simd.Load<TVec>(rowIndex + w), i2 = Simd.Load<TVec>(rowIndex + 2 * w), i3 = Simd.Load<TVec>(rowIndex + 3 * w);
        TVec m = Simd.Broadcast<TVec>(slope * Log2E);
        for (int j = 0; j < keys; j++)
        {
            float* s = tile.Scores + (long)j * tileRows;
            TVec c = Simd.Broadcast<TVec>(firstKey + j - firstQuery); // key − query of row 0
            Simd.Store(Simd.Fma(Simd.Subtract(c, i0), m, Simd.Load<TVec>(s)), s);
            Simd.Store(Simd.Fma(Simd.Subtract(c, i1), m, Simd.Load<TVec>(s + w)), s + w);
            Simd.Store(Simd.Fma(Simd.Subtract(c, i2), m, Simd.Load<TVec>(s + 2 * w)), s + 2 * w);
            Simd.Store(Simd.Fma(Simd.Subtract(c, i3), m, Simd.Load<TVec>(s + 3 * w)), s + 3 * w);
        }
    }

    /// <summary>
    /// Built-in soft-capping on a score block, vectorized: cap·tanh(s/cap) in natural units is cap·log₂e·tanh(s·ln2/cap) in the
    /// tile's log₂ domain, with <see cref="Simd.Tanh{TVec}"/>. −∞ (a hidden pair) stays −∞, where tanh would give −cap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplySoftCap<TVec>(in Tile tile, int keys, float cap) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        long count = (long)keys * 4 * w;
        TVec inward = Simd.Broadcast<TVec>(Ln2 / cap), outward = Simd.Broadcast<TVec>(cap * Log2E);
        for (long e = 0; e < count; e += w)
        {
            float* s = tile.Scores + e;
            TVec x = Simd.Load<TVec>(s);
            TVec capped = Simd.Multiply(Simd.Tanh(Simd.Multiply(x, inward)), outward);
            Simd.Store(Simd.NegativeInfinityOr(x, capped), s);
        }
    }

    /// <summary>
    /// A boolean <c>attnMask</c> (PyTorch SDPA's: true takes part) on a computed score block: −∞ where the mask is false.
    /// <paramref name="mask"/> points at the (batch, head) plane, read at (firstQuery + i)·queryStride + (firstKey + j)·keyStride;
    /// padding rows are left alone (the mask has no row for them). Scalar, one byte per element: only declarations with a
    /// boolean mask call this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyBooleanMask<TVec>(in Tile tile, int keys, int firstKey, int rows, int firstQuery, bool* mask, long queryStride, long keyStride)
        where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        for (int j = 0; j < keys; j++)
        {
            float* s = tile.Scores + (long)j * tileRows;
            bool* column = mask + (firstKey + j) * keyStride + firstQuery * queryStride;
            for (int i = 0; i < rows; i++)
            {
                if (!column[i * queryStride])
                    s[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// An additive (float) <c>attnMask</c> on a score block, after the score modifier: s + mask (natural units) becomes
    /// s + mask·log₂e in the tile's log₂ domain; −∞ in the mask hides the pair. Addressed as <see cref="ApplyBooleanMask{TVec}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void ApplyAdditiveMask<TVec>(in Tile tile, int keys, int firstKey, int rows, int firstQuery, float* mask, long queryStride, long keyStride)
        where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        for (int j = 0; j < keys; j++)
        {
            float* s = tile.Scores + (long)j * tileRows;
            float* column = mask + (firstKey + j) * keyStride + firstQuery * queryStride;
            for (int i = 0; i < rows; i++)
                s[i] += column[i * queryStride] * Log2E;
        }
    }

    /// <summary>
    /// How far (log₂ units) a block's scores may pass a row's reference max before <see cref="Softmax{TVec}"/> moves it:
    /// probabilities then reach at most 2^8 = 256 and the running sum Tk·256, far from fp32's range.
    /// </summary>
    public const float MaxSlack = 8f;

    /// <summary>
    /// Online softmax step for one key block: P = 2^(S − m) in place of S and the row sums, with m each row's reference
    /// max. m moves (to the running max) only when some score of the block passes it by more than <see cref="MaxSlack"/>;
    /// the sum and the accumulator are then rescaled by 2^(old m − new m). Why lazily: after a tile's first blocks the
    /// running max rarely grows by that much, so the rescale of Oᵀ (a pass over the whole accumulator) and the correction's
    /// 2^x are skipped for most blocks; out/sum is unchanged by which m they share (the log-sum-exp is m + log₂ sum).
    /// Rows that have seen only masked keys keep m = −∞ and sum = 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void Softmax<TVec>(in Tile tile, int keys, int headDim) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int tileRows = 4 * w;
        float* scores = tile.Scores;
        // The tile's four lane vectors side by side: four independent max (then sum) chains instead of one.
        TVec r0 = Simd.Load<TVec>(tile.RowMax), r1 = Simd.Load<TVec>(tile.RowMax + w);
        TVec r2 = Simd.Load<TVec>(tile.RowMax + 2 * w), r3 = Simd.Load<TVec>(tile.RowMax + 3 * w);
        TVec m0 = r0, m1 = r1, m2 = r2, m3 = r3;
        for (int j = 0; j < keys; j++)
        {
            float* s = scores + (long)j * tileRows;
            m0 = Simd.MaxFast(m0, Simd.Load<TVec>(s));
            m1 = Simd.MaxFast(m1, Simd.Load<TVec>(s + w));
            m2 = Simd.MaxFast(m2, Simd.Load<TVec>(s + 2 * w));
            m3 = Simd.MaxFast(m3, Simd.Load<TVec>(s + 3 * w));
        }
        TVec sum0 = Simd.Load<TVec>(tile.RowSum), sum1 = Simd.Load<TVec>(tile.RowSum + w);
        TVec sum2 = Simd.Load<TVec>(tile.RowSum + 2 * w), sum3 = Simd.Load<TVec>(tile.RowSum + 3 * w);
        // −∞ + slack = −∞: a row's first visible key always moves its reference.
        TVec slack = Simd.Broadcast<TVec>(MaxSlack);
        bool rescale = Simd.AnyGreaterThan(m0, Simd.Add(r0, slack)) | Simd.AnyGreaterThan(m1, Simd.Add(r1, slack))
            | Simd.AnyGreaterThan(m2, Simd.Add(r2, slack)) | Simd.AnyGreaterThan(m3, Simd.Add(r3, slack));
        TVec c0 = default, c1 = default, c2 = default, c3 = default;
        if (rescale)
        {
            // Every row moves to its running max (a row that did not grow gets correction 2⁰ = 1). A row's first visible
            // block: 2^(−∞ − m) = 0, and its sum and accumulator are still 0.
            c0 = Simd.Exp2(Simd.Subtract(r0, Simd.ZeroWhereNegativeInfinity(m0)));
            c1 = Simd.Exp2(Simd.Subtract(r1, Simd.ZeroWhereNegativeInfinity(m1)));
            c2 = Simd.Exp2(Simd.Subtract(r2, Simd.ZeroWhereNegativeInfinity(m2)));
            c3 = Simd.Exp2(Simd.Subtract(r3, Simd.ZeroWhereNegativeInfinity(m3)));
            sum0 = Simd.Multiply(sum0, c0); sum1 = Simd.Multiply(sum1, c1); sum2 = Simd.Multiply(sum2, c2); sum3 = Simd.Multiply(sum3, c3);
            r0 = m0; r1 = m1; r2 = m2; r3 = m3;
            Simd.Store(r0, tile.RowMax); Simd.Store(r1, tile.RowMax + w); Simd.Store(r2, tile.RowMax + 2 * w); Simd.Store(r3, tile.RowMax + 3 * w);
        }
        // −∞ − (−∞) = NaN for an all-masked row: subtract 0 there (its scores are −∞, so its P is 0).
        r0 = Simd.ZeroWhereNegativeInfinity(r0); r1 = Simd.ZeroWhereNegativeInfinity(r1);
        r2 = Simd.ZeroWhereNegativeInfinity(r2); r3 = Simd.ZeroWhereNegativeInfinity(r3);
        for (int j = 0; j < keys; j++)
        {
            float* s = scores + (long)j * tileRows;
            TVec p0 = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(s), r0));
            TVec p1 = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(s + w), r1));
            TVec p2 = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(s + 2 * w), r2));
            TVec p3 = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(s + 3 * w), r3));
            Simd.Store(p0, s); Simd.Store(p1, s + w); Simd.Store(p2, s + 2 * w); Simd.Store(p3, s + 3 * w);
            sum0 = Simd.Add(sum0, p0); sum1 = Simd.Add(sum1, p1); sum2 = Simd.Add(sum2, p2); sum3 = Simd.Add(sum3, p3);
        }
        Simd.Store(sum0, tile.RowSum); Simd.Store(sum1, tile.RowSum + w); Simd.Store(sum2, tile.RowSum + 2 * w); Simd.Store(sum3, tile.RowSum + 3 * w);
        if (!rescale)
            return;
        for (int d = 0; d < headDim; d++)
        {
            float* o = tile.Output + (long)d * tileRows;
            Simd.Store(Simd.Multiply(Simd.Load<TVec>(o), c0), o);
            Simd.Store(Simd.Multiply(Simd.Load<TVec>(o + w), c1), o + w);
            Simd.Store(Simd.Multiply(Simd.Load<TVec>(o + 2 * w), c2), o + 2 * w);
            Simd.Store(Simd.Multiply(Simd.Load<TVec>(o + 3 * w), c3), o + 3 * w);
        }
    }

    /// <summary>
    /// Oᵀ[d][·] += Σ_j P[j][·] · v[j][d] (register tile: 4 head-dim rows × 4 vectors). The block's value rows are
    /// first packed contiguously: the micro-kernel walks them column-wise (fixed d, every key), and in place they lie
    /// H·D floats apart (BTHD), a power-of-two stride that maps them all to a few L1 sets and evicts them every pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void AccumulateValues<TVec>(in Tile tile, float* values, long valueRowStride, int keys, int headDim)
        where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int tileRows = 4 * w;
        float* p = tile.Scores;
        float* v = values;
        if (valueRowStride != headDim)
        {
            v = tile.Values;
            CpuElements.WidenRows(values, valueRowStride, v, keys, headDim); // fp32: a copy
        }
        long valueStride = headDim;
        int d = 0;
        for (; d + 4 <= headDim; d += 4)
        {
            float* o = tile.Output + (long)d * tileRows;
            TVec a00 = Simd.Load<TVec>(o), a01 = Simd.Load<TVec>(o + w), a02 = Simd.Load<TVec>(o + 2 * w), a03 = Simd.Load<TVec>(o + 3 * w);
            TVec a10 = Simd.Load<TVec>(o + tileRows), a11 = Simd.Load<TVec>(o + tileRows + w), a12 = Simd.Load<TVec>(o + tileRows + 2 * w), a13 = Simd.Load<TVec>(o + tileRows + 3 * w);
            TVec a20 = Simd.Load<TVec>(o + 2 * tileRows), a21 = Simd.Load<TVec>(o + 2 * tileRows + w), a22 = Simd.Load<TVec>(o + 2 * tileRows + 2 * w), a23 = Simd.Load<TVec>(o + 2 * tileRows + 3 * w);
            TVec a30 = Simd.Load<TVec>(o + 3 * tileRows), a31 = Simd.Load<TVec>(o + 3 * tileRows + w), a32 = Simd.Load<TVec>(o + 3 * tileRows + 2 * w), a33 = Simd.Load<TVec>(o + 3 * tileRows + 3 * w);
            for (int j = 0; j < keys; j++)
            {
                float* pj = p + (long)j * tileRows;
                float* vj = v + j * valueStride + d;
                TVec p0 = Simd.Load<TVec>(pj), p1 = Simd.Load<TVec>(pj + w), p2 = Simd.Load<TVec>(pj + 2 * w), p3 = Simd.Load<TVec>(pj + 3 * w);
                TVec b = Simd.Broadcast<TVec>(vj[0]);
                a00 = Simd.Fma(p0, b, a00); a01 = Simd.Fma(p1, b, a01); a02 = Simd.Fma(p2, b, a02); a03 = Simd.Fma(p3, b, a03);
                b = Simd.Broadcast<TVec>(vj[1]);
                a10 = Simd.Fma(p0, b, a10); a11 = Simd.Fma(p1, b, a11); a12 = Simd.Fma(p2, b, a12); a13 = Simd.Fma(p3, b, a13);
                b = Simd.Broadcast<TVec>(vj[2]);
                a20 = Simd.Fma(p0, b, a20); a21 = Simd.Fma(p1, b, a21); a22 = Simd.Fma(p2, b, a22); a23 = Simd.Fma(p3, b, a23);
                b = Simd.Broadcast<TVec>(vj[3]);
                a30 = Simd.Fma(p0, b, a30); a31 = Simd.Fma(p1, b, a31); a32 = Simd.Fma(p2, b, a32); a33 = Simd.Fma(p3, b, a33);
            }
            Simd.Store(a00, o); Simd.Store(a01, o + w); Simd.Store(a02, o + 2 * w); Simd.Store(a03, o + 3 * w);
            o += tileRows;
            Simd.Store(a10, o); Simd.Store(a11, o + w); Simd.Store(a12, o + 2 * w); Simd.Store(a13, o + 3 * w);
            o += tileRows;
            Simd.Store(a20, o); Simd.Store(a21, o + w); Simd.Store(a22, o + 2 * w); Simd.Store(a23, o + 3 * w);
            o += tileRows;
            Simd.Store(a30, o); Simd.Store(a31, o + w); Simd.Store(a32, o + 2 * w); Simd.Store(a33, o + 3 * w);
        }
        for (; d < headDim; d++)
        {
            float* o = tile.Output + (long)d * tileRows;
            TVec a0 = Simd.Load<TVec>(o), a1 = Simd.Load<TVec>(o + w), a2 = Simd.Load<TVec>(o + 2 * w), a3 = Simd.Load<TVec>(o + 3 * w);
            for (int j = 0; j < keys; j++)
            {
                float* pj = p + (long)j * tileRows;
                TVec b = Simd.Broadcast<TVec>(v[j * valueStride + d]);
                a0 = Simd.Fma(Simd.Load<TVec>(pj), b, a0);
                a1 = Simd.Fma(Simd.Load<TVec>(pj + w), b, a1);
                a2 = Simd.Fma(Simd.Load<TVec>(pj + 2 * w), b, a2);
                a3 = Simd.Fma(Simd.Load<TVec>(pj + 3 * w), b, a3);
            }
            Simd.Store(a0, o); Simd.Store(a1, o + w); Simd.Store(a2, o + 2 * w); Simd.Store(a3, o + 3 * w);
        }
    }

    /// <summary>
    /// out[i][d] = Oᵀ[d][i] / sum[i] for the tile's real rows; rows that saw no key get zeros.
    /// If <paramref name="logSumExp"/> is not null, lse[i] = ln Σ_j e^(scale·s_ij) (−∞ for a row that saw no key).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    public static void Store<TVec>(in Tile tile, float* output, long rowStride, int rows, int headDim, float* logSumExp, long lseStride)
        where TVec : struct
    {
        int tileRows = QueryTile<TVec>();
        int i0 = 0;
        if (Sse.IsSupported)
        {
            int blockDims = headDim & ~3;
            for (; i0 + 4 <= rows; i0 += 4)
            {
                // Oᵀ's rows are dims, its columns the 4 query rows: scaling its columns by 1/sum scales each output row.
                var inverse = Vector128.Create(Inverse(tile.RowSum[i0]), Inverse(tile.RowSum[i0 + 1]), Inverse(tile.RowSum[i0 + 2]), Inverse(tile.RowSum[i0 + 3]));
                for (int d = 0; d < blockDims; d += 4)
                    Transpose4x4(tile.Output + (long)d * tileRows + i0, tileRows, output + i0 * rowStride + d, rowStride, inverse);
                for (int d = blockDims; d < headDim; d++)
                    for (int i = i0; i < i0 + 4; i++)
                        output[i * rowStride + d] = tile.Output[(long)d * tileRows + i] * Inverse(tile.RowSum[i]);
            }
        }
        for (int i = i0; i < rows; i++)
        {
            float inverse = Inverse(tile.RowSum[i]);
            float* o = output + i * rowStride;
            for (int d = 0; d < headDim; d++)
                o[d] = tile.Output[(long)d * tileRows + i] * inverse;
        }
        if (logSumExp != null)
            for (int i = 0; i < rows; i++)
            {
                float sum = tile.RowSum[i];
                logSumExp[i * lseStride] = sum > 0f ? (tile.RowMax[i] + MathF.Log2(sum)) * Ln2 : float.NegativeInfinity;
            }
    }

    /// <summary>1/sum of a row's probabilities, 0 for a row that saw no key (its output is then 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Inverse(float sum) => sum > 0f ? 1f / sum : 0f;

    /// <summary>
    /// At or below this many query rows a launch uses <see cref="AttendRow{TVec, T}"/> per row instead of lane tiles:
    /// a 64-row tile holding 1–4 real rows would spend 16–64× the FLOPs on padding, while a row streams K and V
    /// once and is bound by memory bandwidth (decode with a KV cache).
    /// </summary>
    public const int RowModeMaxQueries = 4;

    /// <summary>
    /// Keys per chunk of <see cref="AttendRow{TVec, T}"/>: the scores of a chunk for every head of the item stay in L1/L2
    /// (32 heads: 32 KiB) while K, then V, of the chunk stream through once each in long sequential runs.
    /// </summary>
    private const int RowKeyChunk = 256;

    /// <summary>
    /// How a row-mode (decode) launch is cut into work items: consecutive query heads per item, and key ranges (parts)
    /// per item (split-K, merged afterwards by <see cref="MergeRowParts{T}"/>).
    /// With heads adjacent in memory (BTHD) an item keeps all heads, so a key's K and V rows for every head are one
    /// contiguous stretch, and the cores are fed by cutting the keys instead: parts are doubled while there are fewer
    /// than 16 items per core and every part keeps at least <see cref="MinKeysPerPart"/> keys; while there are fewer
    /// than two items per core, further down to <see cref="MinKeysPerPartBeforeHeads"/>. Only when that still leaves
    /// fewer than two items per core (short keys) are the heads split too, into the fewest equal chunks that do.
    /// Measured on 2 cores (docs/runtime/cpu-attention.md): B1 H32 Tq1 Tk32768 D128 took 3.2× its K/V read floor
    /// with 8 heads per item, 1.17× with all 32 heads and 32 key parts; B1 Tk1024 took 0.75 ms in 2 items of 16 heads
    /// and 2 parts, 0.41 ms in 4 parts of 256 keys with all heads; B8 Tk4096 without parts left one core idle for
    /// 10–40 % of the launch whenever the other was slower. One worker gets one item per row: nothing to balance.
    /// </summary>
    public static (int HeadsPerItem, int KeySplits) RowModePartition(int heads, int rowItems, int keyLength, bool headsAdjacent) =>
        RowModePartition(heads, rowItems, keyLength, headsAdjacent, CpuParallel.WorkerCount);

    /// <summary><see cref="RowModePartition(int, int, int, bool)"/> for <paramref name="workers"/> cores (tests pick the count).</summary>
    internal static (int HeadsPerItem, int KeySplits) RowModePartition(int heads, int rowItems, int keyLength, bool headsAdjacent, int workers)
    {
        int headsPerItem = headsAdjacent ? heads : 1;
        if (workers == 1)
            return (headsPerItem, 1);
        long items = (long)rowItems * (heads / headsPerItem);
        int splits = 1;
        while (items * splits < 16L * workers && keyLength / (2 * splits) >= MinKeysPerPart)
            splits *= 2;
        while (items * splits < 2L * workers && keyLength / (2 * splits) >= MinKeysPerPartBeforeHeads)
            splits *= 2;
        if (headsAdjacent && items * splits < 2L * workers)
            for (int chunks = 2; chunks <= heads; chunks++)
                if (heads % chunks == 0 && ((long)rowItems * chunks * splits >= 2L * workers || chunks == heads))
                    return (heads / chunks, splits);
        return (headsPerItem, splits);
    }

    /// <summary>
    /// The fewest keys a part of a split row gets while cutting for balance (<see cref="RowModePartition(int, int, int, bool)"/>):
    /// each part prepares its query, writes a partial state and restarts its streams, so fewer, longer parts are faster
    /// (B1 Tk4096 fp32 / bf16: 4 parts of 1024 keys 2.07 / 1.33 ms, 8 of 512 2.17 / 1.47 ms, 16 of 256 2.25 / 1.52 ms).
    /// </summary>
    public const int MinKeysPerPart = 1024;

    /// <summary>
    /// The fewest keys a part gets when it is that or splitting the heads (fewer than two items per core): parts of 256
    /// keys with every head beat half the heads with 512 each (B1 Tk1024 fp32: 0.41 against 0.75 ms).
    /// </summary>
    public const int MinKeysPerPartBeforeHeads = 256;

    /// <summary>Floats of one part's partial state: per head the unnormalized accumulator, the running max and the sum.</summary>
    public static int RowPartFloats(int heads, int headDim) => heads * (headDim + 2);

    /// <summary>The launching thread's buffer for <paramref name="parts"/> partial states (see <see cref="RowPartFloats"/>).</summary>
    public static float* RowParts(int parts, int heads, int headDim) =>
        CpuScratch.CallerFloats((long)parts * RowPartFloats(heads, headDim), slot: 1);

    /// <summary>
    /// Combines the <paramref name="splits"/> partial states of one row item (consecutive, from <paramref name="parts"/>)
    /// into its output and log-sum-exp: each part's sum and accumulator weighted by 2^(its max − the overall max). A part
    /// that saw no key has max −∞ and weight 0; the row saw at least one key (the caller stores empty rows itself).
    /// </summary>
    public static void MergeRowParts<T>(float* parts, int splits, int heads, int headDim, T* output, long queryHeadStride,
        float* logSumExp, long lseHeadStride) where T : unmanaged
    {
        int stride = RowPartFloats(heads, headDim);
        float* weights = stackalloc float[splits];
        for (int h = 0; h < heads; h++)
        {
            float max = float.NegativeInfinity, sum = 0f;
            for (int p = 0; p < splits; p++)
                max = Math.Max(max, parts[p * stride + h * (headDim + 2) + headDim]);
            for (int p = 0; p < splits; p++)
            {
                float* state = parts + p * stride + h * (headDim + 2);
                weights[p] = float.Exp2(state[headDim] - max); // 2^−∞ = 0 for an empty part
                sum += state[headDim + 1] * weights[p];
            }
            float inverse = 1f / sum;
            T* oh = output + h * queryHeadStride;
            for (int d = 0; d < headDim; d++)
            {
                float value = 0f;
                for (int p = 0; p < splits; p++)
                    value += parts[p * stride + h * (headDim + 2) + d] * weights[p];
                oh[d] = CpuElements.FromSingle<T>(value * inverse);
            }
            if (logSumExp != null)
                logSumExp[h * lseHeadStride] = (max + MathF.Log2(sum)) * Ln2;
        }
    }

    /// <summary>
    /// Attention of ONE query position for <paramref name="heads"/> consecutive query heads (from
    /// <paramref name="firstHead"/>) over keys [0, <paramref name="keys"/>), all visible: the caller passes the row's
    /// exact key range, so there is no mask. Lanes run over the head dim (s = q·k, one reduction tree per
    /// <see cref="HeadGroup"/> heads). Keys are taken in chunks of <see cref="RowKeyChunk"/>, in three phases: the scores of
    /// the whole chunk (K streamed once, keys outer, heads inner), the online softmax per head with vector 2^x over the
    /// chunk, then P·V (V streamed once, groups of <see cref="KeyGroup"/> keys outer, heads inner). With BTHD a key's K (and
    /// V) rows of all heads are adjacent, so each phase reads long sequential runs of memory that the hardware prefetchers
    /// follow, helped by software prefetches a few KiB ahead; alternating K and V every 16 keys, as before, reached 1.9× the
    /// read floor. Elements are stored as T and widened in registers; 16-bit rows two vectors per load
    /// (<see cref="CpuElements.LoadPairs{TVec, T}"/>), fp16 first without its exponent rebias (see <see cref="ScaledHalfPairs"/>).
    /// Strides are in elements: between heads in q and output, between key/value heads (query head h reads kv head
    /// h / groupSize), between keys, and between heads in the log-sum-exp output (floats). With <c>part</c> null the row's
    /// output and log-sum-exp are written; otherwise this is one part of a split row (<see cref="RowModePartition(int, int, int, bool)"/>), its
    /// partial state goes there instead (<see cref="RowPartFloats"/>), and <paramref name="keys"/> may be 0.
    /// </summary>
    public static void AttendRow<TVec, T>(int worker, T* q, long queryHeadStride, int firstHead, int heads, int groupSize,
        T* k, T* v, long keyStride, long kvHeadStride, int keys, int headDim, float scale,
        T* output, float* logSumExp, long lseHeadStride, float* part = null) where TVec : struct where T : unmanaged
    {
        // fp16 first tries the cheap widening (CpuElements.LoadHalfPairsScaled), which gives up on ∞/NaN in K or V, or on
        // a query too large to carry its 2^112; the exact widening then redoes the item (nothing was written yet).
        if (typeof(T) == typeof(Half) && headDim % (2 * Simd.Count<TVec>()) == 0
            && AttendRow<TVec, T, ScaledHalfPairs>(worker, q, queryHeadStride, firstHead, heads, groupSize, k, v, keyStride,
                kvHeadStride, keys, headDim, scale, output, logSumExp, lseHeadStride, part))
            return;
        AttendRow<TVec, T, ExactPairs>(worker, q, queryHeadStride, firstHead, heads, groupSize, k, v, keyStride,
            kvHeadStride, keys, headDim, scale, output, logSumExp, lseHeadStride, part);
    }

    /// <summary>How <see cref="AttendRow{TVec, T}"/> widens 16-bit rows: <see cref="CpuElements.LoadPairs{TVec, T}"/>.</summary>
    private struct ExactPairs;

    /// <summary>
    /// How <see cref="AttendRow{TVec, T}"/> widens fp16 rows: <see cref="CpuElements.LoadHalfPairsScaled{TVec}"/>, the
    /// 2^112 it leaves out carried by the query and the probabilities instead (each product, hence every rounding, is
    /// the exact widening's, so the results are bit for bit the same). Only where every dim is in pairs.
    /// </summary>
    private struct ScaledHalfPairs;

    /// <returns>false, having written nothing, when <typeparamref name="TWidening"/> cannot do this item (see there).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff on 1 CPU: see cpu-attention.md
    private static bool AttendRow<TVec, T, TWidening>(int worker, T* q, long queryHeadStride, int firstHead, int heads, int groupSize,
        T* k, T* v, long keyStride, long kvHeadStride, int keys, int headDim, float scale,
        T* output, float* logSumExp, long lseHeadStride, float* part) where TVec : struct where T : unmanaged where TWidening : struct
    {
        bool scaledHalf = typeof(TWidening) == typeof(ScaledHalfPairs);
        TVec special = default; // fp16 ∞/NaN seen by the scaled widening
        int w = Simd.Count<TVec>();
        int vectorDims = headDim - headDim % w;
        // 16-bit K and V rows are read two lanes' worth at a time (CpuElements.LoadPairs): the query and the accumulator
        // of the first pairDims dims are kept in that pair order.
        int pairDims = typeof(T) == typeof(float) ? 0 : headDim - headDim % (2 * w);
        // Per head: pre-scaled query, accumulator, running max and sum, one chunk of scores/probabilities.
        float* qs = CpuScratch.Floats(worker, (long)heads * (2 * headDim + 2 + RowKeyChunk));
        // Offsets of each head's key/value head, computed once: a division per key and head costs more than the dot product.
        long* kvOffsets = stackalloc long[heads];
        for (int h = 0; h < heads; h++)
            kvOffsets[h] = (firstHead + h) / groupSize * kvHeadStride;
        float* acc = qs + (long)heads * headDim, rowMax = acc + (long)heads * headDim, rowSum = rowMax + heads, s = rowSum + heads;
        float factor = scale * Log2E;
        float pairScale = scaledHalf ? CpuElements.HalfPairsScale : 1f;
        int rowBytes = headDim * sizeof(T);
        // 16-bit rows unroll their prefetch loops four lines per trip: the loop's own instructions were as many as the
        // prefetches, and these rows are bound by instructions more than fp32's (bf16 decode 1.27–1.35× its read floor
        // against 1.50–1.61×); fp32 rows measured 10–15 % slower unrolled, so they keep one line per trip.
        bool halfRows = typeof(T) != typeof(float);
        for (int h = 0; h < heads; h++)
        {
            for (int d = 0; d < headDim; d++)
            {
                float scaled = CpuElements.ToSingle(q[h * queryHeadStride + d]) * factor;
                if (scaledHalf && !(MathF.Abs(scaled) < 32768f)) // times 2^112 must stay finite (and NaN goes the exact way)
                    return false;
                qs[h * headDim + CpuElements.PairOrder(d, pairDims, w)] = scaled * pairScale;
                acc[h * headDim + d] = 0f;
            }
            rowMax[h] = float.NegativeInfinity;
            rowSum[h] = 0f;
        }

        for (int first = 0; first < keys; first += RowKeyChunk)
        {
            int count = Math.Min(RowKeyChunk, keys - first);
            int padded = (count + w - 1) / w * w;
            // Scores of the chunk: K read once, in memory order: key by key, and for one key its heads' rows one after
            // the other (with BTHD one sequential run; interleaving the rows of four keys, as before, left the hardware
            // prefetchers behind: the K pass took 1.2–2× a plain read of K).
            for (int key = 0; key < count; key++)
            {
                T* kj = k + (first + key) * keyStride;
                bool prefetch = first + key + 1 < keys;
                float* sj = s + key;
                int h = 0;
                for (; h + HeadGroup <= heads; h += HeadGroup)
                {
                    // Four heads per step: their four dot products share one reduction tree.
                    T* k0 = kj + kvOffsets[h];
                    T* k1 = kj + kvOffsets[h + 1];
                    T* k2 = kj + kvOffsets[h + 2];
                    T* k3 = kj + kvOffsets[h + 3];
                    // Grouped-query attention: the four heads may read one K row (then k0 == k3), loaded once for all four.
                    bool shared = k3 == k0;
                    if (prefetch)
                    {
                        Prefetch((byte*)k0 + KeyPrefetchBytes, rowBytes, halfRows);
                        if (!shared)
                        {
                            Prefetch((byte*)k1 + KeyPrefetchBytes, rowBytes, halfRows);
                            Prefetch((byte*)k2 + KeyPrefetchBytes, rowBytes, halfRows);
                            Prefetch((byte*)k3 + KeyPrefetchBytes, rowBytes, halfRows);
                        }
                    }
                    float* q0 = qs + h * headDim;
                    TVec a0, a1, a2, a3;
                    if (shared)
                        DotLanesShared<TVec, T, TWidening>(q0, headDim, k0, pairDims, vectorDims, ref special, out a0, out a1, out a2, out a3);
                    else
                    {
                        // Row by row (not the four rows' vectors interleaved): the loads walk memory in order.
                        a0 = DotLanes<TVec, T, TWidening>(q0, k0, pairDims, vectorDims, ref special);
                        a1 = DotLanes<TVec, T, TWidening>(q0 + headDim, k1, pairDims, vectorDims, ref special);
                        a2 = DotLanes<TVec, T, TWidening>(q0 + 2 * headDim, k2, pairDims, vectorDims, ref special);
                        a3 = DotLanes<TVec, T, TWidening>(q0 + 3 * headDim, k3, pairDims, vectorDims, ref special);
                    }
                    var dots = Simd.Sum4(a0, a1, a2, a3);
                    if (vectorDims < headDim)
                        dots += Vector128.Create(TailDot(q0, k0, vectorDims, headDim), TailDot(q0 + headDim, k1, vectorDims, headDim),
                            TailDot(q0 + 2 * headDim, k2, vectorDims, headDim), TailDot(q0 + 3 * headDim, k3, vectorDims, headDim));
                    sj[h * RowKeyChunk] = dots.GetElement(0);
                    sj[(h + 1) * RowKeyChunk] = dots.GetElement(1);
                    sj[(h + 2) * RowKeyChunk] = dots.GetElement(2);
                    sj[(h + 3) * RowKeyChunk] = dots.GetElement(3);
                }
                for (; h < heads; h++)
                {
                    T* kh = kj + kvOffsets[h];
                    if (prefetch)
                        Prefetch((byte*)kh + KeyPrefetchBytes, rowBytes, halfRows);
                    float* qh = qs + h * headDim;
                    sj[h * RowKeyChunk] = Simd.Sum(DotLanes<TVec, T, TWidening>(qh, kh, pairDims, vectorDims, ref special)) + TailDot(qh, kh, vectorDims, headDim);
                }
            }

            // Online softmax per head (log₂ domain): rescale what was accumulated by 2^(old max − new max).
            for (int h = 0; h < heads; h++)
            {
                float* sh = s + h * RowKeyChunk;
                for (int i = count; i < padded; i++)
                    sh[i] = float.NegativeInfinity; // padding: 2^−∞ = 0 below
                TVec m = Simd.Broadcast<TVec>(rowMax[h]);
                for (int i = 0; i < padded; i += w)
                    m = Simd.Max(m, Simd.Load<TVec>(sh + i));
                float max = Simd.MaxAcross(m);
                float correction = float.Exp2(rowMax[h] - max); // first chunk: 2^−∞ = 0, and acc is still 0
                m = Simd.Broadcast<TVec>(max);
                TVec sum = default;
                for (int i = 0; i < padded; i += w)
                {
                    TVec p = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(sh + i), m));
                    Simd.Store(scaledHalf ? Simd.Multiply(p, Simd.Broadcast<TVec>(pairScale)) : p, sh + i);
                    sum = Simd.Add(sum, p);
                }
                rowMax[h] = max;
                rowSum[h] = rowSum[h] * correction + Simd.Sum(sum);
                float* ah = acc + h * headDim;
                TVec c = Simd.Broadcast<TVec>(correction);
                for (int d = 0; d < vectorDims; d += w)
                    Simd.Store(Simd.Multiply(Simd.Load<TVec>(ah + d), c), ah + d);
                for (int d = vectorDims; d < headDim; d++)
                    ah[d] *= correction;
            }

            // P·V: V read once, in memory order per row.
            int j = 0;
            // fp32 rows are read one after the other under an 8-vector register block, 1 KiB prefetched ahead in each;
            // 16-bit rows (more compute per byte: widened in registers) measured faster with the 4 rows' vectors
            // interleaved and whole rows prefetched 8 keys ahead (fp16 14.1 against 15.1 ms, bf16 within noise).
            bool block = typeof(T) == typeof(float);
            long valueAhead = block ? ValuePrefetchBytes : (long)HalfValuePrefetchKeys * keyStride * sizeof(T);
            int valueAheadKeys = block ? 0 : HalfValuePrefetchKeys;
            for (; j + KeyGroup <= count; j += KeyGroup)
            {
                // Four keys per visit of a head: its accumulator is loaded and stored once for four keys.
                T* v0 = v + (first + j) * keyStride;
                bool prefetch = first + j + KeyGroup + valueAheadKeys <= keys;
                for (int h = 0; h < heads; h++)
                {
                    T* vh = v0 + kvOffsets[h];
                    if (prefetch && (h == 0 || kvOffsets[h] != kvOffsets[h - 1])) // grouped heads share V rows: asked for once
                        for (int g = 0; g < KeyGroup; g++)
                            Prefetch((byte*)(vh + g * keyStride) + valueAhead, rowBytes, halfRows);
                    float* ah = acc + h * headDim;
                    float* ph = s + h * RowKeyChunk + j;
                    int d = 0;
                    // Eight vectors of the accumulator held in registers while the four keys' rows are read one after the
                    // other (each row in order), instead of the four rows' vectors interleaved.
                    for (; block && d + 8 * w <= vectorDims; d += 8 * w)
                    {
                        float* a = ah + d;
                        TVec c0 = Simd.Load<TVec>(a), c1 = Simd.Load<TVec>(a + w), c2 = Simd.Load<TVec>(a + 2 * w), c3 = Simd.Load<TVec>(a + 3 * w);
                        TVec c4 = Simd.Load<TVec>(a + 4 * w), c5 = Simd.Load<TVec>(a + 5 * w), c6 = Simd.Load<TVec>(a + 6 * w), c7 = Simd.Load<TVec>(a + 7 * w);
                        for (int g = 0; g < KeyGroup; g++)
                        {
                            T* row = vh + g * keyStride + d;
                            TVec p = Simd.Broadcast<TVec>(ph[g]);
                            c0 = Simd.Fma(p, CpuElements.Load<TVec, T>(row), c0);
                            c1 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + w), c1);
                            c2 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 2 * w), c2);
                            c3 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 3 * w), c3);
                            c4 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 4 * w), c4);
                            c5 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 5 * w), c5);
                            c6 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 6 * w), c6);
                            c7 = Simd.Fma(p, CpuElements.Load<TVec, T>(row + 7 * w), c7);
                        }
                        Simd.Store(c0, a); Simd.Store(c1, a + w); Simd.Store(c2, a + 2 * w); Simd.Store(c3, a + 3 * w);
                        Simd.Store(c4, a + 4 * w); Simd.Store(c5, a + 5 * w); Simd.Store(c6, a + 6 * w); Simd.Store(c7, a + 7 * w);
                    }
                    if (d < vectorDims)
                    {
                        TVec p0 = Simd.Broadcast<TVec>(ph[0]), p1 = Simd.Broadcast<TVec>(ph[1]);
                        TVec p2 = Simd.Broadcast<TVec>(ph[2]), p3 = Simd.Broadcast<TVec>(ph[3]);
                        // 16-bit rows: two vectors of the accumulator (in pair order) per load of each row.
                        for (; d < pairDims; d += 2 * w)
                        {
                            TVec even = Simd.Load<TVec>(ah + d), odd = Simd.Load<TVec>(ah + d + w);
                            AccumulatePairs<TVec, T, TWidening>(p0, vh + d, ref even, ref odd, ref special);
                            AccumulatePairs<TVec, T, TWidening>(p1, vh + keyStride + d, ref even, ref odd, ref special);
                            AccumulatePairs<TVec, T, TWidening>(p2, vh + 2 * keyStride + d, ref even, ref odd, ref special);
                            AccumulatePairs<TVec, T, TWidening>(p3, vh + 3 * keyStride + d, ref even, ref odd, ref special);
                            Simd.Store(even, ah + d);
                            Simd.Store(odd, ah + d + w);
                        }
                        for (; d < vectorDims; d += w)
                        {
                            TVec a = Simd.Fma(p0, CpuElements.Load<TVec, T>(vh + d), Simd.Load<TVec>(ah + d));
                            a = Simd.Fma(p1, CpuElements.Load<TVec, T>(vh + keyStride + d), a);
                            a = Simd.Fma(p2, CpuElements.Load<TVec, T>(vh + 2 * keyStride + d), a);
                            Simd.Store(Simd.Fma(p3, CpuElements.Load<TVec, T>(vh + 3 * keyStride + d), a), ah + d);
                        }
                    }
                    for (d = vectorDims; d < headDim; d++)
                        ah[d] += ph[0] * CpuElements.ToSingle(vh[d]) + ph[1] * CpuElements.ToSingle(vh[keyStride + d])
                            + ph[2] * CpuElements.ToSingle(vh[2 * keyStride + d]) + ph[3] * CpuElements.ToSingle(vh[3 * keyStride + d]);
                }
            }
            for (; j < count; j++)
            {
                T* vj = v + (first + j) * keyStride;
                bool prefetch = first + j + 1 + valueAheadKeys <= keys;
                for (int h = 0; h < heads; h++)
                {
                    T* vh = vj + kvOffsets[h];
                    if (prefetch && (h == 0 || kvOffsets[h] != kvOffsets[h - 1]))
                        Prefetch((byte*)vh + valueAhead, rowBytes, halfRows);
                    float* ah = acc + h * headDim;
                    float pj = s[h * RowKeyChunk + j];
                    TVec p = Simd.Broadcast<TVec>(pj);
                    int d = 0;
                    for (; d < pairDims; d += 2 * w)
                    {
                        TVec even = Simd.Load<TVec>(ah + d), odd = Simd.Load<TVec>(ah + d + w);
                        AccumulatePairs<TVec, T, TWidening>(p, vh + d, ref even, ref odd, ref special);
                        Simd.Store(even, ah + d);
                        Simd.Store(odd, ah + d + w);
                    }
                    for (; d < vectorDims; d += w)
                        Simd.Store(Simd.Fma(p, CpuElements.Load<TVec, T>(vh + d), Simd.Load<TVec>(ah + d)), ah + d);
                    for (d = vectorDims; d < headDim; d++)
                        ah[d] += pj * CpuElements.ToSingle(vh[d]);
                }
            }
            if (scaledHalf && CpuElements.SawSpecialHalf(special))
                return false;
        }

        if (part != null) // also with no keys: a zero accumulator, max −∞ and sum 0, which MergeRowParts weighs 0
        {
            for (int h = 0; h < heads; h++)
            {
                float* state = part + h * (headDim + 2);
                for (int d = 0; d < headDim; d++)
                    state[d] = acc[h * headDim + CpuElements.PairOrder(d, pairDims, w)];
                state[headDim] = rowMax[h]; // log₂ domain, as MergeRowParts takes it
                state[headDim + 1] = rowSum[h];
            }
            return true;
        }
        for (int h = 0; h < heads; h++)
        {
            float inverse = 1f / rowSum[h]; // keys ≥ 1 and the max term is 2⁰ = 1, so the sum is ≥ 1
            T* oh = output + h * queryHeadStride;
            for (int d = 0; d < headDim; d++)
                oh[d] = CpuElements.FromSingle<T>(acc[h * headDim + CpuElements.PairOrder(d, pairDims, w)] * inverse);
            if (logSumExp != null)
                logSumExp[h * lseHeadStride] = (rowMax[h] + MathF.Log2(rowSum[h])) * Ln2;
        }
        return true;
    }

    /// <summary>
    /// How far ahead in memory, in bytes, the K pass of <see cref="AttendRow{TVec, T}"/> asks for the rows it reads (with
    /// BTHD 4 KiB further along its one sequential run). Prefetching whole keys ahead (8 keys = 128 KiB for 32 fp32 heads of
    /// D128) fetched lines into L1 long before use; 2–8 KiB measured alike, none ahead 1.5× slower.
    /// </summary>
    private const int KeyPrefetchBytes = 4096;

    /// <summary>
    /// How far ahead in memory, in bytes, the P·V pass of <see cref="AttendRow{TVec, T}"/> asks for each of its
    /// <see cref="KeyGroup"/> fp32 value rows (each row is its own stream there): 1 KiB; 0.5 KiB and none were slower, 2 KiB alike.
    /// </summary>
    private const int ValuePrefetchBytes = 1024;

    /// <summary>How far ahead, in keys, the P·V pass of <see cref="AttendRow{TVec, T}"/> asks for whole 16-bit value rows (see there).</summary>
    private const int HalfValuePrefetchKeys = 8;

    /// <summary>
    /// Heads per step of the K pass of <see cref="AttendRow{TVec, T}"/> (the last 0–3 heads go one by one): the four dot
    /// products of one key with four heads share one reduction tree (<see cref="Simd.Sum4{TVec}"/>).
    /// </summary>
    private const int HeadGroup = 4;

    /// <summary>
    /// Keys per visit of a head in the P·V pass of <see cref="AttendRow{TVec, T}"/> (the last 0–3 keys of a chunk go one by
    /// one): a head's accumulator is loaded and stored once for 4 keys instead of once per key.
    /// </summary>
    private const int KeyGroup = 4;

    /// <summary>
    /// Lanes of the dot product of a query row (in <see cref="CpuElements.PairOrder"/> for its first
    /// <paramref name="pairDims"/> dims) with a stored row over [0, <paramref name="vectorDims"/>). fp32: one chain (the
    /// K pass runs four heads' dot products side by side); 16-bit: two, one per half of the pairs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec DotLanes<TVec, T, TWidening>(float* q, T* k, int pairDims, int vectorDims, ref TVec special)
        where TVec : struct where T : unmanaged where TWidening : struct
    {
        int w = Simd.Count<TVec>();
        TVec a0 = default;
        if (typeof(T) == typeof(float))
        {
            for (int i = 0; i < vectorDims; i += w)
                a0 = Simd.Fma(Simd.Load<TVec>(q + i), Simd.Load<TVec>((float*)k + i), a0);
            return a0;
        }
        TVec a1 = default;
        int d = 0;
        for (; d < pairDims; d += 2 * w)
        {
            LoadPairs<TVec, T, TWidening>(k + d, out TVec even, out TVec odd, ref special);
            a0 = Simd.Fma(Simd.Load<TVec>(q + d), even, a0);
            a1 = Simd.Fma(Simd.Load<TVec>(q + d + w), odd, a1);
        }
        for (; d < vectorDims; d += w)
            a0 = Simd.Fma(Simd.Load<TVec>(q + d), CpuElements.Load<TVec, T>(k + d), a0);
        return Simd.Add(a0, a1);
    }

    /// <summary>
    /// <see cref="DotLanes{TVec, T, TWidening}"/> of four consecutive query rows (<paramref name="headDim"/> floats apart)
    /// with ONE stored row, for heads of a grouped-query group: each vector of the row is loaded (and widened) once for
    /// the four dot products instead of four times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotLanesShared<TVec, T, TWidening>(float* q, int headDim, T* k, int pairDims, int vectorDims, ref TVec special,
        out TVec a0, out TVec a1, out TVec a2, out TVec a3) where TVec : struct where T : unmanaged where TWidening : struct
    {
        int w = Simd.Count<TVec>();
        float* q1 = q + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
        a0 = default; a1 = default; a2 = default; a3 = default;
        int d = 0;
        if (typeof(T) != typeof(float))
        {
            TVec b0 = default, b1 = default, b2 = default, b3 = default;
            for (; d < pairDims; d += 2 * w)
            {
                LoadPairs<TVec, T, TWidening>(k + d, out TVec even, out TVec odd, ref special);
                a0 = Simd.Fma(Simd.Load<TVec>(q + d), even, a0);
                b0 = Simd.Fma(Simd.Load<TVec>(q + d + w), odd, b0);
                a1 = Simd.Fma(Simd.Load<TVec>(q1 + d), even, a1);
                b1 = Simd.Fma(Simd.Load<TVec>(q1 + d + w), odd, b1);
                a2 = Simd.Fma(Simd.Load<TVec>(q2 + d), even, a2);
                b2 = Simd.Fma(Simd.Load<TVec>(q2 + d + w), odd, b2);
                a3 = Simd.Fma(Simd.Load<TVec>(q3 + d), even, a3);
                b3 = Simd.Fma(Simd.Load<TVec>(q3 + d + w), odd, b3);
            }
            a0 = Simd.Add(a0, b0); a1 = Simd.Add(a1, b1); a2 = Simd.Add(a2, b2); a3 = Simd.Add(a3, b3);
        }
        for (; d < vectorDims; d += w)
        {
            TVec row = CpuElements.Load<TVec, T>(k + d);
            a0 = Simd.Fma(Simd.Load<TVec>(q + d), row, a0);
            a1 = Simd.Fma(Simd.Load<TVec>(q1 + d), row, a1);
            a2 = Simd.Fma(Simd.Load<TVec>(q2 + d), row, a2);
            a3 = Simd.Fma(Simd.Load<TVec>(q3 + d), row, a3);
        }
    }

    /// <summary>even, odd += p·(the 2·w 16-bit elements at <paramref name="row"/>, split as <see cref="CpuElements.LoadPairs{TVec, T}"/> does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulatePairs<TVec, T, TWidening>(TVec p, T* row, ref TVec even, ref TVec odd, ref TVec special)
        where TVec : struct where T : unmanaged where TWidening : struct
    {
        LoadPairs<TVec, T, TWidening>(row, out TVec e, out TVec o, ref special);
        even = Simd.Fma(p, e, even);
        odd = Simd.Fma(p, o, odd);
    }

    /// <summary><see cref="CpuElements.LoadPairs{TVec, T}"/>, or for <see cref="ScaledHalfPairs"/> its scaled fp16 form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadPairs<TVec, T, TWidening>(T* source, out TVec even, out TVec odd, ref TVec special)
        where TVec : struct where T : unmanaged where TWidening : struct
    {
        if (typeof(TWidening) == typeof(ScaledHalfPairs))
            CpuElements.LoadHalfPairsScaled((Half*)source, out even, out odd, ref special);
        else
            CpuElements.LoadPairs(source, out even, out odd);
    }

    /// <summary>The scalar part of a dot product past the vector lanes: q[d]·k[d] for d in [<paramref name="from"/>, <paramref name="headDim"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float TailDot<T>(float* q, T* k, int from, int headDim) where T : unmanaged
    {
        float dot = 0f;
        for (int d = from; d < headDim; d++)
            dot += q[d] * CpuElements.ToSingle(k[d]);
        return dot;
    }

    /// <summary>Asks for <paramref name="bytes"/> bytes of each of <paramref name="rows"/> rows (<paramref name="stride"/> elements apart) into L1 ahead of use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows<T>(T* first, long stride, int rows, int bytes) where T : unmanaged
    {
        for (int j = 0; j < rows; j++)
            Prefetch(first + j * stride, bytes);
    }

    /// <summary>Asks for <paramref name="bytes"/> bytes from <paramref name="p"/> into L1 ahead of use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(void* p, int bytes, bool fourPerTrip = false)
    {
        if (!Sse.IsSupported)
            return;
        byte* line = (byte*)p;
        int b = 0;
        if (fourPerTrip)
            for (; b + 256 <= bytes; b += 256)
            {
                Sse.Prefetch0(line + b);
                Sse.Prefetch0(line + b + 64);
                Sse.Prefetch0(line + b + 128);
                Sse.Prefetch0(line + b + 192);
            }
        for (; b < bytes; b += 64)
            Sse.Prefetch0(line + b);
    }

    /// <summary>Writes zeros (and −∞ log-sum-exp) for a tile whose rows see no key at all.</summary>
    public static void StoreEmpty<T>(T* output, long rowStride, int rows, int headDim, float* logSumExp, long lseStride) where T : unmanaged
    {
        for (int i = 0; i < rows; i++)
        {
            new Span<T>(output + i * rowStride, headDim).Clear(); // zero bits are +0 in every storage type
            if (logSumExp != null)
                logSumExp[i * lseStride] = float.NegativeInfinity;
        }
    }
}
