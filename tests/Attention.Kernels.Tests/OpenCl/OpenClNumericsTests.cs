using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>The generated device-C kernels on a real OpenCL driver against the fp64 reference, on fresh random problems.</summary>
public sealed class OpenClNumericsTests(ITestOutputHelper log)
{
    /// <summary>Fewer than the CPU suite (PoCL compiles each of the 48 kernels once and runs work-items on the CPU), still every kernel 2–3 times.</summary>
    public const int Configurations = 120;

    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, Configurations).Select(i => new object[] { i % TestKernels.All.Length, AttentionHarness.RunSeed + 7919 + i });

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference(int kernelIndex, int seed)
    {
        var device = OpenClTestDevice.GetOrSkip();
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = AttentionHarness.RandomProblem(kernel, random);
        var check = AttentionHarness.Run(kernel, problem, device, random);
        log.WriteLine($"{kernel.Name} on {device.Name} seed={seed}: {check}");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    [SkippableFact]
    public void Causal_rows_before_the_first_key_are_zero_and_lse_is_negative_infinity()
    {
        var device = OpenClTestDevice.GetOrSkip();
        // Tq > Tk with a causal mask: the first Tq − Tk rows see no key (bottom-right alignment); 70 rows span two work-groups.
        var kernel = TestKernels.All.First(k => k.Mask == AttentionMask.Causal && k.HasLogSumExp);
        var problem = new Reference.AttentionProblem(2, 70, 5, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, device, new Random(AttentionHarness.RunSeed));
        Assert.Null(check.Defect);
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
    }

    [SkippableFact]
    public void Empty_key_sequence_gives_zeros()
    {
        var device = OpenClTestDevice.GetOrSkip();
        var kernel = TestKernels.All.First(k => k.Mask == AttentionMask.None && k.HasLogSumExp);
        var problem = new Reference.AttentionProblem(1, 9, 0, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = AttentionHarness.Run(kernel, problem, device, new Random(AttentionHarness.RunSeed));
        Assert.Null(check.Defect);
    }
}
