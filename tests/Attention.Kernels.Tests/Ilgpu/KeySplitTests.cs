using Attention.Kernels.Ilgpu.Kernels;
using Attention.Kernels.Tests.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>The key-split tests force a split for every launch of the process, so nothing runs beside them.</summary>
[CollectionDefinition(nameof(KeySplitTests), DisableParallelization = true)]
public sealed class KeySplitCollection;

/// <summary>
/// Key splits (flash-decoding): a GPU with too few groups to fill it splits each group's keys into parts and merges the
/// parts' rows in a second kernel. Here the split is forced on ILGPU's CPU accelerator (which never splits by itself)
/// for every declared kernel, fp32 and 16-bit, against the fp64 reference; parts that get no key block (more parts than
/// blocks, masked ranges) must leave nothing behind.
/// </summary>
[Collection(nameof(KeySplitTests))]
public sealed class KeySplitTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, TestKernels.All.Length).Select(i => new object[] { i, 2 + i % 6, AttentionHarness.RunSeed + 7919 * i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Split_keys_match_fp64_reference(int kernelIndex, int splits, int seed)
    {
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = AttentionHarness.RandomProblem(kernel, random, IlgpuTestDevice.MaxLength);
        WithForcedSplits(splits, () =>
        {
            var check = AttentionHarness.Run(kernel, problem, IlgpuTestDevice.Instance, random);
            log.WriteLine($"{kernel.Name} splits={splits} seed={seed}: {check}");
            Assert.True(check.Defect is null, $"{kernel.Name} splits={splits} seed={seed}: {check}");
            Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} splits={splits} seed={seed}: {check}");
            Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} splits={splits} seed={seed}: {check}");
        });
    }

    public static IEnumerable<object[]> StorageCases() =>
        Enumerable.Range(0, StorageKernels.All.Length).Select(i => new object[] { i, 3 + i % 4, AttentionHarness.RunSeed + 104729 * i });

    [Theory]
    [MemberData(nameof(StorageCases))]
    public void Split_keys_with_16_bit_storage_match_fp64_reference(int kernelIndex, int splits, int seed)
    {
        var kernel = StorageKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = kernel.RandomProblem(random, IlgpuTestDevice.MaxLength);
        WithForcedSplits(splits, () =>
        {
            var check = kernel.Check(problem, IlgpuTestDevice.Instance, random);
            log.WriteLine($"{kernel.Name} splits={splits} seed={seed}: {check}");
            Assert.True(check.Defect is null, $"{kernel.Name} splits={splits}: {check}");
            Assert.True(check.OutputError <= kernel.Tolerance, $"{kernel.Name} splits={splits}: {check}, tolerance {kernel.Tolerance:E2}");
            Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} splits={splits}: {check}");
        });
    }

    /// <summary>Runs <paramref name="check"/> with every launch forced to <paramref name="splits"/> key splits.</summary>
    private static void WithForcedSplits(int splits, Action check)
    {
        FlashAttention.ForcedKeySplits = splits;
        try
        {
            check();
        }
        finally
        {
            FlashAttention.ForcedKeySplits = null;
        }
    }

    [Theory]
    [InlineData(256, 147, 132, 5)]   // decode B8 H32 Tk4096 D128 on an H200: two waves of 4 groups on 132 SMs
    [InlineData(1024, 69, 132, 1)]   // B1 H16 T4096 D64: the groups already fill one wave
    [InlineData(256, 35, 132, 5)]    // B1 H8 T2048 D64
    [InlineData(8, 2, 132, 1)]       // two key blocks: no part would get four
    [InlineData(8, 4000, 132, 32)]   // at most 32 parts
    [InlineData(256, 147, 0, 1)]     // the host (ILGPU's CPU accelerator) never splits
    public void Groups_short_of_one_wave_split_to_fill_two(int groups, int keyBlocks, int multiprocessors, int expected) =>
        Assert.Equal(expected, FlashAttention.KeySplits(groups, keyBlocks, multiprocessors));
}
