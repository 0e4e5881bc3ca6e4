using Attention.Kernels.Cpu;

namespace Attention.Kernels;

/// <summary>
/// The graph ops of an <c>[AttentionModel]</c> on any device: what the generated graph code calls between its fused
/// attention kernels. Each call checks that its tensors share a device and hands the op to that device's
/// <see cref="Device.GraphOpKernels"/> (the CPU's SIMD ops, or an accelerator's kernels). Weights come from
/// <see cref="ModelWeights.On"/> for the same device.
/// </summary>
/// <remarks>
/// Activations are row-major fp32 [rows, features] (rows = batch·length, or batch for pooled values). Shapes were checked
/// by the generated caller. Off the CPU the calls are asynchronous on the device's queue (read results with
/// <see cref="Tensor{T}.CopyTo"/>, which waits).
/// </remarks>
public static class GraphOps
{
    /// <summary>y = activation(x·Wᵀ + bias) + residual; W is [outFeatures, inFeatures] (PyTorch layout). Bias and residual are optional.</summary>
    public static void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures,
        Tensor<float> y, Activation activation = Activation.None, Tensor<float>? residual = null)
    {
        long start = OpTimer.Start();
        On(x, y, residual).GraphOpKernels.Linear(x, rows, inFeatures, weight, bias, outFeatures, y, activation, residual);
        if (Timer is not null) // the label is built only when timing
            OpTimer.Stop($"Linear {inFeatures}→{outFeatures}{(activation == Activation.None ? "" : " +" + activation)}{(residual is null ? "" : " +residual")}", start);
    }

    /// <summary>y = a + b over <paramref name="count"/> floats (a residual node that was not fused into a GEMM).</summary>
    public static void Add(Tensor<float> a, Tensor<float> b, long count, Tensor<float> y)
    {
        long start = OpTimer.Start();
        On(a, b, y).GraphOpKernels.Map(a, b, count, Activation.None, y);
        OpTimer.Stop("Add", start);
    }

    /// <summary>y = activation(x) over <paramref name="count"/> floats (GELU is the exact, erf-based one).</summary>
    public static void Activate(Tensor<float> x, long count, Activation activation, Tensor<float> y)
    {
        long start = OpTimer.Start();
        On(x, y).GraphOpKernels.Map(x, null, count, activation, y);
        if (Timer is not null)
            OpTimer.Stop(activation.ToString(), start);
    }

    /// <summary>LayerNorm over the last axis (biased variance): y = (x − mean)/√(var + ε)·γ + β.</summary>
    public static void LayerNorm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y)
    {
        long start = OpTimer.Start();
        On(x, y).GraphOpKernels.Norm(x, rows, features, gamma, beta, epsilon, centered: true, y);
        OpTimer.Stop("LayerNorm", start);
    }

    /// <summary>RMSNorm over the last axis: y = x/√(mean(x²) + ε)·γ.</summary>
    public static void RmsNorm(Tensor<float> x, int rows, int features, GraphWeight gamma, float epsilon, Tensor<float> y)
    {
        long start = OpTimer.Start();
        On(x, y).GraphOpKernels.Norm(x, rows, features, gamma, GraphWeight.None, epsilon, centered: false, y);
        OpTimer.Stop("RmsNorm", start);
    }

    /// <summary>
    /// Attention pooling, y[b] = Σ_t softmax_t(score(x[b, t]))·x[b, t] with score = u·x (hidden 0) or u·tanh(W x + b);
    /// x [batch, length, features], y [batch, features]; zeros when length is 0.
    /// </summary>
    public static void AttentionPooling(Tensor<float> x, int batch, int length, int features,
        GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y) =>
        On(x, y).GraphOpKernels.AttentionPooling(x, batch, length, features, u, w, b, hidden, y);

    /// <summary>
    /// Hierarchical attention: pool the tokens of each segment [offsets[b, s], offsets[b, s + 1]) (word level), then pool the
    /// non-empty segments' vectors (segment level). offsets is [batch, segments + 1], non-decreasing within [0, length].
    /// </summary>
    public static void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments,
        GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y)
    {
        var device = On(x, y);
        TensorShape.ExpectDevice(offsets, nameof(offsets), device);
        // The kernels trust the offsets: check them here, once for every backend (they are small; off the CPU this waits for the queue).
        GraphMath.ValidateSegmentOffsets(offsets.ToArray(), batch, segments, length, nameof(offsets));
        device.GraphOpKernels.HierarchicalAttention(x, batch, length, features, offsets, segments, u1, w1, b1, hidden1, u2, w2, b2, hidden2, y);
    }

    /// <summary>
    /// Squeeze-and-excitation over time: s = mean_t x[b, t]; e = sigmoid(W2 relu(W1 s + b1) + b2); y[b, t, c] = x[b, t, c]·e[c].
    /// W1 is [reduced, channels], W2 [channels, reduced].
    /// </summary>
    public static void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced,
        GraphWeight w2, GraphWeight b2, Tensor<float> y) =>
        On(x, y).GraphOpKernels.SqueezeExcitation(x, batch, length, channels, w1, b1, reduced, w2, b2, y);

    /// <summary>Learnable positional weighting: y[b, t, f] = x[b, t, f]·(1 + p[t, f]), p [maxLength, features], length ≤ maxLength.</summary>
    public static void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y)
    {
        var device = On(x, y);
        if (length > maxLength)
            throw new ArgumentException($"Sequence length {length} exceeds the positional weights' {maxLength} positions.", nameof(length));
        device.GraphOpKernels.PositionalWeighting(x, batch, length, features, p, maxLength, y);
    }

    /// <summary>
    /// Layer-wise adaptive mix: y = γ·Σ_l softmax(logits)_l·layers[l] over <paramref name="count"/> floats per layer
    /// (logits: one per layer; gamma: one float). The coefficients are computed once on the host (GraphMath.MixCoefficients).
    /// </summary>
    public static unsafe void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, long count, GraphWeight logits, GraphWeight gamma, Tensor<float> y)
    {
        if (layers.Length == 0)
            throw new ArgumentException("LayerwiseMix needs at least one layer.", nameof(layers));
        var device = y.Device;
        foreach (var layer in layers)
            TensorShape.ExpectDevice(layer, nameof(layers), device);
        Span<float> coefficients = layers.Length <= 16 ? stackalloc float[layers.Length] : new float[layers.Length];
        GraphMath.MixCoefficients(new ReadOnlySpan<float>(logits.Host, layers.Length), *gamma.Host, coefficients);
        device.GraphOpKernels.LayerwiseMix(layers, coefficients, count, y);
    }

    /// <summary>
    /// Per-row lengths [batch] on <paramref name="padding"/>'s device from a padding parameter: lengths [batch] or an
    /// attention mask [batch, length] (1 = token, 0 = padding, each row's tokens first). Validated here, once for every
    /// backend (off the CPU this reads the small tensor back); a bad one throws naming <paramref name="argument"/>.
    /// </summary>
    public static Tensor<int> PaddingLengths(Tensor<int> padding, string argument, int batch, int length)
    {
        ArgumentNullException.ThrowIfNull(padding, argument);
        if (padding.Rank == 1)
            TensorShape.Expect(padding, argument, "[B] lengths or [B, T] mask", batch);
        else
            TensorShape.Expect(padding, argument, "[B, T] mask or [B] lengths", batch, length);
        var lengths = new int[batch];
        GraphMath.PaddingLengths(padding.ToArray(), padding.Rank, batch, length, lengths, argument);
        return Tensor.FromArray<int>(padding.Device, lengths, batch);
    }

    /// <summary>
    /// Self-attention of a graph step over packed q|k|v rows with the data-driven masks of its node: key padding (keys at or
    /// past <c>keyLengths[b]</c> are never visited; every query row, padded ones too, attends to its batch row's valid keys; a
    /// row of length 0 gives zeros), the built-in document mask (<paramref name="documentIds"/> [B, T]) and prefix-LM mask
    /// (<paramref name="prefixLengths"/> [B]), the node's attnMask (<paramref name="booleanMask"/> or <paramref name="additiveMask"/>,
    /// broadcast over [B, H, T, T] as PyTorch SDPA's attn_mask) and the tensors its modifiers read. Each is null (default) when the
    /// node has none; the generated graph method checked their shapes against the caller's names first.
    /// </summary>
    public static void PackedAttention<TKernel>(Tensor<float> packed, Tensor<float> output, int batch, int length, Tensor<int>? keyLengths,
        Tensor<int>? documentIds = null, Tensor<int>? prefixLengths = null, ModTensorArgs modTensors = default,
        Tensor<bool>? booleanMask = null, Tensor<float>? additiveMask = null)
        where TKernel : struct, IAttentionKernel
    {
        var device = On(packed, output);
        if (keyLengths is not null)
            TensorShape.ExpectDevice(keyLengths, nameof(keyLengths), device);
        // q, k and v are the same tensor, read in place; the lengths were validated when they were made (PaddingLengths).
        long start = OpTimer.Start();
        device.RunAttention<TKernel, float>(new AttentionLaunch<float>(packed, packed, packed, output, null, batch, length, length)
        {
            KeyLengths = keyLengths,
            DocumentIds = documentIds,
            PrefixLengths = prefixLengths,
            ModTensors = modTensors,
            BooleanMask = booleanMask,
            AdditiveMask = additiveMask,
        });
        OpTimer.Stop(keyLengths is null ? "Attention" : "Attention (key padding)", start);
    }

    /// <summary>
    /// Token embedding: y[b, t] = tokens[ids[b, t]] + positions[t] + types[typeIds[b, t]] (position and type tables optional,
    /// typeIds null = type 0), then LayerNorm(γ, β, ε) when <paramref name="epsilon"/> &gt; 0. ids and typeIds are [batch, length];
    /// an id outside its table throws naming the tensor; length must not exceed <paramref name="maxPositions"/>.
    /// </summary>
    public static void Embedding(Tensor<int> ids, Tensor<int>? typeIds, int batch, int length, int features,
        GraphWeight tokens, int vocabulary, GraphWeight positions, int maxPositions, GraphWeight types, int typeCount,
        GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y)
    {
        var device = y.Device;
        TensorShape.ExpectDevice(ids, nameof(ids), device);
        if (!positions.IsNone && length > maxPositions)
            throw new ArgumentException($"Sequence length {length} exceeds the position table's {maxPositions} positions.", nameof(ids));
        // The kernels trust the ids: check them here, once for every backend (off the CPU this reads them back).
        GraphMath.ValidateIds(ids.ToArray(), vocabulary, nameof(ids));
        if (typeIds is not null)
        {
            TensorShape.ExpectDevice(typeIds, nameof(typeIds), device);
            if (types.IsNone)
                throw new ArgumentException("Token-type ids given to an embedding without a token-type table.", nameof(typeIds));
            GraphMath.ValidateIds(typeIds.ToArray(), typeCount, nameof(typeIds));
        }
        long start = OpTimer.Start();
        device.GraphOpKernels.Embedding(ids, typeIds, batch, length, features, tokens, positions, types, epsilon > 0, gamma, beta, epsilon, y);
        OpTimer.Stop("Embedding", start);
    }

    /// <summary>y[b] = mean of x[b, t] over t &lt; lengths[b] (from <see cref="PaddingLengths"/>; all t when null); zeros for an empty row.</summary>
    public static void MeanPooling(Tensor<float> x, int batch, int length, int features, Tensor<int>? lengths, Tensor<float> y)
    {
        var device = On(x, y);
        if (lengths is not null)
            TensorShape.ExpectDevice(lengths, nameof(lengths), device);
        long start = OpTimer.Start();
        device.GraphOpKernels.MeanPooling(x, batch, length, features, lengths, y);
        OpTimer.Stop("MeanPooling", start);
    }

    /// <summary>y = x / max(‖x‖₂, ε) for each of <paramref name="rows"/> rows (PyTorch's <c>F.normalize</c>).</summary>
    public static void L2Normalize(Tensor<float> x, int rows, int features, float epsilon, Tensor<float> y)
    {
        long start = OpTimer.Start();
        On(x, y).GraphOpKernels.L2Normalize(x, rows, features, epsilon, y);
        OpTimer.Stop("L2Normalize", start);
    }

    /// <summary>
    /// Per-op wall time, for benchmarks: while set, the ops above add their time under a label (the op and its widths) to it.
    /// Meaningful on the CPU backend (synchronous); off the CPU it times the launches, not the kernels. One process-wide
    /// recorder: set it around single-threaded measurements only.
    /// </summary>
    public static GraphOpTimer? Timer { get; set; }

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
}

/// <summary>Wall time of graph ops by label (see <see cref="GraphOps.Timer"/>).</summary>
public sealed class GraphOpTimer
{
    private readonly Dictionary<string, (long Ticks, long Calls)> _totals = new(StringComparer.Ordinal);

    /// <summary>Each label's total seconds and call count since the last <see cref="Clear"/>, largest first.</summary>
    public IReadOnlyList<(string Label, double Seconds, long Calls)> Totals =>
        [.. _totals.Select(t => (t.Key, t.Value.Ticks / (double)System.Diagnostics.Stopwatch.Frequency, t.Value.Calls)).OrderByDescending(t => t.Item2)];

    /// <summary>Sampled after every op when set (e.g. a memory pool's bytes in use); the largest sample is <see cref="ProbeMax"/>.</summary>
    public Func<long>? Probe { get; set; }

    /// <summary>The largest <see cref="Probe"/> sample since the last <see cref="Clear"/> (long.MinValue before any).</summary>
    public long ProbeMax { get; private set; } = long.MinValue;

    /// <summary>Forgets everything recorded.</summary>
    public void Clear()
    {
        _totals.Clear();
        ProbeMax = long.MinValue;
    }

    internal void Add(string label, long ticks)
    {
        var (total, calls) = _totals.GetValueOrDefault(label);
        _totals[label] = (total + ticks, calls + 1);
        if (Probe is { } probe)
            ProbeMax = Math.Max(ProbeMax, probe());
    }
}

/// <summary>The timestamps around an op when <see cref="GraphOps.Timer"/> is set (nothing otherwise).</summary>
internal static class OpTimer
{
    public static long Start() => GraphOps.Timer is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();

    public static void Stop(string label, long start)
    {
        if (GraphOps.Timer is { } timer)
            timer.Add(label, System.Diagnostics.Stopwatch.GetTimestamp() - start);
    }
}
