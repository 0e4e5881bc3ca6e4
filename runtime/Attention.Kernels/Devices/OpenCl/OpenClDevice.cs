using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Attention.Kernels.OpenCl;
using static Attention.Kernels.OpenCl.OpenClNative;

namespace Attention.Kernels;

/// <summary>
/// An OpenCL device: one context and one in-order, profiling-enabled queue. Kernels are compiled from device-C
/// source at first use and cached per (source, build options) in memory, and in <see cref="KernelCacheDirectory"/>
/// as program binaries when one is set.
/// </summary>
/// <remarks>
/// <para>Selection: <see cref="Create()"/> takes the device named by <see cref="DeviceSelectionEnvironmentVariable"/>
/// (an index from <see cref="Discover"/>, <c>gpu</c>/<c>cpu</c>, or part of "platform: device"), else the first GPU,
/// then accelerator, then CPU device. As <see cref="Device.Default"/>, only an OpenCL <i>GPU</i> is chosen: an OpenCL
/// CPU driver such as PoCL never replaces the CPU backend unless forced with <c>ATTENTION_KERNELS_DEVICE=opencl</c>.</para>
/// <para>Host↔device copies are blocking; kernel launches and fills are asynchronous until <see cref="Synchronize"/>
/// (or a copy back) waits for them. All methods are thread-safe.</para>
/// </remarks>
public sealed unsafe class OpenClDevice : Device
{
    /// <summary>Picks the OpenCL device: an index from <see cref="Discover"/>, <c>gpu</c>, <c>cpu</c>, or a case-insensitive part of "platform: device".</summary>
    public const string DeviceSelectionEnvironmentVariable = "ATTENTION_KERNELS_OPENCL_DEVICE";

    /// <summary>A directory where compiled program binaries are stored and reused across processes (off when unset).</summary>
    public const string KernelCacheEnvironmentVariable = "ATTENTION_KERNELS_KERNEL_CACHE";

    private readonly nint _context;
    private readonly nint _queue;
    private readonly object _buildLock = new();
    private readonly ConcurrentDictionary<(string Hash, string Options), nint> _programs = new();
    private readonly ConcurrentDictionary<(string Hash, string Options, string EntryPoint), OpenClKernel> _kernels = new();
    private readonly object _eventLock = new();
    private nint _lastEvent;
    private int _programsBuilt, _programsLoaded;
    private bool _disposed;

    private OpenClDevice(OpenClDeviceInfo info)
    {
        Info = info;
        int error;
        nint id = info.DeviceId;
        _context = clCreateContext(null, 1, &id, 0, 0, &error);
        OpenClException.Check(error, "clCreateContext");
        _queue = clCreateCommandQueue(_context, id, QueueProfilingEnable, &error);
        if (error != 0)
        {
            clReleaseContext(_context);
            throw new OpenClException(error, "clCreateCommandQueue");
        }
        KernelCacheDirectory = Environment.GetEnvironmentVariable(KernelCacheEnvironmentVariable) is { Length: > 0 } dir ? dir : null;
    }

    /// <summary>What the driver reports about the device (limits included).</summary>
    public OpenClDeviceInfo Info { get; }

    /// <inheritdoc />
    public override string Name => $"{Info.Name} ({Info.Platform}, {Info.Type})";

    /// <inheritdoc />
    public override DeviceKind Kind => DeviceKind.OpenCl;

    /// <summary>True for an OpenCL CPU driver (e.g. PoCL): then it never becomes <see cref="Device.Default"/> on its own.</summary>
    public override bool RunsOnHost => Info.Type == OpenClDeviceType.Cpu;

    /// <summary>Where program binaries are cached across processes; null (the default unless <see cref="KernelCacheEnvironmentVariable"/> is set) keeps the cache in memory only.</summary>
    public string? KernelCacheDirectory { get; set; }

    /// <summary>Programs this device compiled from source (cache misses).</summary>
    public int ProgramsBuiltFromSource => Volatile.Read(ref _programsBuilt);

    /// <summary>Programs this device loaded as binaries from <see cref="KernelCacheDirectory"/> (disk cache hits).</summary>
    public int ProgramsLoadedFromCache => Volatile.Read(ref _programsLoaded);

    /// <summary>Every OpenCL device on this machine.</summary>
    /// <exception cref="DeviceUnavailableException">No OpenCL driver is installed (the message says how to install one).</exception>
    public static IReadOnlyList<OpenClDeviceInfo> Discover() => OpenClRuntime.Devices;

    /// <summary>The device named by <see cref="DeviceSelectionEnvironmentVariable"/>, else the best one (GPU, accelerator, CPU).</summary>
    /// <exception cref="DeviceUnavailableException">No OpenCL driver is installed.</exception>
    public static OpenClDevice Create()
    {
        var selector = Environment.GetEnvironmentVariable(DeviceSelectionEnvironmentVariable);
        return string.IsNullOrWhiteSpace(selector) ? new OpenClDevice(Best(Discover())) : Create(selector);
    }

    /// <summary>The device at <paramref name="index"/> of <see cref="Discover"/>.</summary>
    public static OpenClDevice Create(int index)
    {
        var devices = Discover();
        if (index < 0 || index >= devices.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"There are {devices.Count} OpenCL devices: {List(devices)}.");
        return new OpenClDevice(devices[index]);
    }

    /// <summary>
    /// The device matching <paramref name="selector"/>: an index, <c>gpu</c>, <c>cpu</c> or <c>accelerator</c> (the first of that type),
    /// or a case-insensitive part of "platform: device name".
    /// </summary>
    public static OpenClDevice Create(string selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var devices = Discover();
        string s = selector.Trim();
        if (int.TryParse(s, out int index))
            return Create(index);
        var match = Enum.TryParse<OpenClDeviceType>(s, ignoreCase: true, out var type) && !int.TryParse(s, out _)
            ? devices.FirstOrDefault(d => d.Type == type)
            : devices.FirstOrDefault(d => $"{d.Platform}: {d.Name}".Contains(s, StringComparison.OrdinalIgnoreCase));
        return match is null
            ? throw new DeviceUnavailableException(DeviceKind.OpenCl, $"No OpenCL device matches '{selector}'. Devices: {List(devices)}.")
            : new OpenClDevice(match);
    }

    /// <summary>A device for <paramref name="info"/> (from <see cref="Discover"/>).</summary>
    public static OpenClDevice Create(OpenClDeviceInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new OpenClDevice(info);
    }

    private static OpenClDeviceInfo Best(IReadOnlyList<OpenClDeviceInfo> devices) =>
        devices.OrderBy(d => d.Type switch { OpenClDeviceType.Gpu => 0, OpenClDeviceType.Accelerator => 1, OpenClDeviceType.Cpu => 2, _ => 3 })
               .ThenBy(d => d.Index)
               .First();

    private static string List(IReadOnlyList<OpenClDeviceInfo> devices) => string.Join("; ", devices);

    /// <inheritdoc />
    /// <exception cref="OpenClException">
    /// <see cref="OpenClException.ErrorName"/> is <c>CL_INVALID_BUFFER_SIZE</c> when <paramref name="bytes"/> exceeds the device's
    /// largest single allocation (<see cref="OpenClDeviceInfo.MaxAllocationSize"/>), or <c>CL_MEM_OBJECT_ALLOCATION_FAILURE</c> /
    /// <c>CL_OUT_OF_RESOURCES</c> when the driver cannot find the memory.
    /// </exception>
    public override DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ThrowIfDisposed();
        if (bytes > Info.MaxAllocationSize)
            throw new OpenClException(-61, "clCreateBuffer",
                $"Asked for {bytes} bytes; {Info.Name} allows at most {Info.MaxAllocationSize} bytes per buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE).");
        int error;
        // OpenCL has no empty buffers: an empty tensor still gets one byte.
        nint memory = clCreateBuffer(_context, MemReadWrite, (nuint)Math.Max(bytes, 1), null, &error);
        if (error != 0)
            throw new OpenClException(error, "clCreateBuffer", $"Asked for {bytes} bytes on {Info.Name}.");
        return new OpenClBuffer(this, memory, bytes);
    }

    /// <inheritdoc />
    public override void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffsetBytes = 0)
    {
        long bytes = (long)source.Length * Unsafe.SizeOf<T>();
        CheckRange(destination, destinationOffsetBytes, bytes, nameof(destination));
        if (bytes == 0)
            return;
        var buffer = (OpenClBuffer)destination;
        fixed (byte* p = MemoryMarshal.AsBytes(source))
            OpenClException.Check(
                clEnqueueWriteBuffer(_queue, buffer.Handle, 1, (nuint)destinationOffsetBytes, (nuint)bytes, p, 0, null, null),
                "clEnqueueWriteBuffer");
        GC.KeepAlive(buffer);
    }

    /// <inheritdoc />
    public override void CopyToHost<T>(DeviceBuffer source, Span<T> destination, long sourceOffsetBytes = 0)
    {
        long bytes = (long)destination.Length * Unsafe.SizeOf<T>();
        CheckRange(source, sourceOffsetBytes, bytes, nameof(source));
        if (bytes == 0)
            return;
        var buffer = (OpenClBuffer)source;
        // A blocking read on an in-order queue also waits for every kernel queued before it.
        fixed (byte* p = MemoryMarshal.AsBytes(destination))
            OpenClException.Check(
                clEnqueueReadBuffer(_queue, buffer.Handle, 1, (nuint)sourceOffsetBytes, (nuint)bytes, p, 0, null, null),
                "clEnqueueReadBuffer");
        GC.KeepAlive(buffer);
    }

    /// <inheritdoc />
    public override void Fill<T>(DeviceBuffer buffer, T value)
    {
        CheckRange(buffer, 0, buffer.SizeInBytes, nameof(buffer));
        int size = Unsafe.SizeOf<T>();
        long count = buffer.SizeInBytes / size;
        if (count == 0)
            return;
        if (size > 128 || !BitOperations.IsPow2(size))
        {
            // clEnqueueFillBuffer takes patterns of 1, 2, 4 … 128 bytes only; anything else goes through the host.
            var host = new T[checked((int)count)];
            host.AsSpan().Fill(value);
            CopyFromHost<T>(host, buffer);
            return;
        }
        var cl = (OpenClBuffer)buffer;
        OpenClException.Check(
            clEnqueueFillBuffer(_queue, cl.Handle, Unsafe.AsPointer(ref value), (nuint)size, 0, (nuint)(count * size), 0, null, null),
            "clEnqueueFillBuffer");
        GC.KeepAlive(cl);
    }

    /// <inheritdoc />
    public override void Synchronize()
    {
        ThrowIfDisposed();
        OpenClException.Check(clFinish(_queue), "clFinish");
    }

    /// <summary>
    /// The compiled kernel <paramref name="entryPoint"/> of <paramref name="source"/> (device C, compiled after the OpenCL
    /// prelude <see cref="DevicePrelude.OpenCl"/>). Built at the first call, then served from the in-memory cache; with
    /// <see cref="KernelCacheDirectory"/> set, the program binary is also stored there and reused by later processes.
    /// </summary>
    /// <exception cref="OpenClBuildException">The source does not compile: carries the driver's build log and the kernel name.</exception>
    /// <exception cref="OpenClException">The driver rejected the build options (<c>CL_INVALID_BUILD_OPTIONS</c>) or has no such kernel (<c>CL_INVALID_KERNEL_NAME</c>).</exception>
    public OpenClKernel GetKernel(string source, string entryPoint, string buildOptions = "")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(entryPoint);
        buildOptions ??= "";
        ThrowIfDisposed();
        string hash = OpenClProgramCache.Hash(source);
        if (_kernels.TryGetValue((hash, buildOptions, entryPoint), out var cached))
            return cached;
        lock (_buildLock)
        {
            if (_kernels.TryGetValue((hash, buildOptions, entryPoint), out cached))
                return cached;
            if (!_programs.TryGetValue((hash, buildOptions), out nint program))
            {
                program = OpenClProgramCache.Build(this, _context, source, entryPoint, buildOptions, out bool fromDisk);
                Interlocked.Increment(ref fromDisk ? ref _programsLoaded : ref _programsBuilt);
                _programs[(hash, buildOptions)] = program;
            }
            var kernel = OpenClKernel.Create(this, program, entryPoint);
            _kernels[(hash, buildOptions, entryPoint)] = kernel;
            return kernel;
        }
    }

    /// <summary>
    /// Queues <paramref name="kernel"/> over an N-dimensional range (1–3 axes; <paramref name="globalSize"/> a multiple of
    /// <paramref name="localSize"/> on each axis). <paramref name="arguments"/> in kernel order: <see cref="DeviceBuffer"/>s of
    /// this device, null for a NULL buffer, or <see cref="int"/>, <see cref="long"/>, <see cref="float"/> scalars.
    /// Asynchronous; the launch's duration is <see cref="LastKernelTime"/>.
    /// </summary>
    public void Launch(OpenClKernel kernel, ReadOnlySpan<long> globalSize, ReadOnlySpan<long> localSize, params ReadOnlySpan<object?> arguments)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ThrowIfDisposed();
        if (!ReferenceEquals(kernel.Device, this))
            throw new ArgumentException($"Kernel '{kernel.EntryPoint}' was built for {kernel.Device}, not {this}.", nameof(kernel));
        if (globalSize.Length is < 1 or > 3 || localSize.Length != globalSize.Length)
            throw new ArgumentException("Global and local sizes need the same number (1–3) of axes.", nameof(localSize));
        nuint* global = stackalloc nuint[3];
        nuint* local = stackalloc nuint[3];
        long groupSize = 1;
        for (int axis = 0; axis < globalSize.Length; axis++)
        {
            if (localSize[axis] <= 0 || globalSize[axis] <= 0 || globalSize[axis] % localSize[axis] != 0)
                throw new ArgumentException($"Axis {axis}: global size {globalSize[axis]} is not a positive multiple of local size {localSize[axis]}.", nameof(globalSize));
            global[axis] = (nuint)globalSize[axis];
            local[axis] = (nuint)localSize[axis];
            groupSize *= localSize[axis];
        }
        if (groupSize > kernel.MaxWorkGroupSize)
            throw new ArgumentException(
                $"Work-group of {groupSize} items exceeds what '{kernel.EntryPoint}' allows on {Info.Name} ({kernel.MaxWorkGroupSize}).", nameof(localSize));

        nint evt;
        // clSetKernelArg is not thread-safe per kernel object: set and enqueue under the kernel's lock.
        lock (kernel.SyncRoot)
        {
            for (int i = 0; i < arguments.Length; i++)
                kernel.SetArgument((uint)i, arguments[i]);
            OpenClException.Check(
                clEnqueueNDRangeKernel(_queue, kernel.Handle, (uint)globalSize.Length, null, global, local, 0, null, &evt),
                $"clEnqueueNDRangeKernel({kernel.EntryPoint})");
        }
        lock (_eventLock)
        {
            if (_lastEvent != 0)
                clReleaseEvent(_lastEvent);
            _lastEvent = evt;
        }
        // Buffers passed as arguments are kept alive by the driver's reference counts, not by the GC: keep them until queued.
        for (int i = 0; i < arguments.Length; i++)
            GC.KeepAlive(arguments[i]);
    }

    /// <summary>
    /// Device time of the most recent <see cref="Launch"/> (waits for it to finish), from the queue's profiling events;
    /// null before the first launch. Excludes queueing and host overhead: the number to report as kernel time.
    /// </summary>
    public TimeSpan? LastKernelTime
    {
        get
        {
            lock (_eventLock)
            {
                if (_lastEvent == 0)
                    return null;
                nint evt = _lastEvent;
                OpenClException.Check(clWaitForEvents(1, &evt), "clWaitForEvents");
                ulong start, end;
                OpenClException.Check(clGetEventProfilingInfo(evt, ProfilingCommandStart, sizeof(ulong), &start, null), "clGetEventProfilingInfo");
                OpenClException.Check(clGetEventProfilingInfo(evt, ProfilingCommandEnd, sizeof(ulong), &end, null), "clGetEventProfilingInfo");
                return TimeSpan.FromTicks((long)(end - start) / 100); // nanoseconds → 100 ns ticks
            }
        }
    }

    internal nint ContextHandle => _context;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_disposed)
            return;
        _disposed = true;
        clFinish(_queue);
        foreach (var kernel in _kernels.Values)
            kernel.Release();
        foreach (nint program in _programs.Values)
            clReleaseProgram(program);
        lock (_eventLock)
        {
            if (_lastEvent != 0)
                clReleaseEvent(_lastEvent);
            _lastEvent = 0;
        }
        clReleaseCommandQueue(_queue);
        clReleaseContext(_context);
    }

    /// <summary>Releases the context if the device was never disposed.</summary>
    ~OpenClDevice() => Dispose(false);

    /// <summary>The registry's factory: any OpenCL device (the registry decides whether a CPU driver may be the default).</summary>
    internal static Device CreateForRegistry() => Create();
}

/// <summary>A <c>cl_mem</c> buffer of an <see cref="OpenClDevice"/>.</summary>
public sealed class OpenClBuffer : DeviceBuffer
{
    internal OpenClBuffer(OpenClDevice device, nint handle, long bytes) : base(device, bytes) => HandleValue = handle;

    private nint HandleValue;

    /// <summary>The <c>cl_mem</c> handle. Valid until the buffer is disposed.</summary>
    public nint Handle
    {
        get
        {
            ThrowIfDisposed();
            return HandleValue;
        }
    }

    /// <inheritdoc />
    protected override void Release()
    {
        // The driver defers the release until kernels already queued on the buffer have finished.
        nint handle = Interlocked.Exchange(ref HandleValue, 0);
        if (handle != 0)
            OpenClNative.clReleaseMemObject(handle);
    }

    /// <summary>Releases the memory if the buffer was never disposed.</summary>
    ~OpenClBuffer() => Release();
}
