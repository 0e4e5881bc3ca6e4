using System.Diagnostics;

namespace Attention.Kernels.Memory;

/// <summary>
/// A size-classed caching allocator for one <see cref="Kernels.Device"/>. Returned blocks are kept and reissued to
/// later rents of the same size class; the cache is bounded and <see cref="Trim"/> gives it back to the device.
/// </summary>
/// <remarks>
/// <para><b>Size classes</b> (<see cref="RoundSize"/>): requests up to 1 MiB round up to a multiple of 512 bytes
/// (at most 511 bytes wasted, 2,048 classes); larger requests round up to a multiple of 2 MiB (under 50% waste at
/// 1–2 MiB, under 2% from 100 MiB). A zero-byte request takes one 512-byte granule. Only blocks of exactly the
/// requested class are reused, so the accounting is exact.</para>
/// <para><b>Queue safety</b>: when a block is returned the pool records a <see cref="DeviceFence"/> after all work
/// queued on the device so far (or takes the one the caller passes); the block becomes reusable only once that
/// fence completes. CPU fences are complete at once.</para>
/// <para><b>Capacity</b>: in use + reserved + cached never exceeds <see cref="Capacity"/>. A rent that does not fit
/// first releases cached blocks (least recently returned first), then waits for pending blocks, then throws
/// <see cref="PoolCapacityExceededException"/>.</para>
/// <para>Thread-safe: every operation takes one lock; device allocations happen under it (they are rare once warm).</para>
/// </remarks>
public sealed class MemoryPool : IDisposable
{
    /// <summary>Granularity of size classes up to <see cref="SmallLimit"/>.</summary>
    public const long SmallGranule = 512;

    /// <summary>Largest request rounded to <see cref="SmallGranule"/>.</summary>
    public const long SmallLimit = 1L << 20;

    /// <summary>Granularity of size classes above <see cref="SmallLimit"/>.</summary>
    public const long LargeGranule = 2L << 20;

    /// <summary>Byte written over returned blocks in checked mode (0xCD: as floats, a large negative value that is easy to spot).</summary>
    public const byte PoisonByte = 0xCD;

    private readonly object _lock = new();
    private readonly Dictionary<DeviceBuffer, BlockState> _blocks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<long, LinkedList<BlockState>> _freeByClass = [];
    private readonly LinkedList<BlockState> _freeLru = new();
    private readonly LinkedList<BlockState> _pending = new();
    private readonly Dictionary<long, string?> _liveRents = [];

    private long _capacity;
    private long _cacheLimit;
    private long _inUse, _requestedInUse, _reserved, _cached, _pendingBytes, _peak;
    private long _rents, _hits, _misses, _deviceAllocations, _deviceReleases, _finalizedLeaks, _nextId;
    private bool _disposed;

    /// <summary>Creates a pool for <paramref name="device"/>; devices create theirs lazily (<see cref="Device.Pool"/>).</summary>
    public MemoryPool(Device device, MemoryPoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new MemoryPoolOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CacheLimit);
        Device = device;
        Options = options;
        _capacity = options.Capacity;
        _cacheLimit = options.CacheLimit;
    }

    /// <summary>The device the memory comes from.</summary>
    public Device Device { get; }

    /// <summary>The options the pool was created with.</summary>
    public MemoryPoolOptions Options { get; }

    /// <summary>True in checked mode (see <see cref="MemoryPoolOptions.Checked"/>).</summary>
    public bool IsChecked => Options.Checked;

    /// <summary>
    /// Most bytes the pool may hold (in use + reserved + cached). Can change at run time; lowering it below what is in
    /// use makes later rents fail until memory is returned. Raising it signals <see cref="MemoryAvailable"/>.
    /// </summary>
    public long Capacity
    {
        get { lock (_lock) return _capacity; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_lock)
            {
                _capacity = value;
                EvictWhile(() => _inUse + _reserved + _cached > _capacity);
            }
            MemoryAvailable?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>Most bytes kept cached; beyond it the least recently returned blocks are released.</summary>
    public long CacheLimit
    {
        get { lock (_lock) return _cacheLimit; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_lock)
            {
                _cacheLimit = value;
                EvictWhile(() => _cached - _pendingBytes > _cacheLimit);
            }
        }
    }

    /// <summary>
    /// Raised (outside the pool's lock) after memory was returned, a reservation released, the cache trimmed or the
    /// capacity raised: a waiter (the balancer's admission) may retry.
    /// </summary>
    public event EventHandler? MemoryAvailable;

    /// <summary>The size class of a request: see the remarks on <see cref="MemoryPool"/>.</summary>
    public static long RoundSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
            return SmallGranule;
        long granule = bytes <= SmallLimit ? SmallGranule : LargeGranule;
        return checked((bytes + granule - 1) / granule * granule);
    }

    /// <summary>A consistent snapshot of the counters.</summary>
    public MemoryPoolStatistics Statistics
    {
        get
        {
            lock (_lock)
                return new MemoryPoolStatistics(_inUse, _requestedInUse, _reserved, _cached, _pendingBytes, _peak, _capacity,
                    _rents, _hits, _misses, _deviceAllocations, _deviceReleases, _liveRents.Count, _finalizedLeaks);
        }
    }

    /// <summary>Bytes that could still be rented or reserved without exceeding the capacity (cached bytes count as free).</summary>
    public long AvailableBytes
    {
        get { lock (_lock) return Math.Max(0, _capacity - _inUse - _reserved); }
    }

    /// <summary>
    /// Rents at least <paramref name="bytes"/> bytes of uninitialized device memory. Return it with
    /// <see cref="PooledBuffer.Dispose"/> or <see cref="Return"/>.
    /// </summary>
    /// <exception cref="PoolCapacityExceededException">The request does not fit in <see cref="Capacity"/>.</exception>
    public PooledBuffer Rent(long bytes)
    {
        long size = RoundSize(bytes);
        string? trace = IsChecked ? new StackTrace(1, fNeedFileInfo: true).ToString() : null;
        while (true)
        {
            DeviceFence? waitFor = null;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                CollectCompleted();
                if (_inUse + _reserved + size > _capacity)
                    throw Exceeded(size);
                if (TakeFree(size) is { } reused)
                {
                    if (IsChecked)
                        VerifyPoison(reused);
                    _hits++;
                    return Issue(reused, bytes, trace);
                }
                // A miss: make room by releasing cached blocks, then by waiting for pending ones.
                EvictWhile(() => _inUse + _reserved + _cached + size > _capacity);
                if (_inUse + _reserved + _cached + size <= _capacity)
                {
                    var block = AllocateBlock(size);
                    _misses++;
                    return Issue(block, bytes, trace);
                }
                waitFor = _pending.First?.Value.Fence;
                if (waitFor is null)
                    throw Exceeded(size);
            }
            waitFor.Wait(); // outside the lock: the device finishes, the next pass collects the block
        }
    }

    /// <summary>
    /// Returns a block. It becomes reusable once <paramref name="fence"/> (default: a fence recorded now on the device,
    /// covering all work queued so far) completes.
    /// </summary>
    /// <exception cref="PoolMisuseException">The block was already returned, belongs to another pool, or its buffer was disposed directly.</exception>
    public void Return(PooledBuffer buffer, DeviceFence? fence = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ReturnCore(buffer, fence, strict: true);
    }

    /// <summary>
    /// Claims <paramref name="bytes"/> of capacity without allocating (released by disposing the reservation), or
    /// returns null when it does not fit now. Cached blocks are released to make room.
    /// </summary>
    /// <exception cref="PoolCapacityExceededException"><paramref name="bytes"/> exceeds the capacity itself (it can never fit).</exception>
    public MemoryReservation? TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (bytes > _capacity)
                throw Exceeded(bytes);
            CollectCompleted();
            if (_inUse + _reserved + bytes > _capacity)
                return null;
            EvictWhile(() => _inUse + _reserved + _cached + bytes > _capacity);
            // Pending blocks that cannot be released yet may still hold the room; the claim is on capacity, so allow it
            // only when held memory fits too.
            if (_inUse + _reserved + _cached + bytes > _capacity)
                return null;
            _reserved += bytes;
            _peak = Math.Max(_peak, _inUse + _reserved);
            return new MemoryReservation(this, bytes);
        }
    }

    /// <summary>Releases every cached block whose device work has finished; returns the bytes released.</summary>
    public long Trim()
    {
        long released;
        lock (_lock)
        {
            CollectCompleted();
            long before = _cached;
            EvictWhile(() => _freeLru.Count > 0);
            released = before - _cached;
        }
        if (released > 0)
            MemoryAvailable?.Invoke(this, EventArgs.Empty);
        return released;
    }

    /// <summary>Blocks currently rented, with where they were rented in checked mode.</summary>
    public IReadOnlyList<PoolLeak> LiveRents()
    {
        lock (_lock)
            return [.. _blocks.Values.Where(b => b.Lease is not null)
                .Select(b => new PoolLeak(b.Lease!.Id, b.Lease.RequestedBytes, b.Size, _liveRents.GetValueOrDefault(b.Lease.Id)))
                .OrderBy(l => l.Id)];
    }

    /// <summary>
    /// Waits for pending blocks, releases every cached block and reports blocks still rented (leaks) to
    /// <see cref="MemoryPoolOptions.LeakHandler"/>, or to <see cref="Trace"/> (and, in checked mode, throws
    /// <see cref="PoolLeakException"/>). Leaked blocks are not freed: they may still be in use; their buffers free
    /// themselves when collected.
    /// </summary>
    public void Dispose()
    {
        IReadOnlyList<PoolLeak> leaks;
        lock (_lock)
        {
            if (_disposed)
                return;
            leaks = LiveRents();
            foreach (var pending in _pending)
                pending.Fence?.Wait();
            CollectCompleted();
            EvictWhile(() => _freeLru.Count > 0);
            _disposed = true;
            _blocks.Clear();
            _liveRents.Clear();
        }
        if (leaks.Count == 0)
            return;
        if (Options.LeakHandler is { } handler)
        {
            handler(leaks);
            return;
        }
        Trace.TraceWarning($"Memory pool of {Device} disposed with {leaks.Count} block(s) still rented: {string.Join("; ", leaks.Take(10))}");
        if (IsChecked)
            throw new PoolLeakException(leaks);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var s = Statistics;
        return $"pool of {Device}: {FormatBytes(s.InUseBytes)} in use, {FormatBytes(s.ReservedBytes)} reserved, {FormatBytes(s.CachedBytes)} cached, " +
               $"peak {FormatBytes(s.PeakBytes)}, capacity {FormatBytes(s.CapacityBytes)}, {s.Hits}/{s.RentCount} hits";
    }

    /// <summary>"1.5 MiB"-style formatting used in messages.</summary>
    public static string FormatBytes(long bytes) => bytes switch
    {
        long.MaxValue => "unlimited",
        < 1024 => $"{bytes} B",
        < 1L << 20 => $"{bytes / 1024.0:0.#} KiB",
        < 1L << 30 => $"{bytes / (double)(1L << 20):0.#} MiB",
        _ => $"{bytes / (double)(1L << 30):0.##} GiB",
    };

    internal void ReturnCore(PooledBuffer buffer, DeviceFence? fence, bool strict)
    {
        if (!ReferenceEquals(buffer.Pool, this))
            throw new PoolMisuseException($"{buffer} was returned to the pool of {Device}, which did not issue it.");
        if (!buffer.TryMarkReturned())
        {
            if (strict)
                throw new PoolMisuseException($"{buffer} was returned twice (double return).");
            return;
        }
        fence ??= Device.RecordFence();
        lock (_lock)
            Recycle(buffer, fence);
        GC.SuppressFinalize(buffer);
        MemoryAvailable?.Invoke(this, EventArgs.Empty);
    }

    internal void ReturnFromFinalizer(PooledBuffer buffer)
    {
        if (!buffer.TryMarkReturned())
            return;
        try
        {
            lock (_lock)
            {
                _finalizedLeaks++;
                Recycle(buffer, DeviceFence.Completed);
            }
        }
        catch (PoolMisuseException)
        {
            // A finalizer must not throw; a block the pool no longer tracks is simply left to its own finalizer.
        }
    }

    internal void Release(MemoryReservation reservation, bool notify)
    {
        if (!reservation.TryMarkReleased())
            return;
        lock (_lock)
            _reserved -= reservation.Bytes;
        if (notify)
            MemoryAvailable?.Invoke(this, EventArgs.Empty);
    }

    private void Recycle(PooledBuffer buffer, DeviceFence fence)
    {
        var block = buffer.Block;
        if (_disposed || !_blocks.TryGetValue(block, out var state) || !ReferenceEquals(state.Lease, buffer))
        {
            if (_disposed)
                return; // returned after dispose: the pool forgot it; the buffer frees itself
            throw new PoolMisuseException($"{buffer} is not a live rent of this pool.");
        }
        state.Lease = null;
        _inUse -= state.Size;
        _requestedInUse -= buffer.RequestedBytes;
        _liveRents.Remove(buffer.Id);
        if (block.IsDisposed)
        {
            // Somebody disposed the DeviceBuffer instead of returning the rent: forget the block, report the misuse.
            _blocks.Remove(block);
            _deviceReleases++;
            throw new PoolMisuseException($"{buffer}: its DeviceBuffer was disposed directly; dispose the tensor or the PooledBuffer instead.");
        }
        if (IsChecked)
            Device.Fill<byte>(block, PoisonByte);
        _cached += state.Size;
        state.Fence = fence;
        if (fence.IsCompleted)
            AddFree(state);
        else
        {
            _pendingBytes += state.Size;
            state.Node = _pending.AddLast(state);
        }
        EvictWhile(() => _cached - _pendingBytes > _cacheLimit);
    }

    private PooledBuffer Issue(BlockState state, long requested, string? trace)
    {
        var lease = new PooledBuffer(this, state.Buffer, requested, ++_nextId);
        state.Lease = lease;
        _inUse += state.Size;
        _requestedInUse += requested;
        _peak = Math.Max(_peak, _inUse + _reserved);
        _rents++;
        _liveRents[lease.Id] = trace;
        return lease;
    }

    private BlockState AllocateBlock(long size)
    {
        DeviceBuffer buffer;
        try
        {
            buffer = Device.Allocate(size);
        }
        catch (OutOfMemoryException)
        {
            EvictWhile(() => _freeLru.Count > 0);
            buffer = Device.Allocate(size);
        }
        var state = new BlockState(buffer, size);
        _blocks.Add(buffer, state);
        _deviceAllocations++;
        return state;
    }

    private BlockState? TakeFree(long size)
    {
        if (!_freeByClass.TryGetValue(size, out var list))
            return null;
        while (list.Last is { } node)
        {
            var state = node.Value;
            RemoveFree(state);
            if (!state.Buffer.IsDisposed)
                return state;
            _blocks.Remove(state.Buffer); // disposed behind the pool's back while cached
            _deviceReleases++;
        }
        return null;
    }

    private void AddFree(BlockState state)
    {
        state.Fence = null;
        if (!_freeByClass.TryGetValue(state.Size, out var list))
            _freeByClass[state.Size] = list = new LinkedList<BlockState>();
        state.ClassNode = list.AddLast(state);
        state.Node = _freeLru.AddLast(state);
    }

    private void RemoveFree(BlockState state)
    {
        _freeByClass[state.Size].Remove(state.ClassNode!);
        _freeLru.Remove(state.Node!);
        state.ClassNode = null;
        state.Node = null;
        _cached -= state.Size;
    }

    private void CollectCompleted()
    {
        var node = _pending.First;
        while (node is not null)
        {
            var next = node.Next;
            var state = node.Value;
            if (state.Fence!.IsCompleted)
            {
                _pending.Remove(node);
                _pendingBytes -= state.Size;
                AddFree(state);
            }
            node = next;
        }
    }

    private void EvictWhile(Func<bool> condition)
    {
        while (condition() && _freeLru.First is { } oldest)
        {
            var state = oldest.Value;
            RemoveFree(state);
            _blocks.Remove(state.Buffer);
            state.Buffer.Dispose();
            _deviceReleases++;
        }
    }

    private void VerifyPoison(BlockState state)
    {
        var bytes = new byte[state.Size];
        Device.CopyToHost<byte>(state.Buffer, bytes);
        int index = Array.FindIndex(bytes, b => b != PoisonByte);
        if (index >= 0)
        {
            Device.Fill<byte>(state.Buffer, PoisonByte); // re-poison and keep it: the accounting stays whole
            AddFree(state);
            _cached += state.Size;
            throw new PoolMisuseException(
                $"A {state.Size}-byte block of the pool of {Device} was written after it was returned (byte {index} is 0x{bytes[index]:X2}, " +
                $"expected poison 0x{PoisonByte:X2}): something used a tensor or buffer after disposing it.");
        }
    }

    private PoolCapacityExceededException Exceeded(long size) =>
        new(size, _inUse + _reserved, _cached, _capacity, Device.ToString());

    private sealed class BlockState(DeviceBuffer buffer, long size)
    {
        public DeviceBuffer Buffer { get; } = buffer;
        public long Size { get; } = size;
        public PooledBuffer? Lease { get; set; }
        public DeviceFence? Fence { get; set; }
        public LinkedListNode<BlockState>? Node { get; set; }
        public LinkedListNode<BlockState>? ClassNode { get; set; }
    }
}
