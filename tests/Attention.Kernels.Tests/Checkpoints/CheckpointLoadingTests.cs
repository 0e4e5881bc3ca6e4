using System.Runtime.InteropServices;
using Xunit;

namespace Attention.Kernels.Tests.Checkpoints;

/// <summary>
/// <see cref="CheckpointLoading.LoadCheckpoint"/>: values land where the map says (transposed and stacked exactly, from
/// F32, F16 and BF16), and every disagreement between checkpoint, map and model is reported at once with nothing loaded.
/// </summary>
public sealed class CheckpointLoadingTests
{
    /// <summary>A small model's layout with odd sizes: a packed qkv linear, a projection, a norm.</summary>
    private sealed record Sizes(int Hidden, int Model)
    {
        public WeightSpec[] Layout =>
        [
            new("qkv", "weight", [3 * Hidden, Model], "W, [out, in]"),
            new("qkv", "bias", [3 * Hidden], "b"),
            new("proj", "weight", [Model, Hidden], "W, [out, in]"),
            new("norm", "gamma", [Model], "scale γ"),
        ];
    }

    private static Sizes RandomSizes(Random random)
    {
        int hidden = random.Next(2, 12), model;
        do
            model = random.Next(2, 12);
        while (model == hidden); // non-square, so a forgotten transposition shows in the shape
        return new Sizes(hidden, model);
    }

    /// <summary>A checkpoint as a PyTorch/ONNX mix would have it: q, k, v apart (k stored [in, out]), proj stored [in, out].</summary>
    private static SafeTensorsBuilder Checkpoint(Sizes sizes, Random random) => new SafeTensorsBuilder()
        .Add("attn.q.weight", "F32", [sizes.Hidden, sizes.Model], random)
        .Add("attn.k.weight_t", "F16", [sizes.Model, sizes.Hidden], random)
        .Add("attn.v.weight", "BF16", [sizes.Hidden, sizes.Model], random)
        .Add("attn.q.bias", "F32", [sizes.Hidden], random)
        .Add("attn.k.bias", "BF16", [sizes.Hidden], random)
        .Add("attn.v.bias", "F16", [sizes.Hidden], random)
        .Add("out.weight_t", "F32", [sizes.Hidden, sizes.Model], random)
        .Add("out.norm.weight", "BF16", [sizes.Model], random)
        .Add("pooler.dense.weight", "F32", [sizes.Model, sizes.Model], random)
        .AddRaw("embeddings.position_ids", "I64", [3], MemoryMarshal.AsBytes(new long[] { 0, 1, 2 }.AsSpan()).ToArray());

    private static CheckpointMap Map() => new CheckpointMap()
        .Stack("qkv", "weight", new("attn.q.weight"), new("attn.k.weight_t", Transposed: true), new("attn.v.weight"))
        .Stack("qkv", "bias", new("attn.q.bias"), new("attn.k.bias"), new("attn.v.bias"))
        .Add("out.weight_t", "proj", "weight", transposed: true)
        .Add("out.norm.weight", "norm", "gamma")
        .Ignore("pooler.dense.weight")
        .IgnoreWhere(name => name.EndsWith(".position_ids", StringComparison.Ordinal));

    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        }
        return result;
    }

    private static void Poison(ModelWeights weights)
    {
        foreach (var spec in weights.Layout)
            weights[spec.Node, spec.Name].Fill(float.NaN);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Weights_are_loaded_transposed_and_stacked_as_mapped(int seed)
    {
        var random = new Random(seed);
        var sizes = RandomSizes(random);
        var builder = Checkpoint(sizes, random);
        using var temp = new TempFile(builder.Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        using var weights = new ModelWeights(sizes.Layout);
        Poison(weights);

        weights.LoadCheckpoint(file, Map());

        float[] Expected(string name) => builder.Entries.Single(e => e.Name == name).Expected;
        Assert.Equal(
            [.. Expected("attn.q.weight"), .. Transposed(Expected("attn.k.weight_t"), sizes.Model, sizes.Hidden), .. Expected("attn.v.weight")],
            weights["qkv", "weight"].ToArray());
        Assert.Equal([.. Expected("attn.q.bias"), .. Expected("attn.k.bias"), .. Expected("attn.v.bias")], weights["qkv", "bias"].ToArray());
        Assert.Equal(Transposed(Expected("out.weight_t"), sizes.Hidden, sizes.Model), weights["proj", "weight"].ToArray());
        Assert.Equal(Expected("out.norm.weight"), weights["norm", "gamma"].ToArray());
        Assert.Empty(weights.Unloaded);
        Assert.DoesNotContain(weights["qkv", "weight"].ToArray(), v => v == 0);
    }

    /// <summary>Loads <paramref name="map"/> into fresh weights whose proj.weight holds a sentinel; returns the error.</summary>
    private static CheckpointMismatchException Refused(SafeTensorsBuilder builder, Sizes sizes, CheckpointMap map)
    {
        using var temp = new TempFile(builder.Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        using var weights = new ModelWeights(sizes.Layout);
        weights["proj", "weight"].Fill(7f);
        var error = Assert.Throws<CheckpointMismatchException>(() => weights.LoadCheckpoint(file, map));
        Assert.All(weights["proj", "weight"].ToArray(), v => Assert.Equal(7f, v)); // nothing was loaded
        Assert.Equal(["qkv.weight", "qkv.bias", "norm.gamma"], weights.Unloaded);
        Assert.Equal("checkpoint", error.ParamName);
        return error;
    }

    [Fact]
    public void A_weight_without_a_source_is_missing()
    {
        var random = new Random(4);
        var sizes = RandomSizes(random);
        var map = new CheckpointMap()
            .Stack("qkv", "weight", new("attn.q.weight"), new("attn.k.weight_t", Transposed: true), new("attn.v.weight"))
            .Stack("qkv", "bias", new("attn.q.bias"), new("attn.k.bias"), new("attn.v.bias"))
            .Add("out.norm.weight", "norm", "gamma")
            .Ignore("pooler.dense.weight", "embeddings.position_ids", "out.weight_t");
        var error = Refused(Checkpoint(sizes, random), sizes, map);
        Assert.Equal([$"proj.weight [{sizes.Model}, {sizes.Hidden}] has no entry in the map"], error.Missing);
        Assert.Empty(error.Unmapped);
        Assert.Empty(error.Misshaped);
        Assert.Contains("1 missing: proj.weight", error.Message);
    }

    [Fact]
    public void A_mapped_tensor_the_checkpoint_lacks_is_missing()
    {
        var random = new Random(5);
        var sizes = RandomSizes(random);
        var map = Map().Add("out.norm.bias", "norm", "beta"); // and one the model lacks
        var builder = Checkpoint(sizes, random);
        var mapWithTypo = new CheckpointMap()
            .Stack("qkv", "weight", new("attn.q.weight"), new("attn.k.weight_t", Transposed: true), new("attn.v.weight"))
            .Stack("qkv", "bias", new("attn.q.bias"), new("attn.k.bias"), new("attn.v.bias"))
            .Add("out.weight_t", "proj", "weight", transposed: true)
            .Add("out.norm.wieght", "norm", "gamma")
            .Ignore("pooler.dense.weight", "embeddings.position_ids");
        var error = Refused(builder, sizes, mapWithTypo);
        Assert.Contains(error.Missing, m => m.StartsWith("out.norm.wieght (for norm.gamma", StringComparison.Ordinal));
        Assert.Equal([$"out.norm.weight BF16[{sizes.Model}]"], error.Unmapped); // the typo leaves the real one unmapped

        var unknownWeight = Refused(builder, sizes, map);
        Assert.Contains(unknownWeight.Other, o => o.Contains("norm.beta, which this model does not have"));
    }

    [Fact]
    public void A_tensor_neither_mapped_nor_ignored_is_unmapped()
    {
        var random = new Random(6);
        var sizes = RandomSizes(random);
        var builder = Checkpoint(sizes, random).Add("classifier.weight", "F16", [2, sizes.Model], random);
        var error = Refused(builder, sizes, Map());
        Assert.Equal([$"classifier.weight F16[2, {sizes.Model}]"], error.Unmapped);

        using var temp = new TempFile(builder.Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        using var weights = new ModelWeights(sizes.Layout);
        weights.LoadCheckpoint(file, Map().IgnoreWhere(n => n.StartsWith("classifier.", StringComparison.Ordinal)));
        Assert.Empty(weights.Unloaded);
    }

    [Fact]
    public void Shapes_that_differ_are_misshaped()
    {
        var random = new Random(7);
        var sizes = RandomSizes(random);
        var builder = Checkpoint(sizes, random);
        // The transposition forgotten on proj (non-square), k's forgotten too (its stack no longer lines up), and a
        // 1-D tensor marked transposed.
        var map = new CheckpointMap()
            .Stack("qkv", "weight", new("attn.q.weight"), new("attn.k.weight_t"), new("attn.v.weight"))
            .Stack("qkv", "bias", new("attn.q.bias"), new("attn.k.bias", Transposed: true), new("attn.v.bias"))
            .Add("out.weight_t", "proj", "weight")
            .Add("out.norm.weight", "norm", "gamma")
            .Ignore("pooler.dense.weight", "embeddings.position_ids");
        var error = Refused(builder, sizes, map);
        Assert.Equal(3, error.Misshaped.Count);
        Assert.Contains($"qkv.weight is [{3 * sizes.Hidden}, {sizes.Model}], but attn.q.weight [{sizes.Hidden}, {sizes.Model}] + attn.k.weight_t [{sizes.Model}, {sizes.Hidden}]", error.Misshaped[0]);
        Assert.Contains("stack to nothing", error.Misshaped[0]);
        Assert.Contains("attn.k.bias BF16", error.Misshaped[1]);
        Assert.Contains("only a 2-D tensor can be transposed", error.Misshaped[1]);
        Assert.Equal($"proj.weight is [{sizes.Model}, {sizes.Hidden}], but out.weight_t is [{sizes.Hidden}, {sizes.Model}]", error.Misshaped[2]);
        Assert.Empty(error.Missing);
    }

    [Fact]
    public void A_tensor_that_is_not_floating_point_is_refused()
    {
        var random = new Random(8);
        var sizes = RandomSizes(random);
        var error = Refused(Checkpoint(sizes, random), sizes, new CheckpointMap()
            .Stack("qkv", "weight", new("attn.q.weight"), new("attn.k.weight_t", Transposed: true), new("attn.v.weight"))
            .Stack("qkv", "bias", new("attn.q.bias"), new("attn.k.bias"), new("attn.v.bias"))
            .Add("out.weight_t", "proj", "weight", transposed: true)
            .Add("embeddings.position_ids", "norm", "gamma")
            .Ignore("pooler.dense.weight", "out.norm.weight"));
        Assert.Equal(["embeddings.position_ids I64[3] (for norm.gamma) is not F32, F16 or BF16"], error.Other);
    }

    [Fact]
    public void Partial_load_leaves_the_other_weights_alone()
    {
        var random = new Random(9);
        var sizes = RandomSizes(random);
        using var temp = new TempFile(Checkpoint(sizes, random).Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        using var weights = new ModelWeights(sizes.Layout);
        var map = new CheckpointMap().Add("out.norm.weight", "norm", "gamma").IgnoreWhere(n => n != "out.norm.weight");
        Assert.Throws<CheckpointMismatchException>(() => weights.LoadCheckpoint(file, map));
        weights.LoadCheckpoint(file, map, requireAll: false);
        Assert.Equal(["qkv.weight", "qkv.bias", "proj.weight"], weights.Unloaded);
    }

    /// <summary>A checkpoint whose data for one tensor turns out corrupt only when read (as a short ONNX raw_data does).</summary>
    private sealed class CorruptOnRead(ICheckpoint inner, string corrupt) : ICheckpoint
    {
        public IReadOnlyList<CheckpointTensor> Tensors => inner.Tensors;

        public CheckpointTensor? Find(string name) => inner.Find(name);

        public void ReadSingle(string name, Span<float> destination)
        {
            inner.ReadSingle(name, destination);
            if (name == corrupt)
                throw new InvalidDataException($"'{name}' is corrupt");
        }
    }

    [Fact]
    public void Data_corrupt_on_read_leaves_that_weight_unloaded()
    {
        var random = new Random(11);
        var sizes = RandomSizes(random);
        using var temp = new TempFile(Checkpoint(sizes, random).Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        using var weights = new ModelWeights(sizes.Layout);
        var error = Assert.Throws<InvalidDataException>(() => weights.LoadCheckpoint(new CorruptOnRead(file, "out.weight_t"), Map()));
        Assert.Contains("out.weight_t", error.Message);
        Assert.Equal(["proj.weight", "norm.gamma"], weights.Unloaded); // qkv before it loaded; proj not half written and counted
    }

    [Fact]
    public void A_weight_mapped_twice_is_refused_when_mapped()
    {
        var map = new CheckpointMap().Add("a", "proj", "weight");
        Assert.Contains("already mapped", Assert.Throws<ArgumentException>(() => map.Add("b", "proj", "weight")).Message);
        Assert.Throws<ArgumentException>(() => map.Stack("qkv", "weight"));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(31, 33)]
    [InlineData(37, 70)]
    [InlineData(64, 5)]
    public void Transpose_matches_the_definition(int rows, int columns)
    {
        var random = new Random(rows * 100 + columns);
        var values = Enumerable.Range(0, rows * columns).Select(_ => random.NextSingle()).ToArray();
        var result = new float[values.Length];
        result.AsSpan().Fill(float.NaN);
        CheckpointLoading.Transpose(values, rows, columns, result);
        Assert.Equal(Transposed(values, rows, columns), result);
    }

    [Fact]
    public void A_view_renames_and_transposes()
    {
        var random = new Random(10);
        var builder = new SafeTensorsBuilder().Add("927", "F32", [3, 5], random).Add("layer.bias", "BF16", [5], random);
        using var temp = new TempFile(builder.Build());
        using var file = SafeTensorsFile.Open(temp.Path);
        var view = new CheckpointView(file).Add("layer.weight", "927", transposed: true).Add("layer.bias", "layer.bias");

        Assert.Equal(["layer.weight", "layer.bias"], view.Tensors.Select(t => t.Name));
        Assert.Equal([5, 3], view.Find("layer.weight")!.Shape);
        Assert.Equal(CheckpointDType.BF16, view.Find("layer.bias")!.DType);
        var read = new float[15];
        read.AsSpan().Fill(float.NaN);
        view.ReadSingle("layer.weight", read);
        Assert.Equal(Transposed(builder.Entries[0].Expected, 3, 5), read);
        Assert.Equal(new CheckpointSource("927", true), view.SourceOf("layer.weight"));

        Assert.Throws<KeyNotFoundException>(() => view.Add("x", "no-such"));
        Assert.Throws<ArgumentException>(() => view.Add("y", "layer.bias", transposed: true));
        Assert.Throws<ArgumentException>(() => view.Add("layer.bias", "927"));
        Assert.Throws<ArgumentException>(() => view.ReadSingle("layer.bias", new float[4]));
    }
}
