using BenchmarkDotNet.Attributes;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The same fused kernels on every available backend (the CPU, and CUDA / OpenCL GPUs through ILGPU where present), on
/// the B1 H8 T512/T1024 shapes. ILGPU's CPU accelerator is left out: a semantics target, hundreds of times slower.
/// </summary>
[MemoryDiagnoser]
public class BackendBenchmarks : ICostedBenchmark, IDisposable
{
    private Workload? _work;

    public static IEnumerable<AttentionShape> Shapes =>
        AttentionShape.Standard.Where(s => s.Batch == 1 && s.Heads == 8 && s.QueryLength == s.KeyLength && s.QueryLength <= 1024);

    /// <summary>"cpu", plus "cuda" and "opencl" when such a GPU answers.</summary>
    public static IEnumerable<string> Devices
    {
        get
        {
            yield return "cpu";
            foreach (string gpu in new[] { "cuda", "opencl" })
            {
                if (Workload.TryDevice(gpu) is { } device)
                {
                    device.Dispose();
                    yield return gpu;
                }
            }
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
