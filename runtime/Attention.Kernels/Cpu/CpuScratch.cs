using System.Runtime.InteropServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Per-worker scratch memory for CPU kernels: 64-byte aligned, grown on demand and then reused, so a
/// launch allocates nothing once warm. Safe because <see cref="CpuParallel"/> runs one launch at a time
/// and each worker index belongs to one thread during a launch.
/// </summary>
public static unsafe class CpuScratch
{
    /// <summary>Independent scratch areas per worker: 0 for an item's tile, 1 for data kept across items of a launch.</summary>
    public const int Slots = 2;

    private static readonly nint[] s_blocks = new nint[CpuParallel.WorkerCount * Slots];
    private static readonly long[] s_sizes = new long[CpuParallel.WorkerCount * Slots];

    /// <summary>At least <paramref name="floats"/> floats of scratch owned by <paramref name="worker"/> until its item returns.</summary>
    public static float* Floats(int worker, long floats) => Floats(worker, floats, slot: 0);

    /// <summary>
    /// Scratch area <paramref name="slot"/> of <paramref name="worker"/>: at least <paramref name="floats"/> floats, kept
    /// (content included) until the worker asks for more in the same slot.
    /// </summary>
    public static float* Floats(int worker, long floats, int slot)
    {
        int at = worker * Slots + slot;
        long bytes = floats * sizeof(float);
        if (s_sizes[at] < bytes)
        {
            NativeMemory.AlignedFree((void*)s_blocks[at]);
            s_blocks[at] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            s_sizes[at] = bytes;
        }
        return (float*)s_blocks[at];
    }

    [ThreadStatic] private static nint[]? t_callerBlocks;
    [ThreadStatic] private static long[]? t_callerSizes;

    /// <summary>Independent caller scratch areas: 0 for CpuOps, 1 for the attention row parts (FlashAttentionCpu.RowParts).</summary>
    public const int CallerSlots = 2;

    /// <summary>
    /// Scratch owned by the calling thread for the duration of one launch (results that items hand to the caller, or to
    /// a later pass): at least <paramref name="floats"/> floats. Safe because the caller is blocked inside the launch while
    /// workers write it.
    /// </summary>
    public static float* CallerFloats(long floats, int slot)
    {
        t_callerBlocks ??= new nint[CallerSlots];
        t_callerSizes ??= new long[CallerSlots];
        long bytes = Math.Max(floats, 1) * sizeof(float);
        if (t_callerSizes[slot] < bytes)
        {
            NativeMemory.AlignedFree((void*)t_callerBlocks[slot]);
            t_callerBlocks[slot] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            t_callerSizes[slot] = bytes;
        }
        return (float*)t_callerBlocks[slot];
    }

    /// <summary>Bytes of scratch currently held by all workers.</summary>
    public static long HeldBytes => s_sizes.Sum();
}
