using System.Runtime.InteropServices;
using Attention.Kernels.Memory;
using Xunit;

namespace Attention.Kernels.Tests.Cuda;

/// <summary>
/// The CUDA device's pool fences (events polled with cuEventQuery). The ordering tests need the fake driver
/// (tests/cuda/fake-driver-check.sh), whose stream a test can hold busy; on a real GPU nothing can hold a stream
/// deterministically, so they skip there, and without any driver everything skips.
/// </summary>
public sealed class CudaFenceTests
{
    /// <summary>The fake driver's test controls (exports of tests/cuda/fake_libcuda.c).</summary>
    private sealed unsafe class FakeCuda(nint hold, nint liveEvents)
    {
        public void Hold(int busy) => ((delegate* unmanaged<int, void>)hold)(busy);

        public int LiveEvents() => ((delegate* unmanaged<int>)liveEvents)();
    }

    /// <summary>The fake driver's controls, or a skip on any other driver.</summary>
    private static FakeCuda FakeDriver()
    {
        CudaTestDevice.Require();
        nint library = NativeLibrary.Load("libcuda.so.1");
        bool fake = NativeLibrary.TryGetExport(library, "fake_cuda_hold_stream", out nint hold) &
                    NativeLibrary.TryGetExport(library, "fake_cuda_live_events", out nint live);
        Skip.IfNot(fake, "a real CUDA driver: no way to hold its stream busy (the fake driver of tests/cuda/fake-driver-check.sh has one)");
        return new FakeCuda(hold, live);
    }

    [SkippableFact]
    public void A_returned_block_is_reused_only_after_the_stream_finished_with_it()
    {
        var device = CudaTestDevice.Require();
        var driver = FakeDriver();
        using var pool = new MemoryPool(device);
        driver.Hold(1); // everything queued from here on stays "running"
        try
        {
            var first = pool.Rent(4096);
            var block = first.Buffer;
            first.Dispose(); // the pool records an event on the device's stream
            Assert.Equal(4096, pool.Statistics.PendingBytes);

            var second = pool.Rent(4096);
            var secondBlock = second.Buffer;
            Assert.NotSame(block, secondBlock); // the kernel may still be reading the first block: a fresh one
            second.Dispose();
            Assert.Equal((0L, 2L), (pool.Statistics.Hits, pool.Statistics.Misses)); // two rents, both misses
            Assert.Equal(8192, pool.Statistics.PendingBytes);

            driver.Hold(0); // the stream drains: both events complete
            using var third = pool.Rent(4096);
            Assert.True(ReferenceEquals(third.Buffer, block) || ReferenceEquals(third.Buffer, secondBlock), "expected a finished block back");
            Assert.Equal((1L, 2L), (pool.Statistics.Hits, pool.Statistics.DeviceAllocations));
            Assert.Equal(0, pool.Statistics.PendingBytes);
        }
        finally
        {
            driver.Hold(0);
        }
    }

    [SkippableFact]
    public void Fence_polls_without_blocking_and_wait_finishes_it()
    {
        var device = CudaTestDevice.Require();
        var driver = FakeDriver();
        int before = driver.LiveEvents();
        driver.Hold(1);
        try
        {
            var fence = device.RecordFence();
            Assert.False(fence.IsCompleted);
            Assert.False(fence.IsCompleted); // still running, asking again does not block or change it
            Assert.Equal(before + 1, driver.LiveEvents());
            fence.Wait();
            Assert.True(fence.IsCompleted);
            Assert.Equal(before, driver.LiveEvents()); // the event is destroyed once completion was seen

            var other = device.RecordFence(device.CreateStream());
            driver.Hold(0);
            Assert.True(other.IsCompleted);
            Assert.Equal(before, driver.LiveEvents());
        }
        finally
        {
            driver.Hold(0);
        }
    }

    [SkippableFact]
    public void A_null_stream_is_rejected()
    {
        var device = CudaTestDevice.Require();
        Assert.Throws<ArgumentNullException>(() => device.RecordFence(null!));
    }
}
