using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>CpuOps.LayerNorm and CpuOps.RmsNorm against the fp64 reference.</summary>
public sealed unsafe class NormOpTests
{
    public static IEnumerable<object[]> Seeds() => OpsCheck.Seeds(16, salt: 2);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void LayerNorm_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int rows = OpsCheck.Size(random, 100), features = OpsCheck.Size(random, 600);
        var x = RandomData.Uniform(random, rows * features, 3f);
        for (int i = 0; i < x.Length; i++)
            x[i] += 2f; // a mean far from 0 exercises the two-pass variance
        var gamma = random.Next(3) == 0 ? null : RandomData.Uniform(random, features);
        var beta = random.Next(3) == 0 ? null : RandomData.Uniform(random, features);
        bool inPlace = random.Next(2) == 0;
        var expected = ReferenceOps.LayerNorm(x, rows, features, gamma, beta, 1e-5);
        var y = inPlace ? x : OpsCheck.Poisoned(x.Length);
        fixed (float* px = x, pg = gamma, pb = beta, py = y)
            CpuOps.LayerNorm(px, rows, features, pg, pb, 1e-5f, py);
        OpsCheck.Close(y, expected, $"seed={seed} rows={rows} features={features} inPlace={inPlace}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RmsNorm_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int rows = OpsCheck.Size(random, 100), features = OpsCheck.Size(random, 600);
        var x = RandomData.Uniform(random, rows * features, 3f);
        var gamma = random.Next(3) == 0 ? null : RandomData.Uniform(random, features);
        var expected = ReferenceOps.RmsNorm(x, rows, features, gamma, 1e-6);
        var y = OpsCheck.Poisoned(x.Length);
        fixed (float* px = x, pg = gamma, py = y)
            CpuOps.RmsNorm(px, rows, features, pg, 1e-6f, py);
        OpsCheck.Close(y, expected, $"seed={seed} rows={rows} features={features}");
    }
}
