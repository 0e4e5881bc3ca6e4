using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Kernels.Cpu;

/// <summary>
/// The storage element types of the CPU kernels (<see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>): the one
/// place where a stored element becomes a float and back. The kernels are generic over the element type T; every
/// <c>typeof(T)</c> test is a JIT-time constant, so the fp32 instantiation compiles to the plain fp32 code.
/// </summary>
/// <remarks>
/// Widening is exact and bit-for-bit the scalar conversions' (<see cref="Half"/>'s and <see cref="BFloat16"/>'s, which the
/// tests check over every bit pattern): bf16 is a 16-bit shift; fp16 has no conversion instruction that .NET 10 exposes
/// (x86's <c>vcvtph2ps</c> is not an intrinsic in .NET 10: no F16C or AVX512-FP16 class, no Half vector conversion), so it
/// is integer SIMD: sign, exponent and mantissa moved to the float's places, ∞/NaN's exponent widened, and one multiply
/// by 2^112 (which rebiases the exponent, normalizes subnormals and quiets NaNs exactly, as <see cref="Half"/>'s conversion does). Narrowing goes through <see cref="StorageConvert"/>.
/// </remarks>
public static unsafe class CpuElements
{
    private const uint TwoTo112Bits = (127 + 112) << 23;

    /// <summary>One stored element as a float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle<T>(T value) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return (float)(object)value;
        if (typeof(T) == typeof(Half))
            return (float)(Half)(object)value;
        return (BFloat16)(object)value;
    }

    /// <summary>A float rounded to the element type (nearest, ties to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromSingle<T>(float value) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return (T)(object)value;
        if (typeof(T) == typeof(Half))
            return (T)(object)(Half)value;
        return (T)(object)(BFloat16)value;
    }

    /// <summary>
    /// <see cref="Simd.Count{TVec}"/> consecutive elements from <paramref name="source"/> as one float vector, widened in
    /// registers (for 16-bit elements a half-width load, sign-extended to 32-bit lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec, T>(T* source) where TVec : struct where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Simd.Load<TVec>((float*)source);
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            Vector512<int> bits = Avx512F.IsSupported
                ? Avx512F.ConvertToVector512Int32(Vector256.Load((short*)source))
                : Vector512.WidenLower(Vector256.Load((short*)source).ToVector512Unsafe());
            return (TVec)(object)(typeof(T) == typeof(Half) ? HalfBitsToSingle(bits) : (bits << 16).AsSingle());
        }
        Vector256<int> bits256 = Avx2.IsSupported
            ? Avx2.ConvertToVector256Int32((short*)source)
            : Vector256.WidenLower(Vector128.Load((short*)source).ToVector256Unsafe());
        return (TVec)(object)(typeof(T) == typeof(Half) ? HalfBitsToSingle(bits256) : (bits256 << 16).AsSingle());
    }

    /// <summary>
    /// fp16 bits, sign-extended to 32-bit lanes, to float, exactly as <see cref="Half"/>'s conversion. Shifted left by 13
    /// the lane holds the mantissa and 5-bit exponent in a float's places and copies of the sign in bits 28–31. Bits 28–30
    /// are then replaced in one bit select: by ones where the exponent is 31 (∞/NaN: the float exponent becomes 255), by
    /// zeros elsewhere, which leaves a float 2^−112 times the value (a subnormal fp16 lands on a float subnormal). The
    /// multiply by 2^112 rebiases it exactly, keeps ∞ and makes a NaN quiet with its payload, as <see cref="Half"/> does:
    /// 6 operations after the load on AVX-512 (shift, and, compare, mask to vector, ternary logic, multiply) instead of
    /// the 12 of a separate ∞/NaN select.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfBitsToSingle(Vector512<int> bits)
    {
        var shifted = bits << 13;
        var exponent = Vector512.Create(0x0F80_0000);
        var x = Vector512.ConditionalSelect(Vector512.Create(0x7000_0000), Vector512.Equals(shifted & exponent, exponent), shifted);
        return x.AsSingle() * Vector512.Create(TwoTo112Bits).AsSingle();
    }

    /// <summary>fp16 bits, sign-extended to 32-bit lanes, to float, exactly as <see cref="Half"/>'s conversion (see the 512-bit form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfBitsToSingle(Vector256<int> bits)
    {
        var shifted = bits << 13;
        var exponent = Vector256.Create(0x0F80_0000);
        var x = Vector256.ConditionalSelect(Vector256.Create(0x7000_0000), Vector256.Equals(shifted & exponent, exponent), shifted);
        return x.AsSingle() * Vector256.Create(TwoTo112Bits).AsSingle();
    }

    /// <summary>Widens <paramref name="count"/> consecutive elements into floats (a copy for fp32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Widen<T>(T* source, float* destination, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
            return;
        }
        int i = 0;
        if (Simd.UseVector512)
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
                Load<Vector512<float>, T>(source + i).Store(destination + i);
        else
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
                Load<Vector256<float>, T>(source + i).Store(destination + i);
        for (; i < count; i++)
            destination[i] = ToSingle(source[i]);
    }

    /// <summary>Widens <paramref name="rows"/> rows of <paramref name="columns"/> elements, <paramref name="sourceStride"/> elements apart, into consecutive float rows.</summary>
    /// <remarks>
    /// Fully optimized from the first call: the kernels stage K/V blocks through it (FlashAttentionCpu.Stage), and its tier-0
    /// code ran for much of a short benchmark (a built-in document mask at 0.79× the plain rate, 0.88× without tiering).
    /// fp32 rows are moved inline: a memmove call per 64-float row cost about as much as the row.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenRows<T>(T* source, long sourceStride, float* destination, int rows, int columns) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            CopyRows((float*)source, sourceStride, destination, rows, columns);
            return;
        }
        for (int j = 0; j < rows; j++)
            Widen(source + j * sourceStride, destination + (long)j * columns, columns);
    }

    /// <summary>Copies <paramref name="rows"/> rows of <paramref name="columns"/> floats, <paramref name="sourceStride"/> floats apart, into consecutive rows.</summary>
    /// <remarks>Inline vector moves: a memmove call per row (Span.CopyTo) cost more than the copy for D32 rows.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRows(float* source, long sourceStride, float* destination, int rows, int columns)
    {
        int vectors = Vector256.IsHardwareAccelerated ? columns & ~7 : 0;
        for (int j = 0; j < rows; j++)
        {
            float* from = source + j * sourceStride, to = destination + (long)j * columns;
            int c = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; c + 16 <= vectors; c += 16)
                    Vector512.Store(Vector512.Load(from + c), to + c);
            for (; c < vectors; c += 8)
                Vector256.Store(Vector256.Load(from + c), to + c);
            for (; c < columns; c++)
                to[c] = from[c];
        }
    }

    /// <summary>Rounds <paramref name="count"/> floats to the element type (nearest, ties to even; a copy for fp32).</summary>
    public static void Narrow<T>(float* source, T* destination, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
        else if (typeof(T) == typeof(Half))
            StorageConvert.ToHalf(new ReadOnlySpan<float>(source, count), new Span<Half>(destination, count));
        else
            StorageConvert.ToBFloat16(new ReadOnlySpan<float>(source, count), new Span<BFloat16>(destination, count));
    }
}
