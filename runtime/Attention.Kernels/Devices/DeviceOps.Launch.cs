using System.Numerics;
using Attention.Kernels.Cuda;
using Attention.Kernels.OpenCl;

namespace Attention.Kernels;

// Launches of the device-C graph ops. GraphOps has checked shapes and devices; these only size the grids.
public static partial class DeviceOps
{
    /// <summary>Most work-groups of an element-wise launch; beyond that the kernels loop (grid-stride).</summary>
    private const int MaxElementGroups = 65535;

    /// <summary>Work-items per group of the element-wise kernels.</summary>
    private const int ElementGroupSize = 256;

    private static readonly string s_cudaSource = CudaAttentionLauncher.CudaSource(DevicePrelude.Cuda, Source);

    /// <summary>A compiled entry point of <see cref="Source"/> on an OpenCL or CUDA device (built once per device, then cached by the backend).</summary>
    private readonly record struct Op(Device Device, object Kernel, long MaxGroupSize, string EntryPoint)
    {
        public static Op Get(Device device, string entryPoint)
        {
            switch (device)
            {
                case OpenClDevice openCl:
                {
                    var kernel = openCl.GetKernel(Source, entryPoint);
                    return new Op(device, kernel, kernel.MaxWorkGroupSize, entryPoint);
                }
                case CudaDevice cuda:
                {
                    var kernel = cuda.GetKernel(s_cudaSource, entryPoint);
                    return new Op(device, kernel, kernel.MaxThreadsPerBlock, entryPoint);
                }
                default:
                    throw new NotSupportedException($"Graph op '{entryPoint}': no device-C backend for {device} in this build.");
            }
        }

        /// <summary>Runs groupsX × groupsY work-groups of sizeX × sizeY work-items (nothing when there are no groups). Asynchronous.</summary>
        public void Launch(long groupsX, long groupsY, int sizeX, int sizeY, params object?[] arguments)
        {
            if (groupsX == 0 || groupsY == 0)
                return;
            if ((long)sizeX * sizeY > MaxGroupSize)
                throw new NotSupportedException(
                    $"Graph op '{EntryPoint}' needs work-groups of {sizeX * sizeY} work-items; {Device} allows {MaxGroupSize} for it.");
            switch (Kernel)
            {
                case OpenClKernel kernel:
                    ((OpenClDevice)Device).Launch(kernel, [groupsX * sizeX, groupsY * sizeY], [sizeX, sizeY], arguments);
                    break;
                case CudaKernel kernel:
                    ((CudaDevice)Device).Launch(kernel, new Dim3(checked((uint)groupsX), checked((uint)groupsY)), new Dim3((uint)sizeX, (uint)sizeY), 0, null, arguments);
                    break;
            }
        }

        /// <summary>
        /// Work-items of a row kernel whose rows are <paramref name="width"/> wide: a power of two, at least a warp (32), at
        /// most <see cref="GroupMax"/> and what the kernel allows, and no wider than the row needs (PoCL runs idle work-items too).
        /// </summary>
        public int RowGroupSize(int width)
        {
            return Fit((int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(width, 32, GroupMax)));
        }

        /// <summary>An element-wise grid over <paramref name="count"/> floats.</summary>
        public void LaunchElements(long count, params object?[] arguments)
        {
            int size = Fit(ElementGroupSize);
            Launch(Math.Min((count + size - 1) / size, MaxElementGroups), 1, size, 1, arguments);
        }

        /// <summary>The power-of-two group size <paramref name="size"/>, halved until the kernel allows it.</summary>
        private int Fit(int size)
        {
            while (size > 1 && size > MaxGroupSize)
                size /= 2;
            return size;
        }
    }

    private static long Blocks(long count, int block) => (count + block - 1) / block;

    internal static void Linear(Device device, Tensor<float> x, Tensor<float> weight, Tensor<float>? bias, Tensor<float> y,
        Activation activation, Tensor<float>? residual, int rows, int inFeatures, int outFeatures) =>
        Op.Get(device, "ak_linear").Launch(Blocks(rows, LinearTile), Blocks(outFeatures, LinearTile), LinearThreads, LinearThreads,
            x.Buffer, weight.Buffer, bias?.Buffer, residual?.Buffer, y.Buffer, rows, inFeatures, outFeatures, (int)activation);

    /// <summary>y = activation(x) + other (other may be null): residual adds and standalone activations.</summary>
    internal static void Map(Device device, Tensor<float> x, Tensor<float>? other, Tensor<float> y, long count, Activation activation) =>
        Op.Get(device, "ak_map").LaunchElements(count, x.Buffer, other?.Buffer, y.Buffer, count, (int)activation);

    internal static void Norm(Device device, Tensor<float> x, Tensor<float>? gamma, Tensor<float>? beta, Tensor<float> y,
        int rows, int features, float epsilon, bool centered)
    {
        if (features == 0)
            return; // y is empty
        var op = Op.Get(device, "ak_norm");
        op.Launch(rows, 1, op.RowGroupSize(features), 1, x.Buffer, gamma?.Buffer, beta?.Buffer, y.Buffer, features, epsilon, centered ? 1 : 0);
    }

    internal static void AttentionPooling(Device device, Tensor<float> x, Tensor<float> u, Tensor<float>? w, Tensor<float>? b, Tensor<float> y,
        int batch, int length, int features, int hidden)
    {
        if (features == 0)
            return; // y is empty
        var op = Op.Get(device, "ak_attention_pooling");
        op.Launch(batch, 1, op.RowGroupSize(Math.Max(features, hidden)), 1, x.Buffer, u.Buffer, w?.Buffer, b?.Buffer, y.Buffer, length, features, hidden);
    }

    internal static void HierarchicalAttention(Device device, Tensor<float> x, Tensor<int> offsets, int segments,
        Tensor<float> u1, Tensor<float>? w1, Tensor<float>? b1, int hidden1, Tensor<float> u2, Tensor<float>? w2, Tensor<float>? b2, int hidden2,
        Tensor<float> y, int batch, int length, int features)
    {
        if (features == 0)
            return; // y is empty
        // The segment vectors live only between the two levels; the pool reuses their memory once the kernels are done.
        using var vectors = Tensor.Create<float>(device, batch, segments, features);
        var words = Op.Get(device, "ak_hierarchical_words");
        words.Launch((long)batch * segments, 1, words.RowGroupSize(Math.Max(features, hidden1)), 1,
            x.Buffer, offsets.Buffer, u1.Buffer, w1?.Buffer, b1?.Buffer, vectors.Buffer, length, features, segments, hidden1);
        var sentences = Op.Get(device, "ak_hierarchical_segments");
        sentences.Launch(batch, 1, sentences.RowGroupSize(Math.Max(features, hidden2)), 1,
            vectors.Buffer, offsets.Buffer, u2.Buffer, w2?.Buffer, b2?.Buffer, y.Buffer, features, segments, hidden2);
    }

    internal static void SqueezeExcitation(Device device, Tensor<float> x, Tensor<float> w1, Tensor<float>? b1, Tensor<float> w2, Tensor<float>? b2,
        Tensor<float> y, int batch, int length, int channels, int reduced)
    {
        if (length == 0 || channels == 0)
            return; // y is empty
        using var excitation = Tensor.Create<float>(device, batch, channels);
        using var hidden = Tensor.Create<float>(device, batch, reduced);
        var squeeze = Op.Get(device, "ak_squeeze");
        squeeze.Launch(batch, 1, squeeze.RowGroupSize(Math.Max(channels, reduced)), 1,
            x.Buffer, w1.Buffer, b1?.Buffer, w2.Buffer, b2?.Buffer, excitation.Buffer, hidden.Buffer, length, channels, reduced);
        long count = (long)batch * length * channels;
        Op.Get(device, "ak_excite").LaunchElements(count, x.Buffer, excitation.Buffer, y.Buffer, count, length, channels);
    }

    internal static void PositionalWeighting(Device device, Tensor<float> x, Tensor<float> p, Tensor<float> y, long count, int length, int features)
    {
        Op.Get(device, "ak_positional").LaunchElements(count, x.Buffer, p.Buffer, y.Buffer, count, length, features);
    }

    /// <summary>
    /// y = Σ_l coefficients[l]·layers[l], four layers per launch (the first launch writes y, the rest add to it; so with more
    /// than four layers y must not be one of them).
    /// </summary>
    internal static void LayerwiseMix(Device device, ReadOnlySpan<Tensor<float>> layers, ReadOnlySpan<float> coefficients, Tensor<float> y, long count)
    {
        var op = Op.Get(device, "ak_layer_mix");
        var buffers = new object?[4];
        var c = new float[4];
        for (int first = 0; first < layers.Length; first += 4)
        {
            for (int i = 0; i < 4; i++)
            {
                buffers[i] = first + i < layers.Length ? layers[first + i].Buffer : null;
                c[i] = first + i < layers.Length ? coefficients[first + i] : 0f;
            }
            op.LaunchElements(count, y.Buffer, buffers[0], buffers[1], buffers[2], buffers[3], c[0], c[1], c[2], c[3], count, first == 0 ? 0 : 1);
        }
    }
}
