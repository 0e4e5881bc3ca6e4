using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Attention.Kernels.Cuda;
using static Attention.Kernels.Cuda.CudaNative;

namespace Attention.Kernels;

/// <summary>
/// An NVIDIA GPU through the CUDA driver API: the device's primary context, one default stream (<see cref="Stream"/>)
/// and any number of extra streams as queues. Kernels are compiled by NVRTC from CUDA C++ at first use and cached
/// (images per architecture/source/options, modules and functions per device).
/// </summary>
/// <remarks>
/// <para>Selection: <see cref="Create()"/> takes the device named by <see cref="DeviceSelectionEnvironmentVariable"/> (an
/// ordinal or part of the name), else device 0. Registered in <see cref="DeviceRegistry"/> above every other backend,
/// so a working CUDA GPU (driver and NVRTC present) is <see cref="Device.Default"/>.</para>
/// <para>Host↔device copies are synchronous (they are queued on <see cref="Stream"/>, so they also wait for earlier
/// kernels there); launches and fills are asynchronous until <see cref="Synchronize"/>. All methods are thread-safe:
/// each call makes the primary context current on the calling thread.</para>
/// </remarks>
public sealed unsafe class CudaDevice : Device
{
    /// <summary>Picks the CUDA device: an ordinal from <see cref="Discover"/>, or a case-insensitive part of its name.</summary>
    public const string DeviceSelectionEnvironmentVariable = "ATTENTION_KERNELS_CUDA_DEVICE";

    private readonly nint _context;
    private readonly ConcurrentDictionary<(string Hash, string Options), nint> _modules = new();
    private readonly ConcurrentDictionary<(string Hash, string Options, string EntryPoint), CudaKernel> _kernels = new();
    private readonly List<CudaStream> _streams = [];
    private readonly object _lock = new();
    private bool _disposed;

    private CudaDevice(CudaDeviceInfo info)
    {
        Info = info;
        nint context;
        CudaException.Check(cuDevicePrimaryCtxRetain(&context, info.Handle), "cuDevicePrimaryCtxRetain");
        _context = context;
        try
        {
            MakeCurrent();
            Stream = CreateStream();
        }
        catch
        {
            cuDevicePrimaryCtxRelease_v2(info.Handle);
            throw;
        }
    }

    /// <summary>What the driver reports about the device.</summary>
    public CudaDeviceInfo Info { get; }

    /// <inheritdoc />
    public override string Name => $"{Info.Name} (sm_{Info.Architecture}, {Info.Multiprocessors} SMs)";

    /// <inheritdoc />
    public override DeviceKind Kind => DeviceKind.Cuda;

    /// <summary>The device's default queue: copies, fills and launches without an explicit stream go here.</summary>
    public CudaStream Stream { get; }

    /// <summary>Modules this device loaded (one per distinct source and options).</summary>
    public int ModulesLoaded => _modules.Count;

    /// <summary>The driver's CUDA version, e.g. 12040 for 12.4.</summary>
    public static int DriverVersion => CudaRuntime.DriverVersion;

    /// <summary>The loaded NVRTC's version (loads NVRTC).</summary>
    public static (int Major, int Minor) NvrtcVersion => CudaRuntime.NvrtcVersion;

    /// <summary>Every CUDA device on this machine.</summary>
    /// <exception cref="DeviceUnavailableException">The NVIDIA driver is not installed (the message says how to install it).</exception>
    public static IReadOnlyList<CudaDeviceInfo> Discover() => CudaRuntime.Devices;

    /// <summary>The device named by <see cref="DeviceSelectionEnvironmentVariable"/>, else device 0.</summary>
    /// <exception cref="DeviceUnavailableException">No driver, or no CUDA device.</exception>
    public static CudaDevice Create()
    {
        var selector = Environment.GetEnvironmentVariable(DeviceSelectionEnvironmentVariable);
        return string.IsNullOrWhiteSpace(selector) ? Create(0) : Create(selector);
    }

    /// <summary>The device with ordinal <paramref name="index"/>.</summary>
    public static CudaDevice Create(int index)
    {
        var devices = Discover();
        if (devices.Count == 0)
            throw new DeviceUnavailableException(DeviceKind.Cuda, "The NVIDIA driver is installed but reports no CUDA device (check 'nvidia-smi' and CUDA_VISIBLE_DEVICES).");
        if (index < 0 || index >= devices.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"There are {devices.Count} CUDA devices: {string.Join("; ", devices)}.");
        return new CudaDevice(devices[index]);
    }

    /// <summary>The device whose ordinal is <paramref name="selector"/> or whose name contains it (case-insensitive).</summary>
    public static CudaDevice Create(string selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        string s = selector.Trim();
        if (int.TryParse(s, out int index))
            return Create(index);
        var devices = Discover();
        var match = devices.FirstOrDefault(d => d.Name.Contains(s, StringComparison.OrdinalIgnoreCase));
        return match is null
            ? throw new DeviceUnavailableException(DeviceKind.Cuda, $"No CUDA device matches '{selector}'. Devices: {string.Join("; ", devices)}.")
            : new CudaDevice(match);
    }

    /// <summary>
    /// The factory <see cref="DeviceRegistry"/> calls: a device when the driver, a GPU and NVRTC are all present;
    /// otherwise a <see cref="DeviceUnavailableException"/> that says what is missing.
    /// </summary>
    internal static Device? CreateForRegistry()
    {
        try
        {
            var device = Create();
            try
            {
                CudaRuntime.EnsureNvrtc(); // without NVRTC no generated kernel can run, so the GPU is not usable
                return device;
            }
            catch
            {
                device.Dispose();
                throw;
            }
        }
        catch (CudaException e)
        {
            throw new DeviceUnavailableException(DeviceKind.Cuda, $"CUDA is installed but not usable: {e.Message}", e);
        }
    }

    /// <summary>Makes this device's primary context current on the calling thread (every public method does this).</summary>
    public void MakeCurrent()
    {
        ThrowIfDisposed();
        CudaException.Check(cuCtxSetCurrent(_context), "cuCtxSetCurrent");
    }

    /// <summary>A new queue. Work on different streams may overlap; use events to order it.</summary>
    public CudaStream CreateStream()
    {
        MakeCurrent();
        nint stream;
        CudaException.Check(cuStreamCreate(&stream, StreamNonBlocking), "cuStreamCreate");
        var result = new CudaStream(this, stream);
        lock (_lock)
            _streams.Add(result);
        return result;
    }

    /// <summary>
    /// A fence after everything queued on <see cref="Stream"/> so far: an event (<c>cuEventRecord</c>, timing disabled)
    /// that the memory pool polls with <c>cuEventQuery</c>, so a returned block is reissued only once the kernels and
    /// copies that used it have finished on the GPU.
    /// </summary>
    /// <remarks>Work queued on other streams is not covered: return blocks used there with <c>Pool.Return(buffer, RecordFence(stream))</c>.</remarks>
    public override DeviceFence RecordFence() => RecordFence(Stream);

    /// <summary>A fence after everything queued on <paramref name="stream"/> so far (see <see cref="RecordFence()"/>).</summary>
    public DeviceFence RecordFence(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!ReferenceEquals(stream.Device, this))
            throw new ArgumentException($"The stream belongs to {stream.Device}, not {this}.", nameof(stream));
        MakeCurrent();
        nint handle;
        CudaException.Check(cuEventCreate(&handle, EventDisableTiming), "cuEventCreate");
        int recorded = cuEventRecord(handle, stream.Handle);
        if (recorded != 0)
        {
            cuEventDestroy_v2(handle);
            CudaException.Check(recorded, "cuEventRecord");
        }
        return new CudaFence(this, handle);
    }

    /// <summary>True once the device was disposed (its context released): events of it must not be touched.</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>A new timing event (record it on a stream, then read <see cref="CudaEvent.ElapsedMilliseconds"/>).</summary>
    public CudaEvent CreateEvent()
    {
        MakeCurrent();
        nint handle;
        CudaException.Check(cuEventCreate(&handle, EventDefault), "cuEventCreate");
        return new CudaEvent(this, handle);
    }

    /// <inheritdoc />
    /// <exception cref="CudaException"><c>CUDA_ERROR_OUT_OF_MEMORY</c> when the device cannot find the memory.</exception>
    public override DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        MakeCurrent();
        ulong pointer;
        // cuMemAlloc rejects 0 bytes: an empty tensor still gets one (aligned) allocation.
        CudaException.Check(cuMemAlloc_v2(&pointer, (nuint)Math.Max(bytes, 1)), "cuMemAlloc_v2", $"Asked for {bytes} bytes on {Info.Name}.");
        return new CudaBuffer(this, pointer, bytes);
    }

    /// <inheritdoc />
    public override void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffsetBytes = 0)
    {
        long bytes = (long)source.Length * Unsafe.SizeOf<T>();
        CheckRange(destination, destinationOffsetBytes, bytes, nameof(destination));
        if (bytes == 0)
            return;
        var buffer = (CudaBuffer)destination;
        MakeCurrent();
        fixed (byte* p = MemoryMarshal.AsBytes(source))
        {
            CudaException.Check(cuMemcpyHtoDAsync_v2(buffer.Pointer + (ulong)destinationOffsetBytes, p, (nuint)bytes, Stream.Handle), "cuMemcpyHtoDAsync_v2");
            Stream.Synchronize(); // the host memory is only pinned until the end of this block
        }
        GC.KeepAlive(buffer);
    }

    /// <inheritdoc />
    public override void CopyToHost<T>(DeviceBuffer source, Span<T> destination, long sourceOffsetBytes = 0)
    {
        long bytes = (long)destination.Length * Unsafe.SizeOf<T>();
        CheckRange(source, sourceOffsetBytes, bytes, nameof(source));
        if (bytes == 0)
            return;
        var buffer = (CudaBuffer)source;
        MakeCurrent();
        fixed (byte* p = MemoryMarshal.AsBytes(destination))
        {
            // Queued behind every kernel launched on the default stream, so it sees their results.
            CudaException.Check(cuMemcpyDtoHAsync_v2(p, buffer.Pointer + (ulong)sourceOffsetBytes, (nuint)bytes, Stream.Handle), "cuMemcpyDtoHAsync_v2");
            Stream.Synchronize();
        }
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
        var cuda = (CudaBuffer)buffer;
        MakeCurrent();
        switch (size)
        {
            case 1:
                CudaException.Check(cuMemsetD8Async(cuda.Pointer, Unsafe.As<T, byte>(ref value), (nuint)count, Stream.Handle), "cuMemsetD8Async");
                break;
            case 2:
                CudaException.Check(cuMemsetD16Async(cuda.Pointer, Unsafe.As<T, ushort>(ref value), (nuint)count, Stream.Handle), "cuMemsetD16Async");
                break;
            case 4:
                CudaException.Check(cuMemsetD32Async(cuda.Pointer, Unsafe.As<T, uint>(ref value), (nuint)count, Stream.Handle), "cuMemsetD32Async");
                break;
            default:
                // No memset for other element sizes: fill on the host and copy.
                var host = new T[checked((int)count)];
                host.AsSpan().Fill(value);
                CopyFromHost<T>(host, buffer);
                break;
        }
        GC.KeepAlive(cuda);
    }

    /// <inheritdoc />
    public override void Synchronize()
    {
        MakeCurrent();
        CudaException.Check(cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>(free, total) device memory in bytes right now, as the driver sees it.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        CudaException.Check(cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>
    /// The kernel <paramref name="entryPoint"/> of <paramref name="source"/> (complete CUDA C++, prelude included),
    /// compiled by NVRTC for this device's architecture with <paramref name="options"/>; cached.
    /// </summary>
    /// <exception cref="CudaException">The source does not compile (the log and the kernel name are in the exception), or the entry point is missing.</exception>
    public CudaKernel GetKernel(string source, string entryPoint, params string[] options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(entryPoint);
        string hash = NvrtcCompiler.Hash(source);
        string optionKey = string.Join('\u001f', options);
        if (_kernels.TryGetValue((hash, optionKey, entryPoint), out var kernel))
            return kernel;
        MakeCurrent();
        nint module;
        lock (_lock)
        {
            if (!_modules.TryGetValue((hash, optionKey), out module))
            {
                var image = NvrtcCompiler.Compile(source, entryPoint, Info.Architecture, options);
                module = LoadModule(image, entryPoint);
                _modules[(hash, optionKey)] = module;
            }
        }
        nint function;
        byte[] name = CudaRuntime.Utf8z(entryPoint);
        fixed (byte* n = name)
        {
            int result = cuModuleGetFunction(&function, module, n);
            if (result != 0)
                throw new CudaException(CudaErrorSource.Driver, result, "cuModuleGetFunction",
                    "Is the entry point declared extern \"C\" __global__ (KERNEL)?", kernelName: entryPoint);
        }
        var created = new CudaKernel(this, function, entryPoint);
        return _kernels.GetOrAdd((hash, optionKey, entryPoint), created);
    }

    private static nint LoadModule(CudaImage image, string kernelName)
    {
        const int logSize = 16 * 1024;
        var info = new byte[logSize];
        var error = new byte[logSize];
        nint module;
        int result;
        fixed (byte* data = image.Image)
        fixed (byte* infoLog = info)
        fixed (byte* errorLog = error)
        {
            int* options = stackalloc int[] { JitInfoLogBuffer, JitInfoLogBufferSizeBytes, JitErrorLogBuffer, JitErrorLogBufferSizeBytes };
            void** values = stackalloc void*[] { infoLog, (void*)logSize, errorLog, (void*)logSize };
            result = cuModuleLoadDataEx(&module, data, 4, options, values);
        }
        if (result != 0)
        {
            string log = (Decode(error) + Environment.NewLine + Decode(info)).Trim();
            throw new CudaException(CudaErrorSource.Driver, result, "cuModuleLoadDataEx",
                $"Loading {(image.IsCubin ? "cubin" : "PTX")} for {image.Target}.", log, kernelName);
        }
        return module;

        static string Decode(byte[] text)
        {
            int end = Array.IndexOf(text, (byte)0);
            return System.Text.Encoding.UTF8.GetString(text, 0, end < 0 ? text.Length : end);
        }
    }

    /// <summary>
    /// Launches <paramref name="kernel"/> on <paramref name="grid"/> blocks of <paramref name="block"/> threads with
    /// <paramref name="dynamicSharedMemoryBytes"/> bytes of dynamic shared memory, on <paramref name="stream"/> (default:
    /// <see cref="Stream"/>). <paramref name="arguments"/> are the kernel's parameters in order: a <see cref="DeviceBuffer"/>
    /// of this device (or null) becomes its device pointer; <see cref="int"/>, <see cref="uint"/>, <see cref="long"/>,
    /// <see cref="ulong"/>, <see cref="float"/>, <see cref="double"/> pass by value. Asynchronous.
    /// </summary>
    public void Launch(CudaKernel kernel, Dim3 grid, Dim3 block, int dynamicSharedMemoryBytes, CudaStream? stream, params object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(arguments);
        // Every argument gets an 8-byte slot; cuLaunchKernel reads each parameter's size from the kernel's signature.
        ulong* slots = stackalloc ulong[Math.Max(arguments.Length, 1)];
        void** pointers = stackalloc void*[Math.Max(arguments.Length, 1)];
        for (int i = 0; i < arguments.Length; i++)
        {
            slots[i] = arguments[i] switch
            {
                null => 0,
                CudaBuffer buffer when ReferenceEquals(buffer.Device, this) => buffer.Pointer,
                DeviceBuffer other => throw new ArgumentException($"Argument {i} of '{kernel.EntryPoint}' is a buffer of {other.Device}, not of {this}.", nameof(arguments)),
                int v => (uint)v,
                uint v => v,
                long v => (ulong)v,
                ulong v => v,
                float v => BitConverter.SingleToUInt32Bits(v),
                double v => BitConverter.DoubleToUInt64Bits(v),
                var other => throw new ArgumentException($"Argument {i} of '{kernel.EntryPoint}' has unsupported type {other.GetType().Name}.", nameof(arguments)),
            };
            pointers[i] = &slots[i];
        }
        Launch(kernel, grid, block, dynamicSharedMemoryBytes, stream, pointers);
        GC.KeepAlive(arguments);
    }

    /// <summary>
    /// Launches <paramref name="kernel"/> with raw parameter pointers (<c>kernelParams</c> of <c>cuLaunchKernel</c>: one
    /// pointer to each parameter's value). No allocation; asynchronous.
    /// </summary>
    public void Launch(CudaKernel kernel, Dim3 grid, Dim3 block, int dynamicSharedMemoryBytes, CudaStream? stream, void** parameters)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (!ReferenceEquals(kernel.Device, this))
            throw new ArgumentException($"Kernel '{kernel.EntryPoint}' was compiled for {kernel.Device}, not {this}.", nameof(kernel));
        if (block.Count > kernel.MaxThreadsPerBlock)
            throw new ArgumentOutOfRangeException(nameof(block),
                $"Kernel '{kernel.EntryPoint}' allows at most {kernel.MaxThreadsPerBlock} threads per block; asked {block}.");
        if (grid.Count == 0 || block.Count == 0)
            return;
        MakeCurrent();
        var queue = stream ?? Stream;
        int result = cuLaunchKernel(kernel.Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
            (uint)dynamicSharedMemoryBytes, queue.Handle, parameters, null);
        if (result != 0)
            throw new CudaException(CudaErrorSource.Driver, result, "cuLaunchKernel", $"grid {grid}, block {block}, {dynamicSharedMemoryBytes} B dynamic shared memory.", kernelName: kernel.EntryPoint);
    }

    /// <summary>Frees device memory of a buffer of this device (called by <see cref="CudaBuffer"/>).</summary>
    internal void Free(ulong pointer)
    {
        if (_disposed)
            return; // the primary context (and with it every allocation) is already released
        if (cuCtxSetCurrent(_context) == 0)
            cuMemFree_v2(pointer);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_disposed)
            return;
        if (cuCtxSetCurrent(_context) == 0)
        {
            cuCtxSynchronize();
            foreach (var module in _modules.Values)
                cuModuleUnload(module);
            lock (_lock)
                foreach (var stream in _streams)
                    stream.Destroy();
        }
        _disposed = true;
        cuDevicePrimaryCtxRelease_v2(Info.Handle);
    }
}

/// <summary>A grid or block size for a CUDA launch.</summary>
/// <param name="X">Extent along x.</param>
/// <param name="Y">Extent along y.</param>
/// <param name="Z">Extent along z.</param>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>X·Y·Z.</summary>
    public long Count => (long)X * Y * Z;

    /// <summary>A one-dimensional size.</summary>
    public static implicit operator Dim3(uint x) => new(x);

    /// <inheritdoc />
    public override string ToString() => $"({X}, {Y}, {Z})";
}
