namespace Attention.Kernels.Cuda;

/// <summary>
/// Runs a generated portable device-C attention kernel (its <c>DeviceSource</c>) on a <see cref="CudaDevice"/>: the
/// CUDA counterpart of the OpenCL path of <c>DeviceKernelLauncher</c>. Same grid contract: one block per (query block,
/// head, batch) on (x, y, z), one thread per query row, <c>-DBLOCK_K=n</c> sized to the static shared-memory limit by the same rule (<see cref="DeviceKernelLauncher.BuildOptions"/>).
/// </summary>
public static class CudaAttentionLauncher
{
    /// <summary>The complete CUDA source NVRTC compiles: <paramref name="prelude"/>, a <c>#line 1</c>, then the portable kernel.</summary>
    public static string CudaSource(string prelude, string deviceSource) => prelude + "#line 1\n" + deviceSource;

    /// <summary>
    /// Launches the kernel <paramref name="entryPoint"/> of <paramref name="deviceSource"/> (compiled after
    /// <paramref name="prelude"/>, normally <c>DevicePrelude.Cuda</c>) asynchronously on <paramref name="device"/>'s stream.
    /// Shapes were checked by the caller; the kernel's parameters are (q, k, v, out, lse, query_length, key_length), with q, k,
    /// v and out in the storage type <typeparamref name="T"/> the source was generated for (float, Half or BFloat16).
    /// </summary>
    public static void LaunchAttention<T>(
        CudaDevice device, string prelude, string deviceSource, string entryPoint, int headDim,
        int heads, Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float>? logSumExp,
        int batch, int queryLength, int keyLength, CudaStream? stream = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(device);
        StorageConvert.EnsureStorageType<T>();
        if (batch == 0 || queryLength == 0)
            return; // no query rows: nothing to write
        var kernel = device.GetKernel(CudaSource(prelude, deviceSource), entryPoint, DeviceKernelLauncher.BuildOptions(device.Info.SharedMemoryPerBlock, headDim));
        uint rows = QueryRows(kernel.MaxThreadsPerBlock, queryLength);
        uint blocks = (uint)((queryLength + rows - 1) / rows);
        device.Launch(kernel, new Dim3(blocks, (uint)heads, (uint)batch), new Dim3(rows), 0, stream,
            q.Buffer, k.Buffer, v.Buffer, output.Buffer, logSumExp?.Buffer, queryLength, keyLength);
    }

    /// <summary>Threads per block: <see cref="DeviceKernelLauncher.PreferredQueryRows"/>, capped by the kernel's limit and by the query length (rounded up to a warp).</summary>
    public static uint QueryRows(int kernelMaxThreadsPerBlock, int queryLength)
    {
        int rows = Math.Min(DeviceKernelLauncher.PreferredQueryRows, kernelMaxThreadsPerBlock);
        int needed = (queryLength + 31) / 32 * 32;
        return (uint)Math.Max(1, Math.Min(rows, needed));
    }
}
