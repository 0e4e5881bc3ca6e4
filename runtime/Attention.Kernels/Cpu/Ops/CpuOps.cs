using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// The CPU ops that the generated code of an <c>[AttentionModel]</c> graph calls between its fused attention kernels:
/// linear layers (a packed, register-blocked SGEMM with a fused epilogue), normalizations, activations, pooling,
/// squeeze-and-excitation, positional weighting and layer mixing.
/// </summary>
/// <remarks>
/// All buffers are row-major fp32; activations are [rows, features] with rows = batch·length. Every op runs on all
/// cores through <see cref="CpuParallel"/>, uses <see cref="Simd"/> (AVX-512 where available, else 256-bit), and
/// allocates nothing once warm (scratch comes from <see cref="CpuScratch"/> and a per-calling-thread buffer).
/// See docs/runtime/cpu-ops.md.
/// </remarks>
public static unsafe partial class CpuOps
{
    /// <summary>
    /// Scratch owned by the calling thread for the duration of one op (results that items of a launch hand to the
    /// caller, or to one another).
    /// </summary>
    private static float* CallerFloats(long floats) => CpuScratch.CallerFloats(floats, slot: 0);

    private static void RequireNonNegative(long value, string name)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be non-negative.");
    }

    /// <summary>Σ a[i]·b[i] over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TVec>(float* a, float* b, int count) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        TVec s0 = default, s1 = default;
        int i = 0;
        for (; i + 2 * w <= count; i += 2 * w)
        {
            s0 = Simd.Fma(Simd.Load<TVec>(a + i), Simd.Load<TVec>(b + i), s0);
            s1 = Simd.Fma(Simd.Load<TVec>(a + i + w), Simd.Load<TVec>(b + i + w), s1);
        }
        for (; i + w <= count; i += w)
            s0 = Simd.Fma(Simd.Load<TVec>(a + i), Simd.Load<TVec>(b + i), s0);
        if (i < count)
            s1 = Simd.Fma(SimdMath.LoadTail<TVec>(a + i, count - i), SimdMath.LoadTail<TVec>(b + i, count - i), s1);
        return SimdMath.Sum(Simd.Add(s0, s1));
    }

    /// <summary>
    /// output[j] = Σ_k matrix[j, k]·vector[k] + (bias == null ? 0 : bias[j]) for j &lt; rows (matrix row stride = columns):
    /// a matrix-vector product over rows of a PyTorch-layout weight, four rows per pass so each vector load is reused.
    /// </summary>
    private static void MatVec<TVec>(float* matrix, int rows, int columns, float* vector, float* bias, float* output)
        where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int j = 0;
        for (; j + 4 <= rows; j += 4)
        {
            float* m0 = matrix + (long)j * columns, m1 = m0 + columns, m2 = m1 + columns, m3 = m2 + columns;
            TVec s0 = default, s1 = default, s2 = default, s3 = default;
            int k = 0;
            for (; k + w <= columns; k += w)
            {
                TVec v = Simd.Load<TVec>(vector + k);
                s0 = Simd.Fma(Simd.Load<TVec>(m0 + k), v, s0);
                s1 = Simd.Fma(Simd.Load<TVec>(m1 + k), v, s1);
                s2 = Simd.Fma(Simd.Load<TVec>(m2 + k), v, s2);
                s3 = Simd.Fma(Simd.Load<TVec>(m3 + k), v, s3);
            }
            if (k < columns)
            {
                int n = columns - k;
                TVec v = SimdMath.LoadTail<TVec>(vector + k, n);
                s0 = Simd.Fma(SimdMath.LoadTail<TVec>(m0 + k, n), v, s0);
                s1 = Simd.Fma(SimdMath.LoadTail<TVec>(m1 + k, n), v, s1);
                s2 = Simd.Fma(SimdMath.LoadTail<TVec>(m2 + k, n), v, s2);
                s3 = Simd.Fma(SimdMath.LoadTail<TVec>(m3 + k, n), v, s3);
            }
            output[j] = SimdMath.Sum(s0) + (bias == null ? 0f : bias[j]);
            output[j + 1] = SimdMath.Sum(s1) + (bias == null ? 0f : bias[j + 1]);
            output[j + 2] = SimdMath.Sum(s2) + (bias == null ? 0f : bias[j + 2]);
            output[j + 3] = SimdMath.Sum(s3) + (bias == null ? 0f : bias[j + 3]);
        }
        for (; j < rows; j++)
            output[j] = Dot<TVec>(matrix + (long)j * columns, vector, columns) + (bias == null ? 0f : bias[j]);
    }

    /// <summary>y[i] = act(source[i]) + (residual == null ? 0 : residual[i]) over <paramref name="count"/> floats (y may equal source or residual).</summary>
    private static void Epilogue<TVec>(float* source, int count, Activation activation, float* residual, float* y) where TVec : struct
    {
        int w = Simd.Count<TVec>();
        int i = 0;
        for (; i + w <= count; i += w)
        {
            TVec v = SimdMath.Activate(Simd.Load<TVec>(source + i), activation);
            if (residual != null)
                v = Simd.Add(v, Simd.Load<TVec>(residual + i));
            Simd.Store(v, y + i);
        }
        if (i < count)
        {
            TVec v = SimdMath.Activate(SimdMath.LoadTail<TVec>(source + i, count - i), activation);
            if (residual != null)
                v = Simd.Add(v, SimdMath.LoadTail<TVec>(residual + i, count - i));
            SimdMath.StoreTail(v, y + i, count - i);
        }
    }

    /// <summary>Floats per work item of the element-wise ops (128 KiB of traffic per item and input).</summary>
    private const int ElementChunk = 32 * 1024;

    private static int ChunkCount(long count) => (int)((count + ElementChunk - 1) / ElementChunk);
}
