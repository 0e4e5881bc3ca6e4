using Attention.Kernels.Memory;

namespace Attention.Kernels;

/// <summary>
/// A place where tensors live and kernels run. One small interface for every backend: allocate, copy between host and
/// device, synchronize, and the kernel contract: a device runs the generated attention kernels
/// (<see cref="RunAttention{TKernel, T}"/>) and the graph ops (<see cref="GraphOpKernels"/>) itself, so generated code
/// never chooses a backend.
/// </summary>
public abstract class Device : IDisposable
{
    /// <summary>
    /// Environment variable that forces <see cref="Default"/>: <c>cpu</c>, <c>cuda</c>, <c>opencl</c> or <c>ilgpu-cpu</c>,
    /// optionally followed by <c>:index</c> or <c>:name</c> (e.g. <c>cuda:1</c>). The accelerators need the
    /// Attention.Kernels.Ilgpu package.
    /// </summary>
    public const string DeviceEnvironmentVariable = "ATTENTION_KERNELS_DEVICE";

    private static readonly Lazy<Device> s_default = new(DeviceRegistry.CreateDefault);

    /// <summary>The host CPU.</summary>
    public static CpuDevice Cpu => CpuDevice.Instance;

    /// <summary>
    /// The device named by <see cref="DeviceEnvironmentVariable"/>, else the best available one: a CUDA GPU, then an OpenCL
    /// GPU (both when Attention.Kernels.Ilgpu is referenced), then the CPU.
    /// </summary>
    public static Device Default => s_default.Value;

    /// <summary>Human-readable name, e.g. the processor or GPU model.</summary>
    public abstract string Name { get; }

    /// <summary>The backend.</summary>
    public abstract DeviceKind Kind { get; }

    /// <summary>
    /// True if kernels run on the host's own CPU cores: the CPU backend, or ILGPU's CPU accelerator.
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
    /// Runs the fused attention kernel <typeparamref name="TKernel"/> (a generated specialization) on tensors of this
    /// device; the generated <c>Launch</c> checked the shapes and devices. Asynchronous on queue-based devices.
    /// </summary>
    /// <typeparam name="TKernel">The generated kernel description: constants and the CPU kernel.</typeparam>
    /// <typeparam name="T">Storage of q, k, v and output: <see cref="float"/>, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    public abstract void RunAttention<TKernel, T>(in AttentionLaunch<T> launch)
        where TKernel : struct, IAttentionKernel
        where T : unmanaged;

    /// <summary>The graph ops of this device (what <see cref="GraphOps"/> runs between a model's attention kernels).</summary>
    public abstract IGraphOpKernels GraphOpKernels { get; }

    /// <summary>
    /// Runs <paramref name="work"/> (which queues kernels on this device) and returns how long the device took for it,
    /// waiting until it finished. The default times the call and a <see cref="Synchronize"/> on the host clock; queue-based
    /// devices override it with timestamps taken on the device's own queue. The balancer charges tasks with this time.
    /// </summary>
    public virtual TimeSpan Time(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        work();
        Synchronize();
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }

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
