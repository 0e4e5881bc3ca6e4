using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ops;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>
/// Every graph op through <see cref="GraphOps"/> on the OpenCL device (the device-C kernels of DeviceOps) against its fp64
/// reference, on random odd sizes, with outputs poisoned (NaN) before each run. The same cases also run on the CPU
/// device, so both paths of GraphOps are held to one reference, and one case per op on CUDA (skipped without a GPU).
/// </summary>
public sealed class OpenClGraphOpsTests(ITestOutputHelper log)
{
    /// <summary>Cases per op and device (PoCL runs work-items on this machine's CPU: a few, each different every run).</summary>
    public static IEnumerable<object[]> Cases() =>
        OpsCheck.Seeds(5, salt: 31).SelectMany(s => new[] { new object[] { "opencl", s[0] }, new object[] { "cpu", s[0] } })
            .Append(["cuda", AttentionHarness.RunSeed + 31]);

    internal static Device GetDevice(string name) => name switch
    {
        "cpu" => Device.Cpu,
        "cuda" => Cuda.CudaTestDevice.RequireCompiler(),
        _ => OpenClTestDevice.GetOrSkip(),
    };

    /// <summary>One-op weights: each named array (null = absent) becomes a weight of a ModelWeights, bound to the device.</summary>
    private sealed class OpWeights : IDisposable
    {
        private readonly ModelWeights _host;
        private readonly GraphWeights _bound;
        private readonly Dictionary<string, int> _index = [];

        public OpWeights(Device device, params (string Name, float[]? Values)[] weights)
        {
            var present = weights.Where(w => w.Values is not null).ToArray();
            _host = new ModelWeights(present.Select(w => new WeightSpec("op", w.Name, [w.Values!.Length], w.Name)).ToArray());
            for (int i = 0; i < present.Length; i++)
            {
                _host.Load("op", present[i].Name, present[i].Values);
                _index[present[i].Name] = i;
            }
            _bound = _host.On(device);
        }

        public GraphWeight this[string name] => _index.TryGetValue(name, out int i) ? _bound[i] : GraphWeight.None;

        public void Dispose() => _host.Dispose();
    }

    private static Tensor<float> Input(Device device, float[] values) => Tensor.FromArray<float>(device, values, Math.Max(1, values.Length));

    private static Tensor<float> Poisoned(Device device, int count)
    {
        var tensor = Tensor.Create<float>(device, Math.Max(1, count));
        tensor.Fill(float.NaN);
        return tensor;
    }

    private void Check(Tensor<float> output, int count, double[] expected, string label)
    {
        var actual = output.ToArray().AsSpan(0, count);
        double error = Accuracy.RelativeError(actual, expected);
        log.WriteLine($"{label}: ‖out−ref‖/‖ref‖ = {error:E2}");
        OpsCheck.Close(actual, expected, label);
    }

    private static float[]? Maybe(Random random, int count, float amplitude = 1f) =>
        random.Next(3) == 0 ? null : RandomData.Uniform(random, count, amplitude);

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Linear_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int rows = OpsCheck.Size(random, 150), inFeatures = OpsCheck.Size(random, 140), outFeatures = OpsCheck.Size(random, 160);
        var activation = (Activation)random.Next(3);
        var x = RandomData.Uniform(random, rows * inFeatures);
        var weight = RandomData.Uniform(random, outFeatures * inFeatures, 1f / MathF.Sqrt(inFeatures));
        var bias = Maybe(random, outFeatures);
        var residual = Maybe(random, rows * outFeatures);
        using var w = new OpWeights(device, ("weight", weight), ("bias", bias));
        using var xt = Input(device, x);
        using var rt = residual is null ? null : Input(device, residual);
        using var yt = Poisoned(device, rows * outFeatures);
        GraphOps.Linear(xt, rows, inFeatures, w["weight"], w["bias"], outFeatures, yt, activation, rt);
        Check(yt, rows * outFeatures, ReferenceOps.Linear(x, rows, inFeatures, weight, bias, outFeatures, activation, residual),
            $"{deviceName} seed={seed} Linear {rows}x{inFeatures}->{outFeatures} {activation} bias={bias is not null} residual={residual is not null}");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Residual_add_and_activations_match_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int count = OpsCheck.Size(random, 5000);
        var a = RandomData.Uniform(random, count, 3f);
        var b = RandomData.Uniform(random, count, 3f);
        using var at = Input(device, a);
        using var bt = Input(device, b);
        using var yt = Poisoned(device, count);
        GraphOps.Add(at, bt, count, yt);
        Check(yt, count, ReferenceOps.Add(a, b), $"{deviceName} seed={seed} Add {count}");
        foreach (var activation in new[] { Activation.Gelu, Activation.Relu })
        {
            yt.Fill(float.NaN);
            GraphOps.Activate(at, count, activation, yt);
            Check(yt, count, ReferenceOps.Activate(a, activation), $"{deviceName} seed={seed} {activation} {count}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void LayerNorm_and_RmsNorm_match_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int rows = OpsCheck.Size(random, 40), features = OpsCheck.Size(random, 700);
        var x = RandomData.Uniform(random, rows * features, 2f);
        for (int i = 0; i < x.Length; i++)
            x[i] += 3f; // an offset mean, so a one-pass variance would lose digits
        var gamma = Maybe(random, features);
        var beta = Maybe(random, features);
        using var w = new OpWeights(device, ("gamma", gamma), ("beta", beta));
        using var xt = Input(device, x);
        using var yt = Poisoned(device, rows * features);
        GraphOps.LayerNorm(xt, rows, features, w["gamma"], w["beta"], 1e-5f, yt);
        Check(yt, rows * features, ReferenceOps.LayerNorm(x, rows, features, gamma, beta, 1e-5f), $"{deviceName} seed={seed} LayerNorm {rows}x{features}");
        yt.Fill(float.NaN);
        GraphOps.RmsNorm(xt, rows, features, w["gamma"], 1e-6f, yt);
        Check(yt, rows * features, ReferenceOps.RmsNorm(x, rows, features, gamma, 1e-6f), $"{deviceName} seed={seed} RmsNorm {rows}x{features}");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void AttentionPooling_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 6), features = OpsCheck.Size(random, 70), length = OpsCheck.Size(random, 200);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var level = PoolingLevel.Random(random, features);
        using var w = new OpWeights(device, ("u", level.U), ("w", level.W), ("b", level.B));
        using var xt = Input(device, x);
        using var yt = Poisoned(device, batch * features);
        GraphOps.AttentionPooling(xt, batch, length, features, w["u"], w["w"], w["b"], level.Hidden, yt);
        var (expected, _) = ReferenceOps.AttentionPooling(x, batch, length, features, level.U, level.W, level.B, level.Hidden);
        Check(yt, batch * features, expected, $"{deviceName} seed={seed} AttentionPooling B={batch} T={length} F={features} hidden={level.Hidden}");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void HierarchicalAttention_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 4), features = OpsCheck.Size(random, 50), length = OpsCheck.Size(random, 90), segments = random.Next(1, 7);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var offsets = new int[batch * (segments + 1)];
        for (int r = 0; r < batch; r++)
        {
            // Sorted random cuts: some segments (and sometimes whole rows) are empty.
            var cuts = Enumerable.Range(0, segments + 1).Select(_ => random.Next(length + 1)).Order().ToArray();
            cuts.CopyTo(offsets, r * (segments + 1));
        }
        var words = PoolingLevel.Random(random, features);
        var sentences = PoolingLevel.Random(random, features);
        using var w = new OpWeights(device, ("u1", words.U), ("w1", words.W), ("b1", words.B), ("u2", sentences.U), ("w2", sentences.W), ("b2", sentences.B));
        using var xt = Input(device, x);
        using var ot = Tensor.FromArray<int>(device, offsets, batch, segments + 1);
        using var yt = Poisoned(device, batch * features);
        GraphOps.HierarchicalAttention(xt, batch, length, features, ot, segments, w["u1"], w["w1"], w["b1"], words.Hidden,
            w["u2"], w["w2"], w["b2"], sentences.Hidden, yt);
        var (expected, _) = ReferenceOps.HierarchicalAttention(x, batch, length, features, offsets, segments,
            words.U, words.W, words.B, words.Hidden, sentences.U, sentences.W, sentences.B, sentences.Hidden);
        Check(yt, batch * features, expected, $"{deviceName} seed={seed} Hierarchical B={batch} T={length} F={features} S={segments}");
    }

    [SkippableFact]
    public void HierarchicalAttention_with_an_empty_segment_is_right_on_every_run()
    {
        // Regression: the segment kernel once held its score reduction's barriers under "segment not empty", read from
        // memory; PoCL then returned a wrong row now and then (about one launch in a few hundred, with these inputs).
        var device = OpenClTestDevice.GetOrSkip();
        const int batch = 2, length = 11, features = 24, segments = 3, hidden = 16;
        int[] offsets = [0, 3, 7, 11, 0, 5, 5, 11];
        using var weights = new ModelWeights([new("op", "u1", [hidden], ""), new("op", "u2", [features], ""),
            new("op", "w1", [hidden * features], ""), new("op", "b1", [hidden], "")]);
        weights.InitializeRandom(3);
        var bound = weights.On(device);
        var x = RandomData.Uniform(new Random(5), batch * length * features);
        using var xt = Tensor.FromArray<float>(device, x, batch, length, features);
        using var ot = Tensor.FromArray<int>(device, offsets, batch, segments + 1);
        using var yt = Poisoned(device, batch * features);
        var (expected, _) = ReferenceOps.HierarchicalAttention(x, batch, length, features, offsets, segments, weights["op", "u1"].ToArray(),
            weights["op", "w1"].ToArray(), weights["op", "b1"].ToArray(), hidden, weights["op", "u2"].ToArray(), null, null, 0);
        for (int run = 0; run < 600; run++)
        {
            yt.Fill(float.NaN);
            GraphOps.HierarchicalAttention(xt, batch, length, features, ot, segments, bound[0], bound[2], bound[3], hidden, bound[1], default, default, 0, yt);
            OpsCheck.Close(yt.ToArray(), expected, $"run {run}");
        }
    }

    [SkippableFact]
    public void HierarchicalAttention_rejects_decreasing_offsets_on_the_device()
    {
        var device = OpenClTestDevice.GetOrSkip();
        var u = new float[4];
        using var w = new OpWeights(device, ("u", u));
        using var xt = Input(device, new float[2 * 4]);
        using var ot = Tensor.FromArray<int>(device, [0, 2, 1], 1, 3);
        using var yt = Poisoned(device, 4);
        var error = Assert.Throws<ArgumentException>(() => GraphOps.HierarchicalAttention(xt, 1, 2, 4, ot, 2, w["u"], default, default, 0, w["u"], default, default, 0, yt));
        Assert.Contains("decrease", error.Message);
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void SqueezeExcitation_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 5), length = OpsCheck.Size(random, 60), channels = OpsCheck.Size(random, 300), reduced = OpsCheck.Size(random, 40);
        var x = RandomData.Uniform(random, batch * length * channels, 2f);
        var w1 = RandomData.Uniform(random, reduced * channels, 2f / MathF.Sqrt(channels));
        var w2 = RandomData.Uniform(random, channels * reduced, 2f / MathF.Sqrt(reduced));
        var b1 = Maybe(random, reduced, 0.5f);
        var b2 = Maybe(random, channels, 0.5f);
        using var w = new OpWeights(device, ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2));
        using var xt = Input(device, x);
        using var yt = Poisoned(device, batch * length * channels);
        GraphOps.SqueezeExcitation(xt, batch, length, channels, w["w1"], w["b1"], reduced, w["w2"], w["b2"], yt);
        Check(yt, batch * length * channels, ReferenceOps.SqueezeExcitation(x, batch, length, channels, w1, b1, reduced, w2, b2),
            $"{deviceName} seed={seed} SqueezeExcitation B={batch} T={length} C={channels} R={reduced}");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void PositionalWeighting_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 5), length = OpsCheck.Size(random, 70), features = OpsCheck.Size(random, 90);
        int maxLength = length + random.Next(0, 9);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var p = RandomData.Uniform(random, maxLength * features, 0.5f);
        using var w = new OpWeights(device, ("p", p));
        using var xt = Input(device, x);
        using var yt = Poisoned(device, batch * length * features);
        GraphOps.PositionalWeighting(xt, batch, length, features, w["p"], maxLength, yt);
        Check(yt, batch * length * features, ReferenceOps.PositionalWeighting(x, batch, length, features, p),
            $"{deviceName} seed={seed} PositionalWeighting B={batch} T={length} F={features}");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void LayerwiseMix_matches_fp64(string deviceName, int seed)
    {
        var device = GetDevice(deviceName);
        var random = new Random(seed);
        int layerCount = random.Next(1, 10), count = OpsCheck.Size(random, 3000); // up to 9 layers: three launches on a device
        var layers = Enumerable.Range(0, layerCount).Select(_ => RandomData.Uniform(random, count, 2f)).ToArray();
        var logits = RandomData.Uniform(random, layerCount, 3f);
        float gamma = 0.5f + (float)random.NextDouble();
        using var w = new OpWeights(device, ("logits", logits), ("gamma", [gamma]));
        var tensors = layers.Select(l => Input(device, l)).ToArray();
        try
        {
            using var yt = Poisoned(device, count);
            GraphOps.LayerwiseMix(tensors, count, w["logits"], w["gamma"], yt);
            Check(yt, count, ReferenceOps.LayerwiseMix(layers, logits, gamma), $"{deviceName} seed={seed} LayerwiseMix L={layerCount} N={count}");
        }
        finally
        {
            foreach (var t in tensors)
                t.Dispose();
        }
    }

    [SkippableFact]
    public void Device_weights_are_copied_once_and_refreshed_after_a_change()
    {
        var device = OpenClTestDevice.GetOrSkip();
        using var weights = new ModelWeights([new WeightSpec("n", "w", [3], "w")]);
        weights.Load("n", "w", [1f, 2f, 3f]);
        var first = weights.On(device);
        Assert.Same(first, weights.On(device));
        weights.Load("n", "w", [4f, 5f, 6f]);
        var second = weights.On(device);
        Assert.NotSame(first, second);
        Assert.Equal([4f, 5f, 6f], second.Tensors![0].ToArray());
        Assert.Same(weights.On(Device.Cpu), weights.On(Device.Cpu));
    }
}
