using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Masks;

/// <summary>
/// PyTorch's attn_mask (a declaration's <c>attnMask</c>) against the fp64 reference, on the CPU backend and ILGPU's CPU
/// accelerator: boolean and additive masks of every broadcast shape PyTorch accepts ([Tk], [Tq, Tk], [H, Tq, Tk],
/// [B|1, H|1, Tq|1, Tk|1]), random odd sizes, fully masked rows, −∞ in additive masks, outputs poisoned with NaN.
/// </summary>
public sealed class MaskTensorTests(ITestOutputHelper log)
{
    private const int CpuMaxLength = 150;

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * MaskTensorKernels.All.Length).Select(i => new object[] { i % MaskTensorKernels.All.Length, AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(5, 4421);

    public static IEnumerable<object[]> IlgpuCases() => Cases(2, 8117);

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    /// <summary>A broadcastable mask shape for [B, H, Tq, Tk], drawn among the forms PyTorch accepts.</summary>
    private static int[] RandomShape(Random random, int b, int h, int tq, int tk) => random.Next(8) switch
    {
        0 => [tk],
        1 => [tq, tk],
        2 => [h, tq, tk],
        3 => [b, 1, tq, tk],
        4 => [1, h, tq, tk],
        5 => [b, 1, 1, tk],   // a key-padding mask
        6 => [1, 1, tq, 1],
        _ => [b, h, tq, tk],
    };

    /// <summary>The element (b, h, i, j) of a contiguous mask of <paramref name="shape"/>, broadcast the PyTorch way (written out, apart from MaskStrides).</summary>
    private static int At(int[] shape, int b, int h, int i, int j)
    {
        int[] index = [b, h, i, j];
        int offset = 0;
        for (int axis = 4 - shape.Length, at = 0; axis < 4; axis++, at++)
            offset = offset * shape[at] + (shape[at] == 1 ? 0 : index[axis]);
        return offset;
    }

    private void RunAndCheck(MaskedCase masked, AttentionProblem shape, int[] maskShape, Device device, Random random, bool allFalseRows = false)
    {
        var kernel = masked.Kernel;
        int elements = maskShape.Aggregate(1, (a, d) => a * d);
        bool[] booleans = [.. Enumerable.Range(0, elements).Select(_ => random.NextDouble() < 0.75)];
        if (allFalseRows && maskShape.Length >= 2 && maskShape[^2] > 1)
            for (int e = 0; e < elements; e++)
                if (e / maskShape[^1] % maskShape[^2] % 3 == 1) // every third query row sees nothing
                    booleans[e] = false;
        float[] additive = [.. Enumerable.Range(0, elements).Select(_ => random.Next(10) == 0 ? float.NegativeInfinity : (float)(random.NextDouble() * 4 - 2))];
        int[]? lengths = masked.HasKeyLengths ? [.. Enumerable.Range(0, shape.Batch).Select(_ => random.Next(shape.KeyLength + 1))] : null;
        var p = shape with
        {
            ScoreMod = kernel.ScoreMod,
            MaskMod = kernel.MaskMod,
            KeyLengths = lengths,
            BooleanMask = masked.Boolean ? (b, h, i, j) => booleans[At(maskShape, b, h, i, j)] : null,
            AdditiveMask = masked.Boolean ? null : (b, h, i, j) => additive[At(maskShape, b, h, i, j)],
        };

        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);

        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = kernel.HasLogSumExp ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        using var bm = masked.Boolean ? Tensor.FromArray<bool>(device, booleans, maskShape) : null;
        using var am = masked.Boolean ? null : Tensor.FromArray<float>(device, additive, maskShape);
        using var nt = lengths is null ? null : Tensor.FromArray<int>(device, lengths, lengths.Length);
        ot.Fill(float.NaN);
        lt?.Fill(float.NaN);
        masked.Run(qt, kt, vt, ot, lt, bm, am, nt);
        device.Synchronize();
        var check = AttentionHarness.Evaluate(p, ot.ToArray(), lt?.ToArray(), expected, expectedLse);
        log.WriteLine($"{masked} on {device}, mask {TensorShape.Format(maskShape)}: {check}");
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
        // Rows an additive −∞ or a boolean false empties entirely: zeros, never NaN (Evaluate checks NaN and the lse).
    }

    private AttentionProblem RandomShapeOf(MaskedCase masked, Random random, int maxLength) => AttentionHarness.RandomProblem(masked.Kernel, random, maxLength);

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_masks_match_fp64_reference(int kernelIndex, int seed)
    {
        var masked = MaskTensorKernels.All[kernelIndex];
        var random = new Random(seed);
        var p = RandomShapeOf(masked, random, CpuMaxLength);
        RunAndCheck(masked, p, RandomShape(random, p.Batch, p.Heads, p.QueryLength, p.KeyLength), Device.Cpu, random);
    }

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_masks_match_fp64_reference(int kernelIndex, int seed)
    {
        var masked = MaskTensorKernels.All[kernelIndex];
        var random = new Random(seed);
        var p = RandomShapeOf(masked, random, IlgpuTestDevice.MaxLength);
        RunAndCheck(masked, p, RandomShape(random, p.Batch, p.Heads, p.QueryLength, p.KeyLength), IlgpuTestDevice.Instance, random);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Fully_masked_rows_are_zero_with_lse_negative_infinity_and_every_shape_broadcasts(string device)
    {
        // Every third query row all false (boolean), or −∞ in about a tenth of the pairs (additive); every broadcast form.
        foreach (var masked in MaskTensorKernels.All)
        {
            var p = new AttentionProblem(2, 37, 45, masked.Kernel.Heads, masked.Kernel.KvHeads, masked.Kernel.HeadDim, masked.Kernel.Mask,
                masked.Kernel.Window, masked.Kernel.Scale, masked.Kernel.Layout);
            int[][] shapes = [[45], [37, 45], [p.Heads, 37, 45], [2, 1, 37, 45], [1, p.Heads, 37, 45], [2, 1, 1, 45], [1, 1, 37, 1], [2, p.Heads, 37, 45]];
            foreach (var shape in shapes)
                RunAndCheck(masked, p, shape, DeviceNamed(device), new Random(AttentionHarness.RunSeed), allFalseRows: true);
        }
    }

    [Fact]
    public void Decode_lengths_run_in_tiles_with_the_mask()
    {
        foreach (var masked in MaskTensorKernels.All)
        {
            var p = new AttentionProblem(3, 2, 131, masked.Kernel.Heads, masked.Kernel.KvHeads, masked.Kernel.HeadDim, masked.Kernel.Mask,
                masked.Kernel.Window, masked.Kernel.Scale, masked.Kernel.Layout);
            RunAndCheck(masked, p, [3, 1, 2, 131], Device.Cpu, new Random(AttentionHarness.RunSeed));
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void A_mask_that_does_not_broadcast_throws_naming_attnMask(string name)
    {
        var device = DeviceNamed(name);
        using var q = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var k = Tensor.Create<float>(device, 2, 9, 2, 16);
        using var o = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var lse = Tensor.Create<float>(device, 2, 4, 5);
        using var wrong = Tensor.Create<bool>(device, 2, 3, 5, 9);
        var error = Assert.Throws<ArgumentException>(() => MaskTensorKernels.BooleanNone(q, k, k, o, lse, wrong));
        Assert.Equal("attnMask", error.ParamName);
        Assert.Contains("[2, 3, 5, 9], which does not broadcast to the attention weights [B, H, Tq, Tk] = [2, 4, 5, 9]", error.Message);
        using var tooMany = Tensor.Create<bool>(device, 1, 2, 4, 5, 9);
        Assert.Equal("attnMask", Assert.Throws<ArgumentException>(() => MaskTensorKernels.BooleanNone(q, k, k, o, lse, tooMany)).ParamName);
    }

    [Fact]
    public void Mask_strides_follow_PyTorch_broadcasting()
    {
        Assert.Equal(new MaskStrides(0, 0, 9, 1), MaskStrides.Broadcast([5, 9], "m", 2, 4, 5, 9));
        Assert.Equal(new MaskStrides(9, 0, 0, 1), MaskStrides.Broadcast([2, 1, 1, 9], "m", 2, 4, 5, 9));
        Assert.Equal(new MaskStrides(0, 45, 9, 1), MaskStrides.Broadcast([4, 5, 9], "m", 2, 4, 5, 9));
        Assert.Equal(new MaskStrides(0, 0, 0, 1), MaskStrides.Broadcast([9], "m", 2, 4, 5, 9));
        Assert.Equal(new MaskStrides(180, 45, 9, 1), MaskStrides.Broadcast([2, 4, 5, 9], "m", 2, 4, 5, 9));
        Assert.Throws<ArgumentException>(() => MaskStrides.Broadcast([5, 8], "m", 2, 4, 5, 9));
    }
}
