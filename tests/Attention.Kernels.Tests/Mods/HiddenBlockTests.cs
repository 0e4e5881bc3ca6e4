using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// A mask modifier that hides keys [960, 1920) from every query: whole key blocks on both backends, whose blocks start
/// at key 0 (960 is a multiple of the CPU backend's 64 keys a block and of the ILGPU kernel's 60 at D = 64).
/// </summary>
public static partial class HiddenBlockKernels
{
    public const int HoleStart = 960, HoleEnd = 1920;

    [ScaledDotProductAttention(HeadDim = 64, Heads = 2, MaskMod = nameof(OutsideHole))]
    public static partial void Holed(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static bool OutsideHole(int batch, int head, int query, int key) => key < HoleStart || key >= HoleEnd;

    public static readonly KernelCase Case =
        new(nameof(Holed), HoledKernel.HeadDim, HoledKernel.Heads, HoledKernel.KvHeads, HoledKernel.Mask, HoledKernel.Window,
            HoledKernel.Scale, HoledKernel.Layout, true, (q, k, v, o, l) => Holed(q, k, v, o, l!), HoledKernel.Cost)
        { MaskMod = OutsideHole };
}

/// <summary>
/// Block skipping, observed: keys and values of blocks the mask modifier hides from every query are NaN. A kernel that
/// stages and multiplies such a block turns its zero weights into NaN (0·NaN), one that skips it never reads them.
/// </summary>
public sealed class HiddenBlockTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    [Theory]
    [MemberData(nameof(Devices))]
    public void Blocks_hidden_from_every_query_are_never_read(string deviceName)
    {
        Device device = deviceName == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;
        var kernel = HiddenBlockKernels.Case;
        foreach (int block in new[] { Attention.Kernels.Cpu.FlashAttentionCpu.KeyBlock, Attention.Kernels.Ilgpu.Kernels.FlashAttention.BlockKeys(kernel.HeadDim) })
            Assert.True(HiddenBlockKernels.HoleStart % block == 0 && HiddenBlockKernels.HoleEnd % block == 0, $"the hole is not whole blocks of {block} keys");
        var random = new Random(AttentionHarness.RunSeed);
        int tq = 1 + random.Next(IlgpuTestDevice.MaxLength), tk = HiddenBlockKernels.HoleEnd + 1 + random.Next(70);
        var p = new AttentionProblem(2, tq, tk, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
        { MaskMod = kernel.MaskMod };
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v); // hidden keys do not count, whatever they hold

        for (int b = 0; b < p.Batch; b++)
        for (int j = HiddenBlockKernels.HoleStart; j < HiddenBlockKernels.HoleEnd; j++)
        for (int h = 0; h < p.KvHeads; h++)
        for (int d = 0; d < p.HeadDim; d++)
        {
            k[p.Index(b, j, h, d, p.KvHeads, p.KeyLength)] = float.NaN;
            v[p.Index(b, j, h, d, p.KvHeads, p.KeyLength)] = float.NaN;
        }
        var (output, lse) = AttentionHarness.Launch(kernel, p, device, q, k, v);
        var check = AttentionHarness.Evaluate(p, output, lse, expected, expectedLse);
        log.WriteLine($"{deviceName} Tq{tq} Tk{tk}: {check}");
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }
}
