using Attention.Kernels.Cuda;
using static Attention.Kernels.Cuda.CudaNative;

namespace Attention.Kernels;

/// <summary>Device memory on a <see cref="CudaDevice"/> (<c>cuMemAlloc</c>).</summary>
public sealed class CudaBuffer : DeviceBuffer
{
    internal CudaBuffer(CudaDevice device, ulong pointer, long bytes) : base(device, bytes) => Pointer = pointer;

    /// <summary>The device address (<c>CUdeviceptr</c>). Valid until the buffer is disposed.</summary>
    public ulong Pointer { get; private set; }

    /// <inheritdoc />
    protected override void Release()
    {
        if (Pointer != 0)
            ((CudaDevice)Device).Free(Pointer);
        Pointer = 0;
    }

    /// <summary>Frees the memory if the buffer was never disposed.</summary>
    ~CudaBuffer() => Release();
}

/// <summary>A CUDA stream: an in-order queue of copies, fills and launches on one device.</summary>
public sealed unsafe class CudaStream
{
    private bool _destroyed;

    internal CudaStream(CudaDevice device, nint handle)
    {
        Device = device;
        Handle = handle;
    }

    /// <summary>The device the stream belongs to.</summary>
    public CudaDevice Device { get; }

    /// <summary>The <c>CUstream</c>.</summary>
    public nint Handle { get; }

    /// <summary>Waits until everything queued on this stream has finished.</summary>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_destroyed, this);
        Device.MakeCurrent();
        CudaException.Check(cuStreamSynchronize(Handle), "cuStreamSynchronize");
    }

    internal void Destroy()
    {
        if (_destroyed)
            return;
        _destroyed = true;
        cuStreamDestroy_v2(Handle);
    }
}

/// <summary>A CUDA event, for timing work on a stream on the GPU's own clock.</summary>
public sealed unsafe class CudaEvent : IDisposable
{
    private nint _handle;

    internal CudaEvent(CudaDevice device, nint handle)
    {
        Device = device;
        _handle = handle;
    }

    /// <summary>The device the event belongs to.</summary>
    public CudaDevice Device { get; }

    /// <summary>Marks the point in <paramref name="stream"/> (default: the device's stream) where the event completes.</summary>
    public void Record(CudaStream? stream = null)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        Device.MakeCurrent();
        CudaException.Check(cuEventRecord(_handle, (stream ?? Device.Stream).Handle), "cuEventRecord");
    }

    /// <summary>Waits until the event has completed.</summary>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        Device.MakeCurrent();
        CudaException.Check(cuEventSynchronize(_handle), "cuEventSynchronize");
    }

    /// <summary>Milliseconds between two recorded, completed events (resolution about 0.5 µs).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        end.Synchronize();
        float ms;
        CudaException.Check(cuEventElapsedTime(&ms, start._handle, end._handle), "cuEventElapsedTime");
        return ms;
    }

    /// <summary>Destroys the event.</summary>
    public void Dispose()
    {
        if (_handle == 0)
            return;
        cuEventDestroy_v2(_handle);
        _handle = 0;
    }
}

/// <summary>A compiled kernel function on one <see cref="CudaDevice"/> (from <see cref="CudaDevice.GetKernel"/>).</summary>
public sealed unsafe class CudaKernel
{
    internal CudaKernel(CudaDevice device, nint handle, string entryPoint)
    {
        Device = device;
        Handle = handle;
        EntryPoint = entryPoint;
        MaxThreadsPerBlock = Attribute(FunctionAttributeMaxThreadsPerBlock);
        StaticSharedMemoryBytes = Attribute(FunctionAttributeSharedSizeBytes);
        Registers = Attribute(FunctionAttributeNumRegs);
    }

    /// <summary>The device the kernel was loaded on.</summary>
    public CudaDevice Device { get; }

    /// <summary>The <c>CUfunction</c>.</summary>
    public nint Handle { get; }

    /// <summary>The kernel's (extern "C") name.</summary>
    public string EntryPoint { get; }

    /// <summary>Most threads per block this kernel can launch with (limited by its register use).</summary>
    public int MaxThreadsPerBlock { get; }

    /// <summary>Statically declared shared memory (<c>__shared__</c> arrays) in bytes.</summary>
    public int StaticSharedMemoryBytes { get; }

    /// <summary>Registers per thread.</summary>
    public int Registers { get; }

    private int Attribute(int attribute)
    {
        int value;
        CudaException.Check(cuFuncGetAttribute(&value, attribute, Handle), "cuFuncGetAttribute", $"[kernel '{EntryPoint}']");
        return value;
    }

    /// <inheritdoc />
    public override string ToString() => $"{EntryPoint} ({Registers} registers, {StaticSharedMemoryBytes} B shared, ≤ {MaxThreadsPerBlock} threads)";
}
