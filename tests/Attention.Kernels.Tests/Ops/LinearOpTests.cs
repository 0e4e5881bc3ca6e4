using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using System.Runtime.Intrinsics;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>CpuOps.Linear (the packed SGEMM and its fused epilogue) against the fp64 reference.</summary>
public sealed unsafe class LinearOpTests
{
    public static IEnumerable<object[]> Seeds() => OpsCheck.Seeds(48, salt: 1);

    private static void Check(int rows, int inFeatures, int outFeatures, bool withBias, Activation activation, bool withResidual, Random random, string label)
    {
        var x = RandomData.Uniform(random, rows * inFeatures);
        var w = RandomData.Uniform(random, outFeatures * inFeatures, 1f / MathF.Sqrt(inFeatures));
        var bias = withBias ? RandomData.Uniform(random, outFeatures) : null;
        var residual = withResidual ? RandomData.Uniform(random, rows * outFeatures) : null;
        var y = OpsCheck.Poisoned(rows * outFeatures);
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y)
            CpuOps.Linear(px, rows, inFeatures, pw, pb, outFeatures, py, activation, pr);
        var expected = ReferenceOps.Linear(x, rows, inFeatures, w, bias, outFeatures, activation, residual);
        OpsCheck.Close(y, expected, $"{label} M={rows} K={inFeatures} N={outFeatures} bias={withBias} {activation} residual={withResidual}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_sizes_match_fp64(int seed)
    {
        var random = new Random(seed);
        Check(OpsCheck.Size(random, 300), OpsCheck.Size(random, 300), OpsCheck.Size(random, 300), random.Next(2) == 0,
            (Activation)(seed % 3), random.Next(2) == 0, random, $"seed={seed}");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 512, 2048)]
    [InlineData(13, 0, 5)]
    [InlineData(131, 700, 600)] // crosses the K and N cache blocks
    [InlineData(97, 257, 1031)]
    public void Edge_and_blocked_sizes_match_fp64(int rows, int inFeatures, int outFeatures)
    {
        var random = new Random(AttentionHarness.RunSeed);
        foreach (var activation in new[] { Activation.None, Activation.Gelu })
            Check(rows, inFeatures, outFeatures, true, activation, activation == Activation.Gelu, random, $"seed={AttentionHarness.RunSeed}");
    }

    [Fact]
    public void Every_row_tail_of_a_strip_matches_fp64()
    {
        // The micro-kernel reads x in place and points the rows past M at row 0: every M mod 8 (and mod 4 for 256-bit
        // vectors), with K over one cache block (partial sums kept in y) and N off the 48-column panel width.
        var random = new Random(AttentionHarness.RunSeed);
        for (int rows = 8; rows <= 17; rows++)
            Check(rows, 1000 + random.Next(100), 97 + random.Next(48), true, Activation.Gelu, true, random, $"seed={AttentionHarness.RunSeed}");
    }

    /// <summary>The GEMM over a weight packed once by <see cref="CpuOps.PackLinearWeight"/> (what ModelWeights caches).</summary>
    private static void CheckPrepacked(int rows, int inFeatures, int outFeatures, bool withBias, Activation activation, bool withResidual,
        bool outputIsResidual, Random random, string label)
    {
        var x = RandomData.Uniform(random, rows * inFeatures);
        var w = RandomData.Uniform(random, outFeatures * inFeatures, 1f / MathF.Sqrt(Math.Max(1, inFeatures)));
        var bias = withBias ? RandomData.Uniform(random, outFeatures) : null;
        var residual = withResidual || outputIsResidual ? RandomData.Uniform(random, rows * outFeatures) : null;
        var expected = ReferenceOps.Linear(x, rows, inFeatures, w, bias, outFeatures, activation, residual);
        var packed = OpsCheck.Poisoned((int)CpuOps.PackedLinearWeightFloats(inFeatures, outFeatures));
        var y = outputIsResidual ? residual! : OpsCheck.Poisoned(rows * outFeatures);
        fixed (float* px = x, pw = w, pb = bias, pr = residual, py = y, pp = packed)
        {
            CpuOps.PackLinearWeight(pw, inFeatures, outFeatures, pp);
            CpuOps.LinearPacked(px, rows, inFeatures, pw, pp, pb, outFeatures, py, activation, pr);
        }
        OpsCheck.Close(y, expected, $"prepacked {label} M={rows} K={inFeatures} N={outFeatures} bias={withBias} {activation} residual={withResidual} y=residual {outputIsResidual}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Prepacked_weight_random_sizes_match_fp64(int seed)
    {
        var random = new Random(seed);
        bool outputIsResidual = random.Next(4) == 0;
        CheckPrepacked(OpsCheck.Size(random, 300), OpsCheck.Size(random, 300), OpsCheck.Size(random, 300), random.Next(2) == 0,
            (Activation)(seed % 3), random.Next(2) == 0, outputIsResidual, random, $"seed={seed}");
    }

    [Theory]
    [InlineData(8, 1, 1)]      // one row strip, one panel of one column
    [InlineData(9, 7, 47)]     // a strip of 1 row past the first; N one short of a panel
    [InlineData(17, 33, 49)]   // N one past a panel: 2 panels over 2 workers
    [InlineData(23, 64, 97)]   // 3 panels: an odd count split by rows instead
    [InlineData(64, 300, 144)] // whole panels only (the epilogue's fast path everywhere)
    [InlineData(1000, 96, 96)] // several L2 row blocks
    [InlineData(40, 2100, 53)] // K over one K block: partial sums kept in y
    public void Prepacked_weight_edges_match_fp64(int rows, int inFeatures, int outFeatures)
    {
        var random = new Random(AttentionHarness.RunSeed);
        foreach (var activation in new[] { Activation.None, Activation.Relu, Activation.Gelu })
        {
            CheckPrepacked(rows, inFeatures, outFeatures, activation != Activation.None, activation, activation == Activation.Gelu, false, random, $"seed={AttentionHarness.RunSeed}");
            CheckPrepacked(rows, inFeatures, outFeatures, true, activation, true, true, random, $"seed={AttentionHarness.RunSeed}");
        }
    }

    [Fact]
    public void Prepacked_weight_every_row_tail_matches_fp64()
    {
        var random = new Random(AttentionHarness.RunSeed);
        for (int rows = 8; rows <= 17; rows++)
            CheckPrepacked(rows, 100 + random.Next(300), 97 + random.Next(48), true, Activation.Gelu, true, false, random, $"seed={AttentionHarness.RunSeed}");
    }

    [Fact]
    public void Output_may_be_the_residual()
    {
        var random = new Random(AttentionHarness.RunSeed);
        int rows = 37, k = 45, n = 53;
        var x = RandomData.Uniform(random, rows * k);
        var w = RandomData.Uniform(random, n * k);
        var residual = RandomData.Uniform(random, rows * n);
        var expected = ReferenceOps.Linear(x, rows, k, w, null, n, Activation.Relu, residual);
        fixed (float* px = x, pw = w, pr = residual)
            CpuOps.Linear(px, rows, k, pw, null, n, pr, Activation.Relu, pr);
        OpsCheck.Close(residual, expected, "y == residual");
    }

    [Fact]
    public void Gelu_is_accurate_over_a_wide_range()
    {
        // Every value from −10 to 10 in steps of 1/1024, through the element-wise op (same activation code as the epilogue).
        var x = Enumerable.Range(-10240, 20481).Select(i => i / 1024f).ToArray();
        var y = OpsCheck.Poisoned(x.Length);
        fixed (float* px = x, py = y)
            CpuOps.Activate(px, x.Length, Activation.Gelu, py);
        var expected = ReferenceOps.Activate(x, Activation.Gelu);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
            worst = Math.Max(worst, Math.Abs(y[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
        Assert.True(worst < 1e-6, $"GELU error {worst:E2}");
        OpsCheck.Close(y, expected, "GELU");
    }

    [Fact]
    public void Gelu_holds_at_its_clamp_in_its_tails_and_for_special_values()
    {
        // The rational erf is clamped at |x| = 5.6 and GELU is 0 below −5.6: every float step across ±5.6 (±0.05), random
        // magnitudes from 1e-30 to 1e30 of both signs (log-uniform: large negative x must give 0, not |x|·(rounding of
        // 1 + erf)), on both vector widths, against fp64 within 1e-6·max(1, |ref|). Then ±∞ and NaN: +∞ → +∞, −∞ → 0
        // (the limit), NaN → NaN.
        var random = new Random(AttentionHarness.RunSeed);
        var values = new List<float>();
        foreach (float edge in new[] { 5.6f, -5.6f })
        {
            for (float v = edge - 0.05f; v <= edge + 0.05f; v = MathF.BitIncrement(v))
                values.Add(v);
        }
        for (int i = 0; i < 4093; i++)
            values.Add((random.Next(2) == 0 ? -1 : 1) * MathF.Exp((float)((random.NextDouble() * 2 - 1) * Math.Log(1e30))));
        double worst256 = Worst<Vector256<float>>(values), worst512 = Vector512.IsHardwareAccelerated ? Worst<Vector512<float>>(values) : 0;
        Assert.True(worst256 < 1e-6 && worst512 < 1e-6, $"GELU error: {worst256:E2} (256-bit), {worst512:E2} (512-bit)");

        float[] special = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, -0f];
        var y = OpsCheck.Poisoned(special.Length);
        fixed (float* px = special, py = y)
            CpuOps.Activate(px, special.Length, Activation.Gelu, py);
        Assert.Equal(float.PositiveInfinity, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.True(float.IsNaN(y[2]), $"GELU(NaN) = {y[2]}");
        Assert.Equal(0f, y[3]);

        static double Worst<TVec>(List<float> values) where TVec : struct
        {
            int w = Simd.Count<TVec>();
            float* lanes = stackalloc float[w];
            double worst = 0;
            for (int at = 0; at < values.Count; at += w)
            {
                for (int i = 0; i < w; i++)
                    lanes[i] = values[Math.Min(at + i, values.Count - 1)];
                Simd.Store(SimdMath.Gelu(Simd.Load<TVec>(lanes)), lanes);
                for (int i = 0; i < w && at + i < values.Count; i++)
                {
                    double expected = ReferenceOps.Activate(values[at + i], Activation.Gelu);
                    worst = Math.Max(worst, Math.Abs(lanes[i] - expected) / Math.Max(1, Math.Abs(expected)));
                }
            }
            return worst;
        }
    }

    [Fact]
    public void Reciprocal_estimate_with_a_newton_step_is_within_an_ulp()
    {
        // GELU takes 1/Q(x²) through SimdMath.ReciprocalAtLeastOne (vrcp14ps + one Newton step with AVX-512).
        // Against 1/x in fp64: random x over [1, 1e30] (log-uniform, an odd count so a vector is partly fresh values), and
        // 1, the float just above it and powers of two. Both vector widths the CPU runs.
        var random = new Random(AttentionHarness.RunSeed);
        var values = new List<float> { 1f, MathF.BitIncrement(1f), 2f, 1024f, 1.5f, 3f, 1e30f };
        for (int i = 0; i < 4093; i++)
            values.Add(MathF.Exp((float)(random.NextDouble() * Math.Log(1e30))));
        double worst256 = Worst<System.Runtime.Intrinsics.Vector256<float>>(values), worst512 = Vector512.IsHardwareAccelerated
            ? Worst<System.Runtime.Intrinsics.Vector512<float>>(values) : 0;
        Assert.True(worst256 < 1.5e-7 && worst512 < 1.5e-7, $"1/x error: {worst256:E2} (256-bit), {worst512:E2} (512-bit)");

        static double Worst<TVec>(List<float> values) where TVec : struct
        {
            int w = Simd.Count<TVec>();
            float* lanes = stackalloc float[w];
            double worst = 0;
            for (int at = 0; at < values.Count; at += w)
            {
                for (int i = 0; i < w; i++)
                    lanes[i] = values[Math.Min(at + i, values.Count - 1)];
                Simd.Store(SimdMath.ReciprocalAtLeastOne(Simd.Load<TVec>(lanes)), lanes);
                for (int i = 0; i < w && at + i < values.Count; i++)
                {
                    double exact = 1.0 / values[at + i];
                    worst = Math.Max(worst, Math.Abs(lanes[i] - exact) / exact);
                }
            }
            return worst;
        }
    }

    [Fact]
    public void Concurrent_callers_do_not_share_scratch()
    {
        // One-item launches (a single row) run inline on the caller; they must not use worker 0's scratch while another
        // thread's launch does. Several threads mix such launches with full ones.
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            var random = new Random(AttentionHarness.RunSeed + thread);
            for (int i = 0; i < 12; i++)
            {
                // One-row launches keep N within one 256-column item (the inline path) and at least 16 wide: a lone GELU
                // output deep in its tail (~1e-13) makes ‖out − ref‖/‖ref‖ meaningless (an absolute error of 1e-15 read as 5e-3).
                int rows = i % 2 == 0 ? 1 : random.Next(8, 64), k = random.Next(1, 200), n = rows == 1 ? random.Next(16, 257) : random.Next(1, 300);
                var x = RandomData.Uniform(random, rows * k);
                var w = RandomData.Uniform(random, n * k);
                var y = OpsCheck.Poisoned(rows * n);
                fixed (float* px = x, pw = w, py = y)
                    CpuOps.Linear(px, rows, k, pw, null, n, py, Activation.Gelu);
                double error = Accuracy.RelativeError(y, ReferenceOps.Linear(x, rows, k, w, null, n, Activation.Gelu, null));
                if (!(error <= OpsCheck.Tolerance))
                    failures.Add($"thread {thread} M={rows} K={k} N={n}: {error:E2}");
            }
        });
        Assert.Empty(failures);
    }
}
