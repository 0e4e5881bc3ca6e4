namespace Attention.Kernels.Memory;

/// <summary>An allocation or reservation does not fit in the pool's capacity, even after releasing its cache.</summary>
public sealed class PoolCapacityExceededException : Exception
{
    /// <summary>Creates the exception; the message states every number.</summary>
    public PoolCapacityExceededException(long requestedBytes, long inUseBytes, long cachedBytes, long capacityBytes, string? device = null)
        : base($"Cannot allocate {MemoryPool.FormatBytes(requestedBytes)} ({requestedBytes} bytes){(device is null ? "" : " on " + device)}: " +
               $"{MemoryPool.FormatBytes(inUseBytes)} in use (rented + reserved), {MemoryPool.FormatBytes(cachedBytes)} cached, " +
               $"capacity {MemoryPool.FormatBytes(capacityBytes)}. Free tensors, call Trim(), or raise MemoryPool.Capacity.")
    {
        RequestedBytes = requestedBytes;
        InUseBytes = inUseBytes;
        CachedBytes = cachedBytes;
        CapacityBytes = capacityBytes;
    }

    /// <summary>Bytes asked for (rounded to the size class).</summary>
    public long RequestedBytes { get; }

    /// <summary>Bytes rented or reserved when the request failed.</summary>
    public long InUseBytes { get; }

    /// <summary>Bytes cached (free or waiting for the device) when the request failed.</summary>
    public long CachedBytes { get; }

    /// <summary>The pool's capacity.</summary>
    public long CapacityBytes { get; }
}

/// <summary>The pool was used wrongly: a block returned twice, returned to the wrong pool, disposed directly, or written after return.</summary>
public sealed class PoolMisuseException(string message) : InvalidOperationException(message);

/// <summary>Thrown in checked mode when a pool is disposed while blocks are still rented.</summary>
public sealed class PoolLeakException(IReadOnlyList<PoolLeak> leaks)
    : InvalidOperationException($"{leaks.Count} block(s) were never returned to the pool ({leaks.Sum(l => l.BlockBytes)} bytes):" +
                                Environment.NewLine + string.Join(Environment.NewLine, leaks.Take(20)))
{
    /// <summary>The blocks still rented.</summary>
    public IReadOnlyList<PoolLeak> Leaks { get; } = leaks;
}
