using System.Runtime.Intrinsics;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// Attention the unfused way, as a framework without a fused kernel runs it: S = scale·QKᵀ (+ mask) is
/// materialized for every (batch, head), then softmax in place, then O = P·V. Each pass is vectorized and
/// spread over all cores (GEMM-style register tiles, the same SIMD helpers as the fused kernel), so the gap
/// to the fused kernel is what fusion buys: no Tq×Tk matrix written to and read back from memory.
/// </summary>
/// <remarks>For benchmarks only: BTHD layout, KV heads = heads, Tk and D multiples of two vectors.</remarks>
public static unsafe class UnfusedAttention
{
    private const float Log2E = 1.4426950408889634f;
    private const int SoftmaxRowsPerItem = 16;

    public static void Run(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, bool causal)
    {
        int batch = q.Dim(0), queryLength = q.Dim(1), heads = q.Dim(2), headDim = q.Dim(3), keyLength = k.Dim(1);
        int pair = 2 * (Simd.UseVector512 ? Vector512<float>.Count : Vector256<float>.Count);
        if (keyLength % pair != 0 || headDim % pair != 0)
            throw new NotSupportedException($"UnfusedAttention needs Tk and D to be multiples of {pair}.");

        // Allocated per call like a framework's temporaries, so [MemoryDiagnoser] shows what materializing costs.
        float[] scores = GC.AllocateUninitializedArray<float>(checked(batch * heads * queryLength * keyLength), pinned: true);
        float[] keysTransposed = GC.AllocateUninitializedArray<float>(CpuParallel.WorkerCount * keyLength * headDim, pinned: true);
        fixed (float* s = scores, kt = keysTransposed)
        {
            var pass = new Pass
            {
                Q = Pointer(q), K = Pointer(k), V = Pointer(v), O = Pointer(output), S = s, KeysTransposed = kt,
                Heads = heads, HeadDim = headDim, QueryLength = queryLength, KeyLength = keyLength, Causal = causal,
                Factor = Log2E / MathF.Sqrt(headDim), Rows = (long)batch * heads * queryLength,
            };
            pass.Stage = Stage.Scores;
            CpuParallel.For(batch * heads, ref pass);
            pass.Stage = Stage.Softmax;
            CpuParallel.For((batch * heads * queryLength + SoftmaxRowsPerItem - 1) / SoftmaxRowsPerItem, ref pass);
            pass.Stage = Stage.Values;
            CpuParallel.For(batch * heads, ref pass);
        }
        GC.KeepAlive(q); GC.KeepAlive(k); GC.KeepAlive(v); GC.KeepAlive(output);
    }

    private static float* Pointer(Tensor<float> t) => (float*)((CpuBuffer)t.Buffer).Pointer;

    private enum Stage { Scores, Softmax, Values }

    private struct Pass : ICpuParallelBody
    {
        public float* Q, K, V, O, S, KeysTransposed;
        public int Heads, HeadDim, QueryLength, KeyLength;
        public long Rows;
        public bool Causal;
        public float Factor;
        public Stage Stage;

        public void Invoke(int index, int worker)
        {
            if (Simd.UseVector512)
                Invoke<Vector512<float>>(index, worker);
            else
                Invoke<Vector256<float>>(index, worker);
        }

        private void Invoke<TVec>(int index, int worker) where TVec : struct
        {
            switch (Stage)
            {
                case Stage.Scores: Scores<TVec>(index, worker); break;
                case Stage.Softmax: Softmax<TVec>(index); break;
                default: Values<TVec>(index); break;
            }
        }

        /// <summary>S[i][j] = factor · q_i·k_j for one (batch, head): Kᵀ packed once, then 4 rows × 2 vectors of keys per register tile.</summary>
        private void Scores<TVec>(int bh, int worker) where TVec : struct
        {
            int w = Simd.Count<TVec>(), batch = bh / Heads, head = bh % Heads, rowStride = Heads * HeadDim;
            float* q = Q + ((long)batch * QueryLength * Heads + head) * HeadDim;
            float* k = K + ((long)batch * KeyLength * Heads + head) * HeadDim;
            float* kt = KeysTransposed + (long)worker * KeyLength * HeadDim;
            for (int j = 0; j < KeyLength; j++)
                for (int d = 0; d < HeadDim; d++)
                    kt[(long)d * KeyLength + j] = k[(long)j * rowStride + d];

            float* s = S + (long)bh * QueryLength * KeyLength;
            TVec factor = Simd.Broadcast<TVec>(Factor);
            for (int i = 0; i < QueryLength; i += 4)
            {
                // A short last block repeats its last row: same values stored twice, no tail variant needed.
                int i1 = Math.Min(i + 1, QueryLength - 1), i2 = Math.Min(i + 2, QueryLength - 1), i3 = Math.Min(i + 3, QueryLength - 1);
                float* q0 = q + (long)i * rowStride, q1 = q + (long)i1 * rowStride, q2 = q + (long)i2 * rowStride, q3 = q + (long)i3 * rowStride;
                for (int j = 0; j < KeyLength; j += 2 * w)
                {
                    TVec a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                    for (int d = 0; d < HeadDim; d++)
                    {
                        float* row = kt + (long)d * KeyLength + j;
                        TVec k0 = Simd.Load<TVec>(row), k1 = Simd.Load<TVec>(row + w);
                        TVec b = Simd.Broadcast<TVec>(q0[d]);
                        a00 = Simd.Fma(k0, b, a00); a01 = Simd.Fma(k1, b, a01);
                        b = Simd.Broadcast<TVec>(q1[d]);
                        a10 = Simd.Fma(k0, b, a10); a11 = Simd.Fma(k1, b, a11);
                        b = Simd.Broadcast<TVec>(q2[d]);
                        a20 = Simd.Fma(k0, b, a20); a21 = Simd.Fma(k1, b, a21);
                        b = Simd.Broadcast<TVec>(q3[d]);
                        a30 = Simd.Fma(k0, b, a30); a31 = Simd.Fma(k1, b, a31);
                    }
                    float* s0 = s + (long)i * KeyLength + j, s1 = s + (long)i1 * KeyLength + j, s2 = s + (long)i2 * KeyLength + j, s3 = s + (long)i3 * KeyLength + j;
                    Simd.Store(Simd.Multiply(a00, factor), s0); Simd.Store(Simd.Multiply(a01, factor), s0 + w);
                    Simd.Store(Simd.Multiply(a10, factor), s1); Simd.Store(Simd.Multiply(a11, factor), s1 + w);
                    Simd.Store(Simd.Multiply(a20, factor), s2); Simd.Store(Simd.Multiply(a21, factor), s2 + w);
                    Simd.Store(Simd.Multiply(a30, factor), s3); Simd.Store(Simd.Multiply(a31, factor), s3 + w);
                }
            }
            if (Causal) // the full matrix is computed, then masked: what a naive framework does
                for (int i = 0; i < QueryLength; i++)
                {
                    int firstHidden = Math.Clamp(i + KeyLength - QueryLength + 1, 0, KeyLength);
                    new Span<float>(s + (long)i * KeyLength + firstHidden, KeyLength - firstHidden).Fill(float.NegativeInfinity);
                }
        }

        /// <summary>Rows of S become probabilities in place: max, 2^(s − max) with the row sum, then a divide.</summary>
        private void Softmax<TVec>(int item) where TVec : struct
        {
            int w = Simd.Count<TVec>();
            long firstRow = (long)item * SoftmaxRowsPerItem;
            float* lanes = stackalloc float[w];
            for (long r = firstRow; r < Math.Min(firstRow + SoftmaxRowsPerItem, Rows); r++)
            {
                float* s = S + r * KeyLength;
                TVec max = Simd.Broadcast<TVec>(float.NegativeInfinity);
                for (int j = 0; j < KeyLength; j += w)
                    max = Simd.Max(max, Simd.Load<TVec>(s + j));
                float rowMax = HorizontalMax(max, lanes);
                if (float.IsNegativeInfinity(rowMax))
                {
                    new Span<float>(s, KeyLength).Clear(); // a row that sees no key yields zeros
                    continue;
                }
                TVec m = Simd.Broadcast<TVec>(rowMax), sum = default;
                for (int j = 0; j < KeyLength; j += w)
                {
                    TVec p = Simd.Exp2(Simd.Subtract(Simd.Load<TVec>(s + j), m));
                    Simd.Store(p, s + j);
                    sum = Simd.Add(sum, p);
                }
                TVec inverse = Simd.Broadcast<TVec>(1f / HorizontalSum(sum, lanes));
                for (int j = 0; j < KeyLength; j += w)
                    Simd.Store(Simd.Multiply(Simd.Load<TVec>(s + j), inverse), s + j);
            }
        }

        /// <summary>O[i] = Σ_j P[i][j] · v_j for one (batch, head): 4 rows × 2 vectors of the head dim per register tile.</summary>
        private void Values<TVec>(int bh) where TVec : struct
        {
            int w = Simd.Count<TVec>(), batch = bh / Heads, head = bh % Heads, rowStride = Heads * HeadDim;
            float* v = V + ((long)batch * KeyLength * Heads + head) * HeadDim;
            float* o = O + ((long)batch * QueryLength * Heads + head) * HeadDim;
            float* p = S + (long)bh * QueryLength * KeyLength;
            for (int i = 0; i < QueryLength; i += 4)
            {
                int i1 = Math.Min(i + 1, QueryLength - 1), i2 = Math.Min(i + 2, QueryLength - 1), i3 = Math.Min(i + 3, QueryLength - 1);
                float* p0 = p + (long)i * KeyLength, p1 = p + (long)i1 * KeyLength, p2 = p + (long)i2 * KeyLength, p3 = p + (long)i3 * KeyLength;
                for (int d = 0; d < HeadDim; d += 2 * w)
                {
                    TVec a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                    for (int j = 0; j < KeyLength; j++)
                    {
                        float* row = v + (long)j * rowStride + d;
                        TVec v0 = Simd.Load<TVec>(row), v1 = Simd.Load<TVec>(row + w);
                        TVec b = Simd.Broadcast<TVec>(p0[j]);
                        a00 = Simd.Fma(v0, b, a00); a01 = Simd.Fma(v1, b, a01);
                        b = Simd.Broadcast<TVec>(p1[j]);
                        a10 = Simd.Fma(v0, b, a10); a11 = Simd.Fma(v1, b, a11);
                        b = Simd.Broadcast<TVec>(p2[j]);
                        a20 = Simd.Fma(v0, b, a20); a21 = Simd.Fma(v1, b, a21);
                        b = Simd.Broadcast<TVec>(p3[j]);
                        a30 = Simd.Fma(v0, b, a30); a31 = Simd.Fma(v1, b, a31);
                    }
                    float* o0 = o + (long)i * rowStride + d, o1 = o + (long)i1 * rowStride + d, o2 = o + (long)i2 * rowStride + d, o3 = o + (long)i3 * rowStride + d;
                    Simd.Store(a00, o0); Simd.Store(a01, o0 + w);
                    Simd.Store(a10, o1); Simd.Store(a11, o1 + w);
                    Simd.Store(a20, o2); Simd.Store(a21, o2 + w);
                    Simd.Store(a30, o3); Simd.Store(a31, o3 + w);
                }
            }
        }

        // Once per row, so a plain loop over the spilled lanes is fast enough.
        private static float HorizontalMax<TVec>(TVec value, float* lanes) where TVec : struct
        {
            Simd.Store(value, lanes);
            float result = lanes[0];
            for (int i = 1; i < Simd.Count<TVec>(); i++)
                result = MathF.Max(result, lanes[i]);
            return result;
        }

        private static float HorizontalSum<TVec>(TVec value, float* lanes) where TVec : struct
        {
            Simd.Store(value, lanes);
            float result = 0f;
            for (int i = 0; i < Simd.Count<TVec>(); i++)
                result += lanes[i];
            return result;
        }
    }
}
