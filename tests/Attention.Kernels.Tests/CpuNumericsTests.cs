using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests;

/// <summary>The generated CPU kernels against the fp64 reference on fresh random problems.</summary>
public sealed class CpuNumericsTests(ITestOutputHelper log)
{
    public const int Configurations = 240;

    /// <summary>(kernel index, seed): every declared kernel several times, sizes drawn from the seed.</summary>
    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, Configurations).Select(i => new object[] { i % TestKernels.All.Length, AttentionHarness.RunSeed + i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference(int kernelIndex, int seed)
    {
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = AttentionHarness.RandomProblem(kernel, random);
        var check = AttentionHarness.Run(kernel, problem, Device.Cpu, random);
        log.WriteLine($"{kernel.Name} seed={seed}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name} (AK_TEST_SEED={seed - kernelIndex}…): {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    /// <summary>(kernel index, seed) for the row path: every declared kernel with 1–4 query rows.</summary>
    public static IEnumerable<object[]> DecodeCases() =>
        Enumerable.Range(0, 2 * TestKernels.All.Length).Select(i => new object[] { i % TestKernels.All.Length, AttentionHarness.RunSeed + 7919 + i });

    /// <summary>
    /// Decode-like problems (Tq ≤ FlashAttentionCpu.RowModeMaxQueries) take the one-row path: long and short key
    /// ranges, several key blocks, odd head dims, masks with Tq &gt; Tk (rows that see no key).
    /// </summary>
    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void Few_query_rows_match_fp64_reference(int kernelIndex, int seed)
    {
        var random = new Random(seed);
        int[] keyLengths = [1, 2, 3, 63, 64, 65, 129, 1000, 2500];
        int keyLength = keyLengths[random.Next(keyLengths.Length)];
        int batch = TestKernels.All[kernelIndex].HeadDim >= 128 ? 1 : random.Next(1, 3);
        AssertRowsMatch(kernelIndex, seed, random, batch, keyLength);
    }

    /// <summary>
    /// Decode rows over thousands of keys with few row items: each row's keys are cut into parts (split-K,
    /// FlashAttentionCpu.RowModePartition) whose partial states are merged; masks that leave a part empty (a sliding
    /// window shorter than the parts, rows of Tq &gt; Tk) included. Every declared kernel, odd key lengths.
    /// </summary>
    [Theory]
    [MemberData(nameof(DecodeCases))]
    public void Few_query_rows_over_long_keys_split_their_keys_and_match_fp64_reference(int kernelIndex, int seed)
    {
        var random = new Random(seed);
        AssertRowsMatch(kernelIndex, seed, random, batch: 1, keyLength: 2 * random.Next(1024, 3000) + 1);
    }

    /// <summary>1–4 query rows of kernel <paramref name="kernelIndex"/> against the fp64 reference, log-sum-exp included.</summary>
    private void AssertRowsMatch(int kernelIndex, int seed, Random random, int batch, int keyLength)
    {
        var kernel = TestKernels.All[kernelIndex];
        int queryLength = random.Next(1, Cpu.FlashAttentionCpu.RowModeMaxQueries + 1);
        var problem = new Reference.AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, Device.Cpu, random);
        log.WriteLine($"{kernel.Name} Tq={queryLength} Tk={keyLength} seed={seed}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    /// <summary>
    /// Scores that jump from key block to key block: the online softmax moves a row's reference max only when a block passes
    /// it by more than FlashAttentionCpu.MaxSlack (log₂ units), so the sum and accumulator are rescaled after the first block
    /// only here (random inputs stay within the slack after their first block). A shared direction in q and k makes key j's
    /// score grow by <paramref name="jump"/> (log₂ units) per block of 64 keys, plus a small ramp inside each block; odd sizes,
    /// every layout's tile path (Tq above the row-mode limit), with and without a causal mask, and the log-sum-exp checked.
    /// </summary>
    [Theory]
    [InlineData(AttentionMask.None, 12.5, 0)]   // every block moves the reference
    [InlineData(AttentionMask.None, 4.5, 1)]    // growth inside the slack: the reference moves every other block or so
    [InlineData(AttentionMask.Causal, 12.5, 2)]
    [InlineData(AttentionMask.None, -12.5, 3)]  // falling scores: the first block's reference holds
    public void Scores_that_jump_across_key_blocks_match_fp64_reference(AttentionMask mask, double jump, int salt)
    {
        var kernel = TestKernels.All.First(k => k.Mask == mask && k.HasLogSumExp && k.HeadDim >= 8);
        var random = new Random(AttentionHarness.RunSeed + 104729 * (salt + 1));
        int queryLength = random.Next(70, 140), keyLength = random.Next(260, 330);
        var p = new Reference.AttentionProblem(random.Next(1, 3), queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        float[] q = Reference.RandomData.Uniform(random, p.QueryElements, 1f);
        float[] k = Reference.RandomData.Uniform(random, p.KeyElements, 1f);
        float[] v = Reference.RandomData.Uniform(random, p.KeyElements);
        // Dim 0 carries the shared direction: q = 4 there, so key j adds 4·k₀·scale·log₂e to every score (log₂ units).
        double perUnit = 4 * kernel.Scale * 1.4426950408889634;
        for (int b = 0; b < p.Batch; b++)
        for (int h = 0; h < p.Heads; h++)
            for (int t = 0; t < p.QueryLength; t++)
                q[p.Index(b, t, h, 0, p.Heads, p.QueryLength)] = 4f;
        for (int b = 0; b < p.Batch; b++)
        for (int h = 0; h < p.KvHeads; h++)
            for (int j = 0; j < p.KeyLength; j++)
                k[p.Index(b, j, h, 0, p.KvHeads, p.KeyLength)] = (float)((j / 64 * jump + j % 64 * 0.02) / perUnit);
        var (expected, expectedLse) = Reference.ReferenceAttention.Compute(p, q, k, v);
        var (output, lse) = AttentionHarness.Launch(kernel, p, Device.Cpu, q, k, v);
        var check = AttentionHarness.Evaluate(p, output, lse, expected, expectedLse);
        log.WriteLine($"{kernel.Name} jump {jump}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name}: {check}");
    }

    [Fact]
    public void Causal_rows_before_the_first_key_are_zero_not_nan()
    {
        // Tq > Tk with a causal mask: the first Tq − Tk rows see no key (bottom-right alignment).
        var kernel = TestKernels.All.First(k => k.Mask == AttentionMask.Causal && k.HasLogSumExp);
        var problem = new Reference.AttentionProblem(1, 70, 5, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, Device.Cpu, new Random(AttentionHarness.RunSeed));
        Assert.Null(check.Defect);
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
    }

    /// <summary>
    /// Tq &gt; Tk: aligned top-left (PyTorch's is_causal), query i sees keys 0..min(i, Tk − 1), so every row sees key 0 and
    /// none is zero; aligned bottom-right (FlashAttention), the first Tq − Tk rows see no key and are zero with lse −∞.
    /// </summary>
    [Fact]
    public void More_queries_than_keys_top_left_rows_all_see_keys_bottom_right_rows_do_not() =>
        MaskAlignment.AssertTopLeftAndBottomRightRows(Device.Cpu, log);

    /// <summary>
    /// Heads whose K and V exceed FlashAttentionCpu.MaxContiguousKeyValueFloats are read in place instead of through
    /// the per-worker contiguous copy (random problems are too short to reach that path). BTHD kernels with D = 256.
    /// </summary>
    [Theory]
    [InlineData(AttentionMask.None)]
    [InlineData(AttentionMask.Causal)]
    [InlineData(AttentionMask.SlidingWindow)]
    [InlineData(AttentionMask.CausalTopLeft)]
    public void Keys_too_long_for_a_contiguous_copy_match_fp64_reference(AttentionMask mask)
    {
        var kernel = TestKernels.All.First(k => k.HeadDim == 256 && k.Mask == mask && k.Layout == TensorLayout.BTHD);
        int keyLength = (int)(Cpu.FlashAttentionCpu.MaxContiguousKeyValueFloats / (2 * kernel.HeadDim)) + 37;
        var random = new Random(AttentionHarness.RunSeed);
        var problem = new Reference.AttentionProblem(1, 67, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, Device.Cpu, random);
        log.WriteLine($"{kernel.Name} Tk={keyLength}: {check}");
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
    }
}
