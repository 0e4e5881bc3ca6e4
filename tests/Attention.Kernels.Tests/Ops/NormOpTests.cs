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

    [Theory]
    [InlineData(1, 32)]
    [InlineData(33, 384)]  // MiniLM's width; a row past one 32-row item
    [InlineData(70, 64)]
    [InlineData(5, 1536)]
    public void Whole_vector_widths_match_fp64(int rows, int features)
    {
        // Widths that are a multiple of two vectors take the unrolled path (both vector widths: 32 and 16 floats).
        var random = new Random(AttentionHarness.RunSeed);
        foreach (bool centered in new[] { true, false })
        {
            foreach (bool affine in new[] { true, false })
            {
                var x = RandomData.Uniform(random, rows * features, 3f);
                for (int i = 0; i < x.Length; i++)
                    x[i] += 2f;
                var gamma = affine ? RandomData.Uniform(random, features) : null;
                var beta = affine && centered ? RandomData.Uniform(random, features) : null;
                var expected = centered ? ReferenceOps.LayerNorm(x, rows, features, gamma, beta, 1e-12) : ReferenceOps.RmsNorm(x, rows, features, gamma, 1e-6);
                var y = OpsCheck.Poisoned(x.Length);
                fixed (float* px = x, pg = gamma, pb = beta, py = y)
                {
                    if (centered)
                        CpuOps.LayerNorm(px, rows, features, pg, pb, 1e-12f, py);
                    else
                        CpuOps.RmsNorm(px, rows, features, pg, 1e-6f, py);
                }
                OpsCheck.Close(y, expected, $"rows={rows} features={features} centered={centered} affine={affine}");
            }
        }
    }
}
