using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>The CPU backend and the OpenCL backend on identical inputs agree (both implement the same online softmax).</summary>
public sealed class OpenClParityTests(ITestOutputHelper log)
{
    public static IEnumerable<object[]> Kernels() =>
        TestKernels.All.Select((k, i) => (k, i))
            .Where(x => x.k.HeadDim is 1 or 17 or 64 or 256 || x.k.HasLogSumExp)
            .Select(x => new object[] { x.i });

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Cpu_and_OpenCl_agree_on_identical_inputs(int kernelIndex)
    {
        var device = OpenClTestDevice.GetOrSkip();
        var kernel = TestKernels.All[kernelIndex];
        var random = new Random(AttentionHarness.RunSeed + kernelIndex);
        var p = AttentionHarness.RandomProblem(kernel, random);
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);

        var (cpuOut, cpuLse) = Run(Device.Cpu);
        var (clOut, clLse) = Run(device);

        double outputDifference = Accuracy.RelativeError(clOut, Array.ConvertAll(cpuOut, x => (double)x));
        log.WriteLine($"{kernel.Name} {p}: ‖opencl − cpu‖/‖cpu‖ = {outputDifference:E2}");
        Assert.True(outputDifference <= 1e-5, $"{kernel.Name} {p}: outputs differ by {outputDifference:E2}");
        for (int i = 0; i < cpuLse.Length; i++)
        {
            if (float.IsNegativeInfinity(cpuLse[i]))
                Assert.True(float.IsNegativeInfinity(clLse[i]), $"lse[{i}]: CPU −∞, OpenCL {clLse[i]}");
            else
                Assert.True(Math.Abs(cpuLse[i] - clLse[i]) <= 1e-5 * Math.Max(1, Math.Abs(cpuLse[i])), $"lse[{i}]: CPU {cpuLse[i]}, OpenCL {clLse[i]}");
        }

        (float[] Output, float[] Lse) Run(Device on)
        {
            using var qt = Tensor.FromArray<float>(on, q, p.QueryShape);
            using var kt = Tensor.FromArray<float>(on, k, p.KeyShape);
            using var vt = Tensor.FromArray<float>(on, v, p.KeyShape);
            using var ot = Tensor.Create<float>(on, p.QueryShape);
            using var lt = kernel.HasLogSumExp ? Tensor.Create<float>(on, p.Batch, p.Heads, p.QueryLength) : null;
            kernel.Run(qt, kt, vt, ot, lt);
            return (ot.ToArray(), lt?.ToArray() ?? []);
        }
    }
}
