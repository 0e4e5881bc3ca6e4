using Attention.Kernels.Ilgpu;
using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// Every graph op through <see cref="GraphOps"/> on ILGPU's CPU accelerator (the ILGPU op kernels, run by ILGPU's
/// emulation of groups, barriers and warps) against its fp64 reference: fresh random inputs and sizes each run
/// (AK_TEST_SEED replays a run), odd sizes included, outputs poisoned with NaN before each launch, and
/// ‖out − ref‖/‖ref‖ ≤ 1e-5. Sizes stay small: the CPU accelerator is some 700× slower than the CPU backend.
/// </summary>
public sealed class IlgpuGraphOpsTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;

    /// <summary>One CPU accelerator for the whole class (creating one, and compiling its kernels, is the slow part).</summary>
    private static readonly Lazy<IlgpuDevice> s_device = new(() => IlgpuDevice.Create(DeviceKind.IlgpuCpu));

    private static IlgpuDevice Device => s_device.Value;

    /// <summary>The seed of this run: fresh each run, or AK_TEST_SEED to replay a failure (the convention of the other tests).</summary>
    private static int RunSeed { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("AK_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();

    /// <summary>Seeds of one test's cases, different every run, printed on failure.</summary>
    public static IEnumerable<object[]> Seeds(int count, int salt) =>
        Enumerable.Range(0, count).Select(i => new object[] { RunSeed + 7919 * salt + i });

    public static IEnumerable<object[]> LinearCases() =>
        from activation in new[] { Activation.None, Activation.Relu, Activation.Gelu }
        from bias in new[] { false, true }
        from residual in new[] { false, true }
        select new object[] { activation, bias, residual, RunSeed + 7919 * 1 + (int)activation * 4 + (bias ? 2 : 0) + (residual ? 1 : 0) };

    public static IEnumerable<object[]> PoolingCases() =>
        new[] { "hidden0", "hidden", "hidden+bias", "length0" }.Select((kind, i) => new object[] { kind, RunSeed + 7919 * 4 + i });

    public static IEnumerable<object[]> MixCases() =>
        new[] { (1, false), (1, true), (3, false), (4, true), (6, false), (9, true) }
            .Select((c, i) => new object[] { c.Item1, c.Item2, RunSeed + 7919 * 8 + i });

    public static IEnumerable<object[]> Few() => Seeds(2, salt: 9);

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_matches_fp64(Activation activation, bool hasBias, bool hasResidual, int seed)
    {
        var random = new Random(seed);
        // Up to 150 rows and outputs: several 64×64 tiles of y, and K past several 16-column steps.
        int rows = Size(random, 150), inFeatures = Size(random, 80), outFeatures = Size(random, 150);
        var x = RandomData.Uniform(random, rows * inFeatures);
        var weight = RandomData.Uniform(random, outFeatures * inFeatures, 1f / MathF.Sqrt(inFeatures));
        var bias = hasBias ? RandomData.Uniform(random, outFeatures) : null;
        var residual = hasResidual ? RandomData.Uniform(random, rows * outFeatures) : null;
        using var w = new OpWeights(("weight", weight), ("bias", bias));
        using var xt = Input(x);
        using var rt = residual is null ? null : Input(residual);
        using var yt = Poisoned(rows * outFeatures);
        GraphOps.Linear(xt, rows, inFeatures, w["weight"], w["bias"], outFeatures, yt, activation, rt);
        Check(yt, rows * outFeatures, ReferenceOps.Linear(x, rows, inFeatures, weight, bias, outFeatures, activation, residual),
            $"seed={seed} Linear {rows}x{inFeatures}->{outFeatures} {activation} bias={hasBias} residual={hasResidual}");
    }

    [Theory]
    [MemberData(nameof(Few))]
    public void Linear_with_the_residual_in_y_matches_fp64(int seed)
    {
        // y = act(x·Wᵀ + b) + y: each output is read, then written, by the same thread.
        var random = new Random(seed);
        int rows = Size(random, 70), inFeatures = Size(random, 30), outFeatures = Size(random, 90);
        var x = RandomData.Uniform(random, rows * inFeatures);
        var weight = RandomData.Uniform(random, outFeatures * inFeatures, 1f / MathF.Sqrt(inFeatures));
        var bias = RandomData.Uniform(random, outFeatures);
        var residual = RandomData.Uniform(random, rows * outFeatures);
        using var w = new OpWeights(("weight", weight), ("bias", bias));
        using var xt = Input(x);
        using var yt = Input(residual);
        GraphOps.Linear(xt, rows, inFeatures, w["weight"], w["bias"], outFeatures, yt, Activation.Gelu, yt);
        Check(yt, rows * outFeatures, ReferenceOps.Linear(x, rows, inFeatures, weight, bias, outFeatures, Activation.Gelu, residual),
            $"seed={seed} Linear residual=y {rows}x{inFeatures}->{outFeatures}");
    }

    [Theory]
    [MemberData(nameof(Seeds), 3, 2)]
    public void Add_and_activations_match_fp64(int seed)
    {
        var random = new Random(seed);
        int count = Size(random, 3000);
        var a = RandomData.Uniform(random, count, 3f);
        var b = RandomData.Uniform(random, count, 3f);
        using var at = Input(a);
        using var bt = Input(b);
        using var yt = Poisoned(count);
        GraphOps.Add(at, bt, count, yt);
        Check(yt, count, ReferenceOps.Add(a, b), $"seed={seed} Add {count}");
        foreach (var activation in new[] { Activation.Gelu, Activation.Relu, Activation.None })
        {
            yt.Fill(float.NaN);
            GraphOps.Activate(at, count, activation, yt);
            Check(yt, count, ReferenceOps.Activate(a, activation), $"seed={seed} {activation} {count}");
        }
        // The kernel's fused form, activation(a + b), as IGraphOpKernels.Map defines it.
        yt.Fill(float.NaN);
        Device.GraphOpKernels.Map(at, bt, count, Activation.Gelu, yt);
        var sum = a.Select((v, i) => v + b[i]).ToArray();
        Check(yt, count, ReferenceOps.Activate(sum, Activation.Gelu), $"seed={seed} Gelu(a + b) {count}");
        // In place: y = GELU(y).
        using var inPlace = Input(a);
        GraphOps.Activate(inPlace, count, Activation.Gelu, inPlace);
        Check(inPlace, count, ReferenceOps.Activate(a, Activation.Gelu), $"seed={seed} Gelu in place {count}");
    }

    [Fact]
    public void Gelu_is_exact_across_its_range()
    {
        // erfc's fit on a dense grid over [−10, 10]: the tails, the knee and the side where 1 + erf cancels.
        const int count = 4001;
        var x = Enumerable.Range(0, count).Select(i => -10f + 20f * i / (count - 1)).ToArray();
        using var xt = Input(x);
        using var yt = Poisoned(count);
        GraphOps.Activate(xt, count, Activation.Gelu, yt);
        var actual = yt.ToArray().AsSpan(0, count);
        var expected = ReferenceOps.Activate(x, Activation.Gelu);
        // Elementwise only down to x = −5: below, the reference's 1 + erf(x/√2) in double cancels to fewer digits than fp32 has.
        double worst = 0;
        for (int i = 0; i < count; i++)
            if (x[i] >= -5f && expected[i] != 0)
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Abs(expected[i]));
        log.WriteLine($"GELU: largest elementwise relative error {worst:E2}");
        Check(yt, count, expected, "Gelu grid");
        Assert.True(worst < 2e-5, $"GELU elementwise relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(Seeds), 3, 3)]
    public void LayerNorm_and_RmsNorm_match_fp64(int seed)
    {
        var random = new Random(seed);
        int rows = Size(random, 12), features = Size(random, 300);
        var x = RandomData.Uniform(random, rows * features, 2f);
        for (int i = 0; i < x.Length; i++)
            x[i] += 3f; // an offset mean, so a one-pass variance would lose digits
        var gamma = random.Next(3) == 0 ? null : RandomData.Uniform(random, features);
        var beta = random.Next(3) == 0 ? null : RandomData.Uniform(random, features);
        using var w = new OpWeights(("gamma", gamma), ("beta", beta));
        using var xt = Input(x);
        using var yt = Poisoned(rows * features);
        GraphOps.LayerNorm(xt, rows, features, w["gamma"], w["beta"], 1e-5f, yt);
        Check(yt, rows * features, ReferenceOps.LayerNorm(x, rows, features, gamma, beta, 1e-5f),
            $"seed={seed} LayerNorm {rows}x{features} gamma={gamma is not null} beta={beta is not null}");
        yt.Fill(float.NaN);
        GraphOps.RmsNorm(xt, rows, features, w["gamma"], 1e-6f, yt);
        Check(yt, rows * features, ReferenceOps.RmsNorm(x, rows, features, gamma, 1e-6f), $"seed={seed} RmsNorm {rows}x{features} gamma={gamma is not null}");
    }

    [Theory]
    [MemberData(nameof(PoolingCases))]
    public void AttentionPooling_matches_fp64(string kind, int seed)
    {
        var random = new Random(seed);
        int batch = Size(random, 4), features = Size(random, 100), length = kind == "length0" ? 0 : Size(random, 40);
        int hidden = kind is "hidden" or "hidden+bias" ? Size(random, 40) : kind == "length0" ? random.Next(2) * Size(random, 40) : 0;
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var level = Level.Random(random, features, hidden, hasBias: kind == "hidden+bias" || (kind == "length0" && hidden > 0));
        using var w = new OpWeights(("u", level.U), ("w", level.W), ("b", level.B));
        using var xt = Input(x);
        using var yt = Poisoned(batch * features);
        GraphOps.AttentionPooling(xt, batch, length, features, w["u"], w["w"], w["b"], level.Hidden, yt);
        var (expected, _) = ReferenceOps.AttentionPooling(x, batch, length, features, level.U, level.W, level.B, level.Hidden);
        Check(yt, batch * features, expected, $"seed={seed} AttentionPooling {kind} B={batch} T={length} F={features} hidden={level.Hidden}");
        if (length == 0)
            Assert.All(yt.ToArray().Take(batch * features), v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Seeds), 4, 5)]
    public void HierarchicalAttention_with_empty_segments_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = Size(random, 3), features = Size(random, 24), length = Size(random, 30), segments = random.Next(1, 6);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var offsets = new int[batch * (segments + 1)];
        for (int r = 0; r < batch; r++)
        {
            // Sorted random cuts: some segments (and sometimes whole rows) are empty.
            var cuts = Enumerable.Range(0, segments + 1).Select(_ => random.Next(length + 1)).Order().ToArray();
            cuts.CopyTo(offsets, r * (segments + 1));
        }
        if (segments > 1)
            offsets[1] = offsets[0]; // row 0 always has an empty first segment
        if (batch > 1)
            Array.Fill(offsets, random.Next(length + 1), segments + 1, segments + 1); // row 1 has no token at all
        int hidden1 = random.Next(2) * Size(random, 16), hidden2 = random.Next(2) * Size(random, 16);
        var words = Level.Random(random, features, hidden1, hasBias: random.Next(2) == 0);
        var sentences = Level.Random(random, features, hidden2, hasBias: random.Next(2) == 0);
        using var w = new OpWeights(("u1", words.U), ("w1", words.W), ("b1", words.B), ("u2", sentences.U), ("w2", sentences.W), ("b2", sentences.B));
        using var xt = Input(x);
        using var ot = Tensor.FromArray<int>(Device, offsets, batch, segments + 1);
        using var yt = Poisoned(batch * features);
        GraphOps.HierarchicalAttention(xt, batch, length, features, ot, segments, w["u1"], w["w1"], w["b1"], words.Hidden,
            w["u2"], w["w2"], w["b2"], sentences.Hidden, yt);
        var (expected, _) = ReferenceOps.HierarchicalAttention(x, batch, length, features, offsets, segments,
            words.U, words.W, words.B, words.Hidden, sentences.U, sentences.W, sentences.B, sentences.Hidden);
        Check(yt, batch * features, expected,
            $"seed={seed} Hierarchical B={batch} T={length} F={features} S={segments} hidden={hidden1}/{hidden2} offsets=[{string.Join(",", offsets)}]");
    }

    [Fact]
    public void HierarchicalAttention_with_an_empty_segment_is_right_on_every_run()
    {
        // The device-C kernel once held its score reduction's barriers under "segment not empty" (read from memory) and
        // PoCL returned a wrong row about once in a few hundred launches; the ILGPU kernel scores every segment.
        const int batch = 2, length = 11, features = 24, segments = 3, hidden = 16;
        int[] offsets = [0, 3, 7, 11, 0, 5, 5, 11];
        var random = new Random(RunSeed);
        var words = Level.Random(random, features, hidden, hasBias: true);
        var sentences = Level.Random(random, features, 0, hasBias: false);
        var x = RandomData.Uniform(random, batch * length * features);
        using var w = new OpWeights(("u1", words.U), ("w1", words.W), ("b1", words.B), ("u2", sentences.U));
        using var xt = Input(x);
        using var ot = Tensor.FromArray<int>(Device, offsets, batch, segments + 1);
        using var yt = Poisoned(batch * features);
        var (expected, _) = ReferenceOps.HierarchicalAttention(x, batch, length, features, offsets, segments,
            words.U, words.W, words.B, hidden, sentences.U, null, null, 0);
        for (int run = 0; run < 20; run++)
        {
            yt.Fill(float.NaN);
            GraphOps.HierarchicalAttention(xt, batch, length, features, ot, segments, w["u1"], w["w1"], w["b1"], hidden, w["u2"], default, default, 0, yt);
            Check(yt, batch * features, expected, $"seed={RunSeed} run {run}");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds), 3, 6)]
    public void SqueezeExcitation_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = Size(random, 3), length = Size(random, 16), channels = Size(random, 60), reduced = Size(random, 12);
        var x = RandomData.Uniform(random, batch * length * channels, 2f);
        var w1 = RandomData.Uniform(random, reduced * channels, 2f / MathF.Sqrt(channels));
        var w2 = RandomData.Uniform(random, channels * reduced, 2f / MathF.Sqrt(reduced));
        var b1 = random.Next(3) == 0 ? null : RandomData.Uniform(random, reduced, 0.5f);
        var b2 = random.Next(3) == 0 ? null : RandomData.Uniform(random, channels, 0.5f);
        using var w = new OpWeights(("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2));
        using var xt = Input(x);
        using var yt = Poisoned(batch * length * channels);
        GraphOps.SqueezeExcitation(xt, batch, length, channels, w["w1"], w["b1"], reduced, w["w2"], w["b2"], yt);
        Check(yt, batch * length * channels, ReferenceOps.SqueezeExcitation(x, batch, length, channels, w1, b1, reduced, w2, b2),
            $"seed={seed} SqueezeExcitation B={batch} T={length} C={channels} R={reduced} b1={b1 is not null} b2={b2 is not null}");
    }

    [Theory]
    [MemberData(nameof(Seeds), 3, 7)]
    public void PositionalWeighting_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = Size(random, 4), length = Size(random, 30), features = Size(random, 40);
        int maxLength = length + random.Next(0, 9);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var p = RandomData.Uniform(random, maxLength * features, 0.5f);
        using var w = new OpWeights(("p", p));
        using var xt = Input(x);
        using var yt = Poisoned(batch * length * features);
        GraphOps.PositionalWeighting(xt, batch, length, features, w["p"], maxLength, yt);
        Check(yt, batch * length * features, ReferenceOps.PositionalWeighting(x, batch, length, features, p),
            $"seed={seed} PositionalWeighting B={batch} T={length}/{maxLength} F={features}");
    }

    [Theory]
    [MemberData(nameof(MixCases))]
    public void LayerwiseMix_matches_fp64(int layerCount, bool yIsALayer, int seed)
    {
        var random = new Random(seed);
        int count = Size(random, 2000);
        var layers = Enumerable.Range(0, layerCount).Select(_ => RandomData.Uniform(random, count, 2f)).ToArray();
        var logits = RandomData.Uniform(random, layerCount, 3f);
        float gamma = 0.5f + (float)random.NextDouble();
        // y is one of the layers (the last: with several launches it is not among the first four read).
        int aliased = yIsALayer ? layerCount - 1 : -1;
        using var w = new OpWeights(("logits", logits), ("gamma", [gamma]));
        var tensors = layers.Select(Input).ToArray();
        try
        {
            using var separate = Poisoned(count);
            var yt = yIsALayer ? tensors[aliased] : separate;
            GraphOps.LayerwiseMix(tensors, count, w["logits"], w["gamma"], yt);
            Check(yt, count, ReferenceOps.LayerwiseMix(layers, logits, gamma),
                $"seed={seed} LayerwiseMix L={layerCount} N={count} y={(yIsALayer ? $"layer {aliased}" : "separate")}");
        }
        finally
        {
            foreach (var t in tensors)
                t.Dispose();
        }
    }

    [Fact]
    public void LayerwiseMix_with_y_twice_among_many_layers_matches_fp64()
    {
        // y is layers 2 and 6 of 7 (two launches): both terms must be read before the first launch overwrites y.
        var random = new Random(RunSeed + 7919 * 10);
        int count = Size(random, 1500);
        var y = RandomData.Uniform(random, count, 2f);
        var layers = Enumerable.Range(0, 7).Select(l => l is 2 or 6 ? y : RandomData.Uniform(random, count, 2f)).ToArray();
        var logits = RandomData.Uniform(random, layers.Length, 3f);
        using var w = new OpWeights(("logits", logits), ("gamma", [1.25f]));
        using var yt = Input(y);
        var others = layers.Select((l, i) => i is 2 or 6 ? null : Input(l)).ToArray();
        try
        {
            var tensors = others.Select(t => t ?? yt).ToArray();
            GraphOps.LayerwiseMix(tensors, count, w["logits"], w["gamma"], yt);
            Check(yt, count, ReferenceOps.LayerwiseMix(layers, logits, 1.25), $"seed={RunSeed} LayerwiseMix y twice N={count}");
        }
        finally
        {
            foreach (var t in others)
                t?.Dispose();
        }
    }

    [Fact]
    public void Empty_sizes_launch_nothing_and_write_nothing()
    {
        using var xt = Input([1f, 2f, 3f, 4f]);
        using var yt = Poisoned(4);
        using var w = new OpWeights(("weight", [1f, 2f]), ("g", [1f, 1f]));
        GraphOps.Linear(xt, 0, 2, w["weight"], default, 1, yt);
        GraphOps.Add(xt, xt, 0, yt);
        GraphOps.LayerNorm(xt, 0, 2, w["g"], default, 1e-5f, yt);
        GraphOps.PositionalWeighting(xt, 0, 1, 2, w["g"], 1, yt);
        Assert.All(yt.ToArray(), v => Assert.True(float.IsNaN(v)));
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    /// <summary>A size in [1, max]: often a small or awkward one (1, primes, around warp and group sizes).</summary>
    private static int Size(Random random, int max)
    {
        int[] awkward = [1, 2, 3, 7, 13, 15, 16, 17, 31, 33, 47, 48, 49, 63, 65, 97, 127, 129, 251, 257];
        if (random.Next(3) == 0)
        {
            var fits = awkward.Where(v => v <= max).ToArray();
            return fits[random.Next(fits.Length)];
        }
        return random.Next(1, max + 1);
    }

    private static Tensor<float> Input(float[] values) =>
        values.Length == 0 ? Tensor.FromArray<float>(Device, [0f], 1) : Tensor.FromArray<float>(Device, values, values.Length);

    private static Tensor<float> Poisoned(int count)
    {
        var tensor = Tensor.Create<float>(Device, Math.Max(1, count));
        tensor.Fill(float.NaN);
        return tensor;
    }

    private void Check(Tensor<float> output, int count, double[] expected, string label)
    {
        var actual = output.ToArray().AsSpan(0, count);
        for (int i = 0; i < actual.Length; i++)
            Assert.False(float.IsNaN(actual[i]), $"{label}: NaN at {i} (not written?)");
        double error = Accuracy.RelativeError(actual, expected);
        log.WriteLine($"{label}: ‖out−ref‖/‖ref‖ = {error:E2}");
        Assert.True(error <= Tolerance, $"{label}: relative error {error:E2} > {Tolerance:E0}");
    }

    /// <summary>One pooling level's parameters: u, and W, b when hidden &gt; 0.</summary>
    private sealed record Level(float[] U, float[]? W, float[]? B, int Hidden)
    {
        public static Level Random(Random random, int features, int hidden, bool hasBias)
        {
            int width = hidden == 0 ? features : hidden;
            return new Level(
                RandomData.Uniform(random, width, 2f / MathF.Sqrt(width)),
                hidden == 0 ? null : RandomData.Uniform(random, hidden * features, 2f / MathF.Sqrt(features)),
                hidden == 0 || !hasBias ? null : RandomData.Uniform(random, hidden),
                hidden);
        }
    }

    /// <summary>One op's weights: each named array (null = absent) becomes a weight of a ModelWeights, bound to the device.</summary>
    private sealed class OpWeights : IDisposable
    {
        private readonly ModelWeights _host;
        private readonly GraphWeights _bound;
        private readonly Dictionary<string, int> _index = [];

        public OpWeights(params (string Name, float[]? Values)[] weights)
        {
            var present = weights.Where(w => w.Values is not null).ToArray();
            _host = new ModelWeights(present.Select(w => new WeightSpec("op", w.Name, [w.Values!.Length], w.Name)).ToArray());
            for (int i = 0; i < present.Length; i++)
            {
                _host.Load("op", present[i].Name, present[i].Values);
                _index[present[i].Name] = i;
            }
            _bound = _host.On(Device);
        }

        public GraphWeight this[string name] => _index.TryGetValue(name, out int i) ? _bound[i] : GraphWeight.None;

        public void Dispose() => _host.Dispose();
    }
}
