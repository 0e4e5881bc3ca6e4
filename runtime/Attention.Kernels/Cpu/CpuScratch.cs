using System.Runtime.InteropServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Per-worker scratch memory for CPU kernels: 64-byte aligned, grown on demand and then reused, so a
/// launch allocates nothing once warm. Safe because <see cref="CpuParallel"/> runs one launch at a time
/// and each worker index belongs to one thread during a launch.
/// </summary>
public static unsafe class CpuScratch
{
    private static readonly nint[] s_blocks = new nint[CpuParallel.WorkerCount];
    private static readonly long[] s_sizes = new long[CpuParallel.WorkerCount];

    /// <summary>At least <paramref name="floats"/> floats of scratch owned by <paramref name="worker"/> until its item returns.</summary>
    public static float* Floats(int worker, long floats)
    {
        long bytes = floats * sizeof(float);
        if (s_sizes[worker] < bytes)
        {
            NativeMemory.AlignedFree((void*)s_blocks[worker]);
            s_blocks[worker] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            s_sizes[worker] = bytes;
        }
        return (float*)s_blocks[worker];
    }

    /// <summary>Bytes of scratch currently held by all workers.</summary>
    public static long HeldBytes => s_sizes.Sum();
}
