namespace Attention.Kernels.Memory;

/// <summary>
/// One rent of a block from a <see cref="MemoryPool"/>: valid from <see cref="MemoryPool.Rent"/> until it is returned
/// (<see cref="Dispose"/> or <see cref="MemoryPool.Return"/>). Every rent is a new handle, so a stale handle can never
/// reach the block after somebody else rented it.
/// </summary>
public sealed class PooledBuffer : IDisposable
{
    private readonly DeviceBuffer _block;
    private int _returned;

    internal PooledBuffer(MemoryPool pool, DeviceBuffer block, long requestedBytes, long id)
    {
        Pool = pool;
        _block = block;
        RequestedBytes = requestedBytes;
        Id = id;
    }

    /// <summary>The pool the block came from.</summary>
    public MemoryPool Pool { get; }

    /// <summary>Sequence number of this rent in its pool.</summary>
    public long Id { get; }

    /// <summary>Bytes the caller asked for.</summary>
    public long RequestedBytes { get; }

    /// <summary>Bytes of the underlying size-class block (at least <see cref="RequestedBytes"/>).</summary>
    public long BlockBytes => _block.SizeInBytes;

    /// <summary>True once returned.</summary>
    public bool IsReturned => Volatile.Read(ref _returned) != 0;

    /// <summary>The device memory. Throws <see cref="ObjectDisposedException"/> after the block was returned (use after return).</summary>
    public DeviceBuffer Buffer
    {
        get
        {
            if (IsReturned)
                throw new ObjectDisposedException(nameof(PooledBuffer), $"Pool block (rent #{Id}, {RequestedBytes} bytes) was used after it was returned.");
            return _block;
        }
    }

    internal DeviceBuffer Block => _block;

    /// <summary>Marks the handle returned; false if it already was (a double return).</summary>
    internal bool TryMarkReturned() => Interlocked.Exchange(ref _returned, 1) == 0;

    /// <summary>Returns the block to its pool. Idempotent, unlike <see cref="MemoryPool.Return"/> which reports a double return.</summary>
    public void Dispose()
    {
        if (!IsReturned)
            Pool.ReturnCore(this, fence: null, strict: false);
        GC.SuppressFinalize(this);
    }

    /// <summary>A handle that was never returned gives its block back when collected, and the pool counts the leak.</summary>
    ~PooledBuffer()
    {
        if (!IsReturned)
            Pool.ReturnFromFinalizer(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"pool rent #{Id}: {RequestedBytes} bytes in a {BlockBytes}-byte block on {Pool.Device}";
}

/// <summary>
/// Memory claimed against a pool's capacity without allocating it (the balancer reserves a launch's memory need while
/// the launch runs). Dispose releases the claim.
/// </summary>
public sealed class MemoryReservation : IDisposable
{
    private int _released;

    internal MemoryReservation(MemoryPool pool, long bytes)
    {
        Pool = pool;
        Bytes = bytes;
    }

    /// <summary>The pool whose capacity is claimed.</summary>
    public MemoryPool Pool { get; }

    /// <summary>Bytes claimed.</summary>
    public long Bytes { get; }

    /// <summary>True once released.</summary>
    public bool IsReleased => Volatile.Read(ref _released) != 0;

    internal bool TryMarkReleased() => Interlocked.Exchange(ref _released, 1) == 0;

    /// <summary>Releases the claim (idempotent).</summary>
    public void Dispose() => Pool.Release(this, notify: true);
}

/// <summary>A consistent snapshot of a pool's counters.</summary>
/// <param name="InUseBytes">Bytes of blocks currently rented (size-class bytes).</param>
/// <param name="RequestedInUseBytes">Bytes callers asked for in the rented blocks (≤ <paramref name="InUseBytes"/>; the difference is rounding).</param>
/// <param name="ReservedBytes">Bytes claimed by reservations.</param>
/// <param name="CachedBytes">Bytes held in free blocks, including <paramref name="PendingBytes"/>.</param>
/// <param name="PendingBytes">Cached bytes still waiting for the device to finish the work that used them.</param>
/// <param name="PeakBytes">Highest in use + reserved seen.</param>
/// <param name="CapacityBytes">The capacity limit.</param>
/// <param name="RentCount">Rents served (the allocation count).</param>
/// <param name="Hits">Rents served from the cache.</param>
/// <param name="Misses">Rents that allocated from the device.</param>
/// <param name="DeviceAllocations">Blocks allocated from the device.</param>
/// <param name="DeviceReleases">Blocks released back to the device.</param>
/// <param name="LiveBuffers">Rents not yet returned.</param>
/// <param name="FinalizedLeaks">Handles collected without being returned (their blocks were recovered).</param>
public readonly record struct MemoryPoolStatistics(
    long InUseBytes,
    long RequestedInUseBytes,
    long ReservedBytes,
    long CachedBytes,
    long PendingBytes,
    long PeakBytes,
    long CapacityBytes,
    long RentCount,
    long Hits,
    long Misses,
    long DeviceAllocations,
    long DeviceReleases,
    long LiveBuffers,
    long FinalizedLeaks)
{
    /// <summary>Bytes held from the device: in use + cached.</summary>
    public long HeldBytes => InUseBytes + CachedBytes;

    /// <summary>Fraction of rents served from the cache.</summary>
    public double HitRate => RentCount == 0 ? 0 : (double)Hits / RentCount;
}
