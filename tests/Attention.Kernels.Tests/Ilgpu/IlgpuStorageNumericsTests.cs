using Attention.Kernels.Tests.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// fp16 and bf16 kernels through ILGPU (reading and writing 16-bit storage directly, fp32 inside) against the fp64
/// reference from the rounded inputs, within the storage bound of <see cref="StorageKernelCase.Tolerance"/> (and not far
/// below it: <see cref="CpuStorageNumericsTests.Measured_error_is_near_the_storage_rounding_not_far_below_it"/> runs on both devices).
/// </summary>
public sealed class IlgpuStorageNumericsTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, 2 * StorageKernels.All.Length).Select(i => new object[] { i % StorageKernels.All.Length, AttentionHarness.RunSeed + 32452843 + i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference_within_storage_precision(int kernelIndex, int seed)
    {
        var kernel = StorageKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = kernel.RandomProblem(random, IlgpuTestDevice.MaxLength);
        var check = kernel.Check(problem, IlgpuTestDevice.Instance, random);
        log.WriteLine($"{kernel.Name} seed={seed}: {check} (tolerance {kernel.Tolerance:E2})");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= kernel.Tolerance, $"{kernel.Name} seed={seed}: {check}, tolerance {kernel.Tolerance:E2}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }
}
