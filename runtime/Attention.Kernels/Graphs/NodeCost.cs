namespace Attention.Kernels;

/// <summary>
/// The cost model of the graph ops: FLOPs, compulsory bytes and scratch of one launch of each node kind as a function
/// of its sizes. The generated <c>{Method}Cost</c> of an <c>[AttentionModel]</c> graph adds these up, step by step.
/// </summary>
/// <remarks>
/// Conventions (those of the attention kernels' <see cref="KernelCost"/>): a multiply-add counts 2 FLOPs; an element-wise
/// add, multiply, max or transcendental (exp, tanh, erfc) counts 1; bytes are every input read and output written once
/// (weights included); scratch is the temporary device memory the launch takes beyond its inputs and outputs.
/// See docs/runtime/graph-ops.md.
/// </remarks>
public static class NodeCost
{
    private const double F = sizeof(float);

    /// <summary>y = act(x·Wᵀ + b) + residual over <paramref name="rows"/> rows.</summary>
    public static KernelCost Linear(long rows, int inFeatures, int outFeatures, bool bias, Activation activation, bool residual)
    {
        double outputs = (double)rows * outFeatures;
        double epilogue = (bias ? 1 : 0) + (residual ? 1 : 0) + ActivationFlops(activation);
        double flops = 2.0 * outputs * inFeatures + epilogue * outputs;
        double floats = (double)rows * inFeatures + (double)outFeatures * inFeatures + (bias ? outFeatures : 0) + outputs * (residual ? 2 : 1);
        return new KernelCost(flops, floats * F, 0);
    }

    /// <summary>y = a + b over <paramref name="count"/> floats.</summary>
    public static KernelCost Add(long count) => new(count, 3.0 * count * F, 0);

    /// <summary>y = act(x) over <paramref name="count"/> floats.</summary>
    public static KernelCost Activate(long count, Activation activation) => new(ActivationFlops(activation) * count, 2.0 * count * F, 0);

    /// <summary>LayerNorm (centered, γ and β) or RMSNorm (γ) over <paramref name="rows"/> rows of <paramref name="features"/>.</summary>
    public static KernelCost Norm(long rows, int features, bool rms)
    {
        double count = (double)rows * features;
        // LayerNorm: sum, (x − mean)², then (x − mean)·scale·γ + β; RMSNorm: x², then x·scale·γ. Plus one √ per row.
        double flops = (rms ? 4.0 : 7.0) * count + rows;
        double floats = 2 * count + (rms ? 1 : 2) * features;
        return new KernelCost(flops, floats * F, 0);
    }

    /// <summary>Attention pooling of <paramref name="tokens"/> tokens into <paramref name="pooled"/> vectors; hidden 0 scores by u·x.</summary>
    public static KernelCost AttentionPooling(long tokens, long pooled, int features, int hidden)
    {
        double perToken = ScoreFlops(features, hidden) + 1 /* exp */ + 2.0 * features /* p·x accumulated */;
        double floats = (double)tokens * features + (double)pooled * features + PoolingWeightFloats(features, hidden);
        return new KernelCost(tokens * perToken + (double)pooled * features /* the final division */, floats * F, 0);
    }

    /// <summary>
    /// Hierarchical attention: every token scored once by the word level (an upper bound: tokens outside all segments are
    /// skipped), then <paramref name="batch"/>·<paramref name="segments"/> segment vectors by the segment level. Scratch: the
    /// segment vectors.
    /// </summary>
    public static KernelCost HierarchicalAttention(int batch, int length, int features, int segments, int wordHidden, int segmentHidden)
    {
        long vectors = (long)batch * segments;
        var words = AttentionPooling((long)batch * length, vectors, features, wordHidden);
        var sentences = AttentionPooling(vectors, batch, features, segmentHidden);
        double offsets = (double)batch * (segments + 1) * sizeof(int);
        // The segment vectors are written and read through scratch: not compulsory traffic.
        double bytes = words.BytesMoved + sentences.BytesMoved - 2.0 * vectors * features * F + offsets;
        return new KernelCost(words.Flops + sentences.Flops, bytes, vectors * features * sizeof(float));
    }

    /// <summary>Squeeze-and-excitation over [batch, length, channels] with <paramref name="reduced"/> hidden units. Scratch: excitation and hidden.</summary>
    public static KernelCost SqueezeExcitation(int batch, int length, int channels, int reduced)
    {
        double count = (double)batch * length * channels;
        double flops = count /* mean */ + 4.0 * batch * channels * reduced /* two mat-vecs */ + batch * (2.0 * reduced + 3.0 * channels) /* bias, relu, sigmoid */ + count /* scale */;
        double floats = 2 * count + 2.0 * channels * reduced + reduced + channels;
        return new KernelCost(flops, floats * F, (long)batch * (channels + reduced) * sizeof(float));
    }

    /// <summary>y = x·(1 + p[t]) over [batch, length, features].</summary>
    public static KernelCost PositionalWeighting(int batch, int length, int features)
    {
        double count = (double)batch * length * features;
        return new KernelCost(2 * count, (2 * count + (double)length * features) * F, 0);
    }

    /// <summary>y = Σ_l c_l·layer_l over <paramref name="layers"/> layers of <paramref name="count"/> floats.</summary>
    public static KernelCost LayerwiseMix(int layers, long count) =>
        new(2.0 * layers * count, ((layers + 1.0) * count + layers + 1) * F, 0);

    /// <summary>
    /// Token embedding of <paramref name="rows"/> tokens: one gathered row per table (token, position, type) summed, then an
    /// optional LayerNorm. Bytes: the ids, the gathered rows (not whole tables) and the output.
    /// </summary>
    public static KernelCost Embedding(long rows, int features, bool positions, bool types, bool norm)
    {
        int tables = 1 + (positions ? 1 : 0) + (types ? 1 : 0);
        double count = (double)rows * features;
        double flops = (tables - 1) * count + (norm ? Norm(rows, features, rms: false).Flops : 0);
        double bytes = rows * (types ? 2.0 : 1.0) * sizeof(int) + (tables + 1) * count * F + (norm ? 2.0 * features * F : 0);
        return new KernelCost(flops, bytes, 0);
    }

    /// <summary>Mean pooling of [batch, length, features] into [batch, features] (an upper bound: padded tokens are skipped).</summary>
    public static KernelCost MeanPooling(int batch, int length, int features)
    {
        double count = (double)batch * length * features;
        return new KernelCost(count + (double)batch * features, (count + (double)batch * features) * F + batch * sizeof(int), 0);
    }

    /// <summary>y = x / max(‖x‖, ε) over <paramref name="rows"/> rows: a multiply-add per element for ‖x‖², a multiply to scale, one √ per row.</summary>
    public static KernelCost L2Normalize(long rows, int features)
    {
        double count = (double)rows * features;
        return new KernelCost(3 * count + rows, 2 * count * F, 0);
    }

    private static double ActivationFlops(Activation activation) => activation switch
    {
        Activation.Relu => 1,
        Activation.Gelu => 4, // ½x·(1 + erf(x/√2)): three multiply/adds and the erf
        _ => 0,
    };

    private static double ScoreFlops(int features, int hidden) =>
        hidden == 0 ? 2.0 * features : 2.0 * hidden * features + 4.0 * hidden /* + b, tanh, u· */;

    private static double PoolingWeightFloats(int features, int hidden) =>
        hidden == 0 ? features : (double)hidden * features + 2.0 * hidden;
}

/// <summary>One step of a graph's cost summary: the node it produces, its kind, and its <see cref="KernelCost"/>.</summary>
public readonly record struct StepCost(string Node, string Kind, KernelCost Cost);

/// <summary>
/// What one run of a generated graph costs (from its <c>{Method}Cost</c>): every step, in execution order, and the total.
/// </summary>
public sealed class GraphCost
{
    /// <summary>Creates a summary of <paramref name="steps"/>.</summary>
    public GraphCost(IReadOnlyList<StepCost> steps)
    {
        Steps = steps;
        var total = default(KernelCost);
        foreach (var step in steps)
            total += step.Cost;
        Total = total;
    }

    /// <summary>The steps (kernel launches, or small groups of them), in execution order.</summary>
    public IReadOnlyList<StepCost> Steps { get; }

    /// <summary>Sum of FLOPs and bytes over the steps; scratch is the largest any step needs.</summary>
    public KernelCost Total { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Steps.Count} steps, {Total.Flops / 1e9:0.###} GFLOP, {Total.BytesMoved / 1e6:0.###} MB moved, {Total.ScratchBytes} B scratch";
}
