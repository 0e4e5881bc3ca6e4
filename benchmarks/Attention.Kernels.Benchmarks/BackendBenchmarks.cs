using BenchmarkDotNet.Attributes;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The same fused kernels on every available backend (CPU, and OpenCL where a driver is installed, e.g. PoCL),
/// on the B1 H8 T512/T1024 shapes: the larger standard shapes take tens of seconds per call on PoCL.
/// </summary>
[MemoryDiagnoser]
public class BackendBenchmarks : ICostedBenchmark, IDisposable
{
    private Workload? _work;

    public static IEnumerable<AttentionShape> Shapes =>
        AttentionShape.Standard.Where(s => s.Batch == 1 && s.Heads == 8 && s.QueryLength == s.KeyLength && s.QueryLength <= 1024);

    /// <summary>"cpu", plus "opencl" when an OpenCL driver answers.</summary>
    public static IEnumerable<string> Devices
    {
        get
        {
            yield return "cpu";
            if (Workload.TryDevice("opencl") is not null)
                yield return "opencl";
        }
    }

    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = AttentionShape.Standard[0];

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [GlobalSetup]
    public void Setup() => _work = new Workload(Shape, Workload.DeviceNamed(Device));

    [Benchmark]
    public void Fused() => _work!.Run(Method.Fused);

    public KernelCost Cost() => BenchmarkKernels.For(Shape).Cost(Shape.Batch, Shape.QueryLength, Shape.KeyLength);

    [GlobalCleanup]
    public void Dispose()
    {
        _work?.Dispose();
        _work = null;
        GC.SuppressFinalize(this);
    }
}
