using System.Runtime.InteropServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Runs a generated fp32 CPU attention kernel on tensors stored as <see cref="float"/>, <see cref="Half"/> or
/// <see cref="BFloat16"/>. fp32 tensors are passed as raw pointers; fp16/bf16 tensors are widened (on all cores) into fp32
/// copies in a staging block kept between launches, the kernel runs on those, and the output is rounded back (<see cref="StorageConvert"/>).
/// </summary>
/// <remarks>
/// The 16-bit path is correct, not fast: it moves every element three more times and holds fp32 copies of q, k, v and
/// output while the kernel runs (the generated cost model counts them as scratch). It exists so a half-precision
/// declaration runs on every device; on an accelerator the kernel reads fp16/bf16 directly.
/// </remarks>
public static unsafe class CpuStorage
{
    /// <summary>
    /// Runs <typeparamref name="TKernel"/>'s CPU kernel on fp32 data for tensors of <typeparamref name="T"/> = float, Half
    /// or BFloat16 that live on the CPU. Shapes were checked by the caller.
    /// </summary>
    public static void RunAttention<TKernel, T>(in AttentionLaunch<T> launch)
        where TKernel : struct, IAttentionKernel
        where T : unmanaged
    {
        launch.ExpectInputsFor<TKernel>();
        var (q, k, v, output, logSumExp, batch, queryLength, keyLength) = launch;
        float* lse = logSumExp is null ? null : CpuTensor.Pointer(logSumExp);
        int* keyLengths = launch.KeyLengths is null ? null : CpuTensor.Pointer(launch.KeyLengths);
        int* queryOffsets = launch.QueryOffsets is null ? null : CpuTensor.Pointer(launch.QueryOffsets);
        int* keyOffsets = launch.KeyOffsets is null ? null : CpuTensor.Pointer(launch.KeyOffsets);
        int* documentIds = launch.DocumentIds is null ? null : CpuTensor.Pointer(launch.DocumentIds);
        int* prefixLengths = launch.PrefixLengths is null ? null : CpuTensor.Pointer(launch.PrefixLengths);
        void* attnMask = launch.BooleanMask is { } booleanMask ? CpuTensor.Pointer(booleanMask)
            : launch.AdditiveMask is { } additiveMask ? CpuTensor.Pointer(additiveMask) : null;
        var maskStrides = launch.MaskStridesFor(TKernel.Heads);
        var modTensors = CpuModTensors.From(launch.ModTensors);
        if (typeof(T) == typeof(float))
        {
            TKernel.RunCpu((float*)CpuTensor.Pointer(q), (float*)CpuTensor.Pointer(k), (float*)CpuTensor.Pointer(v), (float*)CpuTensor.Pointer(output),
                lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, attnMask, maskStrides, batch, queryLength, keyLength, modTensors);
        }
        else
        {
            StorageConvert.EnsureStorageType<T>();
            // One staging block holds the four fp32 copies: kept between launches, so after the first launch of a size no allocation.
            long qn = q.Length, kn = k.Length, vn = v.Length, on = output.Length;
            using var staging = Staging.Take(qn + kn + vn + on);
            float* q32 = staging.Floats, k32 = q32 + qn, v32 = k32 + kn, o32 = v32 + vn;
            Widen(q, q32);
            Widen(k, k32);
            Widen(v, v32);
            TKernel.RunCpu(q32, k32, v32, o32, lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, attnMask, maskStrides, batch, queryLength, keyLength, modTensors);
            Narrow(o32, output);
        }
        // The tensors own the memory the kernel used through raw pointers: keep them alive until it is done.
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
        GC.KeepAlive(output);
        GC.KeepAlive(logSumExp);
        GC.KeepAlive(launch.KeyLengths);
        GC.KeepAlive(launch.ModTensors.Tensor0);
        GC.KeepAlive(launch.ModTensors.Tensor1);
        GC.KeepAlive(launch.ModTensors.Tensor2);
        GC.KeepAlive(launch.ModTensors.Tensor3);
        GC.KeepAlive(launch.QueryOffsets);
        GC.KeepAlive(launch.KeyOffsets);
        GC.KeepAlive(launch.DocumentIds);
        GC.KeepAlive(launch.PrefixLengths);
        GC.KeepAlive(launch.BooleanMask);
        GC.KeepAlive(launch.AdditiveMask);
    }

    /// <summary>Bytes of the fp32 staging block 16-bit launches keep between launches (0 until the first one).</summary>
    public static long StagingBytes => Staging.Bytes;

    /// <summary>Frees the fp32 staging block of 16-bit launches (the next one allocates it again).</summary>
    public static void ReleaseStaging() => Staging.Release();

    /// <summary>
    /// The fp32 copies of a 16-bit launch: one block grown on demand and kept, taken under a lock for the launch.
    /// Why not the device pool: its cache keeps at most 256 MiB, so a larger launch (a bf16 decode step at B8 H32
    /// Tk4096 D128 stages 1 GiB) was allocated and faulted in anew, page by page, on every launch.
    /// </summary>
    private readonly ref struct Staging
    {
        private static readonly object s_lock = new();
        private static float* s_block;
        private static long s_floats;

        public float* Floats { get; }

        private Staging(float* floats) => Floats = floats;

        public static long Bytes => s_floats * sizeof(float);

        public static Staging Take(long floats)
        {
            Monitor.Enter(s_lock);
            if (s_floats < floats)
            {
                NativeMemory.AlignedFree(s_block);
                s_block = null;
                s_floats = 0;
                s_block = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(floats, 1) * sizeof(float)), 64);
                s_floats = floats;
            }
            return new Staging(s_block);
        }

        public static void Release()
        {
            lock (s_lock)
            {
                NativeMemory.AlignedFree(s_block);
                s_block = null;
                s_floats = 0;
            }
        }

        public void Dispose() => Monitor.Exit(s_lock);
    }

    /// <summary>Elements one conversion work item handles: 256 KiB of fp32, large enough to amortize the handoff.</summary>
    private const int ConvertChunk = 1 << 16;

    // Whole-tensor conversions run on every core: one core's conversion left the other idle while it moved 3 bytes of
    // traffic per element (a bf16 decode step at B8 H32 Tk4096 D128 spent most of its time there).
    private static void Widen<T>(Tensor<T> tensor, float* destination) where T : unmanaged
    {
        var body = new ConvertBody<T> { Source = CpuTensor.Pointer(tensor), Single = destination, Length = tensor.Length, Widen = true };
        CpuParallel.For(Chunks(tensor.Length), ref body);
    }

    private static void Narrow<T>(float* source, Tensor<T> tensor) where T : unmanaged
    {
        var body = new ConvertBody<T> { Source = CpuTensor.Pointer(tensor), Single = source, Length = tensor.Length, Widen = false };
        CpuParallel.For(Chunks(tensor.Length), ref body);
    }

    private static int Chunks(long length) => checked((int)((length + ConvertChunk - 1) / ConvertChunk));

    /// <summary>One chunk of a 16-bit ⇄ fp32 conversion (<see cref="StorageConvert"/>, bit-exact with the scalar conversions).</summary>
    private struct ConvertBody<T> : ICpuParallelBody where T : unmanaged
    {
        public T* Source;
        public float* Single;
        public long Length;
        public bool Widen;

        public readonly void Invoke(int index, int worker)
        {
            long start = (long)index * ConvertChunk;
            int count = (int)Math.Min(ConvertChunk, Length - start);
            var single = new Span<float>(Single + start, count);
            if (typeof(T) == typeof(Half))
            {
                var half = new Span<Half>((Half*)Source + start, count);
                if (Widen)
                    StorageConvert.ToSingle(half, single);
                else
                    StorageConvert.ToHalf(single, half);
            }
            else
            {
                var bf16 = new Span<BFloat16>((BFloat16*)Source + start, count);
                if (Widen)
                    StorageConvert.ToSingle(bf16, single);
                else
                    StorageConvert.ToBFloat16(single, bf16);
            }
        }
    }
}
