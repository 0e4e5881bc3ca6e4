using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;
using static Attention.Kernels.Tests.Graphs.GraphTestSupport;

namespace Attention.Kernels.Tests.Graphs;

/// <summary>Multi-head causal attention with a boolean attnMask (a Tensor&lt;bool&gt; input of the graph) and key padding.</summary>
[AttentionModel]
public partial class BoolMaskAttention
{
    public const int Features = 21, Heads = 3, HeadDim = 7;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, HeadDim = HeadDim, Mask = AttentionMask.CausalTopLeft, KeyPadding = "lengths", AttnMask = "keep")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> lengths, Tensor<bool> keep, Tensor<float> attn);
}

/// <summary>
/// A QKV projection read in place by a grouped-query attention node with an additive attnMask, key padding and a score
/// modifier reading a per-head scale [H] (the mask is added after it).
/// </summary>
[AttentionModel]
public partial class AdditiveMaskSdpa
{
    public const int Features = 19, Heads = 4, KvHeads = 2, HeadDim = 6, Packed = (Heads + 2 * KvHeads) * HeadDim;

    [Linear("qkv", From = "x", OutFeatures = Packed)]
    [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = HeadDim, Heads = Heads, KvHeads = KvHeads, KeyPadding = "padding", AttnMask = "bias",
        ScoreMod = nameof(Scaled))]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> padding, Tensor<float> bias, Tensor<float> scales, Tensor<float> ctx);

    public static float Scaled<TScales>(float score, int batch, int head, int query, int key, TScales scales)
        where TScales : struct, IModTensor<float> => score * scales[head];
}

/// <summary>
/// attnMask on graph attention nodes (boolean and additive, PyTorch's broadcast shapes, with key padding and a score modifier)
/// against the fp64 reference: random odd sizes, NaN-poisoned outputs, the CPU backend and ILGPU's CPU accelerator; the
/// runtime errors of a mask that does not broadcast and of a bad modifier-tensor read, naming the graph's parameter and step.
/// </summary>
public sealed class GraphAttnMaskTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    public static IEnumerable<object[]> DevicesAndSeeds() =>
        Enumerable.Range(0, 10).Select(i => new object[] { "cpu", AttentionHarness.RunSeed + 419 * i })
            .Concat(Enumerable.Range(0, 5).Select(i => new object[] { "ilgpu-cpu", AttentionHarness.RunSeed + 233 * i }));

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu-cpu"]];

    /// <summary>Shapes that broadcast to [B, H, T, T] by PyTorch's rules, one picked per run.</summary>
    private static int[] BroadcastShape(Random random, int batch, int heads, int length) => random.Next(7) switch
    {
        0 => [length, length],
        1 => [batch, 1, length, length],
        2 => [1, heads, length, length],
        3 => [batch, heads, length, length],
        4 => [batch, 1, 1, length], // a key-padding mask
        5 => [heads, length, length],
        _ => [length],
    };

    /// <summary>The element of a contiguous mask of <paramref name="shape"/> that (b, h, q, k) reads: right-aligned, size-1 axes repeat.</summary>
    private static int Index(int[] shape, int b, int h, int q, int k)
    {
        int[] full = [.. Enumerable.Repeat(1, 4 - shape.Length), .. shape];
        int[] at = [b, h, q, k];
        int index = 0;
        for (int axis = 0; axis < 4; axis++)
            index = index * full[axis] + (full[axis] == 1 ? 0 : at[axis]);
        return index;
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Boolean_attn_mask_on_a_graph_node_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 75 : 25);
        const int F = BoolMaskAttention.Features, H = BoolMaskAttention.Heads, D = BoolMaskAttention.HeadDim;
        int[] lengths = RandomLengths(random, batch, length);
        int[] shape = BroadcastShape(random, batch, H, length);
        double density = random.NextDouble();
        bool[] keep = Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => random.NextDouble() < density).ToArray();
        var model = new BoolMaskAttention();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        int rows = batch * length;
        var weights = model.ForwardWeights;
        var qkv = Floats(ReferenceOps.Linear(x, rows, F, W(weights, "attn.qkv", "weight"), W(weights, "attn.qkv", "bias"), 3 * H * D, Activation.None, null));
        var context = Floats(ReferenceModels.PackedAttention(qkv, batch, length, H, H, D, AttentionMask.CausalTopLeft, lengths, null,
            (b, h, q, k) => keep[Index(shape, b, h, q, k)]));
        var expected = ReferenceOps.Linear(context, rows, H * D, W(weights, "attn.out", "weight"), W(weights, "attn.out", "bias"), F, Activation.None, null);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var lt = Tensor.FromArray<int>(device, lengths, batch);
        using var kt = Tensor.FromArray<bool>(device, keep, shape);
        using var yt = Tensor.Create<float>(device, batch, length, F);
        double error = RunAndCompare(yt, expected, () => model.Forward(xt, lt, kt, yt)).Error;
        log.WriteLine($"{device.Kind} B={batch} T={length} mask {TensorShape.Format(shape)} density {density:F2}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Additive_attn_mask_on_a_graph_node_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 75 : 25);
        const int F = AdditiveMaskSdpa.Features, H = AdditiveMaskSdpa.Heads, KvH = AdditiveMaskSdpa.KvHeads, D = AdditiveMaskSdpa.HeadDim;
        int[] lengths = RandomLengths(random, batch, length);
        int[] shape = BroadcastShape(random, batch, H, length);
        // Finite biases and some −∞ (hidden pairs), as a float attn_mask carries them.
        float[] bias = RandomData.Uniform(random, shape.Aggregate(1, (a, b) => a * b), 3f)
            .Select(v => random.Next(6) == 0 ? float.NegativeInfinity : v).ToArray();
        float[] scales = RandomData.Uniform(random, H, 1.5f);
        var model = new AdditiveMaskSdpa();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        var qkv = Floats(ReferenceOps.Linear(x, batch * length, F, W(model.ForwardWeights, "qkv", "weight"), W(model.ForwardWeights, "qkv", "bias"),
            AdditiveMaskSdpa.Packed, Activation.None, null));
        // PyTorch adds the mask to the scaled score; here after the score modifier (docs/kernels/masks.md).
        var expected = ReferenceModels.PackedAttention(qkv, batch, length, H, KvH, D, AttentionMask.None, lengths,
            (s, b, h, q, k) => s * scales[h] + bias[Index(shape, b, h, q, k)]);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var pt = Tensor.FromArray<int>(device, lengths, batch);
        using var bt = Tensor.FromArray<float>(device, bias, shape);
        using var st = Tensor.FromArray<float>(device, scales, H);
        using var yt = Tensor.Create<float>(device, batch, length, H * D);
        double error = RunAndCompare(yt, expected, () => model.Forward(xt, pt, bt, st, yt)).Error;
        log.WriteLine($"{device.Kind} B={batch} T={length} mask {TensorShape.Format(shape)} lengths={string.Join(",", lengths)}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Bad_masks_and_modifier_reads_throw_naming_the_parameter_the_step_and_the_shapes(string deviceName)
    {
        var device = GetDevice(deviceName);
        const int B = 2, T = 7, F = AdditiveMaskSdpa.Features, H = AdditiveMaskSdpa.Heads;
        var model = new AdditiveMaskSdpa();
        model.ForwardWeights.InitializeRandom(1);
        using var x = Tensor.Create<float>(device, B, T, F);
        x.Fill(0.5f);
        using var padding = Tensor.FromArray<int>(device, [T, T], B);
        using var bias = Tensor.Create<float>(device, B, 1, T, T);
        using var wrongHeads = Tensor.Create<float>(device, B, H - 1, T, T);
        using var scales = Tensor.Create<float>(device, H);
        using var shortScales = Tensor.Create<float>(device, H - 1);
        using var y = Tensor.Create<float>(device, B, T, H * AdditiveMaskSdpa.HeadDim);
        bias.Fill(0f);
        wrongHeads.Fill(0f);
        scales.Fill(1f);
        shortScales.Fill(1f);

        // A mask that does not broadcast to this step's [B, H, T, T] is refused before any step runs, named as the caller named it.
        y.Fill(float.NaN);
        var shape = Assert.Throws<ArgumentException>(() => model.Forward(x, padding, wrongHeads, scales, y));
        log.WriteLine(shape.Message);
        Assert.Equal("bias", shape.ParamName);
        Assert.Contains($"Tensor 'bias' has shape [{B}, {H - 1}, {T}, {T}], which does not broadcast to the attention weights [B, H, Tq, Tk] = [{B}, {H}, {T}, {T}]", shape.Message);
        Assert.All(y.ToArray(), v => Assert.True(float.IsNaN(v)));

        // A modifier's read outside its tensor names the graph's step and method, and the caller's parameter with its shape.
        var read = Assert.Throws<IndexOutOfRangeException>(() => { model.Forward(x, padding, bias, shortScales, y); device.Synchronize(); });
        log.WriteLine(read.Message);
        Assert.Contains($"attention step 'ctx' of graph method Forward (ForwardAttention1Kernel): modifier tensor 'scales' (slot 0) of shape [{H - 1}] was read at [{H - 1}]", read.Message);

        // The right tensors after all that: the device still runs the graph.
        y.Fill(float.NaN);
        model.Forward(x, padding, bias, scales, y);
        Assert.DoesNotContain(y.ToArray(), float.IsNaN);
    }

    [Fact]
    public void Cost_counts_the_pairs_the_mask_shows_whatever_the_attn_mask_hides()
    {
        // {Method}Cost takes no tensors: the boolean attnMask is not read, so the step counts every pair Mask shows (an upper bound).
        const int B = 3, T = 29;
        var cost = BoolMaskAttention.ForwardCost(B, T).Steps.Single(s => s.Kind == "Attention").Cost;
        Assert.Equal(4.0 * BoolMaskAttention.Heads * BoolMaskAttention.HeadDim * B * AttentionGeometry.VisiblePairs(T, T, AttentionMask.CausalTopLeft, 0), cost.Flops);
    }
}
