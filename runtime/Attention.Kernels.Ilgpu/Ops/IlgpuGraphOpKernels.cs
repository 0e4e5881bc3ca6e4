using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// The graph ops of an <see cref="IlgpuDevice"/>: launches of the ILGPU kernels in this folder on the accelerator's
/// default stream, asynchronously (<see cref="GraphOps"/> has checked shapes and devices; this only sizes the grids).
/// Each kernel is compiled once per device, at first use, and serves every model: sizes are kernel arguments.
/// </summary>
internal sealed class IlgpuGraphOpKernels(IlgpuDevice device) : IGraphOpKernels
{
    /// <summary>Most threads of a row kernel's group.</summary>
    public const int RowGroupMax = 256;

    /// <summary>Threads per group of the element-wise kernels.</summary>
    public const int ElementGroupSize = 256;

    /// <summary>Most groups of an element-wise launch; beyond that the kernels loop (grid-stride).</summary>
    public const int MaxElementGroups = 65535;

    public IlgpuDevice Device { get; } = device;

    public void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures,
        Tensor<float> y, Activation activation, Tensor<float>? residual)
    {
        if (rows == 0 || outFeatures == 0)
            return; // y is empty
        const int threads = LinearKernel.Threads;
        if (threads * threads > Device.MaxGroupSize)
            throw new NotSupportedException($"Linear needs groups of {threads * threads} threads; {Device} allows {Device.MaxGroupSize}.");
        var kernel = Device.Kernel(typeof(LinearKernel), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearKernel.Sizes>(LinearKernel.Run));
        var grid = new Index2D(Blocks(rows, LinearKernel.Tile), Blocks(outFeatures, LinearKernel.Tile));
        kernel(new KernelConfig(grid, new Index2D(threads, threads)),
            x.View(), weight.Device.View(), Optional(bias), residual is null ? ArrayView<float>.Empty : residual.View(), y.View(),
            new LinearKernel.Sizes(rows, inFeatures, outFeatures, (int)activation, bias.IsNone ? 0 : 1, residual is null ? 0 : 1));
    }

    public void Map(Tensor<float> a, Tensor<float>? b, long count, Activation activation, Tensor<float> y)
    {
        if (count == 0)
            return;
        var kernel = Device.Kernel(typeof(MapKey), static acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseKernels.MapSizes>(ElementwiseKernels.Map));
        kernel(ElementConfig(count), a.View(), b is null ? ArrayView<float>.Empty : b.View(), y.View(),
            new ElementwiseKernels.MapSizes(count, (int)activation, b is null ? 0 : 1));
    }

    public void Norm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, bool centered, Tensor<float> y)
    {
        if (rows == 0 || features == 0)
            return; // y is empty
        var kernel = Device.Kernel(typeof(NormKernel), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormKernel.Sizes>(NormKernel.Run));
        kernel(RowConfig(rows, features), x.View(), Optional(gamma), Optional(beta), y.View(),
            new NormKernel.Sizes(features, epsilon, centered ? 1 : 0, gamma.IsNone ? 0 : 1, beta.IsNone ? 0 : 1));
    }

    public void AttentionPooling(Tensor<float> x, int batch, int length, int features, GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y)
    {
        if (batch == 0 || features == 0)
            return; // y is empty
        var kernel = Device.Kernel(typeof(AttentionPoolingKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolingKernels.Sizes>(
                PoolingKernels.AttentionPooling));
        kernel(RowConfig(batch, Math.Max(features, hidden)), x.View(), u.Device.View(), hidden == 0 ? ArrayView<float>.Empty : w.Device.View(),
            hidden == 0 ? ArrayView<float>.Empty : Optional(b), y.View(),
            new PoolingKernels.Sizes(length, features, 0, hidden, hidden > 0 && !b.IsNone ? 1 : 0));
    }

    public void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments,
        GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y)
    {
        if (batch == 0 || features == 0)
            return; // y is empty
        var words = Device.Kernel(typeof(HierarchicalWordsKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolingKernels.Sizes>(
                PoolingKernels.HierarchicalWords));
        var sentences = Device.Kernel(typeof(HierarchicalSegmentsKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolingKernels.Sizes>(
                PoolingKernels.HierarchicalSegments));
        // The segment vectors live only between the two levels; the pool reuses their memory once the queue is past them.
        using var vectors = Tensor.Create<float>(Device, Math.Max(1, batch * segments * features));
        if (segments > 0)
        {
            words(RowConfig(batch * segments, Math.Max(features, hidden1)), x.View(), offsets.View(), u1.Device.View(),
                hidden1 == 0 ? ArrayView<float>.Empty : w1.Device.View(), hidden1 == 0 ? ArrayView<float>.Empty : Optional(b1), vectors.View(),
                new PoolingKernels.Sizes(length, features, segments, hidden1, hidden1 > 0 && !b1.IsNone ? 1 : 0));
        }
        sentences(RowConfig(batch, Math.Max(features, hidden2)), vectors.View(), offsets.View(), u2.Device.View(),
            hidden2 == 0 ? ArrayView<float>.Empty : w2.Device.View(), hidden2 == 0 ? ArrayView<float>.Empty : Optional(b2), y.View(),
            new PoolingKernels.Sizes(length, features, segments, hidden2, hidden2 > 0 && !b2.IsNone ? 1 : 0));
    }

    public void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced,
        GraphWeight w2, GraphWeight b2, Tensor<float> y)
    {
        if (batch == 0 || length == 0 || channels == 0)
            return; // y is empty
        var squeeze = Device.Kernel(typeof(SqueezeKernel), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SqueezeKernel.Sizes>(
                SqueezeKernel.Run));
        var excite = Device.Kernel(typeof(ExciteKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseKernels.RowSizes>(ElementwiseKernels.Excite));
        // Scratch for the excitation [batch, channels] and the bottleneck [batch, reduced]; reused once the queue is past them.
        using var excitation = Tensor.Create<float>(Device, batch * channels);
        using var hidden = Tensor.Create<float>(Device, Math.Max(1, batch * reduced));
        squeeze(RowConfig(batch, Math.Max(channels, reduced)), x.View(), w1.Device.View(), Optional(b1), reduced == 0 ? ArrayView<float>.Empty : w2.Device.View(),
            Optional(b2), excitation.View(), hidden.View(), new SqueezeKernel.Sizes(length, channels, reduced, b1.IsNone ? 0 : 1, b2.IsNone ? 0 : 1));
        long count = (long)batch * length * channels;
        excite(ElementConfig(count), x.View(), excitation.View(), y.View(), new ElementwiseKernels.RowSizes(count, length, channels));
    }

    public void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y)
    {
        long count = (long)batch * length * features;
        if (count == 0)
            return;
        var kernel = Device.Kernel(typeof(PositionalKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseKernels.RowSizes>(ElementwiseKernels.Positional));
        kernel(ElementConfig(count), x.View(), p.Device.View(), y.View(), new ElementwiseKernels.RowSizes(count, length, features));
    }

    public void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, ReadOnlySpan<float> coefficients, long count, Tensor<float> y)
    {
        if (count == 0)
            return;
        var kernel = Device.Kernel(typeof(LayerMixKey), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseKernels.MixSizes>(
                ElementwiseKernels.LayerMix));
        // Four layers per launch: the first overwrites y, the rest add to it. So every layer that is y itself must be read by
        // the first launch: they are merged into one term (Σ of their coefficients) and put first.
        var views = new List<ArrayView<float>>(layers.Length);
        var weights = new List<float>(layers.Length);
        float own = 0f;
        bool aliased = false;
        for (int l = 0; l < layers.Length; l++)
        {
            if (ReferenceEquals(layers[l].Buffer, y.Buffer))
            {
                own += coefficients[l];
                aliased = true;
            }
        }
        if (aliased)
        {
            views.Add(y.View());
            weights.Add(own);
        }
        for (int l = 0; l < layers.Length; l++)
        {
            if (!ReferenceEquals(layers[l].Buffer, y.Buffer))
            {
                views.Add(layers[l].View());
                weights.Add(coefficients[l]);
            }
        }
        var config = ElementConfig(count);
        const int n = ElementwiseKernels.MixLayers;
        for (int first = 0; first < views.Count; first += n)
        {
            int here = Math.Min(n, views.Count - first);
            ArrayView<float> View(int i) => i < here ? views[first + i] : ArrayView<float>.Empty;
            float C(int i) => i < here ? weights[first + i] : 0f;
            kernel(config, y.View(), View(0), View(1), View(2), View(3),
                new ElementwiseKernels.MixSizes(count, C(0), C(1), C(2), C(3), here, first == 0 ? 0 : 1));
        }
    }

    public void Embedding(Tensor<int> ids, Tensor<int>? typeIds, int batch, int length, int features, GraphWeight tokens, GraphWeight positions,
        GraphWeight types, bool norm, GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y)
    {
        int rows = batch * length;
        if (rows == 0 || features == 0)
            return; // y is empty
        var kernel = Device.Kernel(typeof(EmbeddingKernel), static a =>
            a.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                EmbeddingKernel.Sizes>(EmbeddingKernel.Run));
        kernel(RowConfig(rows, features), ids.View(), typeIds is null ? ArrayView<int>.Empty : typeIds.View(), tokens.Device.View(), Optional(positions),
            Optional(types), Optional(gamma), Optional(beta), y.View(),
            new EmbeddingKernel.Sizes(length, features, positions.IsNone ? 0 : 1, types.IsNone ? 0 : 1, typeIds is null ? 0 : 1, norm ? 1 : 0,
                gamma.IsNone ? 0 : 1, beta.IsNone ? 0 : 1, epsilon));
    }

    public void MeanPooling(Tensor<float> x, int batch, int length, int features, Tensor<int>? lengths, Tensor<float> y)
    {
        if (batch == 0 || features == 0)
            return; // y is empty
        var kernel = Device.Kernel(typeof(MeanPoolingKernel), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, MeanPoolingKernel.Sizes>(MeanPoolingKernel.Run));
        kernel(RowConfig(batch, features), x.View(), lengths is null ? ArrayView<int>.Empty : lengths.View(), y.View(),
            new MeanPoolingKernel.Sizes(length, features, lengths is null ? 0 : 1));
    }

    public void L2Normalize(Tensor<float> x, int rows, int features, float epsilon, Tensor<float> y)
    {
        if (rows == 0 || features == 0)
            return; // y is empty
        var kernel = Device.Kernel(typeof(L2NormalizeKernel), static a =>
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, L2NormalizeKernel.Sizes>(L2NormalizeKernel.Run));
        kernel(RowConfig(rows, features), x.View(), y.View(), new L2NormalizeKernel.Sizes(features, epsilon));
    }

    /// <summary>The device copy of an optional weight, or an empty view when it is absent.</summary>
    private static ArrayView<float> Optional(GraphWeight weight) => weight.IsNone ? ArrayView<float>.Empty : weight.Device.View();

    private static int Blocks(long count, int block) => checked((int)((count + block - 1) / block));

    /// <summary>
    /// One group per row: a power of two, at least a warp (the group reductions work in whole warps: 32 threads, or the
    /// device's wider warp), at most <see cref="RowGroupMax"/> and what the device allows, and no wider than the row needs.
    /// </summary>
    private KernelConfig RowConfig(int rows, int width)
    {
        int warp = Math.Max(32, Device.Accelerator.WarpSize);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(width, warp, Math.Max(warp, RowGroupMax)));
        while (size > 1 && size > Device.MaxGroupSize)
            size /= 2;
        return new KernelConfig(new Index1D(rows), new Index1D(size));
    }

    /// <summary>A grid-stride launch over <paramref name="count"/> elements.</summary>
    private KernelConfig ElementConfig(long count)
    {
        int size = Math.Min(ElementGroupSize, Device.MaxGroupSize);
        return new KernelConfig(new Index1D((int)Math.Min((count + size - 1) / size, MaxElementGroups)), new Index1D(size));
    }

    // Keys of the kernel cache for the kernels whose class holds more than one.
    private static class MapKey;
    private static class PositionalKey;
    private static class ExciteKey;
    private static class LayerMixKey;
    private static class AttentionPoolingKey;
    private static class HierarchicalWordsKey;
    private static class HierarchicalSegmentsKey;
}
