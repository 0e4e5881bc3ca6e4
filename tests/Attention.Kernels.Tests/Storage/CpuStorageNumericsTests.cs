using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Storage;

/// <summary>fp16 and bf16 kernels on the CPU backend (16-bit tensors read in place, widened in the tiles) against the fp64 reference.</summary>
public sealed class CpuStorageNumericsTests(ITestOutputHelper log)
{
    public const int Configurations = 36;

    public static IEnumerable<object[]> Cases() =>
        Enumerable.Range(0, Configurations).Select(i => new object[] { i % StorageKernels.All.Length, AttentionHarness.RunSeed + 104729 + i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Random_problem_matches_fp64_reference_within_storage_precision(int kernelIndex, int seed)
    {
        var kernel = StorageKernels.All[kernelIndex];
        var random = new Random(seed);
        var problem = kernel.RandomProblem(random);
        var check = kernel.Check(problem, Device.Cpu, random);
        log.WriteLine($"{kernel.Name} seed={seed}: {check} (tolerance {kernel.Tolerance:E2})");

        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= kernel.Tolerance, $"{kernel.Name} seed={seed}: {check}, tolerance {kernel.Tolerance:E2}");
        // The log-sum-exp is fp32 and computed from the same (rounded) inputs as the reference: the fp32 bound holds.
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void Rows_that_see_no_key_are_zero_and_lse_is_negative_infinity(int kernelIndex)
    {
        // Tq > Tk with a causal mask: the first Tq − Tk rows see no key (bottom-right alignment).
        var kernel = StorageKernels.All[kernelIndex];
        Assert.Equal(AttentionMask.Causal, kernel.Mask);
        var problem = new Reference.AttentionProblem(2, 70, 5, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = kernel.Check(problem, Device.Cpu, new Random(AttentionHarness.RunSeed));
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= kernel.Tolerance, check.ToString());
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void Measured_error_is_near_the_storage_rounding_not_far_below_it(string deviceName)
    {
        // If the output were not rounded at all (e.g. a float buffer reinterpreted) the error would be ~1e-7; if inputs were
        // rounded twice or accumulation were 16-bit it would be several u. One fixed mid-size problem per storage type.
        Device device = deviceName == "cpu" ? Device.Cpu : Ilgpu.IlgpuTestDevice.Instance;
        foreach (var kernel in new[] { StorageKernels.All[0], StorageKernels.All[3] })
        {
            var problem = new Reference.AttentionProblem(1, 61, 73, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
                kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
            var check = kernel.Check(problem, device, new Random(12345));
            double u = kernel.Storage == "fp16" ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8);
            log.WriteLine($"{kernel.Name} on {deviceName}: {check}; error / u = {check.OutputError / u:F3}");
            Assert.InRange(check.OutputError, u / 20, kernel.Tolerance);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Large_and_repeated_launches_of_several_sizes_stay_exact(int kernelIndex)
    {
        // The kernel reads the 16-bit tensors in place (no staging copy): a large problem, a smaller one, then a larger one,
        // each against the fp64 reference (per-worker K/V copies and block buffers are reused across launches and sizes).
        var kernel = StorageKernels.All[kernelIndex];
        int perToken = kernel.Heads * kernel.HeadDim;
        foreach (int tokens in new[] { 150_001, 9_001, 260_001 })
        {
            const int length = 97; // short rows keep the fp64 reference cheap: the batch makes the size
            int batch = tokens / (length * perToken) + 1;
            var problem = new Reference.AttentionProblem(batch, length, length + 2, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
                kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
            var check = kernel.Check(problem, Device.Cpu, new Random(AttentionHarness.RunSeed + batch));
            log.WriteLine($"{kernel.Name} B={batch}: {check}");
            Assert.True(check.Defect is null, check.ToString());
            Assert.True(check.OutputError <= kernel.Tolerance, check.ToString());
        }
    }

    [Theory]
    [InlineData(0, 1, 700)]
    [InlineData(2, 3, 333)]
    [InlineData(3, 4, 1001)]
    [InlineData(4, 2, 257)]
    [InlineData(5, 1, 95)]
    [InlineData(6, 2, 517)]
    [InlineData(6, 1, 1)]
    [InlineData(0, 1, 4099)] // thousands of keys: split into parts and merged (split-K)
    [InlineData(1, 3, 2901)]
    [InlineData(2, 2, 3333)]
    [InlineData(4, 4, 2049)]
    [InlineData(6, 1, 5001)]
    [InlineData(7, 1, 3001)] // grouped-query heads sharing each K row (DotLanesShared), 16-bit, with vector and scalar tails
    [InlineData(7, 3, 129)]
    public void Decode_rows_read_16_bit_keys_and_values_in_place(int kernelIndex, int queries, int keys)
    {
        // Tq ≤ RowModeMaxQueries: the row path widens K and V in registers (odd head dims take the scalar tail).
        var kernel = StorageKernels.All[kernelIndex];
        var problem = new Reference.AttentionProblem(3, queries, keys, kernel.Heads, kernel.KvHeads, kernel.HeadDim,
            kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var check = kernel.Check(problem, Device.Cpu, new Random(AttentionHarness.RunSeed + keys));
        log.WriteLine($"{kernel.Name} Tq={queries} Tk={keys}: {check}");
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= kernel.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }
}
