using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;
using static Attention.Kernels.Tests.Graphs.GraphTestSupport;

namespace Attention.Kernels.Tests.Graphs;

/// <summary>
/// Multi-head attention whose modifiers read tensors the caller passes to the graph (bound by name): a relative bias
/// [H, Buckets] read by the score modifier and document ids [B, T] read by the mask modifier, with key padding and a
/// top-left causal mask.
/// </summary>
[AttentionModel]
public partial class ModTensorAttention
{
    public const int Features = 16, Heads = 2, HeadDim = 8, Buckets = 9;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, HeadDim = HeadDim, Mask = AttentionMask.CausalTopLeft, KeyPadding = "lengths",
        ScoreMod = nameof(RelativeBias), MaskMod = nameof(SameDocument))]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> lengths, Tensor<float> bias, Tensor<int> documents, Tensor<float> attn);

    /// <summary>The bucket of a relative distance key − query: −4…4 clamped, shifted to 0…8.</summary>
    public static int Bucket(int distance) => (distance < -Buckets / 2 ? -Buckets / 2 : distance > Buckets / 2 ? Buckets / 2 : distance) + Buckets / 2;

    public static float RelativeBias<TBias>(float score, int batch, int head, int query, int key, TBias bias)
        where TBias : struct, IModTensor<float> => score + bias[head, Bucket(key - query)];

    public static bool SameDocument<TIds>(int batch, int head, int query, int key, TIds documents)
        where TIds : struct, IModTensor<int> => documents[batch, query] == documents[batch, key];
}

/// <summary>A QKV projection read in place by a grouped-query attention node with the built-in document mask and key padding.</summary>
[AttentionModel]
public partial class DocumentSdpa
{
    public const int Features = 20, Heads = 4, KvHeads = 2, HeadDim = 6, Packed = (Heads + 2 * KvHeads) * HeadDim;

    [Linear("qkv", From = "x", OutFeatures = Packed)]
    [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = HeadDim, Heads = Heads, KvHeads = KvHeads, Mask = AttentionMask.CausalTopLeft,
        DocumentIds = "documents", KeyPadding = "padding")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> documents, Tensor<int> padding, Tensor<float> ctx);
}

/// <summary>Multi-head prefix-LM attention whose score modifier reads a per-head slope vector [H] (a rank-1 float tensor), soft-capped.</summary>
[AttentionModel]
public partial class PrefixAttention
{
    public const int Features = 24, Heads = 3, HeadDim = 8;
    public const double Cap = 2.5;

    [MultiHeadAttention("attn", From = "x", Heads = Heads, HeadDim = HeadDim, PrefixLengths = "prefix", ScoreMod = nameof(Sloped), SoftCap = Cap)]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<int> prefix, Tensor<float> slopes, Tensor<float> attn);

    public static float Sloped<TSlopes>(float score, int batch, int head, int query, int key, TSlopes slopes)
        where TSlopes : struct, IModTensor<float> => score - slopes[head] * (query >= key ? query - key : key - query);
}

/// <summary>
/// The data-driven masks of graph attention nodes (tensor-reading modifiers bound to graph inputs, the built-in document and
/// prefix-LM masks) against the fp64 reference: random odd sizes, NaN-poisoned outputs, on the CPU backend and ILGPU's CPU
/// accelerator; and the runtime errors of bad tensors, naming the argument and the shapes.
/// </summary>
public sealed class GraphDataMaskTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    public static IEnumerable<object[]> DevicesAndSeeds() =>
        Enumerable.Range(0, 8).Select(i => new object[] { "cpu", AttentionHarness.RunSeed + 211 * i })
            .Concat(Enumerable.Range(0, 4).Select(i => new object[] { "ilgpu-cpu", AttentionHarness.RunSeed + 307 * i }));

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu-cpu"]];

    /// <summary>Document ids from a small set, in runs of random lengths (so key blocks come out empty, full and partial).</summary>
    private static int[] RandomIds(Random random, int batch, int length)
    {
        var ids = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            int id = random.Next(4), left = 0;
            for (int t = 0; t < length; t++)
            {
                if (left-- <= 0)
                {
                    id = random.Next(4);
                    left = random.Next(1, Math.Max(2, length / 3));
                }
                ids[b * length + t] = id;
            }
        }
        return ids;
    }

    /// <summary>x → QKV projection → attention (the reference's) → output projection, as a [MultiHeadAttention] node runs it.</summary>
    private static double[] MultiHead(ModelWeights weights, float[] x, int batch, int length, int features, int heads, int headDim, AttentionMask mask,
        int[]? lengths, ScoreModFunction? score, MaskModFunction? keep)
    {
        int rows = batch * length;
        var qkv = Floats(ReferenceOps.Linear(x, rows, features, W(weights, "attn.qkv", "weight"), W(weights, "attn.qkv", "bias"), 3 * heads * headDim, Activation.None, null));
        var context = Floats(ReferenceModels.PackedAttention(qkv, batch, length, heads, heads, headDim, mask, lengths, score, keep));
        return ReferenceOps.Linear(context, rows, heads * headDim, W(weights, "attn.out", "weight"), W(weights, "attn.out", "bias"), features, Activation.None, null);
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Modifiers_reading_graph_inputs_match_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 70 : 24);
        const int F = ModTensorAttention.Features, H = ModTensorAttention.Heads, D = ModTensorAttention.HeadDim, Buckets = ModTensorAttention.Buckets;
        int[] lengths = RandomLengths(random, batch, length);
        int[] documents = RandomIds(random, batch, length);
        float[] bias = RandomData.Uniform(random, H * Buckets, 3f);
        var model = new ModTensorAttention();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        // The reference's modifiers read the same arrays the graph's inputs are made of.
        var expected = MultiHead(model.ForwardWeights, x, batch, length, F, H, D, AttentionMask.CausalTopLeft, lengths,
            (s, b, h, q, k) => s + bias[h * Buckets + ModTensorAttention.Bucket(k - q)],
            (b, h, q, k) => documents[b * length + q] == documents[b * length + k]);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var lt = Tensor.FromArray<int>(device, lengths, batch);
        using var bt = Tensor.FromArray<float>(device, bias, H, Buckets);
        using var dt = Tensor.FromArray<int>(device, documents, batch, length);
        using var yt = Tensor.Create<float>(device, batch, length, F);
        double error = RunAndCompare(yt, expected, () => model.Forward(xt, lt, bt, dt, yt)).Error;
        log.WriteLine($"{device.Kind} B={batch} T={length} lengths={string.Join(",", lengths)}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Fact]
    public void A_relaunch_with_other_document_ids_reclassifies_its_blocks()
    {
        // One shape twice (several tiles and key blocks): first every id equal (every block full), then ids that split each
        // block. A block class cached from the first launch would let the second see keys of other documents.
        const int B = 2, T = 150, F = ModTensorAttention.Features, H = ModTensorAttention.Heads, D = ModTensorAttention.HeadDim;
        var random = new Random(AttentionHarness.RunSeed + 9);
        var model = new ModTensorAttention();
        model.ForwardWeights.InitializeRandom(9);
        float[] x = RandomData.Uniform(random, B * T * F);
        float[] bias = RandomData.Uniform(random, H * ModTensorAttention.Buckets, 3f);
        int[] lengths = [T, T - 17];
        using var xt = Tensor.FromArray<float>(Device.Cpu, x, B, T, F);
        using var lt = Tensor.FromArray<int>(Device.Cpu, lengths, B);
        using var bt = Tensor.FromArray<float>(Device.Cpu, bias, H, ModTensorAttention.Buckets);
        using var yt = Tensor.Create<float>(Device.Cpu, B, T, F);
        foreach (int[] documents in new[] { new int[B * T], [.. Enumerable.Range(0, B * T).Select(t => t % 3 == 0 ? 1 : 0)] })
        {
            var expected = MultiHead(model.ForwardWeights, x, B, T, F, H, D, AttentionMask.CausalTopLeft, lengths,
                (s, b, h, q, k) => s + bias[h * ModTensorAttention.Buckets + ModTensorAttention.Bucket(k - q)],
                (b, h, q, k) => documents[b * T + q] == documents[b * T + k]);
            using var dt = Tensor.FromArray<int>(Device.Cpu, documents, B, T);
            double error = RunAndCompare(yt, expected, () => model.Forward(xt, lt, bt, dt, yt)).Error;
            log.WriteLine($"ids {string.Join("", documents.Take(12))}…: error {error:E2}");
            Assert.True(error <= Tolerance, $"error {error:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Built_in_document_mask_on_a_graph_node_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 90 : 30);
        const int F = DocumentSdpa.Features, H = DocumentSdpa.Heads, KvH = DocumentSdpa.KvHeads, D = DocumentSdpa.HeadDim;
        int[] lengths = RandomLengths(random, batch, length);
        int[] documents = RandomIds(random, batch, length);
        var model = new DocumentSdpa();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        var qkv = Floats(ReferenceOps.Linear(x, batch * length, F, W(model.ForwardWeights, "qkv", "weight"), W(model.ForwardWeights, "qkv", "bias"),
            DocumentSdpa.Packed, Activation.None, null));
        var expected = ReferenceModels.PackedAttention(qkv, batch, length, H, KvH, D, AttentionMask.CausalTopLeft, lengths, null,
            (b, h, q, k) => documents[b * length + q] == documents[b * length + k]);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var dt = Tensor.FromArray<int>(device, documents, batch, length);
        using var pt = Tensor.FromArray<int>(device, lengths, batch);
        using var yt = Tensor.Create<float>(device, batch, length, H * D);
        double error = RunAndCompare(yt, expected, () => model.Forward(xt, dt, pt, yt)).Error;
        log.WriteLine($"{device.Kind} B={batch} T={length} lengths={string.Join(",", lengths)}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Built_in_prefix_lm_on_a_graph_node_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 70 : 24);
        const int F = PrefixAttention.Features, H = PrefixAttention.Heads, D = PrefixAttention.HeadDim;
        const double cap = PrefixAttention.Cap;
        int[] prefix = RandomLengths(random, batch, length);
        float[] slopes = RandomData.Uniform(random, H, 0.5f);
        var model = new PrefixAttention();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        var expected = MultiHead(model.ForwardWeights, x, batch, length, F, H, D, AttentionMask.None, null,
            (s, b, h, q, k) => cap * Math.Tanh((s - slopes[h] * Math.Abs(q - k)) / cap),
            (b, h, q, k) => k < prefix[b] || k <= q);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var pt = Tensor.FromArray<int>(device, prefix, batch);
        using var st = Tensor.FromArray<float>(device, slopes, H);
        using var yt = Tensor.Create<float>(device, batch, length, F);
        double error = RunAndCompare(yt, expected, () => model.Forward(xt, pt, st, yt)).Error;
        log.WriteLine($"{device.Kind} B={batch} T={length} prefix={string.Join(",", prefix)}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Bad_tensors_throw_naming_the_argument_and_the_shapes(string deviceName)
    {
        var device = GetDevice(deviceName);
        const int B = 2, T = 7, F = ModTensorAttention.Features, H = ModTensorAttention.Heads, Buckets = ModTensorAttention.Buckets;
        var model = new ModTensorAttention();
        model.ForwardWeights.InitializeRandom(1);
        using var x = Tensor.Create<float>(device, B, T, F);
        x.Fill(0.5f);
        using var lengths = Tensor.FromArray<int>(device, [T, T], B);
        using var bias = Tensor.Create<float>(device, H, Buckets);
        using var shortBias = Tensor.Create<float>(device, H - 1, Buckets); // one head short (causal: only buckets ≤ 4 are read)
        using var rank4Bias = Tensor.Create<float>(device, 1, 1, H, Buckets);
        using var documents = Tensor.Create<int>(device, B, T);
        using var shortDocuments = Tensor.Create<int>(device, B, T - 1);
        using var y = Tensor.Create<float>(device, B, T, F);
        bias.Fill(0f);
        shortBias.Fill(0f);
        documents.Fill(0);
        shortDocuments.Fill(0);

        // A modifier tensor's shape is the modifier's: a read outside it names the tensor (the graph's parameter), its shape and the index.
        var read = Assert.Throws<IndexOutOfRangeException>(() => { model.Forward(x, lengths, shortBias, documents, y); device.Synchronize(); });
        log.WriteLine(read.Message);
        Assert.Contains($"attention step 'attn.attention' of graph method Forward (ForwardAttention1Kernel): modifier tensor 'bias' (slot 0) of shape [{H - 1}, {Buckets}] was read at [{H - 1}, ", read.Message);
        read = Assert.Throws<IndexOutOfRangeException>(() => { model.Forward(x, lengths, bias, shortDocuments, y); device.Synchronize(); });
        log.WriteLine(read.Message);
        Assert.Contains($"modifier tensor 'documents' (slot 1) of shape [{B}, {T - 1}] was read at [", read.Message);
        var rank = Assert.Throws<ArgumentException>(() => model.Forward(x, lengths, rank4Bias, documents, y));
        log.WriteLine(rank.Message);
        Assert.Contains("attention step 'attn.attention' of graph method Forward (ForwardAttention1Kernel): modifier tensor 'bias' (slot 0) has rank 4", rank.Message);

        // The built-in masks' tensors are checked before the launch, named as the caller named them.
        var sdpa = new DocumentSdpa();
        sdpa.ForwardWeights.InitializeRandom(1);
        using var sx = Tensor.Create<float>(device, B, T, DocumentSdpa.Features);
        using var sy = Tensor.Create<float>(device, B, T, DocumentSdpa.Heads * DocumentSdpa.HeadDim);
        var shape = Assert.Throws<ArgumentException>(() => sdpa.Forward(sx, shortDocuments, lengths, sy));
        log.WriteLine(shape.Message);
        Assert.Equal("documents", shape.ParamName);
        Assert.Contains($"[B, T] document ids = [{B}, {T}], but has [{B}, {T - 1}]", shape.Message);

        var prefixModel = new PrefixAttention();
        prefixModel.ForwardWeights.InitializeRandom(1);
        using var px = Tensor.Create<float>(device, B, T, PrefixAttention.Features);
        using var py = Tensor.Create<float>(device, B, T, PrefixAttention.Features);
        using var slopes = Tensor.Create<float>(device, PrefixAttention.Heads);
        using var badPrefix = Tensor.FromArray<int>(device, [3, T + 1], B);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => prefixModel.Forward(px, badPrefix, slopes, py));
        log.WriteLine(range.Message);
        Assert.Equal("prefix", range.ParamName);
        Assert.Contains($"prefix[1] = {T + 1} is outside 0..{T} (T of x [{B}, {T}, {PrefixAttention.Features}])", range.Message);

        // The right tensors after all that: the device still runs the graph.
        y.Fill(float.NaN);
        model.Forward(x, lengths, bias, documents, y);
        Assert.DoesNotContain(y.ToArray(), float.IsNaN);
    }

    [Fact]
    public void Cost_counts_the_pairs_the_mask_shows_an_upper_bound_of_what_the_data_leaves()
    {
        // {Method}Cost takes no tensors: an attention step with document ids or prefix lengths counts the pairs its Mask shows
        // (as a declaration's shape-only Cost), never fewer than the exact count of any ids or prefixes.
        var random = new Random(AttentionHarness.RunSeed + 5);
        const int B = 3, T = 37;
        int[] documents = RandomIds(random, B, T), prefix = RandomLengths(random, B, T);

        var document = DocumentSdpa.ForwardCost(B, T).Steps.Single(s => s.Kind == "Attention").Cost;
        double perPair = 4.0 * DocumentSdpa.Heads * DocumentSdpa.HeadDim;
        Assert.Equal(perPair * B * AttentionGeometry.VisiblePairs(T, T, AttentionMask.CausalTopLeft, 0), document.Flops);
        double exact = perPair * AttentionGeometry.VisiblePairs(B, T, T, AttentionMask.CausalTopLeft, 0, ReadOnlySpan<int>.Empty, documents, ReadOnlySpan<int>.Empty);
        Assert.True(exact < document.Flops, $"exact {exact} vs counted {document.Flops}");

        var prefixed = PrefixAttention.ForwardCost(B, T).Steps.Single(s => s.Kind == "Attention").Cost;
        perPair = 4.0 * PrefixAttention.Heads * PrefixAttention.HeadDim;
        Assert.Equal(perPair * B * T * T, prefixed.Flops);
        exact = perPair * AttentionGeometry.VisiblePairs(B, T, T, AttentionMask.None, 0, ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, prefix);
        Assert.True(exact <= prefixed.Flops, $"exact {exact} vs counted {prefixed.Flops}");
    }
}
