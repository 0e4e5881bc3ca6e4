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
    /// <param name="y">Output [rows, outFeatures]. Must not overlap x or weight; may equal residual.</param>
    /// <param name="activation">Activation applied before the residual is added.</param>
    /// <param name="residual">Added after the activation [rows, outFeatures], or null.</param>
    public static void Linear(float* x, int rows, int inFeatures, float* weight, float* bias, int outFeatures, float* y,
        Activation activation = Activation.None, float* residual = null)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(inFeatures, nameof(inFeatures));
        RequireNonNegative(outFeatures, nameof(outFeatures));
        if (rows == 0 || outFeatures == 0)
            return;
        if (Simd.UseVector512)
            LinearRows<Vector512<float>>(x, rows, inFeatures, weight, bias, outFeatures, y, activation, residual);
        else
            LinearRows<Vector256<float>>(x, rows, inFeatures, weight, bias, outFeatures, y, activation, residual);
    }

    private static void LinearRows<TVec>(float* x, int rows, int inFeatures, float* weight, float* bias, int outFeatures, float* y,
        Activation activation, float* residual) where TVec : struct
    {
        var body = new LinearRowBody<TVec> { X = x, K = inFeatures, W = weight, Bias = bias, N = outFeatures, Y = y, Activation = activation, Residual = residual };
        CpuParallel.For(rows, ref body);
    }

    /// <summary>One output row as a matrix-vector product (the path for few rows, where packing would not pay).</summary>
    private struct LinearRowBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, W, Bias, Y, Residual;
        public int K, N;
        public Activation Activation;

        public void Invoke(int index, int worker)
        {
            float* row = CpuScratch.Floats(worker, N);
            MatVec<TVec>(W, N, K, X + (long)index * K, Bias, row);
            Epilogue<TVec>(row, N, Activation, Residual == null ? null : Residual + (long)index * N, Y + (long)index * N);
        }
    }
}
