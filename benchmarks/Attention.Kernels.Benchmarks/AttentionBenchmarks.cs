using BenchmarkDotNet.Attributes;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The standard shapes, fused kernel against the unfused baseline. GFLOP/s and GB/s come from the fused
/// kernel's cost model for both methods (masked pairs are not counted), so the columns compare like for like.
/// </summary>
[MemoryDiagnoser]
public class AttentionBenchmarks : ICostedBenchmark, IDisposable
{
    private Workload? _work;

    public static IEnumerable<AttentionShape> Shapes => AttentionShape.Standard;

    /// <summary>The unfused baseline runs on the CPU only; <see cref="BackendBenchmarks"/> compares backends.</summary>
    public static IEnumerable<string> Devices => ["cpu"];

    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = AttentionShape.Standard[0];

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [GlobalSetup]
    public void Setup() => _work = new Workload(Shape, Workload.DeviceNamed(Device));

    [Benchmark(Baseline = true)]
    public void Fused() => _work!.Run(Method.Fused);

    [Benchmark]
    public void Unfused() => _work!.Run(Method.Unfused);

    public KernelCost Cost() => BenchmarkKernels.For(Shape).Cost(Shape.Batch, Shape.QueryLength, Shape.KeyLength);

    [GlobalCleanup]
    public void Dispose()
    {
        _work?.Dispose();
        _work = null;
        GC.SuppressFinalize(this);
    }
}
