using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// Layer normalization over the last axis, as PyTorch's <c>nn.LayerNorm</c> (biased variance):
    /// y = (x − mean)/sqrt(var + epsilon)·gamma + beta. x and y are [rows, features]; y may equal x.
    /// </summary>
    /// <param name="x">Input [rows, features].</param>
    /// <param name="rows">Rows.</param>
    /// <param name="features">Features per row (the normalized axis).</param>
    /// <param name="gamma">Scale [features], or null for ones.</param>
    /// <param name="beta">Shift [features], or null for zeros.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="y">Output [rows, features].</param>
    public static void LayerNorm(float* x, int rows, int features, float* gamma, float* beta, float epsilon, float* y)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(features, nameof(features));
        if (Simd.UseVector512)
            Normalize<Vector512<float>>(x, rows, features, gamma, beta, epsilon, y, centered: true);
        else
            Normalize<Vector256<float>>(x, rows, features, gamma, beta, epsilon, y, centered: true);
    }

    /// <summary>
    /// RMS normalization over the last axis: y = x/sqrt(mean(x²) + epsilon)·gamma. x and y are [rows, features]; y may equal x.
    /// </summary>
    /// <param name="x">Input [rows, features].</param>
    /// <param name="rows">Rows.</param>
    /// <param name="features">Features per row (the normalized axis).</param>
    /// <param name="gamma">Scale [features], or null for ones.</param>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <param name="y">Output [rows, features].</param>
    public static void RmsNorm(float* x, int rows, int features, float* gamma, float epsilon, float* y)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(features, nameof(features));
        if (Simd.UseVector512)
            Normalize<Vector512<float>>(x, rows, features, gamma, null, epsilon, y, centered: false);
        else
            Normalize<Vector256<float>>(x, rows, features, gamma, null, epsilon, y, centered: false);
    }

    /// <summary>Rows per work item: enough that handing out items (a shared counter) costs little against the rows' work.</summary>
    private const int NormRowsPerItem = 32;

    private static void Normalize<TVec>(float* x, int rows, int features, float* gamma, float* beta, float epsilon, float* y, bool centered)
        where TVec : struct
    {
        var body = new NormBody<TVec> { X = x, Rows = rows, Features = features, Gamma = gamma, Beta = beta, Epsilon = epsilon, Y = y, Centered = centered };
        CpuParallel.For((rows + NormRowsPerItem - 1) / NormRowsPerItem, ref body);
    }

    /// <summary>LayerNorm (centered) or RMSNorm over <see cref="NormRowsPerItem"/> rows per item: statistics in two passes, then one scaling pass.</summary>
    private struct NormBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, Gamma, Beta, Y;
        public int Rows, Features;
        public float Epsilon;
        public bool Centered;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no tier-0 cliff in the first forward passes
        public void Invoke(int index, int worker)
        {
            int w = Simd.Count<TVec>();
            int n = Features;
            int end = Math.Min(Rows, (index + 1) * NormRowsPerItem);
            if (n % (2 * w) == 0 && n > 0)
            {
                WholeVectors(index * NormRowsPerItem, end);
                return;
            }
            for (int row = index * NormRowsPerItem; row < end; row++)
            {
                float* x = X + (long)row * n, y = Y + (long)row * n;
                float mean = 0;
                if (Centered)
                {
                    TVec s = default;
                    int i = 0;
                    for (; i + w <= n; i += w)
                        s = Simd.Add(s, Simd.Load<TVec>(x + i));
                    if (i < n)
                        s = Simd.Add(s, SimdMath.LoadTail<TVec>(x + i, n - i));
                    mean = n == 0 ? 0f : SimdMath.Sum(s) / n;
                }
                // Σ (x − mean)²; tail lanes are filled with the mean so they add nothing.
                var m = Simd.Broadcast<TVec>(mean);
                TVec q = default;
                int j = 0;
                for (; j + w <= n; j += w)
                {
                    TVec d = Simd.Subtract(Simd.Load<TVec>(x + j), m);
                    q = Simd.Fma(d, d, q);
                }
                if (j < n)
                {
                    TVec d = Simd.Subtract(SimdMath.LoadTail<TVec>(x + j, n - j, mean), m);
                    q = Simd.Fma(d, d, q);
                }
                float variance = n == 0 ? 0f : SimdMath.Sum(q) / n;
                var r = Simd.Broadcast<TVec>(1f / MathF.Sqrt(variance + Epsilon));
                int k = 0;
                for (; k + w <= n; k += w)
                    Simd.Store(Scale(Simd.Load<TVec>(x + k), m, r, k, w), y + k);
                if (k < n)
                    SimdMath.StoreTail(Scale(SimdMath.LoadTail<TVec>(x + k, n - k), m, r, k, n - k), y + k, n - k);
            }
        }

        /// <summary>
        /// Rows whose width is a multiple of two vectors (transformer widths): the same two-pass statistics with two
        /// accumulators per pass (half the dependency chain), γ and β read without per-vector checks.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void WholeVectors(int row0, int row1)
        {
            int w = Simd.Count<TVec>(), n = Features;
            float* gamma = Gamma, beta = Beta;
            for (int row = row0; row < row1; row++)
            {
                float* x = X + (long)row * n, y = Y + (long)row * n;
                float mean = 0;
                if (Centered)
                {
                    TVec s0 = default, s1 = default;
                    for (int i = 0; i < n; i += 2 * w)
                    {
                        s0 = Simd.Add(s0, Simd.Load<TVec>(x + i));
                        s1 = Simd.Add(s1, Simd.Load<TVec>(x + i + w));
                    }
                    mean = SimdMath.Sum(Simd.Add(s0, s1)) / n;
                }
                var m = Simd.Broadcast<TVec>(mean);
                TVec q0 = default, q1 = default;
                for (int i = 0; i < n; i += 2 * w)
                {
                    TVec d0 = Simd.Subtract(Simd.Load<TVec>(x + i), m), d1 = Simd.Subtract(Simd.Load<TVec>(x + i + w), m);
                    q0 = Simd.Fma(d0, d0, q0);
                    q1 = Simd.Fma(d1, d1, q1);
                }
                float variance = SimdMath.Sum(Simd.Add(q0, q1)) / n;
                var r = Simd.Broadcast<TVec>(1f / MathF.Sqrt(variance + Epsilon));
                for (int i = 0; i < n; i += w)
                {
                    TVec v = Simd.Multiply(Simd.Subtract(Simd.Load<TVec>(x + i), m), r);
                    if (gamma != null)
                        v = Simd.Multiply(v, Simd.Load<TVec>(gamma + i));
                    if (beta != null)
                        v = Simd.Add(v, Simd.Load<TVec>(beta + i));
                    Simd.Store(v, y + i);
                }
            }
        }

        /// <summary>(x − mean)·rstd·gamma + beta for the <paramref name="lanes"/> features from <paramref name="at"/>.</summary>
        private readonly TVec Scale(TVec x, TVec mean, TVec rstd, int at, int lanes)
        {
            int w = Simd.Count<TVec>();
            TVec v = Simd.Multiply(Simd.Subtract(x, mean), rstd);
            if (Gamma != null)
                v = Simd.Multiply(v, lanes == w ? Simd.Load<TVec>(Gamma + at) : SimdMath.LoadTail<TVec>(Gamma + at, lanes));
            if (Beta != null)
                v = Simd.Add(v, lanes == w ? Simd.Load<TVec>(Beta + at) : SimdMath.LoadTail<TVec>(Beta + at, lanes));
            return v;
        }
    }
}
