using ILGPU;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// The element-wise graph ops: grid-stride loops over flat float arrays (a launch covers a bounded grid, the loop the
/// rest), explicitly grouped so the stride is exactly the launched threads. Outputs may alias inputs: each element is
/// read, then written, by the same thread.
/// </summary>
public static class ElementwiseKernels
{
    /// <summary>Sizes of a <see cref="Map"/> launch (activation: an <see cref="Activation"/> value; HasB 0 or 1).</summary>
    public readonly record struct MapSizes(long Count, int Activation, int HasB);

    /// <summary>y = activation(a + b) (b absent: activation(a)): residual adds and standalone activations.</summary>
    public static void Map(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, MapSizes sizes)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < sizes.Count; i += stride)
        {
            float v = a[i];
            if (sizes.HasB != 0)
                v += b[i];
            y[i] = OpMath.Activate(v, sizes.Activation);
        }
    }

    /// <summary>Sizes of a launch over [batch, length, features] rows (count = batch·length·features).</summary>
    public readonly record struct RowSizes(long Count, int Length, int Features);

    /// <summary>Positional weighting: y[b, t, f] = x[b, t, f]·(1 + p[t, f]), p [maxLength, features].</summary>
    public static void Positional(ArrayView<float> x, ArrayView<float> p, ArrayView<float> y, RowSizes sizes)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < sizes.Count; i += stride)
        {
            long row = i / sizes.Features; // b·length + t
            int f = (int)(i - row * sizes.Features);
            int t = (int)(row % sizes.Length);
            y[i] = x[i] * (1f + p[(long)t * sizes.Features + f]);
        }
    }

    /// <summary>Squeeze-and-excitation, second kernel: y[b, t, c] = x[b, t, c]·excitation[b, c].</summary>
    public static void Excite(ArrayView<float> x, ArrayView<float> excitation, ArrayView<float> y, RowSizes sizes)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < sizes.Count; i += stride)
        {
            long position = i / sizes.Features; // b·length + t
            int c = (int)(i - position * sizes.Features);
            y[i] = x[i] * excitation[position / sizes.Length * sizes.Features + c];
        }
    }

    /// <summary>Most layers one <see cref="LayerMix"/> launch reads.</summary>
    public const int MixLayers = 4;

    /// <summary>
    /// Coefficients of one <see cref="LayerMix"/> launch (C1..C3 of absent layers unused), the layers it reads (1..4), and
    /// whether it adds to y (launches after the first) or overwrites it.
    /// </summary>
    public readonly record struct MixSizes(long Count, float C0, float C1, float C2, float C3, int Layers, int Accumulate);

    /// <summary>
    /// Layer-wise mix, up to four layers per launch: y = (Accumulate ? y : 0) + c0·l0 + c1·l1 + c2·l2 + c3·l3, the
    /// coefficients γ·softmax(logits) computed on the host. Layers are added in order, so y may alias a layer of the first
    /// launch (every layer is read at i before y[i] is written).
    /// </summary>
    public static void LayerMix(ArrayView<float> y, ArrayView<float> l0, ArrayView<float> l1, ArrayView<float> l2, ArrayView<float> l3,
        MixSizes sizes)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < sizes.Count; i += stride)
        {
            float v = sizes.Accumulate != 0 ? y[i] : 0f;
            v += sizes.C0 * l0[i];
            if (sizes.Layers > 1)
                v += sizes.C1 * l1[i];
            if (sizes.Layers > 2)
                v += sizes.C2 * l2[i];
            if (sizes.Layers > 3)
                v += sizes.C3 * l3[i];
            y[i] = v;
        }
    }
}
