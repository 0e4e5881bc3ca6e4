using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>
/// The encoder ops (Embedding with its LayerNorm, key padding as lengths, MeanPooling, L2Normalize) through
/// <see cref="GraphOps"/> on the CPU backend and on ILGPU's CPU accelerator, against their fp64 references: fresh random
/// inputs and odd sizes each run, outputs poisoned with NaN, ‖out − ref‖/‖ref‖ ≤ 1e-5.
/// </summary>
public sealed class EncoderOpTests
{
    public static IEnumerable<object[]> Cases() =>
        from device in new[] { "cpu", "ilgpu-cpu" }
        from seed in OpsCheck.Seeds(4, salt: 41)
        select new object[] { device, seed[0] };

    private static Device On(string device) => device == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Embedding_matches_fp64(string device, int seed)
    {
        var random = new Random(seed);
        var d = On(device);
        int batch = OpsCheck.Size(random, 5), length = OpsCheck.Size(random, device == "cpu" ? 40 : 17), features = OpsCheck.Size(random, 97);
        int vocabulary = OpsCheck.Size(random, 50), maxPositions = length + random.Next(5), typeCount = random.Next(4);
        bool positions = random.Next(4) != 0, norm = random.Next(4) != 0, typeIdsGiven = typeCount > 0 && random.Next(3) != 0;
        var ids = Enumerable.Range(0, batch * length).Select(_ => random.Next(vocabulary)).ToArray();
        var typeIds = typeIdsGiven ? Enumerable.Range(0, batch * length).Select(_ => random.Next(typeCount)).ToArray() : null;
        var tokens = RandomData.Uniform(random, vocabulary * features);
        var position = positions ? RandomData.Uniform(random, maxPositions * features) : null;
        var types = typeCount > 0 ? RandomData.Uniform(random, typeCount * features) : null;
        var gamma = norm ? RandomData.Uniform(random, features) : null;
        var beta = norm ? RandomData.Uniform(random, features) : null;
        double epsilon = norm ? 1e-12 : 0;
        using var w = new OpWeights(d, ("tokens", tokens), ("positions", position), ("types", types), ("gamma", gamma), ("beta", beta));
        using var idsT = Tensor.FromArray<int>(d, ids, batch, length);
        using var typesT = typeIds is null ? null : Tensor.FromArray<int>(d, typeIds, batch, length);
        using var y = Poisoned(d, batch * length * features);
        GraphOps.Embedding(idsT, typesT, batch, length, features, w["tokens"], vocabulary, w["positions"], maxPositions, w["types"], typeCount,
            w["gamma"], w["beta"], (float)epsilon, y);
        OpsCheck.Close(y.ToArray(), ReferenceOps.Embedding(ids, typeIds, batch, length, features, tokens, position, types, gamma, beta, epsilon),
            $"{device} seed={seed} B={batch} T={length} F={features} V={vocabulary} positions={positions} types={typeCount}/{typeIdsGiven} norm={norm}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MeanPooling_over_valid_tokens_matches_fp64(string device, int seed)
    {
        var random = new Random(seed);
        var d = On(device);
        int batch = OpsCheck.Size(random, 7), length = OpsCheck.Size(random, 60), features = OpsCheck.Size(random, 130);
        // Lengths from 0 (a row of padding only) to the full length; every third case without padding.
        int[]? lengths = random.Next(3) == 0 ? null : Enumerable.Range(0, batch).Select(b => b == 0 ? 0 : random.Next(length + 1)).ToArray();
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        using var xt = Tensor.FromArray<float>(d, x, batch, length, features);
        using var mask = lengths is null ? null : Tensor.FromArray<int>(d, Mask(lengths, length), batch, length);
        using var lengthsT = mask is null ? null : GraphOps.PaddingLengths(mask, "mask", batch, length);
        using var y = Poisoned(d, batch * features);
        GraphOps.MeanPooling(xt, batch, length, features, lengthsT, y);
        var expected = ReferenceOps.MeanPooling(x, batch, length, features, lengths);
        var actual = y.ToArray();
        string label = $"{device} seed={seed} B={batch} T={length} F={features} lengths={(lengths is null ? "none" : string.Join(",", lengths))}";
        if (expected.All(v => v == 0)) // every row empty: exact zeros (a relative error has no norm to divide by)
            Assert.All(actual, v => Assert.Equal(0f, v));
        else
            OpsCheck.Close(actual, expected, label);
        // An empty row is exactly zero, never NaN.
        for (int b = 0; b < batch; b++)
            if (lengths?[b] == 0)
                Assert.All(actual.Skip(b * features).Take(features), v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void L2Normalize_matches_fp64(string device, int seed)
    {
        var random = new Random(seed);
        var d = On(device);
        int rows = OpsCheck.Size(random, 40), features = OpsCheck.Size(random, 400);
        var x = RandomData.Uniform(random, rows * features, 5f);
        if (rows > 1)
            Array.Clear(x, 0, features); // a zero row stays zero (divided by ε, not by 0)
        using var xt = Tensor.FromArray<float>(d, x, rows, features);
        using var y = Poisoned(d, rows * features);
        GraphOps.L2Normalize(xt, rows, features, 1e-12f, y);
        OpsCheck.Close(y.ToArray(), ReferenceOps.L2Normalize(x, rows, features, 1e-12), $"{device} seed={seed} rows={rows} F={features}");
        if (rows > 1)
            Assert.All(y.ToArray().Take(features), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void PaddingLengths_reads_masks_and_lengths_and_rejects_bad_ones()
    {
        using var mask = Tensor.FromArray<int>(Device.Cpu, [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0], 3, 4);
        using var fromMask = GraphOps.PaddingLengths(mask, "attentionMask", 3, 4);
        Assert.Equal([2, 4, 0], fromMask.ToArray());
        using var lengths = Tensor.FromArray<int>(Device.Cpu, [3, 0], 2);
        using var fromLengths = GraphOps.PaddingLengths(lengths, "lengths", 2, 5);
        Assert.Equal([3, 0], fromLengths.ToArray());

        using var holes = Tensor.FromArray<int>(Device.Cpu, [1, 0, 1, 0], 1, 4);
        var error = Assert.Throws<ArgumentException>(() => GraphOps.PaddingLengths(holes, "attentionMask", 1, 4));
        Assert.Equal("attentionMask", error.ParamName);
        using var two = Tensor.FromArray<int>(Device.Cpu, [1, 2, 0, 0], 1, 4);
        Assert.Throws<ArgumentException>(() => GraphOps.PaddingLengths(two, "attentionMask", 1, 4));
        using var tooLong = Tensor.FromArray<int>(Device.Cpu, [6], 1);
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => GraphOps.PaddingLengths(tooLong, "lengths", 1, 5)).ParamName);
        using var wrongShape = Tensor.FromArray<int>(Device.Cpu, [1, 1, 1], 1, 3);
        Assert.Equal("attentionMask", Assert.Throws<ArgumentException>(() => GraphOps.PaddingLengths(wrongShape, "attentionMask", 1, 4)).ParamName);
    }

    [Fact]
    public void Embedding_rejects_ids_outside_the_table()
    {
        using var w = new OpWeights(Device.Cpu, ("tokens", RandomData.Uniform(new Random(1), 5 * 3)));
        using var ids = Tensor.FromArray<int>(Device.Cpu, [0, 4, 5], 1, 3);
        using var y = Tensor.Create<float>(Device.Cpu, 1, 3, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            GraphOps.Embedding(ids, null, 1, 3, 3, w["tokens"], 5, GraphWeight.None, 0, GraphWeight.None, 0, GraphWeight.None, GraphWeight.None, 0f, y));
        Assert.Equal("ids", error.ParamName);
        Assert.Contains("Id 5", error.Message);
    }

    private static int[] Mask(int[] lengths, int length) =>
        lengths.SelectMany(n => Enumerable.Range(0, length).Select(t => t < n ? 1 : 0)).ToArray();

    private static Tensor<float> Poisoned(Device device, int count)
    {
        var tensor = Tensor.Create<float>(device, Math.Max(1, count));
        tensor.Fill(float.NaN);
        return tensor;
    }

    /// <summary>One op's weights: each named array (null = absent) becomes a weight of a ModelWeights, bound to the device.</summary>
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
}
