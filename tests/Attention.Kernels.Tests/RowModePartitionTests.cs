using Attention.Kernels.Cpu;
using Xunit;

namespace Attention.Kernels.Tests;

/// <summary>
/// How decode rows are cut into work items (FlashAttentionCpu.RowModePartition): heads stay together in BTHD while
/// cutting the keys feeds the cores; heads are split only when the keys are too short to be cut enough.
/// The numerics of every cut are covered by CpuNumericsTests (rows over short and long keys, on this machine's cores).
/// </summary>
public sealed class RowModePartitionTests
{
    [Theory]
    // heads, row items, keys, BTHD, workers → heads per item, key parts
    [InlineData(32, 1, 32768, true, 2, 32, 32)] // B1 decode, long cache: all heads, 32 parts of 1024 keys
    [InlineData(32, 1, 4096, true, 2, 32, 4)]   // 2 items per core are enough once parts would drop under MinKeysPerPart (1024)
    [InlineData(32, 8, 4096, true, 2, 32, 4)]   // B8: 32 items, 16 per core
    [InlineData(32, 1, 2048, true, 2, 32, 4)]   // 2 parts of 1024 are too few for 2 cores: 4 of 512
    [InlineData(32, 1, 1024, true, 2, 32, 4)]   // 4 parts of 256, all heads still
    [InlineData(32, 1, 512, true, 2, 16, 2)]    // parts of 256 are the shortest: heads split in two as well
    [InlineData(32, 1, 100, true, 2, 8, 1)]     // keys too short to cut: 4 chunks of heads
    [InlineData(32, 1, 100, true, 64, 1, 1)]    // more cores than heads: one head per item
    [InlineData(6, 1, 100, true, 16, 1, 1)]
    [InlineData(1, 1, 100000, true, 2, 1, 32)]
    [InlineData(8, 1, 4096, false, 2, 1, 4)]    // BHTD: one head per item always, keys cut while under 16 items per core
    [InlineData(8, 2, 100, false, 2, 1, 1)]
    [InlineData(32, 1, 32768, true, 1, 32, 1)]  // one core: nothing to balance
    [InlineData(8, 1, 4096, false, 1, 1, 1)]
    public void Partition_keeps_heads_together_and_cuts_keys_first(int heads, int rowItems, int keyLength, bool headsAdjacent,
        int workers, int expectedHeadsPerItem, int expectedSplits)
    {
        var (headsPerItem, splits) = FlashAttentionCpu.RowModePartition(heads, rowItems, keyLength, headsAdjacent, workers);
        Assert.Equal((expectedHeadsPerItem, expectedSplits), (headsPerItem, splits));
    }

    /// <summary>Whatever the sizes, a partition is valid: whole heads per item, parts of at least MinKeysPerPartBeforeHeads keys.</summary>
    [Fact]
    public void Every_partition_divides_the_heads_and_keeps_parts_long()
    {
        var random = new Random(AttentionHarness.RunSeed);
        for (int trial = 0; trial < 2000; trial++)
        {
            int heads = random.Next(1, 65), rowItems = random.Next(1, 40), keyLength = random.Next(1, 200_000), workers = random.Next(1, 33);
            bool headsAdjacent = random.Next(2) == 0;
            var (headsPerItem, splits) = FlashAttentionCpu.RowModePartition(heads, rowItems, keyLength, headsAdjacent, workers);
            string at = $"heads={heads} rowItems={rowItems} keys={keyLength} BTHD={headsAdjacent} workers={workers} → ({headsPerItem}, {splits})";
            Assert.True(headsPerItem >= 1 && heads % headsPerItem == 0, at);
            Assert.True(headsAdjacent || headsPerItem == 1, at);
            Assert.True(splits >= 1 && (splits & (splits - 1)) == 0, at);
            Assert.True(splits == 1 || keyLength / splits >= FlashAttentionCpu.MinKeysPerPartBeforeHeads, at);
            long items = (long)rowItems * (heads / headsPerItem) * splits;
            // Parts shorter than MinKeysPerPart only where longer ones left fewer than two items per core.
            if (splits > 1 && keyLength / splits < FlashAttentionCpu.MinKeysPerPart)
                Assert.True((long)rowItems * (headsAdjacent ? 1 : heads) * splits / 2 < 2L * workers, at);
            // Heads are split only when cutting keys left fewer than two items per core, and never further than that needs.
            if (headsPerItem < heads && headsAdjacent)
            {
                Assert.True((long)rowItems * splits < 2L * workers, at);
                Assert.True(items >= 2L * workers || headsPerItem == 1, at);
            }
            if (workers == 1)
                Assert.Equal(1, splits);
        }
    }
}
