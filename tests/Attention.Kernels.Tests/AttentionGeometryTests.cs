using Xunit;

namespace Attention.Kernels.Tests;

/// <summary>AttentionGeometry (the cost model's pair count) against brute force, for every mask and both alignments.</summary>
public sealed class AttentionGeometryTests
{
    /// <summary>The mask rules written out once more, independently: bottom-right d = Tk − Tq, top-left d = 0.</summary>
    private static bool Sees(AttentionMask mask, int window, int tq, int tk, int i, int j) => mask switch
    {
        AttentionMask.None => true,
        AttentionMask.Causal => j <= i + tk - tq,
        AttentionMask.CausalTopLeft => j <= i,
        AttentionMask.SlidingWindow => j <= i + tk - tq && j > i + tk - tq - window,
        _ => throw new ArgumentOutOfRangeException(nameof(mask)),
    };

    public static IEnumerable<object[]> Masks() =>
    [
        [AttentionMask.None, 0], [AttentionMask.Causal, 0], [AttentionMask.CausalTopLeft, 0],
        [AttentionMask.SlidingWindow, 1], [AttentionMask.SlidingWindow, 3], [AttentionMask.SlidingWindow, 8],
    ];

    [Theory]
    [MemberData(nameof(Masks))]
    public void Visible_pairs_keys_and_visibility_match_brute_force_on_all_small_sizes(AttentionMask mask, int window)
    {
        for (int tq = 0; tq <= 12; tq++)
        for (int tk = 0; tk <= 12; tk++)
        {
            var problem = new Reference.AttentionProblem(1, tq, tk, 1, 1, 1, mask, window, 1, TensorLayout.BTHD);
            long pairs = 0;
            for (int i = 0; i < tq; i++)
            {
                long keys = 0;
                for (int j = 0; j < tk; j++)
                {
                    bool sees = Sees(mask, window, tq, tk, i, j);
                    Assert.Equal(sees, AttentionGeometry.IsVisible(i, j, tq, tk, mask, window));
                    Assert.Equal(sees, Reference.ReferenceAttention.Visible(problem, i, j));
                    keys += sees ? 1 : 0;
                }
                Assert.Equal(keys, AttentionGeometry.VisibleKeys(i, tq, tk, mask, window));
                pairs += keys;
            }
            Assert.Equal(pairs, AttentionGeometry.VisiblePairs(tq, tk, mask, window));
        }
    }

    [Theory]
    [InlineData(5, 9)]
    [InlineData(9, 5)]
    [InlineData(7, 7)]
    public void The_two_causal_alignments_differ_only_when_the_lengths_do(int tq, int tk)
    {
        double topLeft = AttentionGeometry.VisiblePairs(tq, tk, AttentionMask.CausalTopLeft, 0);
        double bottomRight = AttentionGeometry.VisiblePairs(tq, tk, AttentionMask.Causal, 0);
        // Top-left: Σ min(i + 1, Tk). Bottom-right: Σ clamp(i + 1 + Tk − Tq, 0, Tk).
        Assert.Equal(Enumerable.Range(0, tq).Sum(i => Math.Min(i + 1, tk)), topLeft);
        Assert.Equal(Enumerable.Range(0, tq).Sum(i => Math.Clamp(i + 1 + tk - tq, 0, tk)), bottomRight);
        Assert.Equal(tq == tk, topLeft == bottomRight);
    }

    [Theory]
    [MemberData(nameof(Masks))]
    public void Data_aware_visible_pairs_match_brute_force_with_lengths_ids_and_prefixes(AttentionMask mask, int window)
    {
        // Every subset of the three rules on random odd sizes: ids from a small set (interleaved) or contiguous runs, key lengths
        // and prefixes anywhere in [−2, Tk + 2] (the kernels clamp them), Tq ≠ Tk where no ids tie them together.
        var random = new Random(AttentionHarness.RunSeed + 733 + (int)mask * 17 + window);
        for (int trial = 0; trial < 40; trial++)
        {
            bool documents = (trial & 1) != 0, prefix = (trial & 2) != 0, padding = (trial & 4) != 0;
            int batch = random.Next(1, 4), tq = random.Next(0, 40) * 2 + 1, tk = documents ? tq : random.Next(0, 40) * 2 + 1;
            int[] ids = documents ? [.. Enumerable.Range(0, batch * tk).Select(t => random.Next(2) == 0 ? random.Next(3) : t % tk / 5)] : [];
            int[] prefixes = prefix ? [.. Enumerable.Range(0, batch).Select(_ => random.Next(-2, tk + 3))] : [];
            int[] lengths = padding ? [.. Enumerable.Range(0, batch).Select(_ => random.Next(-2, tk + 3))] : [];
            long pairs = 0;
            for (int b = 0; b < batch; b++)
            for (int i = 0; i < tq; i++)
            for (int j = 0; j < tk; j++)
                pairs += Sees(mask, window, tq, tk, i, j) && (!padding || j < lengths[b]) &&
                         (!documents || ids[b * tk + i] == ids[b * tk + j]) && (!prefix || j < prefixes[b] || j <= i) ? 1 : 0;
            Assert.Equal(pairs, AttentionGeometry.VisiblePairs(batch, tq, tk, mask, window, lengths, ids, prefixes));
        }
    }

    [Fact]
    public void Generated_cost_of_a_top_left_kernel_counts_its_visible_pairs()
    {
        var kernel = TestKernels.All.First(k => k.Name == nameof(TestKernels.D64_H8_Kv2_CausalTopLeft_Lse));
        // Tq = 100 > Tk = 40: top-left rows see min(i + 1, 40) keys; bottom-right would count only 40·41/2.
        double pairs = Enumerable.Range(0, 100).Sum(i => Math.Min(i + 1, 40));
        Assert.Equal(4.0 * 3 * 8 * 64 * pairs, kernel.Cost(3, 100, 40).Flops);
    }
}
