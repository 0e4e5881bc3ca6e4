using Attention.Kernels.Tests.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>fp16/bf16 device-C kernels (vload_half/vstore_half_rte, bf16 bit operations) on a real OpenCL driver against the fp64 reference.</summary>
public sealed class OpenClStorageNumericsTests(ITestOutputHelper log)
{
    public const int Configurations = 18;

    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, Configurations).Select(i => new object[] { i % StorageKernels.All.Length, AttentionHarness.RunSeed + 1299709 + i });

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference_within_storage_precision(int kernelIndex, int seed)
    {
        var device = OpenClTestDevice.GetOrSkip();
        var kernel = StorageKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = kernel.RandomProblem(random);
        var check = kernel.Check(problem, device, random);
        log.WriteLine($"{kernel.Name} on {device.Name} seed={seed}: {check} (tolerance {kernel.Tolerance:E2})");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= kernel.Tolerance, $"{kernel.Name} seed={seed}: {check}, tolerance {kernel.Tolerance:E2}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(4)]
    public void Rows_that_see_no_key_are_zero_and_lse_is_negative_infinity(int kernelIndex)
    {
        var device = OpenClTestDevice.GetOrSkip();
        var kernel = StorageKernels.All[kernelIndex];
        var problem = new Reference.AttentionProblem(2, 70, 5, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = kernel.Check(problem, device, new Random(AttentionHarness.RunSeed));
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= kernel.Tolerance, check.ToString());
    }
}
