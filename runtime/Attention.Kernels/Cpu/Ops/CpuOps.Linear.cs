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
        Activation activation = Activation.None, float* residual = null)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(inFeatures, nameof(inFeatures));
        RequireNonNegative(outFeatures, nameof(outFeatures));
        if (rows == 0 || outFeatures == 0)
            return;
        if (Simd.UseVector512)
            LinearDispatch<Vector512<float>>(x, rows, inFeatures, weight, bias, outFeatures, y, activation, residual);
        else
            LinearDispatch<Vector256<float>>(x, rows, inFeatures, weight, bias, outFeatures, y, activation, residual);
    }

    /// <summary>Below this many rows Linear runs as matrix-vector products (packing the weight would cost more than it saves).</summary>
    private const int GemmMinRows = 8;

    private static void LinearDispatch<TVec>(float* x, int rows, int inFeatures, float* weight, float* bias, int outFeatures, float* y,
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

        var body = new GemmBody<TVec> { X = x, W = weight, Bias = bias, Y = y, Residual = residual, M = rows, K = inFeatures, N = outFeatures, Activation = activation };
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

    /// <summary>Largest K block: an x strip (rows × KC) stays in L1 while the weight panels stream from L2.</summary>
    private const int GemmMaxKBlock = 768;

    /// <summary>Bytes of packed weight a work item keeps in L2: half of 1 MiB (Zen 4/5; Intel server cores have 1.25–2 MiB),
    /// so the x rows and y tiles streaming past do not evict it. A full 1 MiB block fell out of L2 on Zen 5 (−20 % at K=1536).</summary>
    private const int GemmPackedBytes = 1 << 19;

    /// <summary>
    /// One work item of the SGEMM: a block of weight panels (N) × a range of row strips (M). For each K block it packs
    /// the weight block into per-core scratch (k-major panels), then for each strip of rows packs x (k-major, rows
    /// interleaved) and runs the micro-kernel over the block's panels, the last K block with the epilogue.
    /// </summary>
    private struct GemmBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, W, Bias, Y, Residual;
        public int M, K, N;
        public Activation Activation;
        public int KBlocks, KBlock, Panels, NBlocks, MSplits, Strips;

        /// <summary>Chooses the blocking: K blocks of at most <see cref="GemmMaxKBlock"/>, weight blocks that fit <see cref="GemmPackedBytes"/>,
        /// and enough work items (a multiple of the workers) to keep every core busy.</summary>
        public void Plan()
        {
            int workers = CpuParallel.WorkerCount, nr = GemmColumns<TVec>();
            KBlocks = Math.Max(1, (K + GemmMaxKBlock - 1) / GemmMaxKBlock);
            KBlock = Math.Max(1, (K + KBlocks - 1) / KBlocks);
            Panels = (N + nr - 1) / nr;
            int panelsPerBlock = Math.Max(1, GemmPackedBytes / (KBlock * nr * sizeof(float)));
            NBlocks = Math.Min(Panels, (Panels + panelsPerBlock - 1) / panelsPerBlock);
            Strips = (M + GemmRows<TVec>() - 1) / GemmRows<TVec>();
            if (NBlocks >= workers)
            {
                NBlocks = Math.Min(Panels, (NBlocks + workers - 1) / workers * workers);
                MSplits = 1;
            }
            else
            {
                MSplits = Math.Min(Strips, (2 * workers + NBlocks - 1) / NBlocks);
            }
        }

        public void Invoke(int index, int worker)
        {
            int mr = GemmRows<TVec>(), nr = GemmColumns<TVec>();
            int nBlock = index / MSplits, split = index % MSplits;
            int panel0 = (int)((long)Panels * nBlock / NBlocks), panel1 = (int)((long)Panels * (nBlock + 1) / NBlocks);
            int strip0 = (int)((long)Strips * split / MSplits), strip1 = (int)((long)Strips * (split + 1) / MSplits);
            int maxPanels = (Panels + NBlocks - 1) / NBlocks;
            float* packedW = CpuScratch.Floats(worker, (long)maxPanels * KBlock * nr + mr * nr);
            float* tile = packedW + (long)maxPanels * KBlock * nr;
            for (int kb = 0; kb < KBlocks; kb++)
            {
                int k0 = (int)((long)K * kb / KBlocks), kc = (int)((long)K * (kb + 1) / KBlocks) - k0;
                for (int p = panel0; p < panel1; p++)
                    PackWeightPanel(W + k0, K, N, p * nr, kc, packedW + (long)(p - panel0) * kc * nr);
                bool accumulate = kb > 0, last = kb == KBlocks - 1;
                for (int s = strip0; s < strip1; s++)
                {
                    int m0 = s * mr, rows = Math.Min(mr, M - m0);
                    float* strip = X + (long)m0 * K + k0;
                    for (int p = panel0; p < panel1; p++)
                    {
                        int n0 = p * nr;
                        long at = (long)m0 * N + n0;
                        MicroKernel<TVec>(kc, strip, K, rows, packedW + (long)(p - panel0) * kc * nr, tile);
                        FinishTile<TVec>(tile, Y + at, N, rows, Math.Min(nr, N - n0),
                            accumulate, last, Bias == null ? null : Bias + n0, Activation, Residual == null ? null : Residual + at);
                    }
                }
            }
        }

        /// <summary>packed[k][j] = w[n0 + j, k] for k &lt; kc, j &lt; 3 vectors (0 past N): the panel the micro-kernel loads by vectors.</summary>
        private static void PackWeightPanel(float* w, int ldw, int n, int n0, int kc, float* packed)
        {
            int nr = GemmColumns<TVec>();
            int columns = Math.Min(nr, n - n0);
            for (int j = 0; j < columns; j++)
            {
                float* source = w + (long)(n0 + j) * ldw;
                for (int k = 0; k < kc; k++)
                    packed[k * nr + j] = source[k];
            }
            for (int j = columns; j < nr; j++)
                for (int k = 0; k < kc; k++)
                    packed[k * nr + j] = 0f;
        }
    }

    /// <summary>
    /// The register-blocked micro-kernel: a tile of (8 or 4) rows × 3 vectors of outputs stays in registers over kc
    /// steps; each step loads 3 weight vectors and broadcasts one x value per row (one FMA per accumulator). The
    /// finished sums go to <paramref name="tile"/> (rows × 3 vectors). Nothing else happens here on purpose: with a call
    /// after the loop the JIT would spill the accumulators inside it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
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
    private static void FinishTile<TVec>(float* tile, float* y, int ldy, int rows, int columns,
        bool accumulate, bool last, float* bias, Activation activation, float* residual) where TVec : struct
    {
        int w = Simd.Count<TVec>(), nr = GemmColumns<TVec>();
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec LoadLanes<TVec>(float* source, int lanes) where TVec : struct =>
        lanes == Simd.Count<TVec>() ? Simd.Load<TVec>(source) : SimdMath.LoadTail<TVec>(source, lanes);
}
