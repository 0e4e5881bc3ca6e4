using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// Kernels with score and mask modifiers against the fp64 reference (which applies the same modifiers in fp64), on the
/// CPU backend and on ILGPU's CPU accelerator: random odd sizes, outputs poisoned with NaN, rows that see no key.
/// </summary>
public sealed class ModNumericsTests(ITestOutputHelper log)
{
    /// <summary>The CPU backend's longest sequence here (the fp64 reference is the slow part).</summary>
    private const int CpuMaxLength = 200;

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * ModKernels.All.Length).Select(i => new object[] { i % ModKernels.All.Length, AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(4, 7919);

    public static IEnumerable<object[]> IlgpuCases() => Cases(2, 104729);

    private void AssertWithinTolerance(KernelCase kernel, AttentionProblem problem, Device device, int seed)
    {
        var check = AttentionHarness.Run(kernel, problem, device, new Random(seed));
        log.WriteLine($"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.Defect is null, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, $"{kernel.Name} seed={seed}: {check}");
    }

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_problem_matches_fp64_reference(int kernelIndex, int seed)
    {
        var kernel = ModKernels.All[kernelIndex];
        var problem = AttentionHarness.RandomProblem(kernel, new Random(seed), CpuMaxLength);
        AssertWithinTolerance(kernel, problem, Device.Cpu, seed);
    }

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_problem_matches_fp64_reference(int kernelIndex, int seed)
    {
        var kernel = ModKernels.All[kernelIndex];
        var problem = AttentionHarness.RandomProblem(kernel, new Random(seed), IlgpuTestDevice.MaxLength);
        AssertWithinTolerance(kernel, problem, IlgpuTestDevice.Instance, seed);
    }

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    [Theory]
    [MemberData(nameof(Devices))]
    public void Rows_the_mask_mod_hides_from_every_key_are_zero_with_lse_negative_infinity(string device)
    {
        // Documents of 37: with 90 queries and 30 keys, queries 37–89 (documents 1 and 2) have no key of their document.
        var kernel = ModKernels.All.Single(k => k.Name == nameof(ModKernels.DocumentMasked));
        var problem = Problem(kernel, batch: 2, queryLength: 90, keyLength: 30);
        AssertWithinTolerance(kernel, problem, DeviceNamed(device), AttentionHarness.RunSeed);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Both_mods_with_the_causal_mask_leave_rows_without_keys_empty(string device)
    {
        // Causal bottom-right with Tq > Tk hides the first rows; documents and ALiBi on top.
        var kernel = ModKernels.All.Single(k => k.Name == nameof(ModKernels.AlibiDocumentsGqaBhtd));
        AssertWithinTolerance(kernel, Problem(kernel, batch: 1, queryLength: 83, keyLength: 41), DeviceNamed(device), AttentionHarness.RunSeed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Decode_lengths_run_in_tiles_and_apply_the_mods(int queryLength)
    {
        // At most RowModeMaxQueries queries a plain kernel takes the row path; a kernel with modifiers always tiles.
        foreach (var kernel in ModKernels.All)
            AssertWithinTolerance(kernel, Problem(kernel, batch: 2, queryLength, keyLength: 157), Device.Cpu, AttentionHarness.RunSeed + queryLength);
    }

    [Fact]
    public void Mask_mod_causal_equals_the_built_in_top_left_causal_mask()
    {
        // The same inputs through CausalByMaskMod (Mask = None, MaskMod key ≤ query) and a problem with the built-in
        // CausalTopLeft mask and no modifier: the reference agrees, so the kernel must match both.
        var kernel = ModKernels.All.Single(k => k.Name == nameof(ModKernels.CausalByMaskMod));
        var problem = Problem(kernel, batch: 2, queryLength: 71, keyLength: 133);
        var random = new Random(AttentionHarness.RunSeed);
        float[] q = RandomData.Uniform(random, problem.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, problem.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, problem.KeyElements);
        var builtIn = problem with { Mask = AttentionMask.CausalTopLeft, MaskMod = null };
        var (expected, expectedLse) = ReferenceAttention.Compute(builtIn, q, k, v);
        var (output, lse) = AttentionHarness.Launch(kernel, problem, Device.Cpu, q, k, v);
        var check = AttentionHarness.Evaluate(builtIn, output, lse, expected, expectedLse);
        log.WriteLine(check.ToString());
        Assert.Null(check.Defect);
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }

    [Fact]
    public void Kernels_report_their_mods_through_the_kernel_contract()
    {
        Assert.True(Contract<ModKernels.AlibiCausalKernel>.HasScoreMod);
        Assert.False(Contract<ModKernels.AlibiCausalKernel>.HasMaskMod);
        Assert.Equal(1f - 0.25f * 3, Contract<ModKernels.AlibiCausalKernel>.ScoreMod(1f, 0, 0, 5, 2));
        Assert.True(Contract<ModKernels.DocumentMaskedKernel>.HasMaskMod);
        Assert.False(Contract<ModKernels.DocumentMaskedKernel>.MaskMod(0, 0, 36, 37));
        Assert.False(Contract<TestKernels.D8_H4_Kv4_NoneKernel>.HasScoreMod);
        Assert.Equal(3.5f, Contract<TestKernels.D8_H4_Kv4_NoneKernel>.ScoreMod(3.5f, 0, 0, 0, 0));
        Assert.True(Contract<TestKernels.D8_H4_Kv4_NoneKernel>.MaskMod(0, 0, 0, 9));
    }

    [Fact]
    public void Built_in_alibi_uses_Press_slopes_and_soft_capping_bends_the_score()
    {
        // 6 heads: 2^(−2), 2^(−4), 2^(−6), 2^(−8) from 4 heads, then 2^(−1), 2^(−3) interleaved from 8 (Press's get_slopes).
        double[] expected = [0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125];
        Assert.Equal(expected, ModKernels.PressSlopes(6));
        for (int h = 0; h < 6; h++)
            Assert.Equal(1f + (float)expected[h] * (2 - 5), Contract<ModKernels.AlibiBuiltInKernel>.ScoreMod(1f, 0, h, 5, 2), 6);
        Assert.True(Contract<ModKernels.SoftCapBuiltInKernel>.HasScoreMod);
        Assert.Equal(1.5f * MathF.Tanh(10f / 1.5f), Contract<ModKernels.SoftCapBuiltInKernel>.ScoreMod(10f, 0, 0, 0, 0), 6);
    }

    /// <summary>Reads a kernel struct's modifiers the way the backends do (static abstract members).</summary>
    private static class Contract<TKernel> where TKernel : struct, IAttentionKernel
    {
        public static bool HasScoreMod => TKernel.HasScoreMod;
        public static bool HasMaskMod => TKernel.HasMaskMod;
        public static float ScoreMod(float s, int b, int h, int i, int j) => TKernel.ScoreMod(s, b, h, i, j, default(ModTensors<NoModTensor<int>, NoModTensor<float>>));
        public static bool MaskMod(int b, int h, int i, int j) => TKernel.MaskMod(b, h, i, j, default(ModTensors<NoModTensor<int>, NoModTensor<float>>));
    }

    private static AttentionProblem Problem(KernelCase kernel, int batch, int queryLength, int keyLength) =>
        new AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
        { ScoreMod = kernel.ScoreMod, MaskMod = kernel.MaskMod };
}
