using Attention.Kernels.Cpu;

namespace Attention.Kernels;

/// <summary>
/// The graph ops of an <c>[AttentionModel]</c> on any device: what the generated graph code calls between its fused
/// attention kernels. Each op runs on the device of its tensors: <see cref="CpuOps"/> on the CPU, the device-C kernels
/// of <see cref="DeviceOps"/> on OpenCL and CUDA. Weights come from <see cref="ModelWeights.On"/> for the same device.
/// </summary>
/// <remarks>
/// Activations are row-major fp32 [rows, features] (rows = batch·length, or batch for pooled values). Shapes were checked
/// by the generated caller; these check only that every tensor lives on the weights' device. Off the CPU the calls are
/// asynchronous on the device's queue (read results with <see cref="Tensor{T}.CopyTo"/>, which waits).
/// </remarks>
public static unsafe class GraphOps
{
    /// <summary>y = activation(x·Wᵀ + bias) + residual; W is [outFeatures, inFeatures] (PyTorch layout). Bias and residual are optional.</summary>
    public static void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures,
        Tensor<float> y, Activation activation = Activation.None, Tensor<float>? residual = null)
    {
        var device = On(x, y, residual);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.Linear(P(x), rows, inFeatures, weight.Host, bias.Host, outFeatures, P(y), activation, residual is null ? null : P(residual));
        else
            DeviceOps.Linear(device, x, D(weight), bias.OnDevice, y, activation, residual, rows, inFeatures, outFeatures);
        Keep(x, y, residual);
    }

    /// <summary>y = a + b over <paramref name="count"/> floats (a residual node that was not fused into a GEMM).</summary>
    public static void Add(Tensor<float> a, Tensor<float> b, long count, Tensor<float> y)
    {
        var device = On(a, b, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.Add(P(a), P(b), count, P(y));
        else
            DeviceOps.Map(device, a, b, y, count, Activation.None);
        Keep(a, b, y);
    }

    /// <summary>y = activation(x) over <paramref name="count"/> floats (GELU is the exact, erf-based one).</summary>
    public static void Activate(Tensor<float> x, long count, Activation activation, Tensor<float> y)
    {
        var device = On(x, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.Activate(P(x), count, activation, P(y));
        else
            DeviceOps.Map(device, x, null, y, count, activation);
        Keep(x, y);
    }

    /// <summary>LayerNorm over the last axis (biased variance): y = (x − mean)/√(var + ε)·γ + β.</summary>
    public static void LayerNorm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y)
    {
        var device = On(x, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.LayerNorm(P(x), rows, features, gamma.Host, beta.Host, epsilon, P(y));
        else
            DeviceOps.Norm(device, x, gamma.OnDevice, beta.OnDevice, y, rows, features, epsilon, centered: true);
        Keep(x, y);
    }

    /// <summary>RMSNorm over the last axis: y = x/√(mean(x²) + ε)·γ.</summary>
    public static void RmsNorm(Tensor<float> x, int rows, int features, GraphWeight gamma, float epsilon, Tensor<float> y)
    {
        var device = On(x, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.RmsNorm(P(x), rows, features, gamma.Host, epsilon, P(y));
        else
            DeviceOps.Norm(device, x, gamma.OnDevice, null, y, rows, features, epsilon, centered: false);
        Keep(x, y);
    }

    /// <summary>
    /// Attention pooling, y[b] = Σ_t softmax_t(score(x[b, t]))·x[b, t] with score = u·x (hidden 0) or u·tanh(W x + b);
    /// x [batch, length, features], y [batch, features]; zeros when length is 0.
    /// </summary>
    public static void AttentionPooling(Tensor<float> x, int batch, int length, int features,
        GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y)
    {
        var device = On(x, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.AttentionPooling(P(x), batch, length, features, u.Host, w.Host, b.Host, hidden, P(y));
        else
            DeviceOps.AttentionPooling(device, x, D(u), w.OnDevice, b.OnDevice, y, batch, length, features, hidden);
        Keep(x, y);
    }

    /// <summary>
    /// Hierarchical attention: pool the tokens of each segment [offsets[b, s], offsets[b, s + 1]) (word level), then pool the
    /// non-empty segments' vectors (segment level). offsets is [batch, segments + 1], non-decreasing within [0, length].
    /// </summary>
    public static void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments,
        GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y)
    {
        var device = On(x, y);
        TensorShape.ExpectDevice(offsets, nameof(offsets), device);
        if (device.Kind == DeviceKind.Cpu)
        {
            CpuOps.HierarchicalAttention(P(x), batch, length, features, CpuTensor.Pointer(offsets), segments,
                u1.Host, w1.Host, b1.Host, hidden1, u2.Host, w2.Host, b2.Host, hidden2, P(y));
        }
        else
        {
            // The kernels trust the offsets: check them on the host first (they are small; this waits for the queue).
            GraphMath.ValidateSegmentOffsets(offsets.ToArray(), batch, segments, length, nameof(offsets));
            DeviceOps.HierarchicalAttention(device, x, offsets, segments, D(u1), w1.OnDevice, b1.OnDevice, hidden1,
                D(u2), w2.OnDevice, b2.OnDevice, hidden2, y, batch, length, features);
        }
        Keep(x, y, offsets);
    }

    /// <summary>
    /// Squeeze-and-excitation over time: s = mean_t x[b, t]; e = sigmoid(W2 relu(W1 s + b1) + b2); y[b, t, c] = x[b, t, c]·e[c].
    /// W1 is [reduced, channels], W2 [channels, reduced].
    /// </summary>
    public static void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced,
        GraphWeight w2, GraphWeight b2, Tensor<float> y)
    {
        var device = On(x, y);
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.SqueezeExcitation(P(x), batch, length, channels, w1.Host, b1.Host, reduced, w2.Host, b2.Host, P(y));
        else
            DeviceOps.SqueezeExcitation(device, x, D(w1), b1.OnDevice, D(w2), b2.OnDevice, y, batch, length, channels, reduced);
        Keep(x, y);
    }

    /// <summary>Learnable positional weighting: y[b, t, f] = x[b, t, f]·(1 + p[t, f]), p [maxLength, features], length ≤ maxLength.</summary>
    public static void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y)
    {
        var device = On(x, y);
        if (length > maxLength)
            throw new ArgumentException($"Sequence length {length} exceeds the positional weights' {maxLength} positions.", nameof(length));
        if (device.Kind == DeviceKind.Cpu)
            CpuOps.PositionalWeighting(P(x), batch, length, features, p.Host, maxLength, P(y));
        else
            DeviceOps.PositionalWeighting(device, x, D(p), y, (long)batch * length * features, length, features);
        Keep(x, y);
    }

    /// <summary>
    /// Layer-wise adaptive mix: y = γ·Σ_l softmax(logits)_l·layers[l] over <paramref name="count"/> floats per layer
    /// (logits: one per layer; gamma: one float). The coefficients are computed once on the host (GraphMath.MixCoefficients).
    /// </summary>
    public static void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, long count, GraphWeight logits, GraphWeight gamma, Tensor<float> y)
    {
        if (layers.Length == 0)
            throw new ArgumentException("LayerwiseMix needs at least one layer.", nameof(layers));
        var device = y.Device;
        foreach (var layer in layers)
            TensorShape.ExpectDevice(layer, nameof(layers), device);
        if (device.Kind == DeviceKind.Cpu)
        {
            Span<nint> pointers = layers.Length <= 16 ? stackalloc nint[layers.Length] : new nint[layers.Length];
            for (int l = 0; l < layers.Length; l++)
                pointers[l] = (nint)P(layers[l]);
            CpuOps.LayerwiseMix(pointers, count, logits.Host, *gamma.Host, P(y));
        }
        else
        {
            Span<float> coefficients = layers.Length <= 16 ? stackalloc float[layers.Length] : new float[layers.Length];
            GraphMath.MixCoefficients(new ReadOnlySpan<float>(logits.Host, layers.Length), *gamma.Host, coefficients);
            DeviceOps.LayerwiseMix(device, layers, coefficients, y, count);
        }
        foreach (var layer in layers)
            GC.KeepAlive(layer);
        GC.KeepAlive(y);
    }

    private static float* P(Tensor<float> tensor) => CpuTensor.Pointer(tensor);

    /// <summary>The device copy of a weight the op needs.</summary>
    private static Tensor<float> D(GraphWeight weight) =>
        weight.OnDevice ?? throw new ArgumentException("A required weight has no device copy: pass weights from ModelWeights.On(device).");

    /// <summary>The device of the first tensor; throws unless the others (non-null) live there too.</summary>
    private static Device On(Tensor<float> first, Tensor<float>? second = null, Tensor<float>? third = null)
    {
        var device = first.Device;
        if (second is not null)
            TensorShape.ExpectDevice(second, nameof(second), device);
        if (third is not null)
            TensorShape.ExpectDevice(third, nameof(third), device);
        return device;
    }

    /// <summary>The CPU ops read the tensors through raw pointers: keep the tensors (owners of that memory) alive until the op returns.</summary>
    private static void Keep(object? a, object? b, object? c = null)
    {
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }
}
