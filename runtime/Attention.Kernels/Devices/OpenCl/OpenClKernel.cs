using static Attention.Kernels.OpenCl.OpenClNative;

namespace Attention.Kernels.OpenCl;

/// <summary>A compiled kernel entry point of an <see cref="OpenClDevice"/>, with the limits the driver reports for it.</summary>
public sealed unsafe class OpenClKernel
{
    private nint _handle;

    private OpenClKernel(OpenClDevice device, nint handle, string entryPoint, long maxWorkGroupSize, long localMemoryBytes)
    {
        Device = device;
        _handle = handle;
        EntryPoint = entryPoint;
        MaxWorkGroupSize = maxWorkGroupSize;
        LocalMemoryBytes = localMemoryBytes;
    }

    /// <summary>The device it was built for.</summary>
    public OpenClDevice Device { get; }

    /// <summary>The kernel function's name.</summary>
    public string EntryPoint { get; }

    /// <summary>Largest work-group this kernel can run with on its device (<c>CL_KERNEL_WORK_GROUP_SIZE</c>: registers and private memory included).</summary>
    public long MaxWorkGroupSize { get; }

    /// <summary>Local memory the kernel's statically sized <c>SHARED</c> arrays take (<c>CL_KERNEL_LOCAL_MEM_SIZE</c>).</summary>
    public long LocalMemoryBytes { get; }

    internal object SyncRoot { get; } = new();

    internal nint Handle => _handle;

    internal static OpenClKernel Create(OpenClDevice device, nint program, string entryPoint)
    {
        int error;
        nint handle;
        fixed (byte* name = OpenClRuntime.Utf8Z(entryPoint))
            handle = clCreateKernel(program, name, &error);
        if (error != 0)
            throw new OpenClException(error, "clCreateKernel", $"Kernel '{entryPoint}' on {device.Info.Name}.");
        nuint workGroup = 0;
        ulong local = 0;
        OpenClException.Check(clGetKernelWorkGroupInfo(handle, device.Info.DeviceId, KernelWorkGroupSize, (nuint)sizeof(nuint), &workGroup, null),
            "clGetKernelWorkGroupInfo");
        OpenClException.Check(clGetKernelWorkGroupInfo(handle, device.Info.DeviceId, KernelLocalMemSize, sizeof(ulong), &local, null),
            "clGetKernelWorkGroupInfo");
        return new OpenClKernel(device, handle, entryPoint, (long)workGroup, (long)local);
    }

    internal void SetArgument(uint index, object? argument)
    {
        int status;
        switch (argument)
        {
            case null:
                nint none = 0; // a NULL buffer argument
                status = clSetKernelArg(_handle, index, (nuint)sizeof(nint), &none);
                break;
            case OpenClBuffer buffer:
                if (!ReferenceEquals(buffer.Device, Device))
                    throw new ArgumentException($"Argument {index} of '{EntryPoint}' is a buffer of {buffer.Device}, not {Device}.");
                nint memory = buffer.Handle;
                status = clSetKernelArg(_handle, index, (nuint)sizeof(nint), &memory);
                break;
            case int value:
                status = clSetKernelArg(_handle, index, sizeof(int), &value);
                break;
            case long value:
                status = clSetKernelArg(_handle, index, sizeof(long), &value);
                break;
            case float value:
                status = clSetKernelArg(_handle, index, sizeof(float), &value);
                break;
            default:
                throw new ArgumentException(
                    $"Argument {index} of '{EntryPoint}' has type {argument.GetType().Name}; use an OpenClBuffer, null, int, long or float.");
        }
        if (status != 0)
            throw new OpenClException(status, "clSetKernelArg", $"Argument {index} of '{EntryPoint}'.");
    }

    internal void Release()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle != 0)
            clReleaseKernel(handle);
    }

    /// <inheritdoc />
    public override string ToString() => $"{EntryPoint} on {Device}";
}
