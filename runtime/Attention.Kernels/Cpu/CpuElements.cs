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
    /// 2·<see cref="Simd.Count{TVec}"/> consecutive 16-bit elements from <paramref name="source"/> as two float vectors:
    /// <paramref name="even"/> holds elements 0, 2, 4, … and <paramref name="odd"/> elements 1, 3, 5, …, each exact. One
    /// full-width load read as 32-bit lanes, each lane two elements: the low one is shifted up, the high one masked in
    /// place, so bf16 takes one operation per vector instead of <see cref="Load{TVec, T}"/>'s widening move and shift.
    /// Used where the lane order does not matter as long as both operands share it (a dot product with a query stored in
    /// the same order, an accumulator kept in that order): see <see cref="PairOrder"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPairs<TVec, T>(T* source, out TVec even, out TVec odd) where TVec : struct where T : unmanaged
    {
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var x = Vector512.Load((int*)source);
            if (typeof(T) == typeof(Half))
            {
                // Both halves moved to where HalfBitsToSingle's shift puts them: bits 13–27, sign copies in 28–31.
                even = (TVec)(object)HalfShiftedToSingle((x << 16) >> 3);
                odd = (TVec)(object)HalfShiftedToSingle((x >> 3) & Vector512.Create(~0x1FFF));
            }
            else
            {
                even = (TVec)(object)(x << 16).AsSingle();
                odd = (TVec)(object)(x & Vector512.Create(unchecked((int)0xFFFF_0000))).AsSingle();
            }
        }
        else
        {
            var x = Vector256.Load((int*)source);
            if (typeof(T) == typeof(Half))
            {
                even = (TVec)(object)HalfShiftedToSingle((x << 16) >> 3);
                odd = (TVec)(object)HalfShiftedToSingle((x >> 3) & Vector256.Create(~0x1FFF));
            }
            else
            {
                even = (TVec)(object)(x << 16).AsSingle();
                odd = (TVec)(object)(x & Vector256.Create(unchecked((int)0xFFFF_0000))).AsSingle();
            }
        }
    }

    /// <summary>
    /// <see cref="LoadPairs{TVec, T}"/> for fp16 in five integer operations per two vectors instead of twelve, for loops
    /// that fold the scale into another operand: each float is 2^−112 times the element (exact for every finite one,
    /// subnormals included: they land on float subnormals), and a lane of exponent 31 (∞/NaN, which this form turns into a
    /// finite value) is recorded in <paramref name="special"/> for <see cref="SawSpecialHalf{TVec}"/> (two more operations),
    /// so the caller can redo its work with <see cref="LoadPairs{TVec, T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadHalfPairsScaled<TVec>(Half* source, out TVec even, out TVec odd, ref TVec special) where TVec : struct
    {
        // Each lane's float takes the sign in bit 31 and exponent and mantissa in bits 13–27 (HalfShiftedToSingle's
        // places), with bits 28–30 cleared instead of set to the rebias; twice the 16-bit bits, unsigned, are ≥ 0xF800
        // exactly for exponent 31.
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var x = Vector512.Load((int*)source);
            even = (TVec)(object)(((x << 16) >> 3) & Vector512.Create(unchecked((int)0x8FFF_FFFF))).AsSingle();
            odd = (TVec)(object)((x >> 3) & Vector512.Create(unchecked((int)0x8FFF_E000))).AsSingle();
            special = (TVec)(object)Vector512.Max(((Vector512<float>)(object)special).AsUInt16(), x.AsUInt16() << 1).AsSingle();
        }
        else
        {
            var x = Vector256.Load((int*)source);
            even = (TVec)(object)(((x << 16) >> 3) & Vector256.Create(unchecked((int)0x8FFF_FFFF))).AsSingle();
            odd = (TVec)(object)((x >> 3) & Vector256.Create(unchecked((int)0x8FFF_E000))).AsSingle();
            special = (TVec)(object)Vector256.Max(((Vector256<float>)(object)special).AsUInt16(), x.AsUInt16() << 1).AsSingle();
        }
    }

    /// <summary>Whether a <see cref="LoadHalfPairsScaled{TVec}"/> record (started at zero) saw an fp16 ∞ or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SawSpecialHalf<TVec>(TVec special) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return Vector512.GreaterThanOrEqualAny(((Vector512<float>)(object)special).AsUInt16(), Vector512.Create((ushort)0xF800));
        return Vector256.GreaterThanOrEqualAny(((Vector256<float>)(object)special).AsUInt16(), Vector256.Create((ushort)0xF800));
    }

    /// <summary>2^112: what <see cref="LoadHalfPairsScaled{TVec}"/>'s floats are multiplied by to give the elements.</summary>
    public const float HalfPairsScale = 5.192296858534828e33f;

    /// <summary>
    /// Where element <paramref name="d"/> of a row sits in the order <see cref="LoadPairs{TVec, T}"/> produces, for the
    /// first <paramref name="pairDims"/> elements (whole blocks of 2·<paramref name="width"/>); later elements stay in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PairOrder(int d, int pairDims, int width)
    {
        if (d >= pairDims)
            return d;
        int block = d - d % (2 * width), i = d - block;
        return block + (i & 1) * width + (i >> 1);
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
    public static Vector512<float> HalfBitsToSingle(Vector512<int> bits) => HalfShiftedToSingle(bits << 13);

    /// <summary>
    /// fp16 bits placed as <see cref="HalfBitsToSingle(Vector512{int})"/> has them after its shift (bits 13–27: exponent and
    /// mantissa, bits 28–31: the sign; bits 0–12 zero) to float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfShiftedToSingle(Vector512<int> shifted)
    {
        var exponent = Vector512.Create(0x0F80_0000);
        var x = Vector512.ConditionalSelect(Vector512.Create(0x7000_0000), Vector512.Equals(shifted & exponent, exponent), shifted);
        return x.AsSingle() * Vector512.Create(TwoTo112Bits).AsSingle();
    }

    /// <summary>fp16 bits, sign-extended to 32-bit lanes, to float, exactly as <see cref="Half"/>'s conversion (see the 512-bit form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfBitsToSingle(Vector256<int> bits) => HalfShiftedToSingle(bits << 13);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfShiftedToSingle(Vector256<int> shifted)
    {
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
