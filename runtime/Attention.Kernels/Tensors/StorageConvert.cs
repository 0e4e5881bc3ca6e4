using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>
/// Converts whole spans between fp32 and the 16-bit storage types with SIMD: fp16 through System.Numerics.Tensors'
/// <see cref="TensorPrimitives"/>, bfloat16 (which the BCL's primitives do not cover) 16 elements per step with 256-bit integer SIMD.
/// Bit-for-bit the same as the scalar conversions (<see cref="Half"/>'s and <see cref="BFloat16"/>'s operators): widening is
/// exact; narrowing rounds to nearest, ties to even, overflows to ±∞ and keeps a NaN a (quiet) NaN.
/// </summary>
/// <remarks>The CPU kernels round their 16-bit outputs with these (<see cref="Cpu.CpuElements"/>); users may convert host data with them too.</remarks>
public static class StorageConvert
{
    private const uint SingleExponentMask = 0x7F80_0000;

    /// <summary>Widens fp16 values to float (exact).</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToSingle(source, destination);
    }

    /// <summary>Widens bfloat16 values to float (exact: the bits become the upper half of the float).</summary>
    public static void ToSingle(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<BFloat16, ushort>(source);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)i));
                (lower << 16).AsSingle().StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
                (upper << 16).AsSingle().StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)(i + Vector256<float>.Count));
            }
        }
        for (; i < source.Length; i++)
            destination[i] = source[i];
    }

    /// <summary>
    /// Widens little-endian stored values of <paramref name="type"/> (a checkpoint's raw tensor data: F32 copied, F16 and
    /// BF16 widened exactly) into <paramref name="destination"/>, which holds one float per stored value.
    /// </summary>
    /// <exception cref="NotSupportedException"><paramref name="type"/> is <see cref="CheckpointDType.Unsupported"/>.</exception>
    public static void ToSingle(ReadOnlySpan<byte> data, CheckpointDType type, Span<float> destination)
    {
        switch (type)
        {
            case CheckpointDType.F32:
                CheckLengths(data.Length / sizeof(float), destination.Length);
                MemoryMarshal.Cast<byte, float>(data).CopyTo(destination);
                break;
            case CheckpointDType.F16:
                ToSingle(MemoryMarshal.Cast<byte, Half>(data), destination);
                break;
            case CheckpointDType.BF16:
                ToSingle(MemoryMarshal.Cast<byte, BFloat16>(data), destination);
                break;
            default:
                throw new NotSupportedException($"Stored type {type} does not convert to float.");
        }
    }

    /// <summary>Rounds floats to fp16 (nearest, ties to even; past 65504 to ±∞; NaN stays NaN).</summary>
    public static void ToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToHalf(source, destination);
    }

    /// <summary>Rounds floats to bfloat16 exactly as <see cref="BFloat16"/>'s conversion does (nearest, ties to even; NaN stays NaN).</summary>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<BFloat16, ushort>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var lower = SingleToBFloat16(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i));
                var upper = SingleToBFloat16(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)(i + Vector256<float>.Count)));
                Vector256.Narrow(lower, upper).StoreUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)i);
            }
        }
        for (; i < source.Length; i++)
            destination[i] = (BFloat16)source[i];
    }

    /// <summary>float → bfloat16 bits (one per 32-bit lane): <see cref="BFloat16"/>'s rounding, lane-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> SingleToBFloat16(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
        var nan = (bits >> 16) | Vector256.Create(0x0040u);
        var isNaN = Vector256.GreaterThan(bits & Vector256.Create(0x7FFF_FFFFu), Vector256.Create(SingleExponentMask));
        return Vector256.ConditionalSelect(isNaN, nan, rounded);
    }

    /// <summary>Throws unless <typeparamref name="T"/> is a storage type the kernels support (float, Half, BFloat16).</summary>
    internal static void EnsureStorageType<T>() where T : unmanaged
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(Half) && typeof(T) != typeof(BFloat16))
            throw new NotSupportedException($"Attention kernels store tensors as float, Half or BFloat16, not {typeof(T).Name}.");
    }

    private static void CheckLengths(int source, int destination)
    {
        if (source != destination)
            throw new ArgumentException($"Source has {source} elements, destination {destination}.", nameof(destination));
    }
}
