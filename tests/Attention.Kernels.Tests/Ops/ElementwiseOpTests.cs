using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>Activate, Add, PositionalWeighting and LayerwiseMix against the fp64 reference.</summary>
public sealed unsafe class ElementwiseOpTests
{
    public static IEnumerable<object[]> Seeds() => OpsCheck.Seeds(12, salt: 3);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Activate_and_Add_match_fp64(int seed)
    {
        var random = new Random(seed);
        int count = random.Next(3) == 0 ? OpsCheck.Size(random, 300) : random.Next(1, 80_000); // several chunks too
        var a = RandomData.Uniform(random, count, 4f);
        var b = RandomData.Uniform(random, count, 4f);
        foreach (var activation in new[] { Activation.None, Activation.Relu, Activation.Gelu })
        {
            var y = OpsCheck.Poisoned(count);
            fixed (float* pa = a, py = y)
                CpuOps.Activate(pa, count, activation, py);
            OpsCheck.Close(y, ReferenceOps.Activate(a, activation), $"seed={seed} {activation} count={count}");
        }
        var expectedSum = ReferenceOps.Add(a, b);
        var sum = OpsCheck.Poisoned(count);
        fixed (float* pa = a, pb = b, ps = sum)
            CpuOps.Add(pa, pb, count, ps);
        OpsCheck.Close(sum, expectedSum, $"seed={seed} Add count={count}");

        var expectedGelu = ReferenceOps.Activate(b, Activation.Gelu);
        var expectedDouble = ReferenceOps.Add(a, a);
        fixed (float* pa = a, pb = b)
        {
            CpuOps.Activate(pb, count, Activation.Gelu, pb); // in place
            CpuOps.Add(pa, pa, count, pa);                    // y == a == b
        }
        OpsCheck.Close(b, expectedGelu, $"seed={seed} GELU in place");
        OpsCheck.Close(a, expectedDouble, $"seed={seed} Add in place");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void PositionalWeighting_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int batch = OpsCheck.Size(random, 5), length = OpsCheck.Size(random, 70), features = OpsCheck.Size(random, 130);
        int maxLength = length + random.Next(0, 10);
        var x = RandomData.Uniform(random, batch * length * features);
        var p = RandomData.Uniform(random, maxLength * features);
        var y = OpsCheck.Poisoned(x.Length);
        fixed (float* px = x, pp = p, py = y)
            CpuOps.PositionalWeighting(px, batch, length, features, pp, maxLength, py);
        OpsCheck.Close(y, ReferenceOps.PositionalWeighting(x, batch, length, features, p), $"seed={seed} B={batch} T={length} F={features}");
    }

    [Fact]
    public void PositionalWeighting_rejects_a_length_beyond_the_table()
    {
        var x = new float[2 * 9 * 4];
        var p = new float[8 * 4];
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* px = x, pp = p)
                CpuOps.PositionalWeighting(px, 2, 9, 4, pp, 8, px);
        });
        Assert.Equal("length", ex.ParamName);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void LayerwiseMix_matches_fp64(int seed)
    {
        var random = new Random(seed);
        int layers = OpsCheck.Size(random, 13), count = random.Next(2) == 0 ? OpsCheck.Size(random, 300) : random.Next(1, 100_000);
        var data = Enumerable.Range(0, layers).Select(_ => RandomData.Uniform(random, count)).ToArray();
        var logits = RandomData.Uniform(random, layers, 3f);
        float gamma = 0.5f + (float)random.NextDouble();
        var expected = ReferenceOps.LayerwiseMix(data, logits, gamma);
        var handles = data.Select(d => System.Runtime.InteropServices.GCHandle.Alloc(d, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
            bool inPlace = random.Next(2) == 0;
            var y = inPlace ? data[layers - 1] : OpsCheck.Poisoned(count);
            fixed (float* pl = logits, py = y)
                CpuOps.LayerwiseMix(pointers, count, pl, gamma, py);
            OpsCheck.Close(y, expected, $"seed={seed} layers={layers} count={count} inPlace={inPlace}");
        }
        finally
        {
            foreach (var h in handles)
                h.Free();
        }
    }
}
