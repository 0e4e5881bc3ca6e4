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

    private const int NormRowsPerItem = 8;

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

        public void Invoke(int index, int worker)
        {
            int w = Simd.Count<TVec>();
            int n = Features;
            int end = Math.Min(Rows, (index + 1) * NormRowsPerItem);
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
