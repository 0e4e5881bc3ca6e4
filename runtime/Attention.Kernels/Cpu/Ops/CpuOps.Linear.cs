using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// A linear layer with a fused epilogue: y[m, n] = act(Σ_k x[m, k]·weight[n, k] + bias[n]) + residual[m, n].
    /// </summary>
    /// <param name="x">Input [rows, inFeatures].</param>
    /// <param name="rows">Rows (batch·length).</param>
    /// <param name="inFeatures">Input features (K).</param>
    /// <param name="weight">Weight [outFeatures, inFeatures] (PyTorch <c>nn.Linear</c> layout).</param>
    /// <param name="bias">Bias [outFeatures], or null.</param>
    /// <param name="outFeatures">Output features (N).</param>
    /// <param name="y">Output [rows, outFeatures]. Must not overlap x or weight; may be the residual buffer itself.</param>
    /// <param name="activation">Activation applied before the residual is added.</param>
    /// <param name="residual">Added after the activation [rows, outFeatures], or null.</param>
    /// <remarks>
    /// A packed SGEMM (see docs/runtime/cpu-ops.md): panels of the weight are packed k-major into per-core scratch,
    /// strips of x are packed and broadcast into a register-blocked micro-kernel (8 rows × 3 vectors with AVX-512),
    /// K and N are blocked for the caches, and the epilogue (bias, activation, residual) runs on the accumulators so y is
    /// written once. A handful of rows go through matrix-vector products instead, where packing would not pay.
    /// </remarks>
    public static void Linear(float* x, int rows, int inFeatures, float* weight, float* bias, int outFeatures, float* y,
        Activation activation = Activation.None, float* residual = null) =>
        LinearPacked(x, rows, inFeatures, weight, null, bias, outFeatures, y, activation, residual);

    /// <summary>
    /// <see cref="Linear"/> with the weight also given pre-packed by <see cref="PackLinearWeight"/> (or null to pack per
    /// call): the GEMM then reads <paramref name="packedWeight"/> and skips packing. The packed copy must be of
    /// <paramref name="weight"/>'s current values; the few-rows path still reads <paramref name="weight"/>.
    /// </summary>
    public static void LinearPacked(float* x, int rows, int inFeatures, float* weight, float* packedWeight, float* bias, int outFeatures,
        float* y, Activation activation = Activation.None, float* residual = null)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(inFeatures, nameof(inFeatures));
        RequireNonNegative(outFeatures, nameof(outFeatures));
        if (rows == 0 || outFeatures == 0)
            return;
        if (Simd.UseVector512)
            LinearDispatch<Vector512<float>>(x, rows, inFeatures, weight, packedWeight, bias, outFeatures, y, activation, residual);
        else
            LinearDispatch<Vector256<float>>(x, rows, inFeatures, weight, packedWeight, bias, outFeatures, y, activation, residual);
    }

    /// <summary>Whether <see cref="LinearPacked"/> would read a packed weight for this many rows (else it multiplies by the weight in place).</summary>
    public static bool LinearUsesPackedWeight(int rows) => rows >= GemmMinRows;

    /// <summary>Floats of <see cref="PackLinearWeight"/>'s output for a [outFeatures, inFeatures] weight.</summary>
    public static long PackedLinearWeightFloats(int inFeatures, int outFeatures)
    {
        int nr = Simd.UseVector512 ? GemmColumns<Vector512<float>>() : GemmColumns<Vector256<float>>();
        return (long)Math.Max(1, (outFeatures + nr - 1) / nr) * Math.Max(1, inFeatures) * nr;
    }

    /// <summary>
    /// Packs a [outFeatures, inFeatures] weight into the panels the GEMM reads (k-major, one micro-kernel width per
    /// panel, zero past outFeatures) into <paramref name="packed"/> (<see cref="PackedLinearWeightFloats"/> floats), on all cores.
    /// </summary>
    public static void PackLinearWeight(float* weight, int inFeatures, int outFeatures, float* packed)
    {
        RequireNonNegative(inFeatures, nameof(inFeatures));
        RequireNonNegative(outFeatures, nameof(outFeatures));
        var body = new PackBody { W = weight, K = inFeatures, N = outFeatures, Packed = packed, Vector512 = Simd.UseVector512 };
        int nr = Simd.UseVector512 ? GemmColumns<Vector512<float>>() : GemmColumns<Vector256<float>>();
        CpuParallel.For((outFeatures + nr - 1) / nr, ref body);
    }

    private struct PackBody : ICpuParallelBody
    {
        public float* W, Packed;
        public int K, N;
        public bool Vector512;

        public void Invoke(int index, int worker)
        {
            if (Vector512)
                PackWeightPanel<Vector512<float>>(W, K, N, index * GemmColumns<Vector512<float>>(), 0, K, Packed + (long)index * K * GemmColumns<Vector512<float>>());
            else
                PackWeightPanel<Vector256<float>>(W, K, N, index * GemmColumns<Vector256<float>>(), 0, K, Packed + (long)index * K * GemmColumns<Vector256<float>>());
        }
    }

    /// <summary>Below this many rows Linear runs as matrix-vector products (packing the weight would cost more than it saves).</summary>
    private const int GemmMinRows = 8;

    private static void LinearDispatch<TVec>(float* x, int rows, int inFeatures, float* weight, float* packedWeight, float* bias, int outFeatures, float* y,
        Activation activation, float* residual) where TVec : struct
    {
        if (rows < GemmMinRows)
        {
            var rowBody = new LinearRowBody<TVec>
            {
                X = x, K = inFeatures, W = weight, Bias = bias, N = outFeatures, Y = y, Activation = activation, Residual = residual,
                Chunks = (outFeatures + LinearRowBody<TVec>.Columns - 1) / LinearRowBody<TVec>.Columns,
            };
            CpuParallel.For(rows * rowBody.Chunks, ref rowBody);
            return;
        }

        var body = new GemmBody<TVec>
        {
            X = x, W = weight, Packed = packedWeight, Bias = bias, Y = y, Residual = residual, M = rows, K = inFeatures, N = outFeatures, Activation = activation,
        };
        body.Plan();
        if (body.KBlocks > 1 && residual == y)
        {
            // Partial sums of the first K blocks are kept in y; keep the residual they would overwrite.
            float* copy = CallerFloats((long)rows * outFeatures);
            Buffer.MemoryCopy(residual, copy, (long)rows * outFeatures * sizeof(float), (long)rows * outFeatures * sizeof(float));
            body.Residual = copy;
        }
        CpuParallel.For(body.NBlocks * body.MSplits, ref body);
    }

    /// <summary>One row × <see cref="Columns"/> outputs as matrix-vector products (the path for a handful of rows).</summary>
    private struct LinearRowBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public const int Columns = 256;
        public float* X, W, Bias, Y, Residual;
        public int K, N, Chunks;
        public Activation Activation;

        public void Invoke(int index, int worker)
        {
            int row = index / Chunks, n0 = index % Chunks * Columns, count = Math.Min(Columns, N - n0);
            float* sums = CpuScratch.Floats(worker, Columns);
            MatVec<TVec>(W + (long)n0 * K, count, K, X + (long)row * K, Bias == null ? null : Bias + n0, sums);
            long at = (long)row * N + n0;
            Epilogue<TVec>(sums, count, Activation, Residual == null ? null : Residual + at, Y + at);
        }
    }

    /// <summary>Rows of the micro-kernel: 8 with AVX-512 (24 zmm accumulators), 4 with 256-bit vectors (12 of the 16 ymm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GemmRows<TVec>() where TVec : struct => typeof(TVec) == typeof(Vector512<float>) ? 8 : 4;

    /// <summary>Columns of the micro-kernel (and of a packed weight panel): three vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GemmColumns<TVec>() where TVec : struct => 3 * Simd.Count<TVec>();

    /// <summary>Largest K block: one block for transformer widths (partial sums never round-trip through y); an x strip
    /// (rows × KC) and one weight panel (KC × 3 vectors) stay in L2.</summary>
    private const int GemmMaxKBlock = 2048;

    /// <summary>Bytes of packed weight a work item packs at once when the weight is not pre-packed (per-core scratch).</summary>
    private const int GemmPackedBytes = 1 << 19;

    /// <summary>Bytes of x rows a row block keeps in L2 while the item's weight panels pass over it.</summary>
    private const int GemmRowBlockBytes = 3 << 17;

    /// <summary>
    /// One work item of the SGEMM: a range of weight panels (N) × a range of row strips (M). For each K block it takes
    /// the panels (pre-packed, or packed now into per-core scratch), then for each block of rows (sized for L2), for
    /// each panel, runs the micro-kernel down the block's strips: the panel stays in L1/L2 while x rows stream past,
    /// the last K block with the epilogue.
    /// </summary>
    private struct GemmBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, W, Packed, Bias, Y, Residual;
        public int M, K, N;
        public Activation Activation;
        public int KBlocks, KBlock, Panels, NBlocks, MSplits, Strips, RowBlockStrips;

        /// <summary>Chooses the blocking: K blocks of at most <see cref="GemmMaxKBlock"/>, row blocks of
        /// <see cref="GemmRowBlockBytes"/>, and equal work items, a multiple of the workers (N split first; when packing
        /// per call, weight blocks that fit <see cref="GemmPackedBytes"/>).</summary>
        public void Plan()
        {
            int workers = CpuParallel.WorkerCount, nr = GemmColumns<TVec>(), mr = GemmRows<TVec>();
            KBlocks = Math.Max(1, (K + GemmMaxKBlock - 1) / GemmMaxKBlock);
            KBlock = Math.Max(1, (K + KBlocks - 1) / KBlocks);
            Panels = (N + nr - 1) / nr;
            Strips = (M + mr - 1) / mr;
            RowBlockStrips = Math.Max(1, GemmRowBlockBytes / (KBlock * sizeof(float) * mr));
            NBlocks = workers;
            if (Packed == null)
            {
                int panelsPerBlock = Math.Max(1, GemmPackedBytes / (KBlock * nr * sizeof(float)));
                NBlocks = Math.Max(1, (Panels + panelsPerBlock - 1) / panelsPerBlock);
                NBlocks = (NBlocks + workers - 1) / workers * workers;
            }
            if (Packed != null && Panels % workers != 0 && Panels < 8 * workers)
            {
                // A few panels that do not split evenly: every panel for a share of the rows, so no worker idles.
                NBlocks = Panels;
                MSplits = Math.Min(Strips, workers);
            }
            else if (Panels >= NBlocks)
            {
                MSplits = 1;
            }
            else
            {
                NBlocks = Panels;
                MSplits = Math.Min(Strips, (2 * workers + NBlocks - 1) / NBlocks);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff in the first forward passes
        public void Invoke(int index, int worker)
        {
            int mr = GemmRows<TVec>(), nr = GemmColumns<TVec>();
            int nBlock = index / MSplits, split = index % MSplits;
            int panel0 = (int)((long)Panels * nBlock / NBlocks), panel1 = (int)((long)Panels * (nBlock + 1) / NBlocks);
            int strip0 = (int)((long)Strips * split / MSplits), strip1 = (int)((long)Strips * (split + 1) / MSplits);
            float* scratch = CpuScratch.Floats(worker, (Packed == null ? (long)(panel1 - panel0) * KBlock * nr : 0) + mr * nr);
            float* tile = scratch, packedW = scratch + mr * nr;
            for (int kb = 0; kb < KBlocks; kb++)
            {
                int k0 = (int)((long)K * kb / KBlocks), kc = (int)((long)K * (kb + 1) / KBlocks) - k0;
                float* panels;
                long panelStride;
                if (Packed != null)
                {
                    panels = Packed + (long)panel0 * K * nr + (long)k0 * nr;
                    panelStride = (long)K * nr;
                }
                else
                {
                    for (int p = panel0; p < panel1; p++)
                        PackWeightPanel<TVec>(W, K, N, p * nr, k0, kc, packedW + (long)(p - panel0) * kc * nr);
                    panels = packedW;
                    panelStride = (long)kc * nr;
                }
                bool accumulate = kb > 0, last = kb == KBlocks - 1;
                for (int b0 = strip0; b0 < strip1; b0 += RowBlockStrips)
                {
                    int b1 = Math.Min(strip1, b0 + RowBlockStrips);
                    for (int p = panel0; p < panel1; p++)
                    {
                        int n0 = p * nr, columns = Math.Min(nr, N - n0);
                        float* panel = panels + (p - panel0) * panelStride;
                        float* bias = Bias == null ? null : Bias + n0;
                        for (int s = b0; s < b1; s++)
                        {
                            int m0 = s * mr, rows = Math.Min(mr, M - m0);
                            long at = (long)m0 * N + n0;
                            MicroKernel<TVec>(kc, X + (long)m0 * K + k0, K, rows, panel, tile);
                            FinishTile<TVec>(tile, Y + at, N, rows, columns, accumulate, last, bias, Activation, Residual == null ? null : Residual + at);
                        }
                    }
                }
            }
        }
    }

    /// <summary>packed[k][j] = w[n0 + j, k0 + k] for k &lt; kc, j &lt; 3 vectors (0 past N): the panel the micro-kernel loads by vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackWeightPanel<TVec>(float* w, int ldw, int n, int n0, int k0, int kc, float* packed) where TVec : struct
    {
        int nr = GemmColumns<TVec>();
        int columns = Math.Min(nr, n - n0);
        for (int j = 0; j < columns; j++)
        {
            float* source = w + (long)(n0 + j) * ldw + k0;
            for (int k = 0; k < kc; k++)
                packed[k * nr + j] = source[k];
        }
        for (int j = columns; j < nr; j++)
            for (int k = 0; k < kc; k++)
                packed[k * nr + j] = 0f;
    }

    /// <summary>
    /// The register-blocked micro-kernel: a tile of (8 or 4) rows × 3 vectors of outputs stays in registers over kc
    /// steps; each step loads 3 weight vectors and broadcasts one x value per row (one FMA per accumulator). The
    /// finished sums go to <paramref name="tile"/> (rows × 3 vectors). Nothing else happens here on purpose: with a call
    /// after the loop the JIT would spill the accumulators inside it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static void MicroKernel<TVec>(int kc, float* a, int lda, int rows, float* b, float* tile) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        // x is read in place (no packed copy): one pointer per row, indexed by k. Rows past the last alias row 0; their
        // sums are computed but never stored.
        float* a0 = a, a1 = a + (long)Math.Min(1, rows - 1) * lda, a2 = a + (long)Math.Min(2, rows - 1) * lda, a3 = a + (long)Math.Min(3, rows - 1) * lda;
        float* a4 = a + (long)Math.Min(4, rows - 1) * lda, a5 = a + (long)Math.Min(5, rows - 1) * lda;
        float* a6 = a + (long)Math.Min(6, rows - 1) * lda, a7 = a + (long)Math.Min(7, rows - 1) * lda;
        TVec c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        TVec c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        TVec c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        TVec c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int k = 0; k < kc; k++)
        {
            TVec b0 = Simd.Load<TVec>(b), b1 = Simd.Load<TVec>(b + w), b2 = Simd.Load<TVec>(b + 2 * w);
            TVec x = Simd.Broadcast<TVec>(a0[k]);
            c00 = Simd.Fma(x, b0, c00); c01 = Simd.Fma(x, b1, c01); c02 = Simd.Fma(x, b2, c02);
            x = Simd.Broadcast<TVec>(a1[k]);
            c10 = Simd.Fma(x, b0, c10); c11 = Simd.Fma(x, b1, c11); c12 = Simd.Fma(x, b2, c12);
            x = Simd.Broadcast<TVec>(a2[k]);
            c20 = Simd.Fma(x, b0, c20); c21 = Simd.Fma(x, b1, c21); c22 = Simd.Fma(x, b2, c22);
            x = Simd.Broadcast<TVec>(a3[k]);
            c30 = Simd.Fma(x, b0, c30); c31 = Simd.Fma(x, b1, c31); c32 = Simd.Fma(x, b2, c32);
            if (typeof(TVec) == typeof(Vector512<float>)) // 8 rows; the JIT drops this for 256-bit vectors
            {
                x = Simd.Broadcast<TVec>(a4[k]);
                c40 = Simd.Fma(x, b0, c40); c41 = Simd.Fma(x, b1, c41); c42 = Simd.Fma(x, b2, c42);
                x = Simd.Broadcast<TVec>(a5[k]);
                c50 = Simd.Fma(x, b0, c50); c51 = Simd.Fma(x, b1, c51); c52 = Simd.Fma(x, b2, c52);
                x = Simd.Broadcast<TVec>(a6[k]);
                c60 = Simd.Fma(x, b0, c60); c61 = Simd.Fma(x, b1, c61); c62 = Simd.Fma(x, b2, c62);
                x = Simd.Broadcast<TVec>(a7[k]);
                c70 = Simd.Fma(x, b0, c70); c71 = Simd.Fma(x, b1, c71); c72 = Simd.Fma(x, b2, c72);
            }
            b += 3 * w;
        }
        Simd.Store(c00, tile); Simd.Store(c01, tile + w); Simd.Store(c02, tile + 2 * w);
        Simd.Store(c10, tile + 3 * w); Simd.Store(c11, tile + 4 * w); Simd.Store(c12, tile + 5 * w);
        Simd.Store(c20, tile + 6 * w); Simd.Store(c21, tile + 7 * w); Simd.Store(c22, tile + 8 * w);
        Simd.Store(c30, tile + 9 * w); Simd.Store(c31, tile + 10 * w); Simd.Store(c32, tile + 11 * w);
        if (typeof(TVec) == typeof(Vector512<float>)) // 8 rows; the JIT drops this for 256-bit vectors
        {
            Simd.Store(c40, tile + 12 * w); Simd.Store(c41, tile + 13 * w); Simd.Store(c42, tile + 14 * w);
            Simd.Store(c50, tile + 15 * w); Simd.Store(c51, tile + 16 * w); Simd.Store(c52, tile + 17 * w);
            Simd.Store(c60, tile + 18 * w); Simd.Store(c61, tile + 19 * w); Simd.Store(c62, tile + 20 * w);
            Simd.Store(c70, tile + 21 * w); Simd.Store(c71, tile + 22 * w); Simd.Store(c72, tile + 23 * w);
        }
    }

    /// <summary>
    /// Writes a micro-kernel tile to y: adds the partial sums of earlier K blocks, and on the last K block the bias,
    /// the activation and the residual, so each output is written once. Only <paramref name="rows"/> ×
    /// <paramref name="columns"/> outputs are touched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishTile<TVec>(float* tile, float* y, int ldy, int rows, int columns,
        bool accumulate, bool last, float* bias, Activation activation, float* residual) where TVec : struct
    {
        int w = Simd.Count<TVec>(), nr = GemmColumns<TVec>();
        if (!accumulate && last && columns == nr)
        {
            // The common tile: whole panel width, one K block. The bias is loaded once and the activation chosen once.
            TVec b0 = default, b1 = default, b2 = default;
            if (bias != null)
            {
                b0 = Simd.Load<TVec>(bias);
                b1 = Simd.Load<TVec>(bias + w);
                b2 = Simd.Load<TVec>(bias + 2 * w);
            }
            if (activation == Activation.Gelu)
                FinishRowsGelu<TVec>(tile, y, ldy, rows, b0, b1, b2, residual);
            else
                FinishRows<TVec>(tile, y, ldy, rows, b0, b1, b2, activation == Activation.Relu, residual);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* row = y + (long)r * ldy, residualRow = residual == null ? null : residual + (long)r * ldy;
            for (int j = 0; j < columns; j += w)
            {
                int lanes = Math.Min(w, columns - j);
                TVec v = Simd.Load<TVec>(tile + r * nr + j);
                if (accumulate)
                    v = Simd.Add(v, LoadLanes<TVec>(row + j, lanes));
                if (last)
                {
                    if (bias != null)
                        v = Simd.Add(v, LoadLanes<TVec>(bias + j, lanes));
                    v = SimdMath.Activate(v, activation);
                    if (residualRow != null)
                        v = Simd.Add(v, LoadLanes<TVec>(residualRow + j, lanes));
                }
                if (lanes == w)
                    Simd.Store(v, row + j);
                else
                    SimdMath.StoreTail(v, row + j, lanes);
            }
        }
    }

    /// <summary>Whole-width tile rows: y = max?(tile + bias) + residual.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishRows<TVec>(float* tile, float* y, int ldy, int rows, TVec b0, TVec b1, TVec b2, bool relu, float* residual)
        where TVec : struct
    {
        int w = Simd.Count<TVec>(), nr = GemmColumns<TVec>();
        for (int r = 0; r < rows; r++, tile += nr, y += ldy)
        {
            TVec v0 = Simd.Add(Simd.Load<TVec>(tile), b0), v1 = Simd.Add(Simd.Load<TVec>(tile + w), b1), v2 = Simd.Add(Simd.Load<TVec>(tile + 2 * w), b2);
            if (relu)
            {
                v0 = Simd.Max(v0, default);
                v1 = Simd.Max(v1, default);
                v2 = Simd.Max(v2, default);
            }
            if (residual != null)
            {
                float* source = residual + (long)r * ldy;
                v0 = Simd.Add(v0, Simd.Load<TVec>(source));
                v1 = Simd.Add(v1, Simd.Load<TVec>(source + w));
                v2 = Simd.Add(v2, Simd.Load<TVec>(source + 2 * w));
            }
            Simd.Store(v0, y);
            Simd.Store(v1, y + w);
            Simd.Store(v2, y + 2 * w);
        }
    }

    /// <summary>Whole-width tile rows: y = GELU(tile + bias) + residual.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishRowsGelu<TVec>(float* tile, float* y, int ldy, int rows, TVec b0, TVec b1, TVec b2, float* residual)
        where TVec : struct
    {
        int w = Simd.Count<TVec>(), nr = GemmColumns<TVec>();
        for (int r = 0; r < rows; r++, tile += nr, y += ldy)
        {
            TVec v0 = SimdMath.Gelu(Simd.Add(Simd.Load<TVec>(tile), b0));
            TVec v1 = SimdMath.Gelu(Simd.Add(Simd.Load<TVec>(tile + w), b1));
            TVec v2 = SimdMath.Gelu(Simd.Add(Simd.Load<TVec>(tile + 2 * w), b2));
            if (residual != null)
            {
                float* source = residual + (long)r * ldy;
                v0 = Simd.Add(v0, Simd.Load<TVec>(source));
                v1 = Simd.Add(v1, Simd.Load<TVec>(source + w));
                v2 = Simd.Add(v2, Simd.Load<TVec>(source + 2 * w));
            }
            Simd.Store(v0, y);
            Simd.Store(v1, y + w);
            Simd.Store(v2, y + 2 * w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec LoadLanes<TVec>(float* source, int lanes) where TVec : struct =>
        lanes == Simd.Count<TVec>() ? Simd.Load<TVec>(source) : SimdMath.LoadTail<TVec>(source, lanes);
}
