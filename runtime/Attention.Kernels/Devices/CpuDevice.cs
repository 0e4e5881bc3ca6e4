using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>The host CPU: buffers are 64-byte aligned native memory, kernels run on <see cref="Cpu.CpuParallel"/>.</summary>
public sealed class CpuDevice : Device
{
    internal static readonly CpuDevice Instance = new();

    private CpuDevice()
    {
    }

    /// <inheritdoc />
    public override string Name { get; } =
        $"{Environment.ProcessorCount} cores, {(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "no wide SIMD")}";

    /// <inheritdoc />
    public override DeviceKind Kind => DeviceKind.Cpu;

    /// <inheritdoc />
    public override bool RunsOnHost => true;

    /// <inheritdoc />
    public override DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new CpuBuffer(this, bytes);
    }

    /// <inheritdoc />
    public override void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffsetBytes = 0)
    {
        long bytes = (long)source.Length * Unsafe.SizeOf<T>();
        CheckRange(destination, destinationOffsetBytes, bytes, nameof(destination));
        MemoryMarshal.AsBytes(source).CopyTo(((CpuBuffer)destination).Bytes(destinationOffsetBytes, bytes));
    }

    /// <inheritdoc />
    public override void CopyToHost<T>(DeviceBuffer source, Span<T> destination, long sourceOffsetBytes = 0)
    {
        long bytes = (long)destination.Length * Unsafe.SizeOf<T>();
        CheckRange(source, sourceOffsetBytes, bytes, nameof(source));
        ((CpuBuffer)source).Bytes(sourceOffsetBytes, bytes).CopyTo(MemoryMarshal.AsBytes(destination));
    }

    /// <inheritdoc />
    public override void Fill<T>(DeviceBuffer buffer, T value)
    {
        CheckRange(buffer, 0, buffer.SizeInBytes, nameof(buffer));
        var cpu = (CpuBuffer)buffer;
        long count = buffer.SizeInBytes / Unsafe.SizeOf<T>();
        unsafe
        {
            for (long start = 0; start < count; start += int.MaxValue / 2)
                new Span<T>((T*)cpu.Pointer + start, (int)Math.Min(count - start, int.MaxValue / 2)).Fill(value);
        }
    }

    /// <inheritdoc />
    public override void RunAttention<TKernel, T>(in AttentionLaunch<T> launch) => Kernels.Cpu.CpuStorage.RunAttention<TKernel, T>(launch);

    /// <inheritdoc />
    public override IGraphOpKernels GraphOpKernels => Kernels.Cpu.CpuGraphOpKernels.Instance;

    /// <inheritdoc />
    public override void Synchronize()
    {
        // CPU kernels run synchronously on the calling thread's launch; nothing is ever in flight.
    }
}

/// <summary>Native, 64-byte aligned host memory (one cache line, one AVX-512 vector).</summary>
public sealed unsafe class CpuBuffer : DeviceBuffer
{
    internal CpuBuffer(CpuDevice device, long bytes) : base(device, bytes)
    {
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
    }

    /// <summary>Start of the memory. Valid until the buffer is disposed.</summary>
    public byte* Pointer { get; private set; }

    internal Span<byte> Bytes(long offset, long length)
    {
        ThrowIfDisposed();
        if (length > int.MaxValue)
            throw new NotSupportedException($"Copies of more than {int.MaxValue} bytes at once are not supported (asked {length}).");
        return new Span<byte>(Pointer + offset, (int)length);
    }

    /// <inheritdoc />
    protected override void Release()
    {
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }

    /// <summary>Frees the memory if the buffer was never disposed.</summary>
    ~CpuBuffer() => Release();
}
