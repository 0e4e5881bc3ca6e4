using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>CpuOps.SqueezeExcitation against the fp64 reference.</summary>
public sealed unsafe class SqueezeExcitationOpTests
{
    public static IEnumerable<object[]> Seeds() => OpsCheck.Seeds(16, salt: 5);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void SqueezeExcitation_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 5), channels = OpsCheck.Size(random, 130), reduced = OpsCheck.Size(random, 33);
        int length = random.Next(4) == 0 ? random.Next(200, 1200) : OpsCheck.Size(random, 50); // long rows are split into chunks
        var x = RandomData.Uniform(random, batch * length * channels, 2f);
        var w1 = RandomData.Uniform(random, reduced * channels, 3f / MathF.Sqrt(channels));
        var b1 = random.Next(2) == 0 ? null : RandomData.Uniform(random, reduced);
        var w2 = RandomData.Uniform(random, channels * reduced, 3f / MathF.Sqrt(reduced));
        var b2 = random.Next(2) == 0 ? null : RandomData.Uniform(random, channels);
        var expected = ReferenceOps.SqueezeExcitation(x, batch, length, channels, w1, b1, reduced, w2, b2);
        bool inPlace = random.Next(2) == 0;
        var y = inPlace ? x : OpsCheck.Poisoned(x.Length);
        fixed (float* px = x, pw1 = w1, pb1 = b1, pw2 = w2, pb2 = b2, py = y)
            CpuOps.SqueezeExcitation(px, batch, length, channels, pw1, pb1, reduced, pw2, pb2, py);
        OpsCheck.Close(y, expected, $"seed={seed} B={batch} T={length} C={channels} R={reduced} inPlace={inPlace}");
    }
}
