using Attention.Kernels.Memory;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Runs a generated fp32 CPU attention kernel on tensors stored as <see cref="float"/>, <see cref="Half"/> or
/// <see cref="BFloat16"/>. fp32 tensors are passed as raw pointers; fp16/bf16 tensors are widened into fp32 copies rented
/// from the CPU pool, the kernel runs on those, and the output is rounded back (<see cref="StorageConvert"/>).
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
        void* attnMask = launch.BooleanMask is { } booleanMask ? CpuTensor.Pointer(booleanMask)
            : launch.AdditiveMask is { } additiveMask ? CpuTensor.Pointer(additiveMask) : null;
        var maskStrides = launch.MaskStridesFor(TKernel.Heads);
        if (typeof(T) == typeof(float))
        {
            TKernel.RunCpu((float*)CpuTensor.Pointer(q), (float*)CpuTensor.Pointer(k), (float*)CpuTensor.Pointer(v), (float*)CpuTensor.Pointer(output),
                lse, keyLengths, queryOffsets, keyOffsets, attnMask, maskStrides, batch, queryLength, keyLength);
        }
        else
        {
            StorageConvert.EnsureStorageType<T>();
            // One pooled block holds the four fp32 copies: after the first launch of a size it is a pool hit, no allocation.
            long qn = q.Length, kn = k.Length, vn = v.Length, on = output.Length;
            using PooledBuffer scratch = q.Device.Pool.Rent((qn + kn + vn + on) * sizeof(float));
            float* q32 = (float*)((CpuBuffer)scratch.Buffer).Pointer, k32 = q32 + qn, v32 = k32 + kn, o32 = v32 + vn;
            Widen(q, q32);
            Widen(k, k32);
            Widen(v, v32);
            TKernel.RunCpu(q32, k32, v32, o32, lse, keyLengths, queryOffsets, keyOffsets, attnMask, maskStrides, batch, queryLength, keyLength);
            Narrow(o32, output);
        }
        // The tensors own the memory the kernel used through raw pointers: keep them alive until it is done.
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
        GC.KeepAlive(output);
        GC.KeepAlive(logSumExp);
        GC.KeepAlive(launch.KeyLengths);
        GC.KeepAlive(launch.QueryOffsets);
        GC.KeepAlive(launch.KeyOffsets);
        GC.KeepAlive(launch.BooleanMask);
        GC.KeepAlive(launch.AdditiveMask);
    }

    private static void Widen<T>(Tensor<T> tensor, float* destination) where T : unmanaged
    {
        var target = new Span<float>(destination, checked((int)tensor.Length));
        if (typeof(T) == typeof(Half))
            StorageConvert.ToSingle(new ReadOnlySpan<Half>(CpuTensor.Pointer(tensor), target.Length), target);
        else
            StorageConvert.ToSingle(new ReadOnlySpan<BFloat16>(CpuTensor.Pointer(tensor), target.Length), target);
    }

    private static void Narrow<T>(float* source, Tensor<T> tensor) where T : unmanaged
    {
        var values = new ReadOnlySpan<float>(source, checked((int)tensor.Length));
        if (typeof(T) == typeof(Half))
            StorageConvert.ToHalf(values, new Span<Half>(CpuTensor.Pointer(tensor), values.Length));
        else
            StorageConvert.ToBFloat16(values, new Span<BFloat16>(CpuTensor.Pointer(tensor), values.Length));
    }
}
