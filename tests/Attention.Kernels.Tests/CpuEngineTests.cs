using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Attention.Kernels.Cpu;
using Xunit;

namespace Attention.Kernels.Tests;

public sealed class CpuParallelTests
{
    private struct Recorder : ICpuParallelBody
    {
        public int[] Hits;
        public int FailAt;

        public readonly void Invoke(int index, int worker)
        {
            Assert.InRange(worker, 0, CpuParallel.WorkerCount - 1);
            if (index == FailAt)
                throw new InvalidOperationException($"item {index} failed");
            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    public void Every_item_runs_exactly_once(int count)
    {
        var body = new Recorder { Hits = new int[count], FailAt = -1 };
        CpuParallel.For(count, ref body);
        Assert.All(body.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void An_exception_in_one_item_reaches_the_caller_and_the_pool_keeps_working()
    {
        var failing = new Recorder { Hits = new int[100], FailAt = 37 };
        var error = Assert.Throws<InvalidOperationException>(() => CpuParallel.For(100, ref failing));
        Assert.Contains("item 37", error.Message);

        var next = new Recorder { Hits = new int[100], FailAt = -1 };
        CpuParallel.For(100, ref next);
        Assert.All(next.Hits, h => Assert.Equal(1, h));
    }

    private struct SlowRecorder : ICpuParallelBody
    {
        public int[] Hits;
        public int SlowEvery;

        public readonly void Invoke(int index, int worker)
        {
            if (SlowEvery > 0 && index % SlowEvery == 0)
                Thread.Sleep(2); // longer than the spin: the caller falls back to sleeping on the event
            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Fact]
    public void Launches_finish_before_returning_across_spinning_and_sleeping_handoffs()
    {
        // Back-to-back launches (workers still spinning), slow items (the caller sleeps on its event, which a previous
        // launch's helper may have set late) and idle gaps past the spin (workers asleep on their semaphores).
        var random = new Random(AttentionHarness.RunSeed);
        for (int launch = 0; launch < 300; launch++)
        {
            int count = 1 + random.Next(40);
            var body = new SlowRecorder { Hits = new int[count], SlowEvery = random.Next(4) == 0 ? 1 + random.Next(8) : 0 };
            CpuParallel.For(count, ref body);
            for (int i = 0; i < count; i++)
                Assert.True(body.Hits[i] == 1, $"launch {launch}: item {i} of {count} ran {body.Hits[i]} times before the launch returned");
            if (random.Next(10) == 0)
                Thread.Sleep(1 + random.Next(3));
        }
    }

    [Fact]
    public void Concurrent_launches_from_several_threads_are_serialized_safely()
    {
        Parallel.For(0, 8, _ =>
        {
            var body = new Recorder { Hits = new int[257], FailAt = -1 };
            CpuParallel.For(257, ref body);
            Assert.All(body.Hits, h => Assert.Equal(1, h));
        });
    }
}

public sealed class CpuMathTests
{
    [Fact]
    public void Exp2_matches_double_precision_on_the_softmax_range()
    {
        // Both widths: with AVX-512 the 512-bit form builds 2^n with vscalefps, the 256-bit one from exponent bits. Up to
        // MaxSlack: the softmax's reference max moves lazily, so a score may pass it by that much.
        double worst256 = 0, worst512 = 0;
        for (float x = -126f; x <= FlashAttentionCpu.MaxSlack; x += 0.0137f)
        {
            double expected = Math.Pow(2, x);
            worst256 = Math.Max(worst256, Math.Abs(Simd.Exp2(Vector256.Create(x)).GetElement(3) - expected) / expected);
            worst512 = Math.Max(worst512, Math.Abs(Simd.Exp2(Vector512.Create(x)).GetElement(11) - expected) / expected);
        }
        Assert.True(worst256 < 3e-7, $"256-bit: worst relative error {worst256:E2}");
        Assert.True(worst512 < 3e-7, $"512-bit: worst relative error {worst512:E2}");
    }

    [Theory]
    [InlineData(float.NegativeInfinity)]
    [InlineData(-151f)]
    [InlineData(-1000f)]
    public void Exp2_of_masked_scores_is_exactly_zero(float x)
    {
        Assert.Equal(0f, Simd.Exp2(Vector256.Create(x)).GetElement(0));
        Assert.Equal(0f, Simd.Exp2(Vector512.Create(x)).GetElement(15));
    }

    [Fact]
    public void Exp2_passes_NaN_through()
    {
        Assert.True(float.IsNaN(Simd.Exp2(Vector256.Create(float.NaN)).GetElement(0)));
        Assert.True(float.IsNaN(Simd.Exp2(Vector512.Create(float.NaN)).GetElement(0)));
    }
}

/// <summary>The online-softmax step on a hand-made tile (its own memory, not a worker's scratch: tests run in parallel).</summary>
public sealed unsafe class CpuSoftmaxTests
{
    [Fact]
    public void Reference_max_moves_only_past_the_slack_and_keeps_probabilities_bounded()
    {
        if (Simd.UseVector512)
            Check<Vector512<float>>();
        Check<Vector256<float>>();
    }

    private static void Check<TVec>() where TVec : struct
    {
        const int headDim = 3, keys = 5;
        int rows = FlashAttentionCpu.QueryTile<TVec>();
        float* memory = (float*)NativeMemory.AlignedAlloc((nuint)(FlashAttentionCpu.ScratchFloats<TVec>(headDim) * sizeof(float)), 64);
        try
        {
            var tile = new FlashAttentionCpu.Tile(memory, rows, headDim);
            new Span<float>(tile.RowMax, rows).Fill(float.NegativeInfinity);
            new Span<float>(tile.RowSum, rows).Clear();
            // Row 0 sees nothing (−∞), so it must keep max −∞ and sum 0 through every block.
            void Block(float score)
            {
                new Span<float>(tile.Scores, keys * rows).Fill(score);
                for (int j = 0; j < keys; j++)
                    tile.Scores[j * rows] = float.NegativeInfinity;
                FlashAttentionCpu.Softmax<TVec>(tile, keys, headDim);
            }

            Block(1f); // the first visible block sets the reference: P = 1
            Assert.Equal(1f, tile.RowMax[1]);
            Assert.Equal(keys, tile.RowSum[1], 1e-5f); // 2^x to 3e-7
            new Span<float>(tile.Output, headDim * rows).Fill(1f); // as if P·V had accumulated
            Block(1f + FlashAttentionCpu.MaxSlack); // at the slack: the reference holds, P = 2^slack, Oᵀ not rescaled
            Assert.Equal(1f, tile.RowMax[1]);
            Assert.Equal(keys * (1 + MathF.Pow(2, FlashAttentionCpu.MaxSlack)), tile.RowSum[1], 1e-3f);
            Assert.Equal(1f, tile.Output[rows + 1]);
            Block(60f); // far past it: the reference moves (else P = 2^59), sum and Oᵀ are rescaled by 2^−59
            Assert.Equal(60f, tile.RowMax[rows - 1]);
            Assert.Equal(1f, tile.Scores[rows + 1], 1e-6f);
            Assert.Equal(keys, tile.RowSum[1], 1e-5f);
            Assert.Equal(MathF.Pow(2, -59), tile.Output[rows + 1], MathF.Pow(2, -59) * 1e-6f);
            Assert.True(float.IsNegativeInfinity(tile.RowMax[0]) && tile.RowSum[0] == 0f, "a row with no visible key");
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }
}

public sealed class CostModelTests
{
    [Theory]
    [InlineData(AttentionMask.None, 0, 5, 7)]
    [InlineData(AttentionMask.Causal, 0, 7, 5)]
    [InlineData(AttentionMask.Causal, 0, 5, 9)]
    [InlineData(AttentionMask.SlidingWindow, 3, 9, 9)]
    [InlineData(AttentionMask.SlidingWindow, 4, 3, 11)]
    public void Visible_pairs_match_a_brute_force_count(AttentionMask mask, int window, int tq, int tk)
    {
        var problem = new Reference.AttentionProblem(1, tq, tk, 1, 1, 1, mask, window, 1, TensorLayout.BTHD);
        int expected = 0;
        for (int i = 0; i < tq; i++)
        for (int j = 0; j < tk; j++)
            expected += Reference.ReferenceAttention.Visible(problem, i, j) ? 1 : 0;
        Assert.Equal(expected, AttentionGeometry.VisiblePairs(tq, tk, mask, window));
    }

    [Fact]
    public void Generated_cost_counts_four_flops_per_visible_pair_and_every_byte_once()
    {
        var kernel = TestKernels.All.First(k => k.Name == nameof(TestKernels.D64_H8_Kv4_Causal_Lse_S));
        var cost = kernel.Cost(2, 100, 100);
        Assert.Equal(4.0 * 2 * 8 * 64 * (100 * 101 / 2), cost.Flops);
        double elements = 2.0 * 2 * 100 * 8 * 64 + 2.0 * 2 * 100 * 4 * 64 + 2 * 8 * 100;
        Assert.Equal(elements * 4, cost.BytesMoved);
        // BTHD: per-core tile scratch plus each core's contiguous copy of one head's K and V (100 keys × 64 × 2).
        Assert.Equal(FlashAttentionCpu.ScratchBytes(64) + CpuParallel.WorkerCount * 4L * 2 * 100 * 64, cost.ScratchBytes);
        Assert.True(FlashAttentionCpu.ScratchBytes(64) > 0);
    }

    [Fact]
    public void Scratch_term_drops_the_contiguous_copy_for_heads_too_long_to_copy()
    {
        int longest = (int)(FlashAttentionCpu.MaxContiguousKeyValueFloats / (2 * 64));
        Assert.Equal(FlashAttentionCpu.ScratchBytes(64) + CpuParallel.WorkerCount * 4L * FlashAttentionCpu.MaxContiguousKeyValueFloats,
            FlashAttentionCpu.ScratchBytes(64, longest));
        Assert.Equal(FlashAttentionCpu.ScratchBytes(64), FlashAttentionCpu.ScratchBytes(64, longest + 1));
    }
}
