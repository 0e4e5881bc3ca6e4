using Attention.Kernels.Memory;

namespace Attention.Kernels;

/// <summary>
/// A place where tensors live and kernels run. One small interface for every backend:
/// allocate, copy between host and device, synchronize.
/// </summary>
public abstract class Device : IDisposable
{
    /// <summary>Environment variable that forces <see cref="Default"/>: <c>cpu</c>, <c>opencl</c> or <c>cuda</c>.</summary>
    public const string DeviceEnvironmentVariable = "ATTENTION_KERNELS_DEVICE";

    private static readonly Lazy<Device> s_default = new(DeviceRegistry.CreateDefault);

    /// <summary>The host CPU.</summary>
    public static CpuDevice Cpu => CpuDevice.Instance;

    /// <summary>
    /// The best available device (CUDA, then OpenCL GPU, then CPU), or the one named by
    /// <see cref="DeviceEnvironmentVariable"/>.
    /// </summary>
    public static Device Default => s_default.Value;

    /// <summary>Human-readable name, e.g. the processor or GPU model.</summary>
    public abstract string Name { get; }

    /// <summary>The backend.</summary>
    public abstract DeviceKind Kind { get; }

    /// <summary>
    /// True if kernels run on the host's own CPU cores: the CPU backend, or an OpenCL CPU driver such as PoCL.
    /// <see cref="Default"/> never prefers such a device over the CPU backend unless it is forced.
    /// </summary>
    public virtual bool RunsOnHost => false;

    /// <summary>Allocates <paramref name="bytes"/> bytes of uninitialized device memory.</summary>
    public abstract DeviceBuffer Allocate(long bytes);

    /// <summary>Copies host data into <paramref name="destination"/> at a byte offset.</summary>
    public abstract void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffsetBytes = 0)
        where T : unmanaged;

    /// <summary>Copies device data at a byte offset of <paramref name="source"/> to the host.</summary>
    public abstract void CopyToHost<T>(DeviceBuffer source, Span<T> destination, long sourceOffsetBytes = 0)
        where T : unmanaged;

    /// <summary>Sets every element of a buffer to <paramref name="value"/>.</summary>
    public abstract void Fill<T>(DeviceBuffer buffer, T value) where T : unmanaged;

    /// <summary>Waits until all work queued on this device has finished.</summary>
    public abstract void Synchronize();

    /// <summary>
    /// Records a fence after all work queued on this device so far. The default suits synchronous devices
    /// (nothing is ever in flight) and returns <see cref="DeviceFence.Completed"/>; queue-based devices override it.
    /// </summary>
    public virtual DeviceFence RecordFence() => DeviceFence.Completed;

    /// <summary>
    /// The caching allocator for this device, created on first use with <see cref="CreatePoolOptions"/>.
    /// <see cref="Tensor.Create{T}(Device, int[])"/> rents from it and the tensor's <c>Dispose</c> returns to it.
    /// </summary>
    public MemoryPool Pool
    {
        get
        {
            if (_pool is { } pool)
                return pool;
            var created = new MemoryPool(this, CreatePoolOptions());
            return Interlocked.CompareExchange(ref _pool, created, null) ?? created;
        }
    }

    private MemoryPool? _pool;

    /// <summary>
    /// Options for <see cref="Pool"/>: capacity (default: the memory available to the process; devices with their
    /// own memory report that), cache limit and checked mode (environment variable
    /// <see cref="MemoryPoolOptions.CheckedEnvironmentVariable"/>).
    /// </summary>
    protected virtual MemoryPoolOptions CreatePoolOptions() => MemoryPoolOptions.FromEnvironment();

    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Name}";

    /// <summary>Releases native resources held by the device.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _pool, null)?.Dispose();
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Throws unless <paramref name="buffer"/> belongs to this device and the range fits.</summary>
    protected void CheckRange(DeviceBuffer buffer, long offsetBytes, long lengthBytes, string argument)
    {
        ArgumentNullException.ThrowIfNull(buffer, argument);
        if (!ReferenceEquals(buffer.Device, this))
            throw new ArgumentException($"Buffer belongs to {buffer.Device}, not to {this}.", argument);
        if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > buffer.SizeInBytes)
            throw new ArgumentOutOfRangeException(argument,
                $"Range [{offsetBytes}, {offsetBytes + lengthBytes}) bytes is outside the buffer of {buffer.SizeInBytes} bytes.");
    }
}
