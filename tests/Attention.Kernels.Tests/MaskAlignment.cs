using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests;

/// <summary>The two causal alignments on a problem with more queries than keys, on any device.</summary>
public static class MaskAlignment
{
    /// <summary>
    /// Tq = 70 (two ILGPU groups, several CPU tiles), Tk = 5. Top-left: every row sees keys 0..min(i, 4), no zero row, every
    /// log-sum-exp finite. Bottom-right: rows 0..64 see no key (zero, lse −∞), rows 65..69 see keys 0..i − 65. Both against
    /// the fp64 reference too.
    /// </summary>
    public static void AssertTopLeftAndBottomRightRows(Device device, ITestOutputHelper log)
    {
        const int queries = 70, keys = 5;
        var topLeft = TestKernels.All.First(k => k.Mask == AttentionMask.CausalTopLeft && k.HasLogSumExp);
        var bottomRight = TestKernels.All.First(k => k.Mask == AttentionMask.Causal && k.HasLogSumExp);

        var check = Run(topLeft, out bool[] zeroRows, out int finite, out var p);
        Assert.DoesNotContain(true, zeroRows);
        Assert.Equal(p.Batch * p.Heads * queries, finite);

        check = Run(bottomRight, out zeroRows, out finite, out p);
        Assert.Equal(Enumerable.Range(0, queries).Select(i => i < queries - keys), zeroRows);
        Assert.Equal(p.Batch * p.Heads * keys, finite);

        AttentionCheck Run(KernelCase kernel, out bool[] zero, out int finiteLse, out AttentionProblem problem)
        {
            problem = new AttentionProblem(2, queries, keys, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
            var result = AttentionHarness.Run(kernel, problem, device, new Random(AttentionHarness.RunSeed), out zero, out finiteLse);
            log.WriteLine($"{kernel.Name}: {result}; zero rows {zero.Count(z => z)}, finite lse {finiteLse}");
            Assert.True(result.Defect is null, result.ToString());
            Assert.True(result.OutputError <= AttentionHarness.Tolerance, result.ToString());
            Assert.True(result.LogSumExpError <= AttentionHarness.Tolerance, result.ToString());
            return result;
        }
    }
}
