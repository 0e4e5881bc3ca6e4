using ILGPU;
using ILGPU.Runtime;

namespace Attention.Kernels.Ilgpu;

/// <summary>Device memory of an <see cref="IlgpuDevice"/>: an ILGPU byte buffer, viewed as any element type without copies.</summary>
public sealed class IlgpuBuffer : DeviceBuffer
{
    private MemoryBuffer1D<byte, Stride1D.Dense>? _memory;

    internal IlgpuBuffer(IlgpuDevice device, long bytes)
        : base(device, bytes)
    {
        // ILGPU refuses zero-length allocations on some accelerators; one byte keeps empty tensors valid.
        _memory = device.Accelerator.Allocate1D<byte>(Math.Max(bytes, 1));
    }

    /// <summary>The ILGPU buffer (its length may exceed <see cref="DeviceBuffer.SizeInBytes"/> by one byte for an empty buffer).</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Memory
    {
        get
        {
            ThrowIfDisposed();
            return _memory!;
        }
    }

    /// <summary>The first <paramref name="count"/> elements of type <typeparamref name="T"/> from byte <paramref name="offsetBytes"/>.</summary>
    public ArrayView<T> View<T>(long offsetBytes, long count) where T : unmanaged =>
        Memory.View.AsContiguous().SubView(offsetBytes, count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()).Cast<T>();

    /// <inheritdoc />
    protected override void Release()
    {
        _memory?.Dispose();
        _memory = null;
    }
}
