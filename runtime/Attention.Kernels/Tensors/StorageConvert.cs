using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>
/// Converts whole spans between fp32 and the 16-bit storage types, 16 elements per step with 256-bit integer SIMD.
/// Bit-for-bit the same as the scalar conversions (<see cref="Half"/>'s and <see cref="BFloat16"/>'s operators): widening is
/// exact; narrowing rounds to nearest, ties to even, overflows to ±∞ and keeps a NaN a (quiet) NaN.
/// </summary>
/// <remarks>The CPU backend converts fp16/bf16 tensors through fp32 copies with these; users may convert host data with them too.</remarks>
public static class StorageConvert
{
    private const uint HalfExponentMask = 0x7C00;
    private const uint SingleExponentMask = 0x7F80_0000;
    private const uint SingleQuietBit = 0x0040_0000;

    /// <summary>Widens fp16 values to float (exact).</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<Half, ushort>(source);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)i));
                HalfToSingle(lower).StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
                HalfToSingle(upper).StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)(i + Vector256<float>.Count));
            }
        }
        for (; i < source.Length; i++)
            destination[i] = (float)source[i];
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

    /// <summary>Rounds floats to fp16 (nearest, ties to even; past 65504 to ±∞; NaN stays NaN).</summary>
    public static void ToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<Half, ushort>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var lower = SingleToHalf(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i));
                var upper = SingleToHalf(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)(i + Vector256<float>.Count)));
                Vector256.Narrow(lower, upper).StoreUnsafe(ref MemoryMarshal.GetReference(bits), (nuint)i);
            }
        }
        for (; i < source.Length; i++)
            destination[i] = (Half)source[i];
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

    /// <summary>fp16 bits (one per 32-bit lane) → float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfToSingle(Vector256<uint> half)
    {
        var sign = (half & Vector256.Create(0x8000u)) << 16;
        var magnitude = half & Vector256.Create(0x7FFFu);
        var shifted = magnitude << 13;
        // Finite values (subnormals included): the fp16 fields placed in a float are off by 2^112 exactly.
        var finite = (shifted.AsSingle() * Vector256.Create(BitConverter.UInt32BitsToSingle(0x7780_0000))).AsUInt32(); // × 2^112
        // ∞ and NaN: all exponent bits set, the mantissa kept; a NaN also gets the quiet bit, as the scalar conversion does.
        var special = shifted | Vector256.Create(SingleExponentMask) |
                      (Vector256.GreaterThan(magnitude, Vector256.Create(HalfExponentMask)) & Vector256.Create(SingleQuietBit));
        var isSpecial = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(HalfExponentMask));
        return (Vector256.ConditionalSelect(isSpecial, special, finite) | sign).AsSingle();
    }

    /// <summary>float → fp16 bits (one per 32-bit lane), round to nearest even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> SingleToHalf(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var sign = (bits >> 16) & Vector256.Create(0x8000u);
        var abs = bits & Vector256.Create(0x7FFF_FFFFu);
        // Normal results: rebias the exponent (127 → 15) and round the 13 dropped bits to nearest even.
        var odd = (abs >> 13) & Vector256<uint>.One;
        var normal = (abs + Vector256.Create(unchecked((uint)(-112 << 23)) + 0xFFF) + odd) >> 13;
        // Subnormal results (|x| < 2^-14): adding 0.5 lines the fp16 subnormal ulp (2^-24) up with the float ulp at 0.5, so the
        // hardware's round-to-nearest-even does the rounding; the low bits are the result.
        var subnormal = (abs.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(0x3F00_0000u);
        // |x| ≥ 65536 is ∞ (65520…65536 already rounds up to ∞ on the normal path); NaN keeps its upper payload, made quiet.
        var nan = Vector256.Create(0x7E00u) | ((abs >> 13) & Vector256.Create(0x3FFu));
        var overflow = Vector256.ConditionalSelect(Vector256.GreaterThan(abs, Vector256.Create(SingleExponentMask)), nan, Vector256.Create(HalfExponentMask));
        var result = Vector256.ConditionalSelect(Vector256.LessThan(abs, Vector256.Create(0x3880_0000u)), subnormal, normal);
        result = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(0x4780_0000u)), overflow, result);
        return result | sign;
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
