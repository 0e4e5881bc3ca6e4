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
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(seed);
        int queryLength = random.Next(1, Cpu.FlashAttentionCpu.RowModeMaxQueries + 1);
        int[] keyLengths = [1, 2, 3, 63, 64, 65, 129, 1000, 2500];
        int keyLength = keyLengths[random.Next(keyLengths.Length)];
        int batch = kernel.HeadDim >= 128 ? 1 : random.Next(1, 3);
        var problem = new Reference.AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, Device.Cpu, random);
        log.WriteLine($"{kernel.Name} Tq={queryLength} Tk={keyLength} seed={seed}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
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
