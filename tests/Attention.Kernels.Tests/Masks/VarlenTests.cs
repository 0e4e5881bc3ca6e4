using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Masks;

/// <summary>
/// Packed variable-length batches (queryOffsets/keyOffsets, FlashAttention's varlen) against the fp64 reference run on
/// each sequence alone, on the CPU backend and ILGPU's CPU accelerator: random odd lengths (empty sequences included),
/// self and cross attention, outputs poisoned with NaN.
/// </summary>
public sealed class VarlenTests(ITestOutputHelper log)
{
    private const int CpuMaxLength = 160;

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * VarlenKernels.All.Length).Select(i => new object[] { i % VarlenKernels.All.Length, AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(4, 9049);

    public static IEnumerable<object[]> IlgpuCases() => Cases(2, 6133);

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    /// <summary>Random sequence lengths: 1–4 sequences, each 0..max (often 0, 1 or a tile edge), keys equal to queries half the time.</summary>
    private static (int[] Queries, int[] Keys) RandomLengths(Random random, int max)
    {
        int[] interesting = [0, 1, 2, 31, 63, 64, 65, 97];
        int Length() => random.Next(3) == 0 ? Math.Min(max, interesting[random.Next(interesting.Length)]) : random.Next(max + 1);
        int batch = random.Next(1, 5);
        int[] queries = [.. Enumerable.Range(0, batch).Select(_ => Length())];
        int[] keys = random.Next(2) == 0 ? queries : [.. Enumerable.Range(0, batch).Select(_ => Length())];
        return (queries, keys);
    }

    private static int[] Offsets(int[] lengths)
    {
        var offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++)
            offsets[b + 1] = offsets[b] + lengths[b];
        return offsets;
    }

    /// <summary>The fp64 reference: each sequence alone as a batch of one (modifiers get its index as batch), scattered into the packed output and the [H, TotalQ] log-sum-exp.</summary>
    private static (double[] Output, double[] Lse) Reference(KernelCase kernel, int[] queryOffsets, int[] keyOffsets, float[] q, float[] k, float[] v)
    {
        int rowQ = kernel.Heads * kernel.HeadDim, rowK = kernel.KvHeads * kernel.HeadDim, totalQ = queryOffsets[^1];
        var output = new double[totalQ * rowQ];
        var lse = new double[kernel.Heads * totalQ];
        for (int b = 0; b + 1 < queryOffsets.Length; b++)
        {
            int tq = queryOffsets[b + 1] - queryOffsets[b], tk = keyOffsets[b + 1] - keyOffsets[b], sequence = b;
            var p = new AttentionProblem(1, tq, tk, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, TensorLayout.BTHD)
            {
                ScoreMod = kernel.ScoreMod is { } s ? (x, _, h, i, j) => s(x, sequence, h, i, j) : null,
                MaskMod = kernel.MaskMod is { } m ? (_, h, i, j) => m(sequence, h, i, j) : null,
            };
            var (o, l) = ReferenceAttention.Compute(p, q[(queryOffsets[b] * rowQ)..(queryOffsets[b + 1] * rowQ)],
                k[(keyOffsets[b] * rowK)..(keyOffsets[b + 1] * rowK)], v[(keyOffsets[b] * rowK)..(keyOffsets[b + 1] * rowK)]);
            o.CopyTo(output, queryOffsets[b] * rowQ);
            for (int h = 0; h < kernel.Heads; h++)
            for (int i = 0; i < tq; i++)
                lse[h * totalQ + queryOffsets[b] + i] = l[h * tq + i];
        }
        return (output, lse);
    }

    private void RunAndCheck(VarlenCase varlen, int[] queryLengths, int[] keyLengths, Device device, Random random)
    {
        var kernel = varlen.Kernel;
        int[] queryOffsets = Offsets(queryLengths), keyOffsets = Offsets(keyLengths);
        int totalQ = queryOffsets[^1], totalK = keyOffsets[^1];
        float[] q = RandomData.Uniform(random, totalQ * kernel.Heads * kernel.HeadDim, 2f);
        float[] k = RandomData.Uniform(random, totalK * kernel.KvHeads * kernel.HeadDim, 2f);
        float[] v = RandomData.Uniform(random, totalK * kernel.KvHeads * kernel.HeadDim);
        var (expected, expectedLse) = Reference(kernel, queryOffsets, keyOffsets, q, k, v);

        using var qt = Tensor.FromArray<float>(device, q, totalQ, kernel.Heads, kernel.HeadDim);
        using var kt = Tensor.FromArray<float>(device, k, totalK, kernel.KvHeads, kernel.HeadDim);
        using var vt = Tensor.FromArray<float>(device, v, totalK, kernel.KvHeads, kernel.HeadDim);
        using var qo = Tensor.FromArray<int>(device, queryOffsets, queryOffsets.Length);
        using var ko = Tensor.FromArray<int>(device, keyOffsets, keyOffsets.Length);
        using var ot = Tensor.Create<float>(device, totalQ, kernel.Heads, kernel.HeadDim);
        using var lt = kernel.HasLogSumExp ? Tensor.Create<float>(device, kernel.Heads, totalQ) : null;
        ot.Fill(float.NaN);
        lt?.Fill(float.NaN);
        varlen.Run(qt, kt, vt, ot, lt, qo, ko);
        device.Synchronize();
        float[] output = ot.ToArray();
        float[]? lse = lt?.ToArray();

        string what = $"{varlen} on {device}: queries [{string.Join(",", queryLengths)}] keys [{string.Join(",", keyLengths)}]";
        double error = Accuracy.RelativeError(output, expected);
        log.WriteLine($"{what}: ‖out−ref‖/‖ref‖ = {error:E2}");
        Assert.True(output.All(float.IsFinite), $"{what}: {output.Count(x => !float.IsFinite(x))} output elements not finite");
        Assert.True(error <= AttentionHarness.Tolerance, $"{what}: error {error:E2}");
        // Rows that see no key: exactly zero, and −∞ log-sum-exp.
        for (int h = 0; h < kernel.Heads; h++)
        for (int t = 0; t < totalQ; t++)
        {
            bool empty = double.IsNegativeInfinity(expectedLse[h * totalQ + t]);
            if (empty)
                for (int d = 0; d < kernel.HeadDim; d++)
                    Assert.True(output[(t * kernel.Heads + h) * kernel.HeadDim + d] == 0f, $"{what}: row {t} head {h} sees no key but is not zero");
            if (lse is null)
                continue;
            float got = lse[h * totalQ + t];
            if (empty)
                Assert.True(float.IsNegativeInfinity(got), $"{what}: lse[{h}, {t}] = {got}, expected −∞");
            else
            {
                double want = expectedLse[h * totalQ + t];
                Assert.True(Math.Abs(got - want) / Math.Max(1, Math.Abs(want)) <= AttentionHarness.Tolerance, $"{what}: lse[{h}, {t}] = {got}, expected {want}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_sequences_match_fp64_reference(int kernelIndex, int seed)
    {
        var random = new Random(seed);
        var (queries, keys) = RandomLengths(random, CpuMaxLength);
        RunAndCheck(VarlenKernels.All[kernelIndex], queries, keys, Device.Cpu, random);
    }

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_sequences_match_fp64_reference(int kernelIndex, int seed)
    {
        var random = new Random(seed);
        var (queries, keys) = RandomLengths(random, IlgpuTestDevice.MaxLength);
        RunAndCheck(VarlenKernels.All[kernelIndex], queries, keys, IlgpuTestDevice.Instance, random);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Empty_sequences_and_unequal_lengths_in_one_batch(string device)
    {
        // An empty sequence, one with queries and no keys, Tq > Tk (bottom-right hides the first rows), Tq < Tk, a long one.
        foreach (var varlen in VarlenKernels.All)
            RunAndCheck(varlen, [0, 5, 41, 7, 70], [3, 0, 17, 66, 70], DeviceNamed(device), new Random(AttentionHarness.RunSeed));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Decode_lengths_take_the_row_path(int longest)
    {
        // Every sequence has at most RowModeMaxQueries queries: a kernel without modifiers runs per row.
        foreach (var varlen in VarlenKernels.All)
            RunAndCheck(varlen, [longest, 0, 1, longest], [130, 7, 0, 64], Device.Cpu, new Random(AttentionHarness.RunSeed + longest));
    }

    [Fact]
    public void Long_decode_sequences_split_their_keys()
    {
        // Thousands of keys over few row items: each row's keys are cut into parts and merged (split-K); the others stay short.
        foreach (var varlen in VarlenKernels.All)
            RunAndCheck(varlen, [2, 0, 1, 3], [2101, 7, 0, 1501], Device.Cpu, new Random(AttentionHarness.RunSeed));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Bad_offsets_throw_naming_the_argument(string name)
    {
        var device = DeviceNamed(name);
        using var q = Tensor.Create<float>(device, 10, 4, 16);
        using var k = Tensor.Create<float>(device, 12, 2, 16);
        using var v = Tensor.Create<float>(device, 12, 2, 16);
        using var o = Tensor.Create<float>(device, 10, 4, 16);
        using var lse = Tensor.Create<float>(device, 4, 10);
        using var good = Tensor.FromArray<int>(device, [0, 4, 12], 3);
        using var queries = Tensor.FromArray<int>(device, [0, 3, 10], 3);
        ArgumentException Throws(Tensor<int> qo, Tensor<int> ko) =>
            Assert.ThrowsAny<ArgumentException>(() => VarlenKernels.VarlenNone(q, k, v, o, lse, qo, ko));

        using var notZero = Tensor.FromArray<int>(device, [1, 3, 10], 3);
        Assert.Contains("queryOffsets[0] = 1", Throws(notZero, good).Message);
        using var decreasing = Tensor.FromArray<int>(device, [0, 6, 3, 10], 4);
        Assert.Contains("queryOffsets[2] = 3 is less than queryOffsets[1] = 6", Throws(decreasing, good).Message);
        using var short_ = Tensor.FromArray<int>(device, [0, 4, 11], 3);
        var error = Throws(queries, short_);
        Assert.Equal("keyOffsets", error.ParamName);
        Assert.Contains("must equal 12 (TotalK of k [12, 2, 16])", error.Message);
        using var otherBatch = Tensor.FromArray<int>(device, [0, 12], 2);
        Assert.Contains("[B + 1] = [3], but has [2]", Throws(queries, otherBatch).Message);
        using var wrongLse = Tensor.Create<float>(device, 4, 9);
        Assert.Equal("logSumExp", Assert.Throws<ArgumentException>(() => VarlenKernels.VarlenNone(q, k, v, o, wrongLse, queries, good)).ParamName);
    }

    [Fact]
    public void A_launch_whose_offsets_do_not_fit_the_kernel_throws()
    {
        // The contract: offsets exactly for a varlen kernel, never with key padding (AttentionLaunch.ExpectInputsFor).
        using var q = Tensor.Create<float>(Device.Cpu, 4, 4, 16);
        using var offsets = Tensor.FromArray<int>(Device.Cpu, [0, 4], 2);
        var plain = new AttentionLaunch<float>(q, q, q, q, null, 1, 4, 4) { QueryOffsets = offsets, KeyOffsets = offsets };
        Assert.Throws<ArgumentException>(() => Device.Cpu.RunAttention<KeyPaddingKernels.PaddedNoneKernel, float>(plain));
        var missing = new AttentionLaunch<float>(q, q, q, q, null, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => Device.Cpu.RunAttention<VarlenKernels.VarlenNoneKernel, float>(missing));
        var padded = missing with { QueryOffsets = offsets, KeyOffsets = offsets, KeyLengths = offsets };
        Assert.Throws<ArgumentException>(() => Device.Cpu.RunAttention<VarlenKernels.VarlenNoneKernel, float>(padded));
    }
}
