namespace Attention.Kernels.Cpu;

/// <summary>
/// Runs a generated CPU attention kernel on tensors stored as <see cref="float"/>, <see cref="Half"/> or
/// <see cref="BFloat16"/>: the kernel is generic over the element type and reads the tensors in place; 16-bit values are
/// widened to fp32 in its tiles (K/V blocks, or a per-worker fp32 copy of a head that several tiles reread) and the output is
/// rounded once (docs/kernels/storage.md). No whole-tensor copy is made.
/// </summary>
public static unsafe class CpuStorage
{
    /// <summary>
    /// Runs <typeparamref name="TKernel"/>'s CPU kernel for tensors of <typeparamref name="T"/> = float, Half
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
        StorageConvert.EnsureStorageType<T>();
        // 16-bit tensors are read in place: the kernel widens them in its tiles and rounds its output once (no fp32 copies).
        try
        {
            TKernel.RunCpu(CpuTensor.Pointer(q), CpuTensor.Pointer(k), CpuTensor.Pointer(v), CpuTensor.Pointer(output),
                lse, keyLengths, queryOffsets, keyOffsets, documentIds, prefixLengths, attnMask, maskStrides, batch, queryLength, keyLength, modTensors);
        }
        catch (ModTensorReadException e)
        {
            throw CpuModTensors.Named<TKernel>(launch.ModTensors, e);
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
}
