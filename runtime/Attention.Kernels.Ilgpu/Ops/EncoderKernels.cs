using ILGPU;
using ILGPU.Algorithms;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// Token embedding: one group per token row gathers its token, position and token-type rows (each thread its own
/// features), sums them into y, then applies LayerNorm in two reductions (mean, then squares about it) like the CPU op.
/// Ids were validated by the caller.
/// </summary>
public static class EmbeddingKernel
{
    /// <summary>Sizes and switches of one launch (flags 0 or 1).</summary>
    public readonly record struct Sizes(int Length, int Features, int HasPositions, int HasTypes, int HasTypeIds, int Norm, int HasGamma, int HasBeta, float Epsilon);

    /// <summary>The kernel; grid = batch·length rows, group = a power of two.</summary>
    public static void Run(ArrayView<int> ids, ArrayView<int> typeIds, ArrayView<float> tokens, ArrayView<float> positions, ArrayView<float> types,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, features = sizes.Features;
        int row = Grid.IdxX;
        long start = (long)row * features;
        long token = (long)ids[row] * features;
        long position = (long)(row % sizes.Length) * features;
        long type = sizes.HasTypes != 0 && sizes.HasTypeIds != 0 ? (long)typeIds[row] * features : 0;
        float sum = 0f;
        for (int f = lane; f < features; f += size)
        {
            float v = tokens[token + f];
            if (sizes.HasPositions != 0)
                v += positions[position + f];
            if (sizes.HasTypes != 0)
                v += types[type + f];
            y[start + f] = v;
            sum += v;
        }
        if (sizes.Norm == 0) // uniform across the launch: the barriers below are reached by every thread or none
            return;
        float mean = RowReduction.GroupSum(sum) / features;
        RowReduction.NormalizeRow(y, y, start, features, mean, sizes.Epsilon, gamma, sizes.HasGamma, beta, sizes.HasBeta); // in place
    }
}

/// <summary>Mean pooling over each batch row's valid tokens: one group per batch row, each thread its own features.</summary>
public static class MeanPoolingKernel
{
    /// <summary>Sizes of one launch: tokens per row, features, and whether per-row lengths are given.</summary>
    public readonly record struct Sizes(int Length, int Features, int HasLengths);

    /// <summary>The kernel; grid = batch, group = a power of two.</summary>
    public static void Run(ArrayView<float> x, ArrayView<int> lengths, ArrayView<float> y, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, features = sizes.Features, b = Grid.IdxX;
        int count = sizes.HasLengths != 0 ? XMath.Min(lengths[b], sizes.Length) : sizes.Length;
        float inverse = count > 0 ? 1f / count : 0f;
        long first = (long)b * sizes.Length * features;
        for (int f = lane; f < features; f += size)
        {
            float sum = 0f;
            for (int t = 0; t < count; t++)
                sum += x[first + (long)t * features + f];
            y[(long)b * features + f] = sum * inverse;
        }
    }
}

/// <summary>y = x / max(‖x‖₂, ε) per row: one group per row, one reduction.</summary>
public static class L2NormalizeKernel
{
    /// <summary>Sizes of one launch.</summary>
    public readonly record struct Sizes(int Features, float Epsilon);

    /// <summary>The kernel; grid = rows, group = a power of two.</summary>
    public static void Run(ArrayView<float> x, ArrayView<float> y, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, features = sizes.Features;
        long start = (long)Grid.IdxX * features;
        float squares = 0f;
        for (int f = lane; f < features; f += size)
            squares += x[start + f] * x[start + f];
        float scale = 1f / XMath.Max(XMath.Sqrt(RowReduction.GroupSum(squares)), sizes.Epsilon);
        for (int f = lane; f < features; f += size)
            y[start + f] = x[start + f] * scale;
    }
}
