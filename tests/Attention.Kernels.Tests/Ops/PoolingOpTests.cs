using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>AttentionPooling and HierarchicalAttention against the fp64 reference (full softmax, no streaming).</summary>
public sealed unsafe class PoolingOpTests
{
    public static IEnumerable<object[]> Seeds() => OpsCheck.Seeds(16, salt: 4);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void AttentionPooling_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 6), features = OpsCheck.Size(random, 70);
        int length = random.Next(4) == 0 ? random.Next(300, 1500) : OpsCheck.Size(random, 60); // long rows are split into chunks
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var level = PoolingLevel.Random(random, features);
        var y = OpsCheck.Poisoned(batch * features);
        var weights = OpsCheck.Poisoned(batch * length);
        fixed (float* px = x, pu = level.U, pw = level.W, pb = level.B, py = y, pweights = weights)
            CpuOps.AttentionPooling(px, batch, length, features, pu, pw, pb, level.Hidden, py, pweights);
        var (expected, expectedWeights) = ReferenceOps.AttentionPooling(x, batch, length, features, level.U, level.W, level.B, level.Hidden);
        string label = $"seed={seed} B={batch} T={length} F={features} hidden={level.Hidden}";
        OpsCheck.Close(y, expected, label);
        OpsCheck.Close(weights, expectedWeights, label + " weights");
    }

    [Fact]
    public void AttentionPooling_of_an_empty_sequence_is_zero()
    {
        var y = OpsCheck.Poisoned(3 * 5);
        var u = new float[5];
        fixed (float* pu = u, py = y)
            CpuOps.AttentionPooling(null, 3, 0, 5, pu, null, null, 0, py);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    /// <summary>Random offsets for each row; about a third of the segments are empty, some rows have no token at all.</summary>
    private static int[] RandomOffsets(Random random, int batch, int length, int segments)
    {
        var offsets = new int[batch * (segments + 1)];
        for (int r = 0; r < batch; r++)
        {
            var cuts = Enumerable.Range(0, segments + 1).Select(_ => random.Next(length + 1)).Order().ToArray();
            if (random.Next(4) == 0)
                Array.Fill(cuts, cuts[0]); // every segment empty
            for (int s = 0; s <= segments; s++)
                offsets[r * (segments + 1) + s] = random.Next(3) == 0 && s > 0 ? cuts[s - 1] : cuts[s];
            for (int s = 1; s <= segments; s++)
                offsets[r * (segments + 1) + s] = Math.Max(offsets[r * (segments + 1) + s], offsets[r * (segments + 1) + s - 1]);
        }
        return offsets;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HierarchicalAttention_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 5), features = OpsCheck.Size(random, 50), length = OpsCheck.Size(random, 80), segments = OpsCheck.Size(random, 9);
        var x = RandomData.Uniform(random, batch * length * features, 2f);
        var offsets = RandomOffsets(random, batch, length, segments);
        var words = PoolingLevel.Random(random, features);
        var sentences = PoolingLevel.Random(random, features);
        var y = OpsCheck.Poisoned(batch * features);
        var vectors = random.Next(2) == 0 ? OpsCheck.Poisoned(batch * segments * features) : null;
        fixed (float* px = x, u1 = words.U, w1 = words.W, b1 = words.B, u2 = sentences.U, w2 = sentences.W, b2 = sentences.B, py = y, pv = vectors)
        fixed (int* po = offsets)
            CpuOps.HierarchicalAttention(px, batch, length, features, po, segments, u1, w1, b1, words.Hidden, u2, w2, b2, sentences.Hidden, py, pv);
        var (expected, expectedVectors) = ReferenceOps.HierarchicalAttention(x, batch, length, features, offsets, segments,
            words.U, words.W, words.B, words.Hidden, sentences.U, sentences.W, sentences.B, sentences.Hidden);
        string label = $"seed={seed} B={batch} T={length} F={features} S={segments} hidden={words.Hidden}/{sentences.Hidden} offsets=[{string.Join(",", offsets)}]";
        OpsCheck.Close(y, expected, label);
        if (vectors != null)
            OpsCheck.Close(vectors, expectedVectors, label + " segment vectors");
    }

    [Theory]
    [InlineData(new[] { 0, 3, 2 })]  // decreasing
    [InlineData(new[] { -1, 2, 4 })] // before the start
    [InlineData(new[] { 0, 2, 6 })]  // past the end (length 5)
    public void HierarchicalAttention_rejects_bad_offsets(int[] offsets)
    {
        var x = new float[5 * 3];
        var u = new float[3];
        var y = new float[3];
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* px = x, pu = u, py = y)
            fixed (int* po = offsets)
                CpuOps.HierarchicalAttention(px, 1, 5, 3, po, 2, pu, null, null, 0, pu, null, null, 0, py);
        });
        Assert.Equal("offsets", ex.ParamName);
    }
}
