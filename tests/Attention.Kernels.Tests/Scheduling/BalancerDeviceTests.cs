using Attention.Kernels.Reference;
using Attention.Kernels.Scheduling;
using Xunit;

namespace Attention.Kernels.Tests.Scheduling;

/// <summary>The real path: generated kernels on the CPU device through wall-clock worker slots. Asserts outcomes, never timings.</summary>
public sealed class BalancerDeviceTests
{
    [Fact]
    public async Task Generated_kernels_run_through_the_balancer_and_faults_stay_with_their_submission()
    {
        var kernel = TestKernels.All.First(k => k.Layout == TensorLayout.BTHD && k.HeadDim == 64 && !k.HasLogSumExp);
        var problem = new AttentionProblem(1, 48, 48, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        var random = new Random(3);
        float[] q = RandomData.Uniform(random, problem.QueryElements, 2f), k = RandomData.Uniform(random, problem.KeyElements, 2f), v = RandomData.Uniform(random, problem.KeyElements);
        var (expected, _) = ReferenceAttention.Compute(problem, q, k, v);

        using var qt = Tensor.FromArray<float>(Device.Cpu, q, problem.QueryShape);
        using var kt = Tensor.FromArray<float>(Device.Cpu, k, problem.KeyShape);
        using var vt = Tensor.FromArray<float>(Device.Cpu, v, problem.KeyShape);
        using var balancer = Balancer.ForDevice(Device.Cpu);
        var a = balancer.Register("a", 2);
        var b = balancer.Register("b", 1);
        var cost = kernel.Cost(1, 48, 48);
        var outputs = Enumerable.Range(0, 6).Select(_ => Tensor.Create<float>(Device.Cpu, problem.QueryShape)).ToArray();
        var submissions = outputs.Select((o, i) => (i % 2 == 0 ? a : b).SubmitAsync(
            new LaunchRequest(_ => kernel.Run(qt, kt, vt, o, null), cost) { MemoryBytes = o.Memory.RequestedBytes + cost.ScratchBytes })).ToList();
        var failing = b.SubmitAsync(_ => throw new InvalidOperationException("boom"), cost);

        await Task.WhenAll(submissions).WaitAsync(TimeSpan.FromSeconds(30));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("boom", ex.Message);
        foreach (var o in outputs)
        {
            Assert.True(Accuracy.RelativeError(o.ToArray(), expected) <= AttentionHarness.Tolerance);
            o.Dispose();
        }
        var s = balancer.Snapshot();
        Assert.Equal((3L, 3L, 1L), (s.Tasks[0].Completed, s.Tasks[1].Completed, s.Tasks[1].Failed));
        Assert.True(s.Tasks.All(t => t.ServiceSeconds > 0 && t.UseBytes == 0));
        Assert.Equal(s.Capacity, s.Available);
    }
}
