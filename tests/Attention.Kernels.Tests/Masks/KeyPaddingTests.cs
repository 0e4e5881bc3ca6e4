using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Masks;

/// <summary>
/// Key padding (a declaration's <c>keyLengths</c>, AttentionLaunch.KeyLengths) against the fp64 reference, on the CPU
/// backend and ILGPU's CPU accelerator: random odd sizes and lengths (zero and full included), outputs poisoned with NaN,
/// and K/V past each length poisoned with NaN too, so a kernel that reads a padded key fails.
/// </summary>
public sealed class KeyPaddingTests(ITestOutputHelper log)
{
    private const int CpuMaxLength = 200;

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * KeyPaddingKernels.All.Length).Select(i => new object[] { i % KeyPaddingKernels.All.Length, AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(4, 3571);

    public static IEnumerable<object[]> IlgpuCases() => Cases(2, 7411);

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    /// <summary>Random lengths per batch entry: often 0, 1 or Tk, otherwise anything in 0..Tk.</summary>
    private static int[] RandomLengths(Random random, int batch, int keyLength) =>
        [.. Enumerable.Range(0, batch).Select(_ => random.Next(5) switch
        {
            0 => 0,
            1 => keyLength,
            2 => Math.Min(1, keyLength),
            _ => random.Next(keyLength + 1),
        })];

    private static AttentionProblem Problem(PaddedCase padded, int batch, int queryLength, int keyLength, int[] lengths)
    {
        var kernel = padded.Kernel;
        return new AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
        { ScoreMod = kernel.ScoreMod, MaskMod = kernel.MaskMod, KeyLengths = lengths };
    }

    /// <summary>
    /// Fresh random q, k, v; the reference on them; then K and V rows past each batch entry's length set to NaN, outputs
    /// poisoned with NaN, and the kernel run on <paramref name="device"/>.
    /// </summary>
    private AttentionCheck Run(PaddedCase padded, AttentionProblem p, Device device, Random random)
    {
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);
        for (int b = 0; b < p.Batch; b++)
        for (int j = p.KeyLengths![b]; j < p.KeyLength; j++)
        for (int h = 0; h < p.KvHeads; h++)
        for (int d = 0; d < p.HeadDim; d++)
        {
            long at = p.Index(b, j, h, d, p.KvHeads, p.KeyLength);
            k[at] = v[at] = float.NaN; // padding: never read
        }

        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var lengths = Tensor.FromArray<int>(device, p.KeyLengths, p.Batch);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = padded.Kernel.HasLogSumExp ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        ot.Fill(float.NaN);
        lt?.Fill(float.NaN);
        padded.Run(qt, kt, vt, ot, lt, lengths);
        device.Synchronize();
        var check = AttentionHarness.Evaluate(p, ot.ToArray(), lt?.ToArray(), expected, expectedLse);
        log.WriteLine($"{padded} on {device}: {check}");
        return check;
    }

    private static void AssertGood(AttentionCheck check)
    {
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_lengths_match_fp64_reference(int kernelIndex, int seed)
    {
        var padded = KeyPaddingKernels.All[kernelIndex];
        var random = new Random(seed);
        var shape = AttentionHarness.RandomProblem(padded.Kernel, random, CpuMaxLength);
        AssertGood(Run(padded, Problem(padded, shape.Batch, shape.QueryLength, shape.KeyLength, RandomLengths(random, shape.Batch, shape.KeyLength)), Device.Cpu, random));
    }

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_lengths_match_fp64_reference(int kernelIndex, int seed)
    {
        var padded = KeyPaddingKernels.All[kernelIndex];
        var random = new Random(seed);
        var shape = AttentionHarness.RandomProblem(padded.Kernel, random, IlgpuTestDevice.MaxLength);
        AssertGood(Run(padded, Problem(padded, shape.Batch, shape.QueryLength, shape.KeyLength, RandomLengths(random, shape.Batch, shape.KeyLength)),
            IlgpuTestDevice.Instance, random));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Zero_lengths_give_zero_rows_with_lse_negative_infinity_and_full_lengths_equal_no_padding(string device)
    {
        // Entry 0 has no key at all, entry 1 all of them, entry 2 an odd cut; every kernel, Tq ≠ Tk.
        foreach (var padded in KeyPaddingKernels.All)
        {
            var check = Run(padded, Problem(padded, batch: 3, queryLength: 45, keyLength: 71, [0, 71, 38]), DeviceNamed(device), new Random(AttentionHarness.RunSeed));
            AssertGood(check);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Decode_lengths_take_the_row_path_and_honour_the_padding(int queryLength)
    {
        // At most RowModeMaxQueries queries, a kernel without modifiers runs per row (AttendRow): it must cut the keys too.
        foreach (var padded in KeyPaddingKernels.All)
            AssertGood(Run(padded, Problem(padded, batch: 4, queryLength, keyLength: 157, [157, 0, 1, 90]), Device.Cpu, new Random(AttentionHarness.RunSeed + queryLength)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Long_decode_rows_split_their_keys_and_honour_the_padding(int queryLength)
    {
        // Thousands of keys over few row items: the row path cuts each row's keys into parts and merges them; lengths 0
        // and 1 leave every part or all but one empty.
        foreach (var padded in KeyPaddingKernels.All)
            AssertGood(Run(padded, Problem(padded, batch: 4, queryLength, keyLength: 3001, [3001, 0, 1, 1500]), Device.Cpu, new Random(AttentionHarness.RunSeed + queryLength)));
    }

    [Fact]
    public void Attention_weights_of_a_padded_launch_match_the_reference_with_realKeys()
    {
        var padded = KeyPaddingKernels.All.Single(c => c.Kernel.Name == nameof(KeyPaddingKernels.PaddedCausalBhtd));
        var random = new Random(AttentionHarness.RunSeed);
        var p = Problem(padded, batch: 2, queryLength: 33, keyLength: 50, [50, 21]);
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f), k = RandomData.Uniform(random, p.KeyElements, 2f), v = RandomData.Uniform(random, p.KeyElements);
        using var qt = Tensor.FromArray<float>(Device.Cpu, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(Device.Cpu, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(Device.Cpu, v, p.KeyShape);
        using var ot = Tensor.Create<float>(Device.Cpu, p.QueryShape);
        using var lt = Tensor.Create<float>(Device.Cpu, p.Batch, p.Heads, p.QueryLength);
        using var lengths = Tensor.FromArray<int>(Device.Cpu, p.KeyLengths!, 2);
        padded.Run(qt, kt, vt, ot, lt, lengths);
        double[] expected = ReferenceAttention.Weights(p, q, k, 1, 1);
        var weights = AttentionWeights.Slice<KeyPaddingKernels.PaddedCausalBhtdKernel>(qt, kt, lt, 1, 1, realKeys: 21);
        for (int i = 0; i < p.QueryLength; i++)
        for (int j = 0; j < p.KeyLength; j++)
            Assert.True(Math.Abs(weights[i, j] - expected[i * p.KeyLength + j]) <= 1e-5, $"weight [{i}, {j}] = {weights[i, j]}, expected {expected[i * p.KeyLength + j]}");
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionWeights.Slice<KeyPaddingKernels.PaddedCausalBhtdKernel>(qt, kt, lt, 1, 1, realKeys: 51));
    }

    [Fact]
    public void Attention_weights_refuse_varlen_and_mask_tensor_kernels()
    {
        using var q = Tensor.Create<float>(Device.Cpu, 1, 3, 4, 16);
        using var lse = Tensor.Create<float>(Device.Cpu, 1, 4, 3);
        Assert.Throws<NotSupportedException>(() => AttentionWeights.Slice<VarlenKernels.VarlenNoneKernel>(q, q, lse, 0, 0));
        Assert.Throws<NotSupportedException>(() => AttentionWeights.Slice<MaskTensorKernels.BooleanNoneKernel>(q, q, lse, 0, 0));
    }

    [Fact]
    public void Causal_alignment_is_placed_on_the_full_key_length_before_the_padding()
    {
        // Bottom-right causal with Tq = 4, Tk = 10, length 6: query i sees keys j ≤ i + 6 and j < 6, so query 0 sees keys 0–5
        // (aligned on the padded length it would see 0–2). The reference encodes the documented rule; this pins it.
        var p = new AttentionProblem(1, 4, 10, 1, 1, 4, AttentionMask.Causal, 0, 0.5, TensorLayout.BTHD) { KeyLengths = [6] };
        Assert.Equal([true, true, true, true, true, true, false, false, false, false],
            Enumerable.Range(0, 10).Select(j => ReferenceAttention.Visible(p, 0, 0, 0, j)));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Lengths_out_of_range_or_of_the_wrong_shape_throw_naming_keyLengths(string name)
    {
        var device = DeviceNamed(name);
        using var q = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var k = Tensor.Create<float>(device, 2, 9, 2, 16);
        using var v = Tensor.Create<float>(device, 2, 9, 2, 16);
        using var o = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var lse = Tensor.Create<float>(device, 2, 4, 5);
        using var tooLong = Tensor.FromArray<int>(device, [3, 10], 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => KeyPaddingKernels.PaddedNone(q, k, v, o, lse, tooLong));
        Assert.Equal("keyLengths", error.ParamName);
        Assert.Contains("keyLengths[1] = 10 is outside 0..9", error.Message);
        Assert.Contains("[2, 9, 2, 16]", error.Message);
        using var negative = Tensor.FromArray<int>(device, [-1, 3], 2);
        Assert.Contains("keyLengths[0] = -1", Assert.Throws<ArgumentOutOfRangeException>(() => KeyPaddingKernels.PaddedNone(q, k, v, o, lse, negative)).Message);
        using var wrongShape = Tensor.FromArray<int>(device, [1, 2, 3], 3);
        var shapeError = Assert.Throws<ArgumentException>(() => KeyPaddingKernels.PaddedNone(q, k, v, o, lse, wrongShape));
        Assert.Equal("keyLengths", shapeError.ParamName);
        Assert.Contains("[B] = [2], but has [3]", shapeError.Message);
    }
}
