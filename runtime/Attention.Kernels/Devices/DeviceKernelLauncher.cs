using Attention.Kernels.OpenCl;

namespace Attention.Kernels;

/// <summary>
/// Runs the generator's portable device-C kernels on a device backend. Generated <c>Launch</c> methods call this for
/// every non-CPU device, so the per-backend policy (compilation, caching, work-group sizes) lives here, not in generated code.
/// </summary>
public static class DeviceKernelLauncher
{
    /// <summary>Work-items per work-group (one per query row) when the device and kernel allow it.</summary>
    public const int PreferredQueryRows = 64;

    /// <summary>Most keys staged in local memory per step.</summary>
    public const int MaxKeyBlock = 32;

    /// <summary>
    /// Launches a fused attention kernel: <paramref name="source"/> is its <c>DeviceSource</c> (entry point
    /// <paramref name="entryPoint"/>), one work-group per (query block, head, batch), one work-item per query row.
    /// <typeparamref name="T"/> is the storage type the source was generated for (float, Half or BFloat16); the
    /// log-sum-exp is always float. Shapes were checked by the caller. Asynchronous on the device's queue.
    /// </summary>
    /// <exception cref="NotSupportedException">The device's backend has no device-C support in this build, or <typeparamref name="T"/> is not a storage type.</exception>
    public static void LaunchAttention<T>(
        Device device, string source, string entryPoint, int headDim, int heads,
        Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float>? logSumExp,
        int batch, int queryLength, int keyLength)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(device);
        StorageConvert.EnsureStorageType<T>();
        switch (device)
        {
            case OpenClDevice openCl:
                LaunchAttention(openCl, source, entryPoint, headDim, heads, q, k, v, output, logSumExp, batch, queryLength, keyLength);
                break;
            case CudaDevice cuda:
                Cuda.CudaAttentionLauncher.LaunchAttention(cuda, DevicePrelude.Cuda, source, entryPoint, headDim, heads,
                    q, k, v, output, logSumExp, batch, queryLength, keyLength);
                break;
            default:
                throw new NotSupportedException($"Kernel '{entryPoint}': no device-C backend for {device} in this build.");
        }
    }

    private static void LaunchAttention<T>(
        OpenClDevice device, string source, string entryPoint, int headDim, int heads,
        Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float>? logSumExp,
        int batch, int queryLength, int keyLength)
        where T : unmanaged
    {
        if (batch == 0 || queryLength == 0)
            return; // no query rows: nothing to write

        var kernel = device.GetKernel(source, entryPoint, BuildOptions(device.Info.LocalMemorySize, headDim));
        long rows = QueryRows(kernel.MaxWorkGroupSize, device.Info.MaxWorkItemSize, queryLength);
        long blocks = (queryLength + rows - 1) / rows;
        device.Launch(kernel, [blocks * rows, heads, batch], [rows, 1, 1],
            q.Buffer, k.Buffer, v.Buffer, output.Buffer, logSumExp?.Buffer, queryLength, keyLength);
    }

    /// <summary>
    /// <c>-DBLOCK_K=n</c>: the largest power of two ≤ <see cref="MaxKeyBlock"/> whose key and value tiles
    /// (2·n·headDim floats) take at most half of the device's local memory, so two work-groups can share a compute unit.
    /// </summary>
    public static string BuildOptions(long localMemoryBytes, int headDim)
    {
        int blockK = MaxKeyBlock;
        while (blockK > 1 && 2L * blockK * headDim * sizeof(float) > localMemoryBytes / 2)
            blockK /= 2;
        return $"-DBLOCK_K={blockK}";
    }

    /// <summary>Query rows per work-group: <see cref="PreferredQueryRows"/>, capped by the kernel's and device's limits and by the query length (rounded up to a power of two).</summary>
    public static long QueryRows(long kernelMaxWorkGroupSize, long deviceMaxWorkItems, int queryLength)
    {
        long rows = Math.Min(PreferredQueryRows, Math.Min(kernelMaxWorkGroupSize, deviceMaxWorkItems));
        long needed = 1;
        while (needed < queryLength && needed < rows)
            needed *= 2;
        return Math.Max(1, Math.Min(rows, needed));
    }
}
