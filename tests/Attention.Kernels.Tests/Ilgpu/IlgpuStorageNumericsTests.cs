using Attention.Kernels.Tests.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// fp16 and bf16 kernels through ILGPU (reading and writing 16-bit storage directly, fp32 inside) against the fp64
/// reference from the rounded inputs, within the storage bound of <see cref="StorageKernelCase.Tolerance"/>.
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

    [Fact]
    public void Measured_error_is_near_the_storage_rounding_not_far_below_it()
    {
        // An output that was never rounded to 16 bits would be ~1e-7 off; one rounded twice or accumulated in 16 bits, several u.
        foreach (var kernel in new[] { StorageKernels.All[0], StorageKernels.All[3] })
        {
            var problem = new Reference.AttentionProblem(1, 61, 73, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
                kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
            var check = kernel.Check(problem, IlgpuTestDevice.Instance, new Random(12345));
            double u = kernel.Storage == "fp16" ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8);
            log.WriteLine($"{kernel.Name}: {check}; error / u = {check.OutputError / u:F3}");
            Assert.InRange(check.OutputError, u / 20, kernel.Tolerance);
        }
    }
}
