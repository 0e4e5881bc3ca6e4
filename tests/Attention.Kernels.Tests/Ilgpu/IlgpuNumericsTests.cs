using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// Every declared kernel (every head-dim class, mask, GQA/MQA ratio, both layouts, with and without log-sum-exp) through
/// the ILGPU attention kernel on ILGPU's CPU accelerator, against the fp64 reference on fresh random problems.
/// </summary>
public sealed class IlgpuNumericsTests(ITestOutputHelper log)
{
    /// <summary>Every kernel twice, sizes drawn from the run's seed.</summary>
    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, 2 * TestKernels.All.Length).Select(i => new object[] { i % TestKernels.All.Length, AttentionHarness.RunSeed + 15485863 + i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference(int kernelIndex, int seed)
    {
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = AttentionHarness.RandomProblem(kernel, random, IlgpuTestDevice.MaxLength);
        var check = AttentionHarness.Run(kernel, problem, IlgpuTestDevice.Instance, random);
        log.WriteLine($"{kernel.Name} seed={seed}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    [Theory]
    [InlineData(AttentionMask.Causal)]
    [InlineData(AttentionMask.SlidingWindow)]
    public void Rows_that_see_no_key_are_zero_and_lse_is_negative_infinity(AttentionMask mask)
    {
        // Tq > Tk, masks aligned bottom-right: the first Tq − Tk rows see no key; 70 rows span two groups.
        var kernel = TestKernels.All.First(k => k.Mask == mask && k.HeadDim <= 64);
        var problem = new AttentionProblem(2, 70, 5, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, IlgpuTestDevice.Instance, new Random(AttentionHarness.RunSeed));
        log.WriteLine(check.ToString());
        Assert.Null(check.Defect);
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
    }

    [Fact]
    public void More_queries_than_keys_top_left_rows_all_see_keys_bottom_right_rows_do_not() =>
        MaskAlignment.AssertTopLeftAndBottomRightRows(IlgpuTestDevice.Instance, log);

    [Fact]
    public void Empty_key_sequence_gives_zeros_and_lse_negative_infinity()
    {
        var kernel = TestKernels.All.First(k => k.Mask == AttentionMask.None && k.HasLogSumExp);
        var problem = new AttentionProblem(1, 9, 0, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, IlgpuTestDevice.Instance, new Random(AttentionHarness.RunSeed));
        Assert.Null(check.Defect);
    }

    [Fact]
    public void Empty_query_sequence_writes_nothing_and_does_not_fail()
    {
        var kernel = TestKernels.All.First(k => k.HasLogSumExp);
        var problem = new AttentionProblem(2, 0, 17, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, IlgpuTestDevice.Instance, new Random(AttentionHarness.RunSeed));
        Assert.Null(check.Defect);
    }
}

/// <summary>The CPU backend and ILGPU give the same answers on the same inputs (both implement the same online softmax).</summary>
public sealed class IlgpuParityTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> Kernels() =>
        TestKernels.All.Select((k, i) => (k, i))
            .Where(x => x.k.HeadDim is 1 or 17 or 64 or 256 || x.k.HasLogSumExp)
            .Select(x => new object[] { x.i });

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Cpu_backend_and_ilgpu_agree_on_identical_inputs(int kernelIndex)
    {
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(AttentionHarness.RunSeed + 31 * kernelIndex);
        var p = AttentionHarness.RandomProblem(kernel, random, IlgpuTestDevice.MaxLength);
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);

        var (cpuOut, cpuLse) = AttentionHarness.Launch(kernel, p, Device.Cpu, q, k, v);
        var (ilgpuOut, ilgpuLse) = AttentionHarness.Launch(kernel, p, IlgpuTestDevice.Instance, q, k, v);

        double difference = Accuracy.RelativeError(ilgpuOut, Array.ConvertAll(cpuOut, x => (double)x));
        log.WriteLine($"{kernel.Name} {p}: ‖ilgpu − cpu‖/‖cpu‖ = {difference:E2}");
        Assert.DoesNotContain(ilgpuOut, float.IsNaN);
        Assert.True(difference <= 1e-5, $"{kernel.Name} {p}: outputs differ by {difference:E2}");
        for (int i = 0; i < cpuLse.Length; i++)
        {
            if (float.IsNegativeInfinity(cpuLse[i]))
                Assert.True(float.IsNegativeInfinity(ilgpuLse[i]), $"lse[{i}]: CPU −∞, ILGPU {ilgpuLse[i]}");
            else
                Assert.True(Math.Abs(cpuLse[i] - ilgpuLse[i]) <= 1e-5 * Math.Max(1, Math.Abs(cpuLse[i])), $"lse[{i}]: CPU {cpuLse[i]}, ILGPU {ilgpuLse[i]}");
        }
    }
}
