using System.Collections.Concurrent;
using Attention.Kernels.Memory;
using Xunit;

namespace Attention.Kernels.Tests.Memory;

public sealed class MemoryPoolTests
{
    private static MemoryPool NewPool(long capacity = long.MaxValue, bool isChecked = false, long cacheLimit = 256L << 20,
        Action<IReadOnlyList<PoolLeak>>? leaks = null) =>
        new(Device.Cpu, new MemoryPoolOptions { Capacity = capacity, Checked = isChecked, CacheLimit = cacheLimit, LeakHandler = leaks });

    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, 2 << 20)]
    [InlineData((2 << 20) + 1, 4 << 20)]
    [InlineData(100_000_000, 96 << 20)] // 95.4 MiB → 48 × 2 MiB
    public void Sizes_round_to_documented_classes(long requested, long expected) =>
        Assert.Equal(expected, MemoryPool.RoundSize(requested));

    [Fact]
    public void Returned_blocks_are_reused_for_the_same_class()
    {
        using var pool = NewPool();
        var a = pool.Rent(1000);
        var block = a.Buffer;
        Assert.Equal(1024, a.BlockBytes);
        a.Dispose();
        var b = pool.Rent(1020); // same class
        Assert.Same(block, b.Buffer);
        var c = pool.Rent(5000); // another class: a miss
        Assert.NotSame(block, c.Buffer);
        var s = pool.Statistics;
        Assert.Equal((3, 1, 2), (s.RentCount, s.Hits, s.Misses));
        Assert.Equal(1024 + 5120, s.InUseBytes);
        Assert.Equal(1020 + 5000, s.RequestedInUseBytes);
        b.Dispose();
        c.Dispose();
        s = pool.Statistics;
        Assert.Equal((0L, 1024L + 5120, 1024L + 5120), (s.InUseBytes, s.CachedBytes, s.PeakBytes));
        Assert.Equal(1024 + 5120, pool.Trim());
        Assert.Equal(0, pool.Statistics.CachedBytes);
    }

    [Fact]
    public void Concurrent_rent_and_return_never_lose_or_double_issue_a_block()
    {
        var pool = NewPool(cacheLimit: 1 << 20);
        var owners = new ConcurrentDictionary<DeviceBuffer, int>(ReferenceEqualityComparer.Instance);
        int violations = 0;
        const int Threads = 4, Iterations = 5000;
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            var held = new List<PooledBuffer>();
            for (int i = 0; i < Iterations; i++)
            {
                if (held.Count < 8 && (held.Count == 0 || random.Next(2) == 0))
                {
                    var rent = pool.Rent(random.Next(1, 6) * 700);
                    if (!owners.TryAdd(rent.Buffer, t))
                        Interlocked.Increment(ref violations); // issued twice while held
                    held.Add(rent);
                }
                else
                {
                    int k = random.Next(held.Count);
                    owners.TryRemove(held[k].Buffer, out _);
                    held[k].Dispose();
                    held.RemoveAt(k);
                }
            }
            foreach (var rent in held)
            {
                owners.TryRemove(rent.Buffer, out _);
                rent.Dispose();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(0, violations);
        var s = pool.Statistics;
        Assert.Equal((0L, 0L, 0L, 0L), (s.InUseBytes, s.RequestedInUseBytes, s.LiveBuffers, s.ReservedBytes));
        Assert.Equal(s.Hits + s.Misses, s.RentCount);
        Assert.True(s.Hits > s.Misses, $"the cache should serve most rents: {s}");
        pool.Dispose();
        s = pool.Statistics;
        Assert.Equal((0L, 0L), (s.InUseBytes, s.CachedBytes));
        Assert.Equal(s.DeviceAllocations, s.DeviceReleases); // every block went back to the device
    }

    [Fact]
    public void Capacity_is_enforced_with_a_message_that_states_the_numbers()
    {
        using var pool = NewPool(capacity: 4096);
        using var a = pool.Rent(2048);
        var cached = pool.Rent(512);
        cached.Dispose();
        // A miss first releases cache to make room: 2048 + 2048 fits once the cached 512 is gone.
        using (pool.Rent(2048))
            Assert.Equal(0, pool.Statistics.CachedBytes);
        using var b = pool.Rent(1024);
        var ex = Assert.Throws<PoolCapacityExceededException>(() => pool.Rent(1500));
        Assert.Equal((1536L, 3072L, 4096L), (ex.RequestedBytes, ex.InUseBytes, ex.CapacityBytes));
        Assert.Contains("1.5 KiB", ex.Message);
        Assert.Contains("3 KiB in use", ex.Message);
        Assert.Contains("cached", ex.Message);
        Assert.Contains("capacity 4 KiB", ex.Message);
    }

    [Fact]
    public void Double_return_wrong_pool_and_direct_dispose_are_caught()
    {
        using var pool = NewPool();
        using var other = NewPool();
        var rent = pool.Rent(100);
        pool.Return(rent);
        Assert.Throws<PoolMisuseException>(() => pool.Return(rent));
        rent.Dispose(); // Dispose stays idempotent

        var foreign = other.Rent(100);
        Assert.Throws<PoolMisuseException>(() => pool.Return(foreign));
        foreign.Dispose();

        var direct = pool.Rent(100);
        direct.Buffer.Dispose();
        Assert.Throws<PoolMisuseException>(() => pool.Return(direct));
        Assert.Equal(0, pool.Statistics.InUseBytes);
    }

    [Fact]
    public void Use_after_return_is_caught()
    {
        using var pool = NewPool(isChecked: true);
        var rent = pool.Rent(256);
        var stale = rent.Buffer;
        rent.Dispose();
        Assert.Throws<ObjectDisposedException>(() => rent.Buffer);

        // Checked mode: a write through a stale reference is found when the block is about to be reissued.
        Device.Cpu.CopyFromHost<float>([1f, 2f], stale);
        var ex = Assert.Throws<PoolMisuseException>(() => pool.Rent(256));
        Assert.Contains("written after it was returned", ex.Message);
        using var again = pool.Rent(256); // the block was re-poisoned and stays usable
        Assert.Equal(0, pool.Statistics.LiveBuffers - 1);
    }

    [Fact]
    public void Leaks_are_reported_when_the_pool_is_disposed()
    {
        IReadOnlyList<PoolLeak>? reported = null;
        var pool = NewPool(leaks: l => reported = l);
        var leaked = pool.Rent(3000);
        pool.Rent(10).Dispose();
        pool.Dispose();
        var leak = Assert.Single(reported!);
        Assert.Equal((3000L, 3072L), (leak.RequestedBytes, leak.BlockBytes));
        GC.KeepAlive(leaked);

        var checkedPool = NewPool(isChecked: true);
        var rent = checkedPool.Rent(64);
        var ex = Assert.Throws<PoolLeakException>(checkedPool.Dispose);
        Assert.Contains(nameof(Leaks_are_reported_when_the_pool_is_disposed), ex.Message); // where it was rented
        GC.KeepAlive(rent);
    }

    [Fact]
    public void A_block_is_reused_only_after_its_fence_completes()
    {
        using var pool = NewPool(capacity: 2048);
        var fence = new ManualFence();
        var rent = pool.Rent(1024);
        var block = rent.Buffer;
        pool.Return(rent, fence);
        Assert.Equal(1024, pool.Statistics.PendingBytes);

        using (var second = pool.Rent(1024))
            Assert.NotSame(block, second.Buffer); // the device may still be using the first
        fence.Done = true;
        using (var third = pool.Rent(1024))
            Assert.Same(block, third.Buffer);
    }

    [Fact]
    public void A_full_pool_waits_for_pending_blocks_before_failing()
    {
        using var pool = NewPool(capacity: 1024);
        var fence = new ManualFence();
        pool.Return(pool.Rent(1024), fence);
        using var rent = pool.Rent(1024); // waits on the fence (which completes when waited on), then reuses
        Assert.Equal(1, fence.Waits);
        Assert.Equal(1, pool.Statistics.Hits);
    }

    [Fact]
    public void Reservations_count_against_capacity()
    {
        using var pool = NewPool(capacity: 4096);
        var r = pool.TryReserve(3000)!;
        Assert.Null(pool.TryReserve(2000));
        Assert.Throws<PoolCapacityExceededException>(() => pool.TryReserve(5000));
        Assert.Throws<PoolCapacityExceededException>(() => pool.Rent(1500));
        int signals = 0;
        pool.MemoryAvailable += (_, _) => signals++;
        r.Dispose();
        r.Dispose();
        Assert.Equal(1, signals);
        Assert.Equal(0, pool.Statistics.ReservedBytes);
        Assert.Equal(3000, pool.Statistics.PeakBytes);
    }

    [Fact]
    public void Tensors_rent_from_the_device_pool_and_return_on_dispose()
    {
        var tensor = Tensor.Create<float>(Device.Cpu, 3, 5);
        Assert.Same(Device.Cpu.Pool, tensor.Memory.Pool);
        Assert.Equal(60, tensor.Memory.RequestedBytes);
        tensor.Fill(1f);
        Assert.All(tensor.ToArray(), x => Assert.Equal(1f, x));
        tensor.Dispose();
        tensor.Dispose();
        Assert.True(tensor.Memory.IsReturned);
        Assert.Throws<ObjectDisposedException>(() => tensor.Buffer);
    }

    private sealed class ManualFence : DeviceFence
    {
        public bool Done { get; set; }
        public int Waits { get; private set; }
        public override bool IsCompleted => Done;

        public override void Wait()
        {
            Waits++;
            Done = true; // a real fence blocks until the device is done; here the device "finishes" at once
        }
    }
}
