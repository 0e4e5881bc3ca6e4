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

/// <summary>Inputs and output of one <see cref="AttentionShape"/> on one device, stored as fp32, fp16 or bf16, and the ways to run it.</summary>
public sealed class Workload : IDisposable
{
    private readonly ITyped _typed;

    public Workload(AttentionShape shape, Device device, Storage storage = Storage.Fp32)
    {
        Shape = shape;
        Device = device;
        Storage = storage;
        var random = new Random(1);
        QueryData = RandomData.Uniform(random, checked((int)shape.QueryElements));
        KeyData = RandomData.Uniform(random, checked((int)shape.KeyElements));
        ValueData = RandomData.Uniform(random, checked((int)shape.KeyElements));
        _typed = storage switch
        {
            Storage.Fp32 => new Typed<float>(this, x => x, x => x),
            Storage.Fp16 => new Typed<Half>(this, x => (Half)x, x => (float)x),
            Storage.Bf16 => new Typed<BFloat16>(this, x => (BFloat16)x, x => x),
            _ => throw new ArgumentOutOfRangeException(nameof(storage), storage, null),
        };
    }

    public AttentionShape Shape { get; }
    public Device Device { get; }
    public Storage Storage { get; }

    /// <summary>The inputs as generated (BTHD, fp32 before any rounding to the storage type), for a peer to copy.</summary>
    public float[] QueryData { get; }
    public float[] KeyData { get; }
    public float[] ValueData { get; }

    /// <summary>The fused kernel's cost model (visible pairs only): the FLOPs and bytes every method is rated by.</summary>
    public KernelCost Cost => _typed.Cost;

    public void Run(Method method)
    {
        if (method == Method.Fused)
            _typed.RunFused();
        else if (Device.Kind == DeviceKind.Cpu && _typed is Typed<float> fp32)
            UnfusedAttention.Run(fp32.Q, fp32.K, fp32.V, fp32.O, Shape.Causal);
        else
            throw new NotSupportedException($"The unfused baseline runs fp32 on the CPU only, not {Storage} on {Device}.");
        Device.Synchronize();
    }

    /// <summary>The output as fp32.</summary>
    public float[] Output() => _typed.Output();

    private interface ITyped : IDisposable
    {
        KernelCost Cost { get; }
        void RunFused();
        float[] Output();
        (nint K, nint V, long Floats) KeysValues();
    }

    private sealed class Typed<T> : ITyped where T : unmanaged
    {
        private readonly Action<Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>> _fused;
        private readonly Func<T, float> _widen;

        public Typed(Workload w, Func<float, T> narrow, Func<T, float> widen)
        {
            var s = w.Shape;
            Q = Tensor.FromArray<T>(w.Device, Array.ConvertAll(w.QueryData, x => narrow(x)), s.QueryShape);
            K = Tensor.FromArray<T>(w.Device, Array.ConvertAll(w.KeyData, x => narrow(x)), s.KeyShape);
            V = Tensor.FromArray<T>(w.Device, Array.ConvertAll(w.ValueData, x => narrow(x)), s.KeyShape);
            O = Tensor.Create<T>(w.Device, s.QueryShape);
            (_fused, var cost) = BenchmarkKernels.For<T>(s);
            Cost = cost(s.Batch, s.QueryLength, s.KeyLength);
            _widen = widen;
        }

        public Tensor<T> Q { get; }
        public Tensor<T> K { get; }
        public Tensor<T> V { get; }
        public Tensor<T> O { get; }
        public KernelCost Cost { get; }

        public void RunFused() => _fused(Q, K, V, O);

        public float[] Output() => Array.ConvertAll(O.ToArray(), x => _widen(x));

        public unsafe (nint K, nint V, long Floats) KeysValues() =>
            ((nint)CpuTensor.Pointer(K), (nint)CpuTensor.Pointer(V), K.Length * sizeof(T) / sizeof(float));

        public void Dispose()
        {
            Q.Dispose(); K.Dispose(); V.Dispose(); O.Dispose();
        }
    }

    /// <summary>
    /// Reads every byte of K and V once on all cores (a vector sum over them as floats): the memory floor of a kernel that must stream
    /// them, measured on these very buffers in this process (on a shared VM the bandwidth a process gets varies by 2×
    /// from one process to the next, so another process's figure is no floor for this one). CPU only.
    /// </summary>
    public unsafe float ReadKeysValues()
    {
        const int chunksPerTensor = 16;
        float* sums = stackalloc float[2 * chunksPerTensor];
        var (k, v, floats) = _typed.KeysValues();
        var body = new ReadBody { K = (float*)k, V = (float*)v, Length = floats, Chunks = chunksPerTensor, Sums = sums };
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
        _typed.Dispose();
    }
}
