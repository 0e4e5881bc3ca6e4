namespace Attention.Kernels;

/// <summary>A block of memory owned by a <see cref="Kernels.Device"/>.</summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>Creates a buffer record for <paramref name="device"/>.</summary>
    protected DeviceBuffer(Device device, long sizeInBytes)
    {
        Device = device;
        SizeInBytes = sizeInBytes;
    }

    /// <summary>The device that owns the memory.</summary>
    public Device Device { get; }

    /// <summary>Size in bytes.</summary>
    public long SizeInBytes { get; }

    /// <summary>True once the memory has been released.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Releases the memory.</summary>
    public void Dispose()
    {
        if (IsDisposed)
            return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> if the memory has been released.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>Returns the memory to its owner.</summary>
    protected abstract void Release();
}
