using Attention.Kernels.Reference;
using BenchmarkDotNet.Attributes;

namespace Attention.Kernels.Benchmarks;

/// <summary>Fused attention on the CPU at B=1, H=8, D=64, causal and not.</summary>
[MemoryDiagnoser]
public class AttentionBenchmarks : ICostedBenchmark, IDisposable
{
    private Tensor<float> _q = null!, _k = null!, _v = null!, _output = null!;

    [Params(512, 1024, 2048)]
    public int Length { get; set; }

    [Params(false, true)]
    public bool Causal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        int[] shape = [1, Length, 8, 64];
        int count = Length * 8 * 64;
        _q = Tensor.FromArray<float>(Device.Cpu, RandomData.Uniform(random, count), shape);
        _k = Tensor.FromArray<float>(Device.Cpu, RandomData.Uniform(random, count), shape);
        _v = Tensor.FromArray<float>(Device.Cpu, RandomData.Uniform(random, count), shape);
        _output = Tensor.Create<float>(Device.Cpu, shape);
    }

    [Benchmark]
    public void Fused()
    {
        if (Causal)
            BenchmarkKernels.Causal(_q, _k, _v, _output);
        else
            BenchmarkKernels.Dense(_q, _k, _v, _output);
    }

    public KernelCost Cost() => Causal
        ? BenchmarkKernels.CausalKernel.Cost(1, Length, Length)
        : BenchmarkKernels.DenseKernel.Cost(1, Length, Length);

    [GlobalCleanup]
    public void Dispose()
    {
        _q?.Dispose(); _k?.Dispose(); _v?.Dispose(); _output?.Dispose();
        GC.SuppressFinalize(this);
    }
}
