using System.Numerics;
using Attention.Kernels.Cpu;
using Attention.Kernels.Reference;

namespace Attention.Kernels.Benchmarks;

/// <summary>How a workload computes attention.</summary>
public enum Method
{
    /// <summary>The generated fused kernel (online softmax, no score matrix).</summary>
    Fused,
    /// <summary><see cref="UnfusedAttention"/>: S, softmax, P·V as three passes over a materialized score matrix.</summary>
    Unfused,
}

/// <summary>Inputs and output of one <see cref="AttentionShape"/> on one device, and the ways to run it.</summary>
public sealed class Workload : IDisposable
{
    private readonly Tensor<float> _q, _k, _v, _output;
    private readonly Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> _fused;

    public Workload(AttentionShape shape, Device device)
    {
        Shape = shape;
        Device = device;
        var random = new Random(1);
        QueryData = RandomData.Uniform(random, checked((int)shape.QueryElements));
        KeyData = RandomData.Uniform(random, checked((int)shape.KeyElements));
        ValueData = RandomData.Uniform(random, checked((int)shape.KeyElements));
        _q = Tensor.FromArray<float>(device, QueryData, shape.QueryShape);
        _k = Tensor.FromArray<float>(device, KeyData, shape.KeyShape);
        _v = Tensor.FromArray<float>(device, ValueData, shape.KeyShape);
        _output = Tensor.Create<float>(device, shape.QueryShape);
        (_fused, var cost) = BenchmarkKernels.For(shape);
        Cost = cost(shape.Batch, shape.QueryLength, shape.KeyLength);
    }

    public AttentionShape Shape { get; }

    /// <summary>The inputs as generated (BTHD), for a peer to copy.</summary>
    public float[] QueryData { get; }
    public float[] KeyData { get; }
    public float[] ValueData { get; }
    public Device Device { get; }

    /// <summary>The fused kernel's cost model (visible pairs only): the FLOPs and bytes both methods are rated by.</summary>
    public KernelCost Cost { get; }

    public void Run(Method method)
    {
        if (method == Method.Fused)
            _fused(_q, _k, _v, _output);
        else if (Device.Kind == DeviceKind.Cpu)
            UnfusedAttention.Run(_q, _k, _v, _output, Shape.Causal);
        else
            throw new NotSupportedException($"The unfused baseline runs on the CPU only, not on {Device}.");
        Device.Synchronize();
    }

    public float[] Output() => _output.ToArray();

    /// <summary>
    /// Reads every element of K and V once on all cores (a vector sum): the memory floor of a kernel that must stream
    /// them, measured on these very buffers in this process (on a shared VM the bandwidth a process gets varies by 2×
    /// from one process to the next, so another process's figure is no floor for this one). CPU only.
    /// </summary>
    public unsafe float ReadKeysValues()
    {
        const int chunksPerTensor = 16;
        float* sums = stackalloc float[2 * chunksPerTensor];
        var body = new ReadBody { K = CpuTensor.Pointer(_k), V = CpuTensor.Pointer(_v), Length = _k.Length, Chunks = chunksPerTensor, Sums = sums };
        CpuParallel.For(2 * chunksPerTensor, ref body);
        float total = 0;
        for (int i = 0; i < 2 * chunksPerTensor; i++)
            total += sums[i];
        return total;
    }

    private unsafe struct ReadBody : ICpuParallelBody
    {
        public float* K, V, Sums;
        public long Length;
        public int Chunks;

        public readonly void Invoke(int index, int worker)
        {
            long chunk = (Length + Chunks - 1) / Chunks;
            long start = index % Chunks * chunk, end = Math.Min(Length, start + chunk);
            float* p = index < Chunks ? K : V;
            int w = Vector<float>.Count;
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            long i = start;
            for (; i + 4 * w <= end; i += 4 * w)
            {
                s0 += Vector.Load(p + i);
                s1 += Vector.Load(p + i + w);
                s2 += Vector.Load(p + i + 2 * w);
                s3 += Vector.Load(p + i + 3 * w);
            }
            float sum = Vector.Sum(s0 + s1 + s2 + s3);
            for (; i < end; i++)
                sum += p[i];
            Sums[index] = sum;
        }
    }

    /// <summary>Resolves a device name used as a benchmark parameter: "cpu", "opencl" or "cuda".</summary>
    /// <summary>The device named as ATTENTION_KERNELS_DEVICE takes it (cpu, cuda, opencl, ilgpu-cpu, optionally :index or :name).</summary>
    public static Device DeviceNamed(string name)
    {
        Attention.Kernels.Ilgpu.IlgpuBackend.Register();
        var (kind, selector) = DeviceRegistry.Parse(name);
        return DeviceRegistry.Create(kind, selector);
    }

    /// <summary>The named device, or null when its backend is not available on this machine.</summary>
    public static Device? TryDevice(string name)
    {
        try
        {
            return DeviceNamed(name);
        }
        catch (DeviceUnavailableException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _q.Dispose(); _k.Dispose(); _v.Dispose(); _output.Dispose();
    }
}
