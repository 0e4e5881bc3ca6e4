using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// The CPU block mask of mask modifiers: each (query tile, key block) classified empty, full or partial, cached per launch
/// shape. Repeated launches over a mix of shapes must give the same answers as fresh ones (no stale class from another
/// shape); a cached block is not evaluated again.
/// </summary>
public sealed class BlockMaskTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> MaskModKernels() =>
        ModKernels.All.Select((k, i) => (k, i)).Where(x => x.k.MaskMod is not null).Select(x => new object[] { x.i });

    [Theory]
    [MemberData(nameof(MaskModKernels))]
    public void Launches_cycling_through_odd_shapes_match_fp64_reference_every_time(int kernelIndex)
    {
        var kernel = ModKernels.All[kernelIndex];
        var random = new Random(AttentionHarness.RunSeed + 31 * kernelIndex);
        // Odd shapes, some sharing Tq or Tk, swapped pairs, one too short for a whole block; each seen several times, interleaved.
        (int B, int Tq, int Tk)[] shapes = [(1, 97, 131), (2, 131, 97), (1, 97, 97), (3, 1, 70), (1, 200, 65), (2, 33, 200)];
        int[] order = [0, 1, 0, 2, 3, 1, 4, 0, 5, 2, 4, 5, 3, 1];
        foreach (int s in order)
        {
            var (b, tq, tk) = shapes[s];
            var problem = new AttentionProblem(b, tq, tk, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
            { ScoreMod = kernel.ScoreMod, MaskMod = kernel.MaskMod };
            var check = AttentionHarness.Run(kernel, problem, Device.Cpu, random); // fresh inputs, NaN-poisoned outputs
            log.WriteLine($"{kernel.Name} B{b} Tq{tq} Tk{tk}: {check}");
            Assert.True(check.Defect is null, $"{kernel.Name} B{b} Tq{tq} Tk{tk}: {check}");
            Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} B{b} Tq{tq} Tk{tk}: {check}");
            Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} B{b} Tq{tq} Tk{tk}: {check}");
        }
    }

    /// <summary>key ≤ query, counting its calls.</summary>
    private struct CountedCausal : IElementMods
    {
        [ThreadStatic] public static int Calls;
        public static bool HasScoreMod => false;
        public static bool HasMaskMod => true;
        public static bool MaskModReadsTensors => false;
        public static float ScoreMod(float score, int batch, int head, int query, int key, in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors) => score;
        public static bool MaskMod(int batch, int head, int query, int key, in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors)
        {
            Calls++;
            return key <= query;
        }
    }

    [Fact]
    public void Blocks_are_classified_empty_full_partial_and_a_slot_answers_only_for_its_own_block()
    {
        var cache = new long[4];
        CountedCausal.Calls = 0;
        // Rows 64..95 see keys 0..63 (full), keys 64..127 in part, keys 128.. none.
        Assert.Equal(FlashAttentionCpu.BlockFull, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 64, 32, 0, 64));
        Assert.Equal(FlashAttentionCpu.BlockPartial, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 1, 0, 0, 64, 32, 64, 64));
        Assert.Equal(FlashAttentionCpu.BlockEmpty, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 2, 0, 0, 64, 32, 128, 64));
        int first = CountedCausal.Calls;
        Assert.True(first > 0);

        // The same blocks again: answered from the cache, no mask call.
        Assert.Equal(FlashAttentionCpu.BlockFull, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 64, 32, 0, 64));
        Assert.Equal(FlashAttentionCpu.BlockPartial, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 1, 0, 0, 64, 32, 64, 64));
        Assert.Equal(FlashAttentionCpu.BlockEmpty, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 2, 0, 0, 64, 32, 128, 64));
        Assert.Equal(first, CountedCausal.Calls);

        // Slot 0 asked about other blocks (other rows, first key, row or key count): reclassified, not the stale "full".
        Assert.Equal(FlashAttentionCpu.BlockPartial, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 0, 32, 0, 64));
        Assert.Equal(FlashAttentionCpu.BlockEmpty, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 0, 32, 40, 24));
        Assert.Equal(FlashAttentionCpu.BlockPartial, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 0, 64, 0, 64));
        Assert.Equal(FlashAttentionCpu.BlockFull, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 63, 1, 0, 64));
        Assert.Equal(FlashAttentionCpu.BlockPartial, FlashAttentionCpu.ClassifyBlock<CountedCausal>(cache, 0, 0, 0, 62, 2, 0, 64));

        // Without a cache (a launch too big to cache) every call evaluates.
        int before = CountedCausal.Calls;
        Assert.Equal(FlashAttentionCpu.BlockFull, FlashAttentionCpu.ClassifyBlock<CountedCausal>(null, 0, 0, 0, 64, 32, 0, 64));
        Assert.True(CountedCausal.Calls > before);
    }

    [Fact]
    public void The_cache_is_per_launch_shape_and_refuses_shapes_too_big()
    {
        var a = FlashAttentionCpu.BlockMasks<CountedCausal>(1, 2, 100, 300, 32);
        Assert.NotNull(a);
        Assert.Same(a, FlashAttentionCpu.BlockMasks<CountedCausal>(1, 2, 100, 300, 32));
        Assert.Equal(2 * 4 * FlashAttentionCpu.BlocksPerTile(300), a!.Length);
        Assert.NotSame(a, FlashAttentionCpu.BlockMasks<CountedCausal>(1, 2, 300, 100, 32));
        Assert.NotSame(a, FlashAttentionCpu.BlockMasks<CountedCausal>(2, 2, 100, 300, 32));
        Assert.Null(FlashAttentionCpu.BlockMasks<CountedCausal>(64, 64, 1 << 16, 1 << 16, 64));
    }
}
