using System.Runtime.CompilerServices;
using Attention.Kernels.Memory;

namespace Attention.Kernels;

/// <summary>A dense, row-major tensor of <typeparamref name="T"/> in a device buffer.</summary>
/// <remarks>
/// The last axis is contiguous; <see cref="Strides"/> are in elements. The tensor owns its memory, rented from the
/// device's <see cref="Device.Pool"/>; <see cref="Dispose"/> returns it there. The buffer may be larger than
/// <see cref="Length"/> elements (the pool rounds to size classes); only the first <see cref="Length"/> are the tensor's.
/// </remarks>
public sealed class Tensor<T> : IDisposable where T : unmanaged
{
    private readonly int[] _shape;
    private readonly long[] _strides;
    private readonly PooledBuffer _memory;

    internal Tensor(Device device, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0)
            throw new ArgumentException("A tensor needs at least one axis.", nameof(shape));
        long length = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"Shape {TensorShape.Format(shape)} has a negative axis.");
        }
        try
        {
            foreach (int dim in shape)
                length = checked(length * dim);
            _ = checked(length * Unsafe.SizeOf<T>());
        }
        catch (OverflowException overflow)
        {
            throw new ArgumentException(
                $"Shape {TensorShape.Format(shape)} has more elements of {typeof(T).Name} than can be addressed (its element count or byte size overflows a 64-bit integer).",
                nameof(shape), overflow);
        }
        _shape = (int[])shape.Clone();
        _strides = new long[shape.Length];
        long stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            _strides[axis] = stride;
            stride *= shape[axis];
        }
        Length = length;
        Device = device;
        _memory = device.Pool.Rent(checked(length * Unsafe.SizeOf<T>()));
    }

    /// <summary>The device holding the data.</summary>
    public Device Device { get; }

    /// <summary>The memory (owned by this tensor). Throws <see cref="ObjectDisposedException"/> once the tensor is disposed.</summary>
    public DeviceBuffer Buffer => IsDisposed
        ? throw new ObjectDisposedException(ToString(), $"{ToString()} was used after it was disposed.")
        : _memory.Buffer;

    /// <summary>True once <see cref="Dispose"/> has returned the memory to the pool.</summary>
    public bool IsDisposed => _memory.IsReturned;

    /// <summary>The pool rent behind <see cref="Buffer"/>.</summary>
    public PooledBuffer Memory => _memory;

    /// <summary>Sizes of the axes.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Distance in elements between neighbours along each axis.</summary>
    public ReadOnlySpan<long> Strides => _strides;

    /// <summary>Number of axes.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Size of <paramref name="axis"/>.</summary>
    public int Dim(int axis) => _shape[axis];

    /// <summary>Copies <paramref name="source"/> (exactly <see cref="Length"/> elements) into the tensor.</summary>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        if (source.Length != Length)
            throw new ArgumentException($"Source has {source.Length} elements; tensor {TensorShape.Format(_shape)} holds {Length}.", nameof(source));
        Device.CopyFromHost(source, Buffer);
    }

    /// <summary>Copies the tensor into <paramref name="destination"/> (exactly <see cref="Length"/> elements).</summary>
    public void CopyTo(Span<T> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"Destination has {destination.Length} elements; tensor {TensorShape.Format(_shape)} holds {Length}.", nameof(destination));
        Device.CopyToHost(Buffer, destination);
    }

    /// <summary>Downloads the data into a new array.</summary>
    public T[] ToArray()
    {
        var result = new T[checked((int)Length)];
        CopyTo(result);
        return result;
    }

    /// <summary>Sets every element to <paramref name="value"/> (tests poison outputs with NaN this way).</summary>
    public void Fill(T value) => Device.Fill(Buffer, value);

    /// <summary>Returns the device memory to the pool (idempotent); it is reused once the device work using it has finished.</summary>
    public void Dispose() => _memory.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"Tensor<{typeof(T).Name}>{TensorShape.Format(_shape)} on {Device}";
}

/// <summary>Factory methods for <see cref="Tensor{T}"/>.</summary>
public static class Tensor
{
    /// <summary>An uninitialized tensor of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor<T> Create<T>(Device device, params int[] shape) where T : unmanaged => new(device, shape);

    /// <summary>A tensor of <paramref name="shape"/> on <paramref name="device"/> holding a copy of <paramref name="data"/>.</summary>
    public static Tensor<T> FromArray<T>(Device device, ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        var tensor = new Tensor<T>(device, shape);
        try
        {
            tensor.CopyFrom(data);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }
}
