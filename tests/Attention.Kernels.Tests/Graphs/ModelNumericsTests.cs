using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;
using static Attention.Kernels.Tests.Graphs.GraphTestSupport;

namespace Attention.Kernels.Tests.Graphs;

/// <summary>
/// Whole generated model graphs against references composed from the fp64 node references, on the CPU backend and on
/// ILGPU's CPU accelerator (the accelerator kernels a GPU runs): the same generated method runs on both.
/// </summary>
public sealed class ModelNumericsTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(0, 8).Select(i => new object[] { AttentionHarness.RunSeed + 101 * i });

    /// <summary>Eight cases on the CPU backend, four on ILGPU's CPU accelerator.</summary>
    public static IEnumerable<object[]> DevicesAndSeeds() =>
        Seeds().Select(s => new object[] { "cpu", s[0] }).Concat(Seeds().Take(4).Select(s => new object[] { "ilgpu-cpu", s[0] }));

    /// <summary>Half the cases decode-sized (T ≤ 4: the row-mode attention kernel), half prefill-sized.</summary>
    public static IEnumerable<object[]> DevicesSeedsAndModes() => DevicesAndSeeds().Select((s, i) => new object[] { s[0], s[1], i % 2 == 0 });

    [Theory]
    [MemberData(nameof(DevicesSeedsAndModes))]
    public void Two_layer_encoder_matches_the_composed_reference(string deviceName, int seed, bool decode)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 3), length = decode ? random.Next(1, 5) : random.Next(5, 48);
        var model = new TwoLayerEncoder();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * TwoLayerEncoder.Features);

        float[] Weight(string node, string name) => W(model.ForwardWeights, node, name);
        EncoderLayerSpec Layer(string attention, string norm1, string up, string down, string norm2) =>
            new(attention, norm1, up, down, norm2, TwoLayerEncoder.Features, TwoLayerEncoder.Heads, TwoLayerEncoder.KvHeads,
                TwoLayerEncoder.HeadDim, TwoLayerEncoder.Hidden, AttentionMask.Causal);
        var layer1 = Floats(ReferenceModels.EncoderLayer(x, batch, length, Layer("attn1", "norm1", "up1", "down1", "norm2"), Weight));
        var expected = ReferenceModels.EncoderLayer(layer1, batch, length, Layer("attn2", "norm3", "up2", "down2", "y"), Weight);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, TwoLayerEncoder.Features);
        using var yt = Tensor.Create<float>(device, batch, length, TwoLayerEncoder.Features);
        var (_, error) = RunAndCompare(yt, expected, () => model.Forward(xt, yt));
        log.WriteLine($"{device.Kind} B={batch} T={length}: ‖y−ref‖/‖ref‖ = {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed} B={batch} T={length}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Document_classifier_matches_the_composed_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, 80), segments = random.Next(1, 6);
        const int F = DocumentClassifier.Features;
        var model = new DocumentClassifier();
        model.ClassifyWeights.InitializeRandom(seed);
        var w = model.ClassifyWeights;
        float[] tokens = RandomData.Uniform(random, batch * length * F);
        int[] offsets = new int[batch * (segments + 1)];
        for (int b = 0; b < batch; b++)
        {
            var cuts = Enumerable.Range(0, segments - 1).Select(_ => random.Next(0, length + 1)).Order().ToArray();
            offsets[b * (segments + 1)] = 0;
            for (int s = 0; s < cuts.Length; s++)
                offsets[b * (segments + 1) + s + 1] = cuts[s];
            offsets[b * (segments + 1) + segments] = length;
        }

        float[] p = W(w, "positioned", "p").Take(length * F).ToArray();
        var positioned = Floats(ReferenceOps.PositionalWeighting(tokens, batch, length, F, p));
        var excited = Floats(ReferenceOps.SqueezeExcitation(positioned, batch, length, F, W(w, "excited", "w1"), W(w, "excited", "b1"), F / 4,
            W(w, "excited", "w2"), W(w, "excited", "b2")));
        var (document, _) = ReferenceOps.HierarchicalAttention(excited, batch, length, F, offsets, segments,
            W(w, "document", "word.u"), W(w, "document", "word.w"), W(w, "document", "word.b"), 16,
            W(w, "document", "segment.u"), null, null, 0);
        var normalized = Floats(ReferenceOps.RmsNorm(Floats(document), batch, F, W(w, "normalized", "gamma"), 1e-6));
        var expected = ReferenceOps.Linear(normalized, batch, F, W(w, "logits", "weight"), W(w, "logits", "bias"), DocumentClassifier.Classes, Activation.None, null);

        using var tt = Tensor.FromArray<float>(device, tokens, batch, length, F);
        using var st = Tensor.FromArray<int>(device, offsets, batch, segments + 1);
        using var lt = Tensor.Create<float>(device, batch, DocumentClassifier.Classes);
        var (_, error) = RunAndCompare(lt, expected, () => model.Classify(tt, st, lt));
        log.WriteLine($"{device.Kind} B={batch} T={length} S={segments}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Mixer_matches_the_composed_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, 60);
        const int F = Mixer.Features;
        Mixer.RunWeights.InitializeRandom(seed);
        var w = Mixer.RunWeights;
        float[] x = RandomData.Uniform(random, batch * length * F);
        int rows = batch * length;
        var qkv = Floats(ReferenceOps.Linear(x, rows, F, W(w, "qkv", "weight"), W(w, "qkv", "bias"), 3 * F, Activation.None, null));
        var ctx = Floats(ReferenceModels.PackedAttention(qkv, batch, length, 4, 4, 4, AttentionMask.None));
        var h1 = Floats(ReferenceOps.Add(x, ctx));
        var r = Floats(ReferenceOps.Activate(h1, Activation.Relu));
        var mixed = Floats(ReferenceOps.LayerwiseMix([x, h1, r], W(w, "mixed", "logits"), W(w, "mixed", "gamma")[0]));
        var (expected, _) = ReferenceOps.AttentionPooling(mixed, batch, length, F, W(w, "pooled", "u"), W(w, "pooled", "w"), W(w, "pooled", "b"), 8);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var pt = Tensor.Create<float>(device, batch, F);
        var (_, error) = RunAndCompare(pt, expected, () => Mixer.Run(xt, pt));
        log.WriteLine($"{device.Kind} B={batch} T={length}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed} B={batch} T={length}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Tiny_bert_with_padding_matches_the_composed_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 5), length = random.Next(1, deviceName == "cpu" ? 40 : 20);
        const int F = TinyBert.Features;
        // Row 0 full, the others padded to random lengths, one of them possibly empty; the padding ids are junk (never read).
        int[] lengths = Enumerable.Range(0, batch).Select(b => b == 0 ? length : random.Next(0, length + 1)).ToArray();
        int[] ids = Enumerable.Range(0, batch * length).Select(_ => random.Next(TinyBert.Vocabulary)).ToArray();
        int[] types = Enumerable.Range(0, batch * length).Select(_ => random.Next(2)).ToArray();
        int[] mask = Enumerable.Range(0, batch * length).Select(i => i % length < lengths[i / length] ? 1 : 0).ToArray();
        var model = new TinyBert();
        model.ForwardWeights.InitializeRandom(seed);
        float[] Weight(string node, string name) => W(model.ForwardWeights, node, name);

        var emb = Floats(ReferenceOps.Embedding(ids, types, batch, length, F, Weight("emb", "tokens"), Weight("emb", "positions"), Weight("emb", "types"),
            Weight("emb", "gamma"), Weight("emb", "beta"), 1e-12));
        var spec = new EncoderLayerSpec("attn", "norm1", "up", "down", "hidden", F, TinyBert.Heads, TinyBert.Heads, TinyBert.HeadDim, TinyBert.Hidden, AttentionMask.None);
        var hidden = ReferenceModels.EncoderLayer(emb, batch, length, spec, Weight, lengths, 1e-12);
        var pooled = Floats(ReferenceOps.MeanPooling(Floats(hidden), batch, length, F, lengths));
        var embedding = ReferenceOps.L2Normalize(pooled, batch, F, 1e-12);

        using var idsT = Tensor.FromArray<int>(device, ids, batch, length);
        using var typesT = Tensor.FromArray<int>(device, types, batch, length);
        using var maskT = Tensor.FromArray<int>(device, mask, batch, length);
        using var hiddenT = Tensor.Create<float>(device, batch, length, F);
        using var embeddingT = Tensor.Create<float>(device, batch, F);
        hiddenT.Fill(float.NaN);
        var (actual, error) = RunAndCompare(embeddingT, embedding, () => model.Forward(idsT, typesT, maskT, hiddenT, embeddingT));
        double hiddenError = Accuracy.RelativeError(hiddenT.ToArray(), hidden);
        log.WriteLine($"{device.Kind} B={batch} T={length} lengths={string.Join(",", lengths)}: hidden {hiddenError:E2}, embedding {error:E2}");
        Assert.True(hiddenError <= Tolerance, $"{device.Kind} seed {seed}: hidden error {hiddenError:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: embedding error {error:E2}");
        for (int b = 0; b < batch; b++)
            if (lengths[b] == 0)
                Assert.All(actual.Skip(b * F).Take(F), v => Assert.Equal(0f, v)); // no valid token: a zero embedding
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Graph_attention_with_mods_and_key_padding_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 50 : 24);
        const int F = ModdedAttention.Features, H = ModdedAttention.Heads, D = ModdedAttention.HeadDim;
        int[] lengths = Enumerable.Range(0, batch).Select(_ => random.Next(0, length + 1)).ToArray();
        var model = new ModdedAttention();
        model.ForwardWeights.InitializeRandom(seed);
        float[] Weight(string node, string name) => W(model.ForwardWeights, node, name);
        float[] x = RandomData.Uniform(random, batch * length * F);
        int rows = batch * length;
        var qkv = Floats(ReferenceOps.Linear(x, rows, F, Weight("attn.qkv", "weight"), Weight("attn.qkv", "bias"), 3 * H * D, Activation.None, null));
        var context = Floats(ReferenceModels.PackedAttention(qkv, batch, length, H, H, D, AttentionMask.None, lengths,
            (score, b, h, q, k) => ModdedAttention.Alibi((float)score, b, h, q, k), ModdedAttention.Near));
        var expected = ReferenceOps.Linear(context, rows, H * D, Weight("attn.out", "weight"), Weight("attn.out", "bias"), F, Activation.None, null);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var lt = Tensor.FromArray<int>(device, lengths, batch);
        using var yt = Tensor.Create<float>(device, batch, length, F);
        var (_, error) = RunAndCompare(yt, expected, () => model.Forward(xt, lt, yt));
        log.WriteLine($"{device.Kind} B={batch} T={length} lengths={string.Join(",", lengths)}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesSeedsAndModes))]
    public void Scaled_dot_product_attention_node_with_key_padding_matches_the_reference(string deviceName, int seed, bool asMask)
    {
        // KeyPadding on the [ScaledDotProductAttention] node, given as lengths [B] or as a 1/0 mask [B, T] (tokens first); rows
        // of length 0 and full rows included. Padded query rows attend to their row's valid keys (their outputs are defined).
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 90 : 30);
        const int F = PaddedSdpa.Features, H = PaddedSdpa.Heads, KvH = PaddedSdpa.KvHeads, D = PaddedSdpa.HeadDim;
        int[] lengths = Enumerable.Range(0, batch).Select(_ => random.Next(4) switch { 0 => 0, 1 => length, _ => random.Next(0, length + 1) }).ToArray();
        var model = new PaddedSdpa();
        model.ForwardWeights.InitializeRandom(seed);
        float[] x = RandomData.Uniform(random, batch * length * F);
        int rows = batch * length;
        var qkv = Floats(ReferenceOps.Linear(x, rows, F, W(model.ForwardWeights, "qkv", "weight"), W(model.ForwardWeights, "qkv", "bias"),
            PaddedSdpa.Packed, Activation.None, null));
        var expected = ReferenceModels.PackedAttention(qkv, batch, length, H, KvH, D, AttentionMask.CausalTopLeft, lengths);

        int[] padding = asMask
            ? [.. Enumerable.Range(0, batch * length).Select(i => i % length < lengths[i / length] ? 1 : 0)]
            : lengths;
        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var pt = asMask ? Tensor.FromArray<int>(device, padding, batch, length) : Tensor.FromArray<int>(device, padding, batch);
        using var yt = Tensor.Create<float>(device, batch, length, H * D);
        var (_, error) = RunAndCompare(yt, expected, () => model.Forward(xt, pt, yt));
        log.WriteLine($"{device.Kind} B={batch} T={length} lengths={string.Join(",", lengths)} as {(asMask ? "mask" : "lengths")}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(DevicesAndSeeds))]
    public void Graph_attention_with_built_in_alibi_and_soft_cap_matches_the_reference(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = random.Next(1, 4), length = random.Next(1, deviceName == "cpu" ? 50 : 24);
        const int F = BuiltInModAttention.Features, H = BuiltInModAttention.Heads, D = BuiltInModAttention.HeadDim;
        var model = new BuiltInModAttention();
        model.ForwardWeights.InitializeRandom(seed);
        float[] Weight(string node, string name) => W(model.ForwardWeights, node, name);
        float[] x = RandomData.Uniform(random, batch * length * F);
        int rows = batch * length;
        var qkv = Floats(ReferenceOps.Linear(x, rows, F, Weight("attn.qkv", "weight"), Weight("attn.qkv", "bias"), 3 * H * D, Activation.None, null));
        // ALiBi with Press's slopes for 3 heads, then the cap (the documented order), in fp64.
        double[] slopes = Mods.ModKernels.PressSlopes(H);
        const double cap = BuiltInModAttention.Cap;
        var context = Floats(ReferenceModels.PackedAttention(qkv, batch, length, H, H, D, AttentionMask.CausalTopLeft, null,
            (score, b, h, q, k) => cap * Math.Tanh((score + slopes[h] * (k - q)) / cap)));
        var expected = ReferenceOps.Linear(context, rows, H * D, Weight("attn.out", "weight"), Weight("attn.out", "bias"), F, Activation.None, null);

        using var xt = Tensor.FromArray<float>(device, x, batch, length, F);
        using var yt = Tensor.Create<float>(device, batch, length, F);
        var (_, error) = RunAndCompare(yt, expected, () => model.Forward(xt, yt));
        log.WriteLine($"{device.Kind} B={batch} T={length}: error {error:E2}");
        Assert.True(error <= Tolerance, $"{device.Kind} seed {seed}: error {error:E2}");
    }

    [Fact]
    public void Weights_report_their_layout_and_parameter_count()
    {
        var layout = TwoLayerEncoder.ForwardWeightLayout;
        var qkv = layout.Single(s => s.Node == "attn1.qkv" && s.Name == "weight");
        Assert.Equal([(TwoLayerEncoder.Heads + 2 * TwoLayerEncoder.KvHeads) * TwoLayerEncoder.HeadDim, TwoLayerEncoder.Features], qkv.Shape);
        // Per block: QKV (64 packed rows × 32 + bias), output projection (32 × 32 + bias), two LayerNorms (γ, β), FFN 32 → 64 → 32.
        long perBlock = (64 * 32 + 64) + (32 * 32 + 32) + 2 * (2 * 32) + (64 * 32 + 64) + (32 * 64 + 32);
        long expected = 2 * perBlock;
        Assert.Equal(expected, new TwoLayerEncoder().ForwardWeights.ParameterCount);
    }

    [Fact]
    public void Loading_weights_checks_names_and_lengths()
    {
        var weights = new TwoLayerEncoder().ForwardWeights;
        weights.Load("up1", "bias", new float[TwoLayerEncoder.Hidden]);
        var wrongLength = Assert.Throws<ArgumentException>(() => weights.Load("up1", "bias", new float[3]));
        Assert.Contains("[64]", wrongLength.Message);
        var unknown = Assert.Throws<ArgumentException>(() => weights.Load("up9", "bias", new float[3]));
        Assert.Contains("attn1.qkv.weight", unknown.Message);
    }

    [Fact]
    public void Forward_with_unloaded_weights_throws_naming_them()
    {
        using var x = Tensor.FromArray<float>(Device.Cpu, Enumerable.Repeat(0.5f, 5 * TwoLayerEncoder.Features).ToArray(), 1, 5, TwoLayerEncoder.Features);
        using var y = Tensor.Create<float>(Device.Cpu, 1, 5, TwoLayerEncoder.Features);
        var model = new TwoLayerEncoder();
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward(x, y));
        Assert.Contains("attn1.qkv.weight", error.Message);
        Assert.Contains("InitializeRandom", error.Message);

        // Loading all but one names only that one.
        foreach (var spec in TwoLayerEncoder.ForwardWeightLayout.Where(s => s.Node != "up2" || s.Name != "bias"))
            model.ForwardWeights.Load(spec.Node, spec.Name, new float[spec.Length]);
        Assert.Equal(["up2.bias"], model.ForwardWeights.Unloaded);
        error = Assert.Throws<InvalidOperationException>(() => model.Forward(x, y));
        Assert.Contains("1 of ", error.Message);
        Assert.Contains("up2.bias", error.Message);
        Assert.DoesNotContain("attn1.qkv.weight", error.Message);
    }

    [Fact]
    public void Weights_initialized_explicitly_count_as_loaded()
    {
        using var x = Tensor.FromArray<float>(Device.Cpu, Enumerable.Repeat(0.5f, 5 * TwoLayerEncoder.Features).ToArray(), 1, 5, TwoLayerEncoder.Features);
        using var y = Tensor.Create<float>(Device.Cpu, 1, 5, TwoLayerEncoder.Features);
        var zeros = new TwoLayerEncoder();
        zeros.ForwardWeights.InitializeZeros();
        Assert.Empty(zeros.ForwardWeights.Unloaded);
        zeros.Forward(x, y);
        var random = new TwoLayerEncoder();
        random.ForwardWeights.InitializeRandom(1);
        Assert.Empty(random.ForwardWeights.Unloaded);
        random.Forward(x, y);
        Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>One forward pass of <paramref name="model"/> on a fixed input (rows enough for the packed GEMM).</summary>
    private static float[] EncoderOutput(TwoLayerEncoder model)
    {
        var random = new Random(7);
        var input = Enumerable.Range(0, 2 * 13 * TwoLayerEncoder.Features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var x = Tensor.FromArray<float>(Device.Cpu, input, 2, 13, TwoLayerEncoder.Features);
        using var y = Tensor.Create<float>(Device.Cpu, 2, 13, TwoLayerEncoder.Features);
        model.Forward(x, y);
        return y.ToArray();
    }

    [Fact]
    public void Packed_weights_follow_reloaded_weights()
    {
        // The CPU GEMM reads packed copies the weights cache across forward passes: loading new values must replace them.
        var model = new TwoLayerEncoder();
        model.ForwardWeights.InitializeRandom(1);
        var first = EncoderOutput(model);
        Assert.True(model.ForwardWeights.PackedBytes > 0, "the forward pass should have packed its Linear weights");
        Assert.Equal(first, EncoderOutput(model)); // served from the cache: the same result

        var other = new TwoLayerEncoder();
        other.ForwardWeights.InitializeRandom(2);
        var expected = EncoderOutput(other);
        var source = new TwoLayerEncoder();
        source.ForwardWeights.InitializeRandom(2);
        foreach (var spec in TwoLayerEncoder.ForwardWeightLayout)
            model.ForwardWeights.Load(spec.Node, spec.Name, source.ForwardWeights[spec.Node, spec.Name]);
        var reloaded = EncoderOutput(model);
        Assert.NotEqual(first, reloaded);
        Assert.True(Accuracy.RelativeError(reloaded, expected.Select(v => (double)v).ToArray()) <= 1e-6);

        // InitializeRandom replaces them too.
        model.ForwardWeights.InitializeRandom(1);
        Assert.Equal(first, EncoderOutput(model));
    }

    [Fact]
    public void Weights_written_through_the_indexer_are_never_served_stale()
    {
        // The indexer's span may be written at any later time without a new version: such a weight is not served packed.
        var model = new TwoLayerEncoder();
        model.ForwardWeights.InitializeRandom(3);
        EncoderOutput(model);
        var span = model.ForwardWeights["up1", "weight"];
        EncoderOutput(model);
        for (int i = 0; i < span.Length; i++)
            span[i] *= -2;
        var written = EncoderOutput(model);

        var expected = new TwoLayerEncoder();
        expected.ForwardWeights.InitializeRandom(3);
        var weight = expected.ForwardWeights["up1", "weight"];
        for (int i = 0; i < weight.Length; i++)
            weight[i] *= -2;
        Assert.True(Accuracy.RelativeError(written, EncoderOutput(expected).Select(v => (double)v).ToArray()) <= 1e-6);
    }

    [Fact]
    public void Input_with_wrong_features_names_the_tensor()
    {
        using var x = Tensor.Create<float>(Device.Cpu, 1, 5, 31);
        using var y = Tensor.Create<float>(Device.Cpu, 1, 5, 32);
        var error = Assert.Throws<ArgumentException>(() => new TwoLayerEncoder().Forward(x, y));
        Assert.Equal("x", error.ParamName);
        Assert.Contains("[B, T, 32]", error.Message);
    }
}
